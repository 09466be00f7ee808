//! Replays the fuzz seeds and every kept fuzz crasher (`fuzz/seeds/TARGET/`,
//! `fuzz/artifacts/TARGET/`) through the same entry points and oracles as the fuzz targets in
//! `fuzz/fuzz_targets/`, in an ordinary `cargo test` (no fuzzer needed). A crasher that the
//! fuzzer finds is copied into `fuzz/artifacts/TARGET/` and stays here as a regression test.
//! (`file_selection` inputs are `arbitrary`-encoded and replayed by `fuzz/smoke.sh`.)

use std::io::Write;
use std::path::{Path, PathBuf};

use provenance_core::{Limits, archive, metadata};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut out = Vec::new();
    for dir in ["seeds", "artifacts"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.') {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn replay(target: &str, min: usize, f: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    let files = inputs(target);
    assert!(files.len() >= min, "{target}: only {} inputs", files.len());
    for p in files {
        let data = std::fs::read(&p).unwrap();
        assert!(
            std::panic::catch_unwind(|| f(&data)).is_ok(),
            "{target}: `{}` fails again",
            p.display()
        );
    }
}

/// The limits of `fuzz_targets/crate_parse.rs`.
fn crate_limits() -> Limits {
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

#[test]
fn crate_parse_inputs() {
    replay("crate_parse", 5, |data| {
        let Some((&mode, rest)) = data.split_first() else {
            return;
        };
        let limits = crate_limits();
        let bytes = if mode & 1 == 1 {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(rest).unwrap();
            e.finish().unwrap()
        } else {
            rest.to_vec()
        };
        let Ok(a) = archive::parse(&bytes, &limits) else {
            return;
        };
        assert!(a.entry_count <= limits.max_entries);
        assert!(a.decompressed_bytes <= limits.decompressed_cap(bytes.len() as u64));
        for path in a.files.keys() {
            assert!(!path.starts_with('/') && !path.contains('\\') && !path.contains('\0'));
            assert!(
                path.split('/').all(|c| !matches!(c, "" | "." | "..")),
                "{path:?}"
            );
            assert!((a.prefix.len() + 1 + path.len()) as u64 <= limits.max_path_bytes);
        }
        for anomaly in &a.anomalies {
            let _ = anomaly.to_finding();
        }
        let b = archive::parse(&bytes, &limits).unwrap();
        assert_eq!(a.files, b.files);
    });
}

#[test]
fn vcs_info_inputs() {
    replay("vcs_info", 3, |data| {
        let mut limits = Limits::default();
        limits.max_vcs_info_bytes = 4096;
        let Ok(v) = metadata::parse_vcs_info(data, &limits) else {
            return;
        };
        let other: serde_json::Value = serde_json::from_slice(data).unwrap();
        assert_eq!(other["git"]["sha1"].as_str(), Some(v.sha1.as_str()));
        if let Some(p) = &v.path_in_vcs {
            assert_eq!(metadata::validate_repo_path(p).as_deref(), Ok(p.as_str()));
        }
    });
}

#[test]
fn manifest_inputs() {
    replay("manifest", 3, |data| {
        let mut limits = Limits::default();
        limits.max_manifest_bytes = 64 << 10;
        let _ = metadata::validate_repo_path(&String::from_utf8_lossy(data));
        let owned = data.to_vec();
        let l2 = limits.clone();
        let on_thread = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || metadata::parse_manifest(&owned, "Cargo.toml", &l2).ok())
            .unwrap()
            .join()
            .expect("parse_manifest panicked on a 1 MiB stack");
        let main = metadata::parse_manifest(data, "Cargo.toml", &limits).ok();
        assert_eq!(on_thread, main);
    });
}

/// fuzz/artifacts/file_selection/crash-614a52a0… and crash-8b8c6014…: `readme = "Cargo.toml"`
/// (or a readme / license-file outside the package named `Cargo.toml`), and since 1.84
/// `readme = "Cargo.lock"`, must not put the raw file into the selection: cargo's archive list
/// already holds the generated file when it force-adds readme and license files, so it skips
/// them.
#[test]
fn forced_readme_named_cargo_toml_is_not_selected() {
    use gix::objs::tree::{Entry, EntryKind};
    use provenance_core::rebuild::{self, Rules};
    use provenance_core::repo::{CommitInfo, Repo};

    let dir = tempfile::tempdir().unwrap();
    let g = gix::init_bare(dir.path()).unwrap();
    let tree = |mut entries: Vec<Entry>| {
        entries.sort();
        g.write_object(&gix::objs::Tree { entries })
            .unwrap()
            .detach()
    };
    let entry = |name: &str, mode: EntryKind, oid| Entry {
        mode: mode.into(),
        filename: name.into(),
        oid,
    };
    for (readme, license) in [
        ("Cargo.toml", "Cargo.toml"),
        ("../Cargo.toml", "../Cargo.toml"),
        ("Cargo.lock", "Cargo.lock"),
    ] {
        let m = format!(
            "[package]\nname = \"fz\"\nversion = \"0.1.0\"\nreadme = \"{readme}\"\nlicense-file = \"{license}\"\n"
        );
        let mid = g.write_blob(m.as_bytes()).unwrap().detach();
        let ws = g
            .write_blob(b"[workspace]\nmembers = [\"sub\"]\n")
            .unwrap()
            .detach();
        let lock = g.write_blob(b"# raw lock\n").unwrap().detach();
        let sub = tree(vec![
            entry("Cargo.toml", EntryKind::Blob, mid),
            entry("Cargo.lock", EntryKind::Blob, lock),
        ]);
        let root = tree(vec![
            entry("Cargo.toml", EntryKind::Blob, ws),
            entry("sub", EntryKind::Tree, sub),
        ]);
        let limits = Limits::default();
        let repo = Repo::open(dir.path(), &limits).unwrap();
        let commit = CommitInfo {
            id: root,
            tree: root,
        };
        for minor in [62, 70, 80, 95] {
            let loc = rebuild::locate_package(
                &repo,
                root,
                root,
                Some("fz"),
                "0.1.0",
                Some("sub"),
                None,
                &limits,
            )
            .unwrap();
            let mut opts = rebuild::Options::default();
            opts.rules = Rules { cargo_minor: minor };
            let sel = rebuild::rebuild(&repo, &commit, &loc, &opts).unwrap();
            let keys: Vec<&String> = sel.files.keys().collect();
            if readme == "Cargo.lock" && minor < 84 {
                // No generated lock file for a library before 1.84: cargo packs the raw one.
                assert_eq!(keys, ["Cargo.lock", "Cargo.toml.orig"], "1.{minor}");
            } else {
                assert_eq!(keys, ["Cargo.toml.orig"], "readme {readme:?}, 1.{minor}");
            }
        }
    }
}
