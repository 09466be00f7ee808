//! shared/SECURITY.md §4.1: the `.crate` file (C1–C28). Every input is built byte by byte
//! (raw tar headers, hand-made PAX/GNU records, concatenated gzip members); verify-level cases
//! run with the cache in a sandbox whose other contents must stay unchanged (O3), inside
//! `catch_unwind` (O2), within a time bound (O6). The bomb cases (C16–C18) run in a child
//! process under `prlimit --as` and report their peak RSS (O5).
#![allow(
    clippy::unreadable_literal,
    clippy::cast_precision_loss,
    clippy::many_single_char_names,
    clippy::format_push_string
)]

mod security_support;

use std::time::Duration;

use provenance_core::archive::{Anomaly, EntryType, Error as AErr, PathProblem};
use provenance_core::{DifferenceKind, ErrorKind, Limits, Verdict};
use security_support::{
    Sandbox, archive_err, assert_bounded, child_report, crate_with, diff_kind, dir, entries, entry,
    entry_mode, entry_ty, eoa, fix_cksum, gnu_long, gz, has_finding, is_child, metadata_err,
    padded, parse, parse_with, pax_entry, pax_rec, raw_header, run_child, std_files, tar_bytes,
    tar_gz,
};

fn setup() -> (Sandbox, String) {
    let sb = Sandbox::new();
    let c = sb.fixture_repo();
    (sb, c)
}

fn assert_path_err(e: &AErr, want: PathProblem) {
    match e {
        AErr::InvalidPath { problem, path } => {
            assert_eq!(*problem, want, "{e}");
            assert!(!path.chars().any(char::is_control), "unescaped: {path:?}");
        }
        other => panic!("expected InvalidPath({want:?}), got {other:?}"),
    }
    assert_eq!(e.kind(), ErrorKind::InvalidArchive);
}

#[test]
fn c00_control_fixture_matches() {
    let (sb, c) = setup();
    let r = sb.verify(&sb.request(crate_with(&c, &[]))).unwrap();
    assert_eq!(r.verdict, Verdict::Match, "{}", r.to_json());
}

#[test]
fn c01_parent_dir_paths() {
    let (sb, c) = setup();
    let cases: Vec<Vec<u8>> = vec![
        entry(b"foo-1.0.0/../../evil.rs", b"x"),
        [
            gnu_long(b'L', b"foo-1.0.0/../../gnu-evil.rs"),
            entry(b"foo-1.0.0/placeholder", b"x"),
        ]
        .concat(),
        [
            pax_entry(&pax_rec("path", b"foo-1.0.0/../../pax-evil")),
            entry(b"foo-1.0.0/placeholder", b"x"),
        ]
        .concat(),
    ];
    for hostile in cases {
        let e = archive_err(sb.verify(&sb.request(crate_with(&c, &[hostile]))));
        assert_path_err(&e, PathProblem::ParentDir);
    }
    for name in ["evil.rs", "gnu-evil.rs", "pax-evil"] {
        assert!(!sb.root.join(name).exists() && !sb.root.parent().unwrap().join(name).exists());
    }
}

#[test]
fn c02_absolute_and_windows_paths() {
    let (sb, c) = setup();
    for (name, want) in [
        (&b"/etc/x"[..], PathProblem::Absolute),
        (b"C:\\x", PathProblem::WindowsPrefix),
        (b"\\\\?\\C:\\x", PathProblem::WindowsPrefix),
        (b"foo-1.0.0\\..\\x", PathProblem::Backslash),
    ] {
        let e = archive_err(sb.verify(&sb.request(crate_with(&c, &[entry(name, b"x")]))));
        assert_path_err(&e, want);
    }
}

#[test]
fn c03_entries_outside_prefix() {
    let (sb, c) = setup();
    for name in [&b"bar-0.1.0/src/lib.rs"[..], b"evil", b"foo-1.0.0-evil/x"] {
        let e = archive_err(sb.verify(&sb.request(crate_with(&c, &[entry(name, b"x")]))));
        assert_path_err(&e, PathProblem::OutsidePrefix);
    }
}

