//! `scan` runs every crate version in a worker process (shared/SECURITY.md §5 promise 5): a worker
//! that aborts, overflows its stack or exceeds `RLIMIT_AS` is recorded as `worker_crashed` for
//! its crate and the scan finishes the rest. Faults are injected with the debug-only
//! `CRATE_PROVENANCE_TEST_FAULT=NAME=KIND` honoured by `__verify-worker`.
#![cfg(all(unix, debug_assertions))]

#[path = "../provenance-core/tests/fetch_support/mod.rs"]
mod fetch_support;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use fetch_support::{GitDaemon, Registry, make_crate, make_repo, manifest};

const FAULT_ENV: &str = "CRATE_PROVENANCE_TEST_FAULT";

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

struct World {
    tmp: tempfile::TempDir,
    registry: Registry,
    _daemon: GitDaemon,
}

impl World {
    /// One matching crate per name, listed in `list.txt`.
    fn new(names: &[&str]) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("srv");
        std::fs::create_dir_all(&base).unwrap();
        let daemon = GitDaemon::start(&base, tmp.path());
        let registry = Registry::start();
        let mut list = String::new();
        for n in names {
            let m = manifest(n, "1.0.0", &daemon.url(&format!("{n}.git")));
            let commit = make_repo(&base, n, &m, 0, 0);
            registry.publish(
                n,
                "1.0.0",
                &make_crate(n, "1.0.0", &m, &commit),
                None,
                false,
            );
            let _ = writeln!(list, "{n}@1.0.0");
        }
        std::fs::write(tmp.path().join("list.txt"), list).unwrap();
        World {
            tmp,
            registry,
            _daemon: daemon,
        }
    }

    fn scan(&self, extra: &[&str], fault: &str) -> (Output, Vec<serde_json::Value>) {
        let out_file = self.tmp.path().join("r.jsonl");
        let _ = std::fs::remove_file(&out_file);
        let out = Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
            .current_dir(self.tmp.path())
            .args(["scan", "--list", "list.txt", "--out", "r.jsonl"])
            .args(["--index-url", &self.registry.index_url()])
            .arg("--allow-insecure-transport")
            .arg("--cache-dir")
            .arg(self.tmp.path().join("cache"))
            .args(["--format", "json", "--jobs", "2"])
            .args(extra)
            .env(FAULT_ENV, fault)
            .env_remove("CI")
            .output()
            .unwrap();
        let got = lines(&out_file);
        (out, got)
    }
}

fn by_name<'a>(results: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    results
        .iter()
        .find(|r| r["crate"]["name"] == name)
        .unwrap_or_else(|| panic!("no result for {name}: {results:#?}"))
}

fn crash_message(results: &[serde_json::Value], name: &str) -> String {
    let r = by_name(results, name);
    assert_eq!(r["error"]["kind"], "worker_crashed", "{name}: {r:#}");
    r["error"]["message"].as_str().unwrap().to_owned()
}

#[test]
fn crashing_workers_are_recorded_and_the_scan_finishes() {
    let w = World::new(&["okay", "aborts", "overflows", "ooms", "exits"]);
    let (out, results) = w.scan(
        &["--worker-memory", "1024"],
        "aborts=abort,overflows=overflow,ooms=oom,exits=exit",
    );
    // No gate: every crate got a line, the scan itself succeeded.
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(results.len(), 5, "{results:#?}");
    assert_eq!(by_name(&results, "okay")["verdict"], "match");

    let m = crash_message(&results, "aborts");
    assert!(m.contains("signal 6 (SIGABRT)"), "{m}");
    assert!(
        m.starts_with("worker process for `aborts@1.0.0` was killed"),
        "{m}"
    );

    let m = crash_message(&results, "overflows");
    assert!(m.contains("SIGABRT") || m.contains("SIGSEGV"), "{m}");
    assert!(m.contains("overflowed its stack"), "{m}");

    // Only RLIMIT_AS (1 GiB here) makes the worker's 4 GiB allocation fail.
    let m = crash_message(&results, "ooms");
    assert!(m.contains("SIGABRT"), "{m}");
    assert!(m.contains("memory allocation of"), "{m}");

    let m = crash_message(&results, "exits");
    assert!(m.contains("exited with status 3 without a result"), "{m}");

    // The summary counts them as errors; `--deny error` gates on them.
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["counts"]["match"], 1, "{s:#}");
    assert_eq!(s["counts"]["error"], 4, "{s:#}");
    // Warnings name the crates on stderr, escaped.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`ooms@1.0.0`: worker_crashed:"), "{err}");
}

/// `slow` hangs for an hour; `--timeout` kills it and `fine` is verified beside it (`--jobs 2`).
/// The timeout is also `fine`'s budget, so it is far above what verifying `fine` takes (under
/// a second on an idle machine, worker start included); only the watchdog can produce `slow`'s
/// error.
#[test]
fn worker_over_the_timeout_is_killed_and_the_rest_verified() {
    let w = World::new(&["slow", "fine"]);
    let (out, results) = w.scan(&["--timeout", "20"], "slow=hang");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = by_name(&results, "slow");
    assert_eq!(r["error"]["kind"], "limit_exceeded", "{r:#}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`--timeout` exceeded"),
        "{r:#}"
    );
    assert_eq!(by_name(&results, "fine")["verdict"], "match");
}

#[test]
fn no_isolation_verifies_in_process_and_ignores_the_fault() {
    let w = World::new(&["inproc"]);
    let (out, results) = w.scan(&["--no-isolation"], "inproc=abort");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(by_name(&results, "inproc")["verdict"], "match");
}

#[test]
fn worker_subcommand_speaks_one_json_line() {
    let w = World::new(&["direct"]);
    let request = serde_json::json!({
        "name": "direct",
        "version": "1.0.0",
        "index_url": w.registry.index_url(),
        "cache_dir": w.tmp.path().join("cache"),
        "offline": false,
        "allow_insecure_transport": true,
        "assisted": true,
        "unreachable_is_not_found": true,
        "limits": { "address_space": 0, "cpu_secs": 0 },
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
        .arg("__verify-worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["verdict"], "match", "{report:#}");

    // A bad request is an error exit, not a result line.
    let out = Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
        .arg("__verify-worker")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(out.stdout.is_empty());
    // Hidden from help.
    let help = Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&help.stdout).contains("__verify-worker"));
}

#[test]
fn the_oom_fault_fails_only_because_of_rlimit_as() {
    // Control for the `ooms` case above: without an address-space limit the same 4 GiB
    // (untouched) allocation succeeds and the crate verifies.
    let w = World::new(&["roomy"]);
    let (out, results) = w.scan(&["--worker-memory", "0"], "roomy=oom");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(by_name(&results, "roomy")["verdict"], "match");
}
