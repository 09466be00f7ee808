//! `.crate` reader: arbitrary bytes → `archive::parse` with small limits.
//!
//! Input: first byte selects the mode (even: the rest is the `.crate` itself, i.e. gzip bytes;
//! odd: the rest is a tar stream that we gzip first, so the fuzzer explores tar structure).
//! Oracles (SECURITY.md §4.0 O1/O2 and the limits of §3): no panic; on success every limit is
//! respected, every kept path is a clean package-relative path, and parsing is deterministic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use provenance_core::{Limits, archive};
use std::io::Write;

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_crate_bytes = 1 << 20;
    l.max_decompressed_bytes = 256 << 10;
    l.max_decompressed_bytes_hard = 1 << 20;
    l.max_entries = 64;
    l.max_path_bytes = 200;
    l.max_component_bytes = 40;
    l.max_path_depth = 8;
    l.max_metadata_record_bytes = 1024;
    l.max_manifest_bytes = 16 << 10;
    l.max_vcs_info_bytes = 4 << 10;
    l
}

fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(tar).unwrap();
    e.finish().unwrap()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let limits = limits();
    let bytes = if mode & 1 == 1 {
        gzip(rest)
    } else {
        rest.to_vec()
    };
    let Ok(a) = archive::parse(&bytes, &limits) else {
        return;
    };
    assert!(a.entry_count <= limits.max_entries, "entry limit");
    assert!(
        a.decompressed_bytes <= limits.decompressed_cap(bytes.len() as u64),
        "decompressed limit"
    );
    assert!(
        !a.prefix.is_empty() || a.files.is_empty(),
        "files without a prefix"
    );
    assert!(
        !a.prefix.contains('/'),
        "prefix with a slash: {:?}",
        a.prefix
    );
    assert!(
        a.prefix.as_bytes().get(1) != Some(&b':'),
        "drive prefix {:?}",
        a.prefix
    );
    let mut total = 0u64;
    for (path, file) in &a.files {
        assert!(!path.is_empty(), "empty path");
        assert!(!path.starts_with('/'), "absolute path {path:?}");
        assert!(!path.contains('\\'), "backslash in {path:?}");
        assert!(!path.contains('\0'), "nul in {path:?}");
        let full = a.prefix.len() + 1 + path.len();
        assert!(full as u64 <= limits.max_path_bytes, "path limit {path:?}");
        let comps: Vec<&str> = path.split('/').collect();
        assert!(
            comps.len() as u64 <= limits.max_path_depth,
            "depth limit {path:?}"
        );
        for c in &comps {
            assert!(!matches!(*c, "" | "." | ".."), "bad component in {path:?}");
            assert!(
                c.len() as u64 <= limits.max_component_bytes,
                "component limit {path:?}"
            );
        }
        total += file.data.len() as u64;
        let shown = archive::escape(path.as_bytes());
        assert!(
            !shown.chars().any(char::is_control),
            "escape left a control char in {shown:?}"
        );
    }
    assert!(
        total <= a.decompressed_bytes,
        "file bytes exceed the stream"
    );
    for anomaly in &a.anomalies {
        let f = anomaly.to_finding();
        assert!(!f.message.chars().any(|c| c.is_control() && c != '\n'));
    }
    // Deterministic.
    let b = archive::parse(&bytes, &limits).expect("second parse of the same bytes");
    assert_eq!(a.files, b.files);
    assert_eq!(a.anomalies, b.anomalies);
});