#[test]
fn c04_symlink_entries() {
    let (sb, c) = setup();
    // `.cargo-ok -> /home/u/.bashrc`
    let link = entry_ty(b"foo-1.0.0/.cargo-ok", b"", b'2', Some(b"/home/u/.bashrc"));
    let a = parse(&crate_with(&c, std::slice::from_ref(&link))).unwrap();
    assert!(a.anomalies.iter().any(|x| matches!(x,
        Anomaly::NonRegular { path, entry_type: EntryType::Symlink, target: Some(t) }
            if path == ".cargo-ok" && t == "/home/u/.bashrc")));
    assert!(!a.files.contains_key(".cargo-ok"));
    let r = sb.verify(&sb.request(crate_with(&c, &[link]))).unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch);
    assert!(has_finding(&r, "unsupported_entry_type"), "{}", r.to_json());
    assert_eq!(
        diff_kind(&r, ".cargo-ok"),
        Some(DifferenceKind::OnlyInPublished)
    );

    // `s -> <outside>` then `s/x`: the link is never followed, nothing lands in `outside`.
    let target = sb.outside.display().to_string();
    let r = sb
        .verify(&sb.request(crate_with(
            &c,
            &[
                entry_ty(b"foo-1.0.0/s", b"", b'2', Some(target.as_bytes())),
                entry(b"foo-1.0.0/s/x", b"planted\n"),
            ],
        )))
        .unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch);
    assert!(has_finding(&r, "unsupported_entry_type"));
    assert_eq!(diff_kind(&r, "s/x"), Some(DifferenceKind::OnlyInPublished));
    assert!(!sb.outside.join("x").exists());
}

#[test]
fn c05_hardlink_then_regular() {
    let (sb, c) = setup();
    let extra = [
        entry_ty(b"foo-1.0.0/a", b"", b'1', Some(b"/etc/passwd")),
        entry(b"foo-1.0.0/a", b"regular\n"),
    ];
    let a = parse(&crate_with(&c, &extra)).unwrap();
    assert!(a.anomalies.iter().any(|x| matches!(
        x,
        Anomaly::NonRegular {
            entry_type: EntryType::HardLink,
            ..
        }
    )));
    // Never "last wins" silently: the two entries for `a` are a duplicate.
    assert!(
        a.anomalies
            .iter()
            .any(|x| matches!(x, Anomaly::Duplicate { path, .. } if path == "a")),
        "{:?}",
        a.anomalies
    );
    let r = sb.verify(&sb.request(crate_with(&c, &extra))).unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch);
    assert!(has_finding(&r, "unsupported_entry_type"));
    assert!(has_finding(&r, "duplicate_path"), "{}", r.to_json());
}

#[test]
fn c06_symlink_then_directory() {
    let (sb, c) = setup();
    let victim = sb.outside.join("victim");
    let extra = [
        entry_ty(
            b"foo-1.0.0/d",
            b"",
            b'2',
            Some(victim.display().to_string().as_bytes()),
        ),
        dir(b"foo-1.0.0/d/"),
        entry(b"foo-1.0.0/d/passwd", b"owned\n"),
    ];
    let r = sb.verify(&sb.request(crate_with(&c, &extra))).unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch);
    assert!(has_finding(&r, "unsupported_entry_type"));
    // Sandbox snapshot (modes included) is unchanged; the victim keeps its content.
    assert_eq!(
        std::fs::read(victim.join("passwd")).unwrap(),
        b"root:x:0:0\n"
    );
}

