//! `crate-provenance watch --once` over a 500-crate watch list with nothing new, on a loopback
//! sparse registry that answers conditional requests: the acceptance figure of issue 22 is
//! ≤ 2 s and only 304 responses.
//!
//! Run: `cargo bench --bench watch_poll` (the release binary). Set-up: 500 crates, one version
//! each, recorded by a first `watch --once`; then `RUNS` timed `watch --once` runs, each
//! checked to have been answered with 500 × 304 and no body. Prints min / median / max.

#[path = "../provenance-core/tests/fetch_support/mod.rs"]
mod fetch_support;
#[path = "../tests/support/watch_registry.rs"]
mod watch_registry;

use std::process::Command;
use std::time::Instant;

const CRATES: usize = 500;
const RUNS: usize = 7;

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that does not match skips the bench.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"watch_poll".contains(a.as_str()))
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let registry = watch_registry::Registry::start();
    let names: Vec<String> = (0..CRATES).map(|i| format!("crate{i:03}")).collect();
    for n in &names {
        // Verifying it fails at once (an `error` line): a cheap set-up.
        registry.publish(n, "1.0.0", b"not a crate");
    }
    std::fs::write(tmp.path().join("list.txt"), names.join("\n")).unwrap();
    let watch = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_crate-provenance"));
        c.current_dir(tmp.path())
            .args(["watch", "--once", "--list", "list.txt", "--no-isolation"])
            .args(["--db", "w.db", "--cache-dir", "cache"])
            .args(["--index-url", &registry.index_url()])
            .arg("--allow-insecure-transport");
        c
    };
    let out = watch().output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut times = Vec::new();
    for _ in 0..RUNS {
        registry.reset_counts();
        let t = Instant::now();
        let out = watch().output().unwrap();
        times.push(t.elapsed().as_secs_f64());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let served = registry.served();
        assert_eq!(served.not_modified_total(), CRATES, "{served:?}");
        assert_eq!(served.full_total(), 0, "{served:?}");
        assert_eq!(served.index_body_bytes, 0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "watch --once, {CRATES} crates, nothing new (only 304s): min {:.3} s, median {:.3} s, max {:.3} s over {RUNS} runs",
        times[0],
        times[RUNS / 2],
        times[RUNS - 1]
    );
}
