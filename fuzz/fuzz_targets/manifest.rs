//! Manifest parser: arbitrary bytes → `metadata::parse_manifest`, plus the `path_in_vcs`
//! validator on the same bytes.
//!
//! Oracles: no panic and no stack overflow (deep nesting is refused before the recursive TOML
//! parser runs, SECURITY.md M4 — libFuzzer runs this on its 8 MiB main stack; a worker thread
//! with 1 MiB is used too so that overflow margins are tested); parsing is deterministic; the
//! fields read agree with a plain `toml::Table` parse of the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use provenance_core::{Limits, metadata};

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_manifest_bytes = 64 << 10;
    l
}

fuzz_target!(|data: &[u8]| {
    let limits = limits();
    let _ = metadata::validate_repo_path(&String::from_utf8_lossy(data));
    // The scan worker and the bindings run verification on threads with smaller stacks.
    let owned = data.to_vec();
    let l2 = limits.clone();
    let on_thread = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || metadata::parse_manifest(&owned, "Cargo.toml", &l2).ok())
        .unwrap()
        .join()
        .expect("parse_manifest panicked on a 1 MiB stack");
    let Ok(m) = metadata::parse_manifest(data, "Cargo.toml", &limits) else {
        assert!(on_thread.is_none(), "thread and main disagree");
        return;
    };
    assert_eq!(on_thread.as_ref(), Some(&m), "not deterministic");
    let text = std::str::from_utf8(data).expect("accepted non-UTF-8");
    let table: toml::Table = toml::from_str(text).expect("accepted but toml refuses");
    let pkg = table
        .get("package")
        .or_else(|| table.get("project"))
        .and_then(toml::Value::as_table);
    assert_eq!(pkg.is_some(), m.has_package);
    assert_eq!(
        pkg.and_then(|p| p.get("name"))
            .and_then(toml::Value::as_str),
        m.name.as_deref()
    );
});