#[test]
fn c07_special_entry_types() {
    let (sb, c) = setup();
    for (ty, want) in [
        (b'3', EntryType::Device),
        (b'4', EntryType::Device),
        (b'6', EntryType::Fifo),
        (b'7', EntryType::Other(b'7')),
        (b'Z', EntryType::Other(b'Z')),
    ] {
        let extra = [entry_ty(b"foo-1.0.0/special", b"", ty, None)];
        let a = parse(&crate_with(&c, &extra)).unwrap();
        assert!(
            a.anomalies.iter().any(|x| matches!(x,
                Anomaly::NonRegular { entry_type, .. } if *entry_type == want)),
            "{ty}: {:?}",
            a.anomalies
        );
        let r = sb.verify(&sb.request(crate_with(&c, &extra))).unwrap();
        assert_eq!(r.verdict, Verdict::Mismatch, "{}", ty as char);
        assert!(has_finding(&r, "unsupported_entry_type"));
    }
    // GNU sparse: the stream advances by the header's size field, never by `realsize` (tar-rs
    // skips `entry_size` bytes; reading `realsize` would let the data hide a smuggled header).
    let mut sparse = raw_header(b"foo-1.0.0/sparse", 1024, b'S', None);
    sparse[483..495].copy_from_slice(b"00000000000\0"); // realsize 0
    fix_cksum(&mut sparse);
    let mut smuggled = sparse.to_vec();
    let mut body = entry(b"foo-1.0.0/smuggled", b"hidden\n");
    body.resize(1024, 0);
    smuggled.extend(body);
    let a = parse(&crate_with(&c, &[smuggled.clone()])).unwrap();
    assert!(
        a.anomalies.iter().any(|x| matches!(
            x,
            Anomaly::NonRegular {
                entry_type: EntryType::Sparse,
                ..
            }
        )),
        "{:?}",
        a.anomalies
    );
    assert!(
        !a.files.contains_key("smuggled"),
        "sparse data parsed as a header"
    );
    let r = sb.verify(&sb.request(crate_with(&c, &[smuggled]))).unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch);
    // PAX global header mid-archive: refused (documented policy).
    let g = entry_ty(b"pax_global_header", &pax_rec("comment", b"x"), b'g', None);
    let e = archive_err(sb.verify(&sb.request(crate_with(&c, &[g]))));
    assert!(matches!(e, AErr::InvalidEntry { .. }), "{e:?}");
}

#[test]
fn c08_duplicate_paths() {
    let (sb, c) = setup();
    for path in ["src/lib.rs", "Cargo.toml"] {
        let extra = [entry(
            format!("foo-1.0.0/{path}").as_bytes(),
            b"[package]\nname = \"evil\"\nversion = \"1.0.0\"\n",
        )];
        let a = parse(&crate_with(&c, &extra)).unwrap();
        assert!(a.anomalies.iter().any(|x| matches!(x,
            Anomaly::Duplicate { path: p, differs: true } if p == path)));
        let r = sb.verify(&sb.request(crate_with(&c, &extra))).unwrap();
        assert_eq!(r.verdict, Verdict::Mismatch, "{}", r.to_json());
        assert!(
            r.findings
                .iter()
                .any(|f| f.kind == "duplicate_path" && f.path.as_deref() == Some(path))
        );
        // The first occurrence (what cargo's own tar reader would also see first) is the one
        // compared; the report names the crate from the first manifest.
        assert_eq!(r.krate.name, "foo");
    }
}

#[test]
fn c09_case_collisions() {
    let (sb, c) = setup();
    let r = sb
        .verify(&sb.request(crate_with(&c, &[entry(b"foo-1.0.0/src/Lib.rs", b"x")])))
        .unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch);
    assert!(has_finding(&r, "case_collision"), "{}", r.to_json());
    // `Cargo.toml` + `cargo.toml`: the manifest is ambiguous (TooManyManifests).
    let e = metadata_err(sb.verify(&sb.request(crate_with(
        &c,
        &[entry(b"foo-1.0.0/cargo.toml", b"[package]\n")],
    ))));
    assert!(
        matches!(
            e,
            provenance_core::metadata::Error::AmbiguousManifest { .. }
        ),
        "{e:?}"
    );
}

#[test]
fn c10_normalization_dotgit_confusables() {
    let (sb, c) = setup();
    let cases: [(&str, &str); 5] = [
        ("\u{e9}.rs", "normalization_collision"),
        ("e\u{301}.rs", "normalization_collision"),
        (".g\u{200c}it/config", "dot_git_like"),
        ("git~1/config", "dot_git_like"),
        ("src/l\u{456}b.rs", "confusable_path"),
    ];
    for (name, kind) in cases {
        let mut extra = vec![entry(format!("foo-1.0.0/{name}").as_bytes(), b"x\n")];
        if name == "e\u{301}.rs" {
            extra.insert(0, entry("foo-1.0.0/\u{e9}.rs".as_bytes(), b"y\n"));
        }
        let r = sb.verify(&sb.request(crate_with(&c, &extra))).unwrap();
        assert_eq!(r.verdict, Verdict::Mismatch, "{name}");
        if name != "\u{e9}.rs" {
            assert!(
                r.findings
                    .iter()
                    .any(|f| f.kind == kind && f.path.as_deref() == Some(name)),
                "{name}: {}",
                r.to_json()
            );
        }
        // Terminal safety: the invisible joiner is escaped in finding messages.
        assert!(r.findings.iter().all(|f| !f.message.contains('\u{200c}')));
    }
}

