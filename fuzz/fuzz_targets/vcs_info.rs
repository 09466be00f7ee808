//! `.cargo_vcs_info.json` parser: arbitrary bytes → `metadata::parse_vcs_info`.
//!
//! Oracles: no panic; on success `sha1` is 40/64 lowercase hex, `path_in_vcs` is a clean
//! relative path that validates to itself, and a last-key-wins JSON reader (serde_json::Value)
//! reads the same `sha1`, `dirty` and `path_in_vcs` (no parser differential, SECURITY.md V3).
#![no_main]

use libfuzzer_sys::fuzz_target;
use provenance_core::{Limits, metadata};

fuzz_target!(|data: &[u8]| {
    let mut limits = Limits::default();
    limits.max_vcs_info_bytes = 4096;
    let Ok(v) = metadata::parse_vcs_info(data, &limits) else {
        return;
    };
    assert!(data.len() <= 4096);
    assert!(matches!(v.sha1.len(), 40 | 64), "{:?}", v.sha1);
    assert!(
        v.sha1
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{:?}",
        v.sha1
    );
    if let Some(p) = &v.path_in_vcs {
        assert_eq!(metadata::validate_repo_path(p).as_deref(), Ok(p.as_str()));
        assert!(
            !p.starts_with('/') && !p.contains('\\') && !p.contains('\0'),
            "{p:?}"
        );
        assert!(
            p.is_empty()
                || p.split('/')
                    .all(|c| !matches!(c, "" | "." | "..") && !c.eq_ignore_ascii_case(".git")),
            "{p:?}"
        );
    }
    let other: serde_json::Value = serde_json::from_slice(data).expect("accepted but not JSON");
    assert_eq!(other["git"]["sha1"].as_str(), Some(v.sha1.as_str()));
    assert_eq!(other["git"]["dirty"].as_bool().unwrap_or(false), v.dirty);
    assert_eq!(
        other["path_in_vcs"]
            .as_str()
            .map(|p| p.trim_end_matches('/')),
        v.path_in_vcs.as_deref()
    );
});