#[test]
fn c11_non_utf8_path() {
    let (sb, c) = setup();
    let e =
        archive_err(sb.verify(&sb.request(crate_with(&c, &[entry(b"foo-1.0.0/\xff.rs", b"x")]))));
    assert_path_err(&e, PathProblem::NonUtf8);
}

#[test]
fn c12_control_characters_in_names() {
    let (sb, c) = setup();
    // NUL through PAX: refused.
    let nul = [
        pax_entry(&pax_rec("path", b"foo-1.0.0/a\0b")),
        entry(b"foo-1.0.0/placeholder", b"x"),
    ]
    .concat();
    assert_path_err(
        &archive_err(sb.verify(&sb.request(crate_with(&c, &[nul])))),
        PathProblem::Nul,
    );
    // `\n`, `\r`, ESC/BEL (OSC title sequence): accepted as names (cargo can package them on
    // unix), but every output escapes them.
    let names: [&[u8]; 3] = [
        b"foo-1.0.0/a\nb.rs",
        b"foo-1.0.0/c\rd.rs",
        b"foo-1.0.0/\x1b]0;pwned\x07.rs",
    ];
    let extra: Vec<Vec<u8>> = names.iter().map(|n| entry(n, b"x\n")).collect();
    let r = sb.verify(&sb.request(crate_with(&c, &extra))).unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch);
    assert_eq!(
        r.differences
            .iter()
            .filter(|d| d.kind == DifferenceKind::OnlyInPublished)
            .count(),
        3
    );
    let json = r.to_json();
    assert!(
        !json.bytes().any(|b| b < 0x20 && b != b'\n'),
        "raw control byte in json"
    );
    assert!(json.contains("\\u001b]0;pwned\\u0007.rs") && json.contains("a\\nb.rs"));
    // In error messages too.
    let e = archive_err(
        sb.verify(&sb.request(crate_with(&c, &[entry(b"foo-1.0.0/../\x1b]0;x\x07", b"x")]))),
    );
    assert!(!e.to_string().bytes().any(|b| b < 0x20), "{e}");
}

#[test]
fn c13_pax_size_smuggling() {
    let (sb, c) = setup();
    let mut hidden = entry(b"foo-1.0.0/smuggled", b"evil\n");
    hidden.resize(1024, 0);
    let mut e = pax_entry(&pax_rec("size", b"1024"));
    e.extend(raw_header(b"foo-1.0.0/a", 10, b'0', None));
    e.extend(hidden);
    let err = archive_err(sb.verify(&sb.request(crate_with(&c, &[e]))));
    assert!(
        matches!(
            err,
            AErr::PaxSizeMismatch {
                pax: 1024,
                header: 10,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn c14_malformed_pax() {
    let (sb, c) = setup();
    let cases: Vec<Vec<u8>> = vec![
        b"abc path=foo-1.0.0/x\n".to_vec(),
        pax_rec("size", b"abc"),
        pax_rec("size", b"\xff"),
        [
            pax_rec("path", b"foo-1.0.0/a"),
            pax_rec("path", b"foo-1.0.0/b"),
        ]
        .concat(),
        b"99 path=foo-1.0.0/x\n".to_vec(),
        b"5 x\n".to_vec(),
        pax_rec("GNU.sparse.map", b"0,1"),
    ];
    for rec in cases {
        let e = [pax_entry(&rec), entry(b"foo-1.0.0/a", b"x")].concat();
        let err = archive_err(sb.verify(&sb.request(crate_with(&c, &[e]))));
        assert!(
            matches!(err, AErr::MalformedPax { .. }),
            "{:?}: {err:?}",
            String::from_utf8_lossy(&rec)
        );
    }
}

#[test]
fn c15_gnu_longname_and_pax_path_disagree() {
    let (sb, c) = setup();
    let e = [
        gnu_long(b'L', b"foo-1.0.0/from-gnu-longname"),
        pax_entry(&pax_rec("path", b"foo-1.0.0/from-pax")),
        entry(b"foo-1.0.0/a", b"x"),
    ]
    .concat();
    let err = archive_err(sb.verify(&sb.request(crate_with(&c, &[e]))));
    assert!(matches!(err, AErr::AmbiguousPath { .. }), "{err:?}");
}

/// The child side of the O5 cases: build the input, parse it, assert the typed result.
fn bomb_case(which: &str) -> String {
    let limits = Limits::default();
    match which {
        "c16_gnu" | "c16_pax" => {
            // 8 MiB GNU long name, 100 MiB PAX path record.
            let size: usize = if which == "c16_gnu" {
                8 << 20
            } else {
                100 << 20
            };
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            use std::io::Write;
            let head = entries(&std_files(&"0".repeat(40))).concat();
            enc.write_all(&head).unwrap();
            let ty = if which == "c16_gnu" { b'L' } else { b'x' };
            enc.write_all(&raw_header(b"././@LongLink", size as u64, ty, None))
                .unwrap();
            let chunk = vec![b'a'; 1 << 20];
            for _ in 0..size >> 20 {
                enc.write_all(&chunk).unwrap();
            }
            enc.write_all(&entry(b"foo-1.0.0/a", b"x")).unwrap();
            enc.write_all(&eoa()).unwrap();
            let bytes = enc.finish().unwrap();
            let e = parse_with(&bytes, &limits).unwrap_err();
            assert!(
                matches!(&e, AErr::LimitExceeded(l) if l.limit == "max_metadata_record_bytes"),
                "{e:?}"
            );
            format!("{e}")
        }
        "c17_single" | "c17_many" | "c17_trailing" => {
            // 1 GiB of zeros: one entry declaring it, 16 entries of 64 MiB, or after the end.
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let head = entries(&std_files(&"0".repeat(40))).concat();
            enc.write_all(&head).unwrap();
            let zeros = vec![0u8; 1 << 20];
            match which {
                "c17_single" => {
                    enc.write_all(&raw_header(b"foo-1.0.0/zeros", 1 << 30, b'0', None))
                        .unwrap();
                }
                "c17_trailing" => enc.write_all(&eoa()).unwrap(),
                _ => {}
            }
            for i in 0..1024 {
                if which == "c17_many" && i % 64 == 0 {
                    let name = format!("foo-1.0.0/zeros{}", i / 64);
                    enc.write_all(&raw_header(name.as_bytes(), 64 << 20, b'0', None))
                        .unwrap();
                }
                enc.write_all(&zeros).unwrap();
            }
            enc.write_all(&eoa()).unwrap();
            let bytes = enc.finish().unwrap();
            let e = parse_with(&bytes, &limits).unwrap_err();
            assert!(
                matches!(&e, AErr::LimitExceeded(l) if l.limit == "max_decompressed_bytes"),
                "{e:?}"
            );
            format!("{} compressed bytes: {e}", bytes.len())
        }
        "c17_many_capped" => {
            // Same as `c17_many` with a 128 MiB decompressed cap: memory follows the cap.
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&entries(&std_files(&"0".repeat(40))).concat())
                .unwrap();
            let zeros = vec![0u8; 1 << 20];
            for i in 0..1024 {
                if i % 64 == 0 {
                    let name = format!("foo-1.0.0/zeros{}", i / 64);
                    enc.write_all(&raw_header(name.as_bytes(), 64 << 20, b'0', None))
                        .unwrap();
                }
                enc.write_all(&zeros).unwrap();
            }
            let bytes = enc.finish().unwrap();
            let mut l = Limits::default();
            l.max_decompressed_bytes = 128 << 20;
            l.max_decompressed_bytes_hard = 128 << 20;
            let e = parse_with(&bytes, &l).unwrap_err();
            assert!(
                matches!(&e, AErr::LimitExceeded(l) if l.limit == "max_decompressed_bytes"),
                "{e:?}"
            );
            format!("{e}")
        }
        "c18" => {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&entries(&std_files(&"0".repeat(40))).concat())
                .unwrap();
            for i in 0..1_000_000u32 {
                let name = format!("foo-1.0.0/e/{i:07}");
                enc.write_all(&raw_header(name.as_bytes(), 0, b'0', None))
                    .unwrap();
            }
            enc.write_all(&eoa()).unwrap();
            let bytes = enc.finish().unwrap();
            let e = parse_with(&bytes, &limits).unwrap_err();
            assert!(
                matches!(&e, AErr::LimitExceeded(l) if l.limit == "max_entries"),
                "{e:?}"
            );
            format!("{} compressed bytes: {e}", bytes.len())
        }
        other => panic!("unknown case {other}"),
    }
}

fn bomb(test: &str, case: &str, budget_mib: u64) {
    if is_child() {
        let out = bomb_case(case);
        child_report(&out);
        return;
    }
    // The slowest case (c17_many) inflates 512 MiB in a debug build: about 2 minutes on an
    // idle machine.
    let out = run_child(test, 1 << 30, Duration::from_secs(1800), &[], None);
    assert_bounded(case, &out, budget_mib);
}

#[test]
fn c16_huge_metadata_record_gnu() {
    bomb("c16_huge_metadata_record_gnu", "c16_gnu", 256);
}

#[test]
fn c16_huge_metadata_record_pax() {
    bomb("c16_huge_metadata_record_pax", "c16_pax", 256);
}

#[test]
fn c17_gzip_bomb_single_entry() {
    bomb("c17_gzip_bomb_single_entry", "c17_single", 256);
}

#[test]
fn c17_gzip_bomb_after_end_of_archive() {
    bomb("c17_gzip_bomb_after_end_of_archive", "c17_trailing", 256);
}

#[test]
fn c17_gzip_bomb_many_entries_capped() {
    bomb("c17_gzip_bomb_many_entries_capped", "c17_many_capped", 256);
}

/// With the default limits, files too large to keep (or beyond `max_in_memory_bytes`) are hashed
/// while streaming, so memory stays far below the 512 MiB decompressed cap.
#[test]
fn c17_gzip_bomb_many_entries_default_limits() {
    bomb("c17_gzip_bomb_many_entries_default_limits", "c17_many", 256);
}

#[test]
fn c18_entry_count_bomb() {
    bomb("c18_entry_count_bomb", "c18", 256);
}

#[test]
fn c19_huge_declared_size() {
    let (sb, c) = setup();
    // 1 TiB declared, 100 bytes present: refused before any allocation, as the declared size
    // cannot fit the decompressed cap.
    let mut e = raw_header(b"foo-1.0.0/huge", 1 << 40, b'0', None).to_vec();
    e.extend(vec![b'x'; 100]);
    let mut t = entries(&std_files(&c)).concat();
    t.extend(e);
    let err = archive_err(sb.verify(&sb.request(gz(&t))));
    assert!(
        matches!(&err, AErr::LimitExceeded(l) if l.limit == "max_decompressed_bytes"),
        "{err:?}"
    );
    // 300 MiB declared (fits the cap), 100 bytes present: truncated, nothing pre-allocated.
    let mut e = raw_header(b"foo-1.0.0/huge", 300 << 20, b'0', None).to_vec();
    e.extend(vec![b'x'; 100]);
    let mut t = entries(&std_files(&c)).concat();
    t.extend(e);
    let err = archive_err(sb.verify(&sb.request(gz(&t))));
    assert!(
        matches!(err, AErr::Truncated { declared, .. } if declared == 300 << 20),
        "{err:?}"
    );
}

#[test]
fn c20_truncated_mid_entry() {
    let (sb, c) = setup();
    let mut t = entries(&std_files(&c)).concat();
    t.extend(raw_header(b"foo-1.0.0/big", 5000, b'0', None));
    t.extend(vec![b'y'; 1000]);
    let err = archive_err(sb.verify(&sb.request(gz(&t))));
    assert!(
        matches!(err, AErr::Truncated { declared: 5000, .. }),
        "{err:?}"
    );
    // Truncated inside a header block.
    let mut t = entries(&std_files(&c)).concat();
    t.extend(&raw_header(b"foo-1.0.0/big", 1, b'0', None)[..300]);
    assert!(matches!(
        archive_err(sb.verify(&sb.request(gz(&t)))),
        AErr::Truncated { .. }
    ));
}

#[test]
fn c21_data_after_end_of_archive_and_missing_end() {
    let (sb, c) = setup();
    let a = tar_bytes(&entries(&std_files(&c)));
    let b = tar_bytes(&[entry(b"foo-1.0.0/hidden.rs", b"evil\n")]);
    let r = sb.verify(&sb.request(gz(&[a, b].concat()))).unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch, "{}", r.to_json());
    assert!(has_finding(&r, "trailing_data"));
    assert!(
        diff_kind(&r, "hidden.rs").is_none(),
        "the hidden entry is not read"
    );
    // No end-of-archive marker: policy = warn (low finding), the verdict is unaffected.
    let t = entries(&std_files(&c)).concat();
    let r = sb.verify(&sb.request(gz(&t))).unwrap();
    assert!(has_finding(&r, "missing_end_of_archive"));
    assert_eq!(r.verdict, Verdict::Match);
}

#[test]
fn c22_second_gzip_member_and_garbage() {
    let (sb, c) = setup();
    let first = tar_gz(&entries(&std_files(&c)));
    let second = tar_gz(&[entry(b"foo-1.0.0/hidden.rs", b"evil\n")]);
    let bytes = [first.clone(), second].concat();
    let a = parse(&bytes).unwrap();
    assert!(a.anomalies.iter().any(|x| matches!(
        x,
        Anomaly::TrailingGzipData {
            gzip_member: true,
            ..
        }
    )));
    let r = sb.verify(&sb.request(bytes)).unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch);
    assert!(has_finding(&r, "trailing_data"));
    let bytes = [first, b"<html>garbage</html>".to_vec()].concat();
    let a = parse(&bytes).unwrap();
    assert!(a.anomalies.iter().any(|x| matches!(
        x,
        Anomaly::TrailingGzipData {
            gzip_member: false,
            ..
        }
    )));
    let r = sb.verify(&sb.request(bytes)).unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch);
}

#[test]
fn c23_broken_gzip() {
    let (sb, c) = setup();
    let good = crate_with(&c, &[]);
    let mut bad_crc = good.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 0xff;
    let truncated = good[..good.len() - 4].to_vec();
    let cut_body = good[..good.len() / 2].to_vec();
    for bytes in [
        bad_crc,
        truncated,
        cut_body,
        b"PK\x03\x04 a zip".to_vec(),
        Vec::new(),
        b"<html><body>404 Not Found</body></html>".to_vec(),
    ] {
        let e = archive_err(sb.verify(&sb.request(bytes)));
        assert!(matches!(e, AErr::Gzip { .. }), "{e:?}");
    }
    // The 404 from a registry keeps its meaning: `crate_not_found`, never parsed.
    let reg = security_support::net::Registry::start();
    reg.publish("foo", "1.0.0", &good, None, false);
    reg.fault("/crates/foo/foo-1.0.0.crate", || {
        security_support::net::Response::status(404)
    });
    let mut o = sb.options();
    o.index_url = Some(reg.index_url());
    o.allow_insecure_transport = true;
    let req = provenance_core::Request::new(provenance_core::CrateSource::Registry {
        name: "foo".into(),
        version: "1.0.0".into(),
    })
    .with_options(o);
    let e = sb.verify(&req).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CrateNotFound, "{e:?}");
}

#[test]
fn c24_tar_header_checksum() {
    let (sb, c) = setup();
    let mut t = entries(&std_files(&c)).concat();
    t[10] ^= 0x01; // first header's name
    let e = archive_err(sb.verify(&sb.request(gz(&tar_bytes(&[t])))));
    assert!(matches!(e, AErr::TarHeader { offset: 0, .. }), "{e:?}");
}

#[test]
fn c25_index_checksum_mismatch() {
    let (sb, c) = setup();
    let good = crate_with(&c, &[]);
    let reg = security_support::net::Registry::start();
    // The registry serves a tampered `.crate` (a hidden entry) under the genuine cksum.
    let tampered = crate_with(&c, &[entry(b"foo-1.0.0/evil.rs", b"x")]);
    reg.publish(
        "foo",
        "1.0.0",
        &tampered,
        Some(&security_support::net::sha256(&good)),
        false,
    );
    let mut o = sb.options();
    o.index_url = Some(reg.index_url());
    o.allow_insecure_transport = true;
    let req = |o| {
        provenance_core::Request::new(provenance_core::CrateSource::Registry {
            name: "foo".into(),
            version: "1.0.0".into(),
        })
        .with_repo(provenance_core::RepoSource::Path(sb.repo_path()))
        .with_options(o)
    };
    let e = sb.verify(&req(o.clone())).unwrap_err();
    assert!(
        matches!(
            e,
            provenance_core::Error::Fetch(provenance_core::fetch::Error::ChecksumMismatch { .. })
        ),
        "{e:?}"
    );
    assert_eq!(e.kind(), ErrorKind::ChecksumMismatch);
    let cached: Vec<_> = walk(&sb.cache.join("crates"));
    assert!(cached.is_empty(), "nothing cached: {cached:?}");
    // With the right cksum, the report's sha256 is the index cksum: the hashed bytes are parsed.
    let reg2 = security_support::net::Registry::start();
    reg2.publish("foo", "1.0.0", &good, None, false);
    o.index_url = Some(reg2.index_url());
    let r = sb.verify(&req(o)).unwrap();
    assert_eq!(r.krate.sha256, security_support::net::sha256(&good));
    assert_eq!(r.verdict, Verdict::Match);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn c26_odd_modes_times_ids() {
    let (sb, c) = setup();
    let mut files = entries(&std_files(&c));
    // setuid + 0777 on src/lib.rs, sticky on Cargo.toml.orig.
    files[3] = entry_mode(b"foo-1.0.0/src/lib.rs", security_support::LIB_RS, 0o4777);
    let orig = security_support::manifest();
    files[2] = entry_mode(b"foo-1.0.0/Cargo.toml.orig", orig.as_bytes(), 0o1777);
    // Future mtime (base-256), negative mtime (base-256 two's complement), base-256 uid/gid.
    let mut h = files[0][..512].to_vec();
    h[136..148].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    h[108..116].copy_from_slice(&[0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    h[116..124].copy_from_slice(&[0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    fix_cksum(&mut h);
    files[0][..512].copy_from_slice(&h);
    let mut h = files[1][..512].to_vec();
    h[136..148].copy_from_slice(&[0xff; 12]);
    fix_cksum(&mut h);
    files[1][..512].copy_from_slice(&h);
    let bytes = tar_gz(&files);
    let a = parse(&bytes).unwrap();
    assert_eq!(a.files["src/lib.rs"].mode, 0o4777, "recorded");
    assert_eq!(a.files["Cargo.toml.orig"].mode, 0o1777);
    let r = sb.verify(&sb.request(bytes)).unwrap();
    // Metadata only: never applied, never a difference (cargo normalizes modes).
    assert_eq!(r.verdict, Verdict::Match, "{}", r.to_json());
}

#[test]
fn c27_metadata_files_as_directories_or_nested() {
    let (sb, c) = setup();
    let mut files = std_files(&c);
    files.retain(|(p, _)| p != ".cargo_vcs_info.json");
    let vcs = security_support::vcs_info(&c);
    let mut e = entries(&files);
    e.push(dir(b"foo-1.0.0/.cargo_vcs_info.json/"));
    e.push(entry(b"foo-1.0.0/src/.cargo_vcs_info.json", &vcs));
    let mut o = sb.options();
    o.assisted = false;
    let r = sb.verify(&sb.request(tar_gz(&e)).with_options(o)).unwrap();
    assert_eq!(r.verdict, Verdict::NoVcsInfo, "{}", r.to_json());
    assert_eq!(r.source.commit, None);
    // `Cargo.toml` only as a directory: no manifest.
    let mut files = std_files(&c);
    files.retain(|(p, _)| p != "Cargo.toml");
    let mut e = entries(&files);
    e.push(dir(b"foo-1.0.0/Cargo.toml/"));
    e.push(entry(
        b"foo-1.0.0/sub/Cargo.toml",
        security_support::manifest().as_bytes(),
    ));
    let err = metadata_err(sb.verify(&sb.request(tar_gz(&e))));
    assert!(
        matches!(err, provenance_core::metadata::Error::MissingManifest),
        "{err:?}"
    );
}

#[test]
fn c28_invalid_entries() {
    let (sb, c) = setup();
    let mut d = raw_header(b"foo-1.0.0/d/", 5, b'5', None).to_vec();
    d.extend(padded(b"hello"));
    let e = archive_err(sb.verify(&sb.request(crate_with(&c, &[d]))));
    assert!(matches!(e, AErr::InvalidEntry { .. }), "{e:?}");
    let e = archive_err(sb.verify(&sb.request(crate_with(&c, &[entry(b"foo-1.0.0/f/", b"x")]))));
    assert!(matches!(e, AErr::InvalidEntry { .. }), "{e:?}");
    let e = archive_err(sb.verify(&sb.request(crate_with(&c, &[entry(b"", b"x")]))));
    assert_path_err(&e, PathProblem::Empty);
}
