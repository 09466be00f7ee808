//! shared/SECURITY.md §4.2 (manifest, M1–M12) and §4.3 (`.cargo_vcs_info.json`, V1–V12).
//! Crates are built byte by byte, repositories with the `git` CLI (set-up only) or served by
//! `git daemon` on loopback; every verify runs in a sandbox (O2, O3, O6). The URL cases run in
//! a child process whose `PATH` holds only fake `git`/`ssh`/`sh`/`cargo` binaries (O4).
#![allow(
    clippy::unreadable_literal,
    clippy::cast_precision_loss,
    clippy::many_single_char_names,
    clippy::format_push_string
)]

mod security_support;

use std::time::Duration;

use provenance_core::metadata::{self, Error as MErr};
use provenance_core::{
    CrateSource, DifferenceKind, ErrorKind, Limits, RepoSource, Request, Verdict,
};
use security_support::net;
use security_support::{
    Sandbox, assert_bounded, child_report, diff_kind, entries, has_finding, is_child, manifest,
    metadata_err, run_child, std_files, tar_gz, vcs_info,
};

fn setup() -> (Sandbox, String) {
    let sb = Sandbox::new();
    let c = sb.fixture_repo();
    (sb, c)
}

/// The fixture files with `path` replaced (or removed with `None`).
fn files_with(c: &str, path: &str, data: Option<&[u8]>) -> Vec<(String, Vec<u8>)> {
    let mut f = std_files(c);
    f.retain(|(p, _)| p != path);
    if let Some(d) = data {
        f.push((path.to_owned(), d.to_vec()));
    }
    f
}

fn crate_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    tar_gz(&entries(files))
}

fn no_assist(sb: &Sandbox, bytes: Vec<u8>) -> Request {
    let mut o = sb.options();
    o.assisted = false;
    sb.request(bytes).with_options(o)
}

// ------------------------------------------------------------------------------------------
// M: manifests
// ------------------------------------------------------------------------------------------

#[test]
fn m01_missing_manifest() {
    let (sb, c) = setup();
    let e = metadata_err(sb.verify(&sb.request(crate_of(&files_with(&c, "Cargo.toml", None)))));
    assert!(matches!(e, MErr::MissingManifest), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::InvalidMetadata);
}

#[test]
fn m02_incorrectly_cased_or_too_many_manifests() {
    let (sb, c) = setup();
    let m = manifest().into_bytes();
    let mut only_upper = files_with(&c, "Cargo.toml", None);
    only_upper.push(("CARGO.TOML".into(), m.clone()));
    let mut both = std_files(&c);
    both.push(("Cargo.Toml".into(), m));
    for files in [only_upper, both] {
        let e = metadata_err(sb.verify(&sb.request(crate_of(&files))));
        assert!(matches!(e, MErr::AmbiguousManifest { .. }), "{e:?}");
    }
}

#[test]
fn m03_unparsable_manifest() {
    let (sb, c) = setup();
    for (bytes, hint) in [
        (&b"[package]\nname = \"foo\xff\"\n"[..], "utf-8"),
        (b"[package]\nname = \"foo\"\nversion = = 1\n", "line 3"),
        (b"[dependencies]\nserde = \"1\"\n", "package.name"),
    ] {
        let e = metadata_err(sb.verify(&sb.request(crate_of(&files_with(
            &c,
            "Cargo.toml",
            Some(bytes),
        )))));
        match &e {
            MErr::ManifestParse { file, message } => {
                assert_eq!(file, "Cargo.toml");
                assert!(message.contains(hint), "{message}");
            }
            other => panic!("expected ManifestParse, got {other:?}"),
        }
    }
}

/// Deep nesting, run on a thread with a small known stack in a child process: a stack overflow
/// aborts the child (and fails the test) instead of the test binary.
fn m04_inputs() -> Vec<(&'static str, String)> {
    let deep = "[".repeat(20_000);
    let deep_tables = "{a=".repeat(20_000);
    let dotted = format!("{} = 1\n", vec!["a"; 100_000].join("."));
    vec![
        ("arrays", format!("x = {deep}")),
        ("inline tables", format!("x = {deep_tables}")),
        ("dotted keys", dotted),
        (
            "dotted table header",
            format!("[{}]\n", vec!["a"; 100_000].join(".")),
        ),
        // Attempts to hide the nesting from the pre-scan: a quote in a comment, an escaped
        // backslash before the closing quote, a backslash at the end of a literal string.
        ("quote in comment", format!("# \"\nx = {deep}")),
        ("escaped backslash", format!("a = \"\\\\\"\nx = {deep}")),
        ("literal string", format!("a = 'c:\\'\nx = {deep}")),
        (
            "multi-line string",
            format!("a = \"\"\"\nb\"\"\"\nx = {deep}"),
        ),
    ]
}

#[test]
fn m04_deeply_nested_manifest() {
    if is_child() {
        let handle = std::thread::Builder::new()
            .stack_size(512 << 10)
            .spawn(|| {
                let mut out = Vec::new();
                for (what, text) in m04_inputs() {
                    let r =
                        metadata::parse_manifest(text.as_bytes(), "Cargo.toml", &Limits::default());
                    let e = r.expect_err(what);
                    assert!(matches!(e, MErr::ManifestParse { .. }), "{what}: {e:?}");
                    out.push(format!("{what}: refused"));
                }
                out.join("; ")
            })
            .unwrap();
        child_report(&handle.join().unwrap());
        return;
    }
    let out = run_child(
        "m04_deeply_nested_manifest",
        1 << 30,
        Duration::from_secs(120),
        &[],
        None,
    );
    assert_bounded("m04", &out, 256);
    // And through verify, in this process (the pre-scan refuses before the parser recurses).
    let (sb, c) = setup();
    let text = format!("x = {}", "[".repeat(20_000));
    let e = metadata_err(sb.verify(&sb.request(crate_of(&files_with(
        &c,
        "Cargo.toml",
        Some(text.as_bytes()),
    )))));
    assert!(matches!(e, MErr::ManifestParse { .. }), "{e:?}");
}

/// M4 for the other TOML the tool parses from attacker-controlled input — `Cargo.toml.orig`
/// (manifest check, version-bump classification) and `Cargo.lock` (lock-file check): 20,000
/// levels of nesting (every M4 shape), verified on a 512 KiB stack in a child. The parses are guarded by the same
/// nesting pre-check, so nothing recurses; the `.orig` is a difference, the lock file a finding.
#[test]
fn m04_deeply_nested_orig_and_lock() {
    if is_child() {
        let out = std::thread::Builder::new()
            .stack_size(512 << 10)
            .spawn(|| {
                let (sb, c) = setup();
                let mut out = Vec::new();
                for (what, text) in m04_inputs() {
                    for file in ["Cargo.toml.orig", "Cargo.lock"] {
                        let r = sb
                            .verify(&sb.request(crate_of(&files_with(
                                &c,
                                file,
                                Some(text.as_bytes()),
                            ))))
                            .unwrap();
                        if file == "Cargo.lock" {
                            // Generated by cargo, not byte-compared: a lock file that does not
                            // parse is a (low) finding.
                            assert!(
                                has_finding(&r, "lockfile_unparsable"),
                                "{what}: {:?}",
                                r.findings
                            );
                        } else {
                            assert_ne!(r.verdict, Verdict::Match, "{what} {file}");
                            assert!(r.differences.iter().any(|d| d.path == file), "{r:?}");
                        }
                        out.push(format!("{what} {file}: {}", r.verdict));
                    }
                }
                out.join("; ")
            })
            .unwrap()
            .join()
            .unwrap();
        child_report(&out);
        return;
    }
    let out = run_child(
        "m04_deeply_nested_orig_and_lock",
        1 << 30,
        Duration::from_secs(120),
        &[],
        None,
    );
    assert_bounded("m04 orig/lock", &out, 256);
}

#[test]
fn m05_huge_manifest() {
    let (sb, c) = setup();
    let mut big = manifest().into_bytes();
    let line = b"# padding padding padding padding padding padding padding\n";
    big.extend(line.repeat((50 << 20) / line.len() + 1));
    assert!(big.len() > 50 << 20);
    let e =
        metadata_err(sb.verify(&sb.request(crate_of(&files_with(&c, "Cargo.toml", Some(&big))))));
    assert!(
        matches!(&e, MErr::LimitExceeded(l) if l.limit == "max_manifest_bytes"),
        "{e:?}"
    );
    assert_eq!(e.kind(), ErrorKind::LimitExceeded);
}

#[test]
fn m06_identity_mismatch_with_prefix() {
    let (sb, c) = setup();
    for (m, field) in [
        (
            net::manifest("bar", "1.0.0", "https://example.invalid/foo"),
            "name",
        ),
        (
            net::manifest("foo", "1.0.1", "https://example.invalid/foo"),
            "version",
        ),
    ] {
        let e = metadata_err(sb.verify(&sb.request(crate_of(&files_with(
            &c,
            "Cargo.toml",
            Some(m.as_bytes()),
        )))));
        assert!(
            matches!(&e, MErr::IdentityMismatch { field: f, .. } if *f == field),
            "{e:?}"
        );
    }
}

/// The registry serves `bar-1.0.0` for a request of `foo@1.0.0` (under the right cksum).
#[test]
fn m06_identity_mismatch_with_request() {
    let (sb, _) = setup();
    let m = net::manifest("bar", "1.0.0", "https://example.invalid/bar");
    let bytes = net::make_crate("bar", "1.0.0", &m, &"0".repeat(40));
    let reg = net::Registry::start();
    reg.publish("foo", "1.0.0", &bytes, None, false);
    let mut o = sb.options();
    o.index_url = Some(reg.index_url());
    o.allow_insecure_transport = true;
    let req = Request::new(CrateSource::Registry {
        name: "foo".into(),
        version: "1.0.0".into(),
    })
    .with_repo(RepoSource::Path(sb.repo_path()))
    .with_options(o);
    let e = metadata_err(sb.verify(&req));
    assert!(matches!(e, MErr::IdentityMismatch { .. }), "{e:?}");
}

/// `Cargo.toml.orig` equals the repository's manifest, the normalized `Cargo.toml` adds a build
/// script, a `[lib] path`, `proc-macro`, `links` and a target dependency.
#[test]
fn m07_normalized_manifest_launders() {
    let (sb, c) = setup();
    let laundered = format!(
        "{}build = \"x.rs\"\nlinks = \"z\"\n[lib]\npath = \"src/other.rs\"\nproc-macro = true\n[target.'cfg(unix)'.dependencies]\nevil = \"1\"\n",
        manifest()
    );
    let r = sb
        .verify(&sb.request(crate_of(&files_with(
            &c,
            "Cargo.toml",
            Some(laundered.as_bytes()),
        ))))
        .unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch, "{}", r.to_json());
    let f = r
        .findings
        .iter()
        .find(|f| f.kind == "normalized_manifest_diverges")
        .unwrap_or_else(|| panic!("{}", r.to_json()));
    assert_eq!(f.severity, provenance_core::Severity::High);
}

#[test]
fn m08_orig_manifest_missing() {
    let (sb, c) = setup();
    let r = sb
        .verify(&sb.request(crate_of(&files_with(&c, "Cargo.toml.orig", None))))
        .unwrap();
    assert!(has_finding(&r, "orig_manifest_missing"), "{}", r.to_json());
    // Cargo.toml is then compared with the repository's manifest (here byte-equal).
    assert_eq!(r.verdict, Verdict::Match);
    let mut other = manifest();
    other.push_str("# normalized by cargo\n");
    let mut f = files_with(&c, "Cargo.toml.orig", None);
    f.retain(|(p, _)| p != "Cargo.toml");
    f.push(("Cargo.toml".into(), other.into_bytes()));
    let r = sb.verify(&sb.request(crate_of(&f))).unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch);
    assert_eq!(
        diff_kind(&r, "Cargo.toml"),
        Some(DifferenceKind::ContentDiffers)
    );
}

const HOSTILE_URLS: &[&str] = &[
    "ext::sh -c touch% /tmp/pwned",
    "ssh://-oProxyCommand=touch%20/tmp/pwned/x",
    "ssh://-Fcfg@h/x",
    "file:///home",
    "/abs/path",
    "foo::bar",
    "git://github.com/a/b",
    "http://169.254.169.254/",
    "https://u:p@host/x",
    "https://host/x\r\nInjected: 1",
    "https://host/\u{1b}]0;pwned\u{7}",
    "https://g\u{456}thub.com/a/b",
    "git@github.com:a/b.git",
    "-u./payload",
];

fn toml_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[test]
fn m09_hostile_repository_urls() {
    if is_child() {
        // O4: PATH holds only fakes; HOME/XDG/TMPDIR point into the parent's sandbox.
        let sb = Sandbox::new();
        let c = "0".repeat(40);
        let long = format!("https://example.org/{}", "a".repeat(64 << 10));
        let mut urls: Vec<String> = HOSTILE_URLS.iter().map(|s| (*s).to_owned()).collect();
        urls.push(long);
        let mut seen = 0;
        for url in &urls {
            // Decided before any network or process activity.
            let e = provenance_core::fetch::url::normalize(url, false).expect_err(url);
            assert_eq!(e.kind(), ErrorKind::UrlPolicy, "{url}");
            let m = net::manifest("foo", "1.0.0", &toml_escape(url));
            let f = files_with(&c, "Cargo.toml", Some(m.as_bytes()));
            let req = Request::new(CrateSource::Bytes(crate_of(&f))).with_options(sb.options());
            let r = sb.verify(&req).unwrap();
            assert_eq!(
                r.verdict,
                Verdict::RepositoryNotFound,
                "{url}: {}",
                r.to_json()
            );
            let fetch = r
                .fetch
                .as_ref()
                .and_then(|f| f.repository.as_ref())
                .unwrap();
            assert_eq!(fetch.strategy, "refused", "{url}");
            let json = r.to_json();
            assert!(!json.bytes().any(|b| b < 0x20 && b != b'\n'), "{url}");
            seen += 1;
        }
        child_report(&format!("{seen} urls refused"));
        return;
    }
    let sb = Sandbox::new();
    let bin = security_support::fake_bin(&sb);
    let tmp = sb.root.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = run_child(
        "m09_hostile_repository_urls",
        2 << 30,
        Duration::from_secs(120),
        &[
            ("HOME", sb.root.as_os_str()),
            ("XDG_CONFIG_HOME", sb.root.as_os_str()),
            ("XDG_CACHE_HOME", sb.root.as_os_str()),
            ("TMPDIR", tmp.as_os_str()),
        ],
        Some(&bin),
    );
    assert_bounded("m09", &out, 256);
    assert!(
        !sb.outside.join("EXECUTED").exists(),
        "O4: executed {:?}",
        std::fs::read_to_string(sb.outside.join("EXECUTED"))
    );
    assert!(!std::path::Path::new("/tmp/pwned").exists());
}

#[test]
fn m10_leftover_workspace_inheritance() {
    let (sb, c) = setup();
    let m = "[package]\nname = \"foo\"\nversion.workspace = true\nedition = \"2021\"\n";
    let e = metadata_err(sb.verify(&sb.request(crate_of(&files_with(
        &c,
        "Cargo.toml",
        Some(m.as_bytes()),
    )))));
    assert!(matches!(e, MErr::ManifestParse { .. }), "{e:?}");
}

#[test]
fn m10_leftover_patch_and_replace() {
    let (sb, c) = setup();
    let m = format!(
        "{}[patch.crates-io]\nserde = {{ git = \"https://evil.example/serde\" }}\n[replace]\n\"log:0.4.0\" = {{ path = \"/x\" }}\n",
        manifest()
    );
    let r = sb
        .verify(&sb.request(crate_of(&files_with(&c, "Cargo.toml", Some(m.as_bytes())))))
        .unwrap();
    assert!(
        has_finding(&r, "non_normalized_manifest"),
        "{}",
        r.to_json()
    );
}

#[test]
fn m11_manifest_paths_escape_package() {
    let sb = Sandbox::new();
    let m = format!(
        "{}build = \"../outside.rs\"\nreadme = \"../../outside/canary\"\nlicense-file = \"/etc/passwd\"\n[lib]\npath = \"/abs/lib.rs\"\n",
        manifest()
    );
    let c = net::make_repo(&sb.srv, "foo", &m, 0, 0);
    let mut f = std_files(&c);
    for (p, d) in &mut f {
        if p.starts_with("Cargo.toml") {
            *d = m.clone().into_bytes();
        }
    }
    let r = sb.verify(&sb.request(crate_of(&f))).unwrap();
    // Never read from our file system: the canary is not in the report, and the verdict is
    // typed (the escaping readme/license are content outside the repository, or a package error).
    let json = r.to_json();
    assert!(
        !json.contains("canary\\n") && !json.contains("root:x"),
        "{json}"
    );
    assert!(
        matches!(r.verdict, Verdict::Mismatch | Verdict::PackageError),
        "{json}"
    );
    assert!(
        r.findings.iter().any(|f| [
            "outside_repository",
            "package_error",
            "symlink_escapes_repository"
        ]
        .contains(&f.kind.as_str())),
        "{json}"
    );
}

#[test]
fn m12_pathological_globs() {
    let sb = Sandbox::new();
    // 10,001 patterns: over `max_patterns`.
    let many: Vec<String> = (0..10_001).map(|i| format!("\"src/f{i}.rs\"")).collect();
    let m = format!("{}include = [{}]\n", manifest(), many.join(","));
    let c = net::make_repo(&sb.srv, "foo", &m, 0, 0);
    let mut f = std_files(&c);
    for (p, d) in &mut f {
        if p.starts_with("Cargo.toml") {
            *d = m.clone().into_bytes();
        }
    }
    let e = sb
        .verify_within(&sb.request(crate_of(&f)), 120)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitExceeded, "{e:?}");
    // 2,000 deep `**/**/…` patterns: bounded time.
    let sb = Sandbox::new();
    let deep: Vec<String> = (0..2_000)
        .map(|i| format!("\"{}x{i}\"", "**/".repeat(20)))
        .collect();
    let m = format!("{}exclude = [{}]\n", manifest(), deep.join(","));
    let c = net::make_repo(&sb.srv, "foo", &m, 0, 0);
    let mut f = std_files(&c);
    for (p, d) in &mut f {
        if p.starts_with("Cargo.toml") {
            *d = m.clone().into_bytes();
        }
    }
    let r = sb.verify_within(&sb.request(crate_of(&f)), 120).unwrap();
    assert_eq!(r.verdict, Verdict::Match, "{}", r.to_json());
}

// ------------------------------------------------------------------------------------------
// V: .cargo_vcs_info.json
// ------------------------------------------------------------------------------------------

#[test]
fn v01_vcs_info_absent() {
    let (sb, c) = setup();
    let r = sb
        .verify(&no_assist(
            &sb,
            crate_of(&files_with(&c, ".cargo_vcs_info.json", None)),
        ))
        .unwrap();
    assert_eq!(r.verdict, Verdict::NoVcsInfo);
    assert!(!has_finding(&r, "malformed_vcs_info"));
}

fn assert_malformed_vcs(sb: &Sandbox, c: &str, json: &[u8]) {
    let r = sb
        .verify(&no_assist(
            sb,
            crate_of(&files_with(c, ".cargo_vcs_info.json", Some(json))),
        ))
        .unwrap();
    assert_eq!(r.verdict, Verdict::NoVcsInfo, "{}", r.to_json());
    assert!(has_finding(&r, "malformed_vcs_info"), "{}", r.to_json());
    assert_eq!(r.source.commit, None);
}

#[test]
fn v02_malformed_vcs_info() {
    let (sb, c) = setup();
    let good = String::from_utf8(vcs_info(&c)).unwrap();
    let mut cases: Vec<Vec<u8>> = vec![
        b"not json".to_vec(),
        [&b"\xef\xbb\xbf"[..], good.as_bytes()].concat(),
        good.as_bytes()[..good.len() / 2].to_vec(),
        br#"{"git":{"sha1":5}}"#.to_vec(),
        br#"{"git":"x"}"#.to_vec(),
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        format!(
            r#"{{"git":{{"sha1":"{c}"}},"x":{}1{}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        )
        .into_bytes(),
    ];
    for json in &cases {
        let e = metadata::parse_vcs_info(json, &Limits::default()).unwrap_err();
        assert!(matches!(e, MErr::MalformedVcsInfo { .. }), "{e:?}");
        assert_malformed_vcs(&sb, &c, json);
    }
    // 100 MiB: the size cap first.
    let mut huge = good.into_bytes();
    huge.extend(vec![b' '; 100 << 20]);
    let e = metadata::parse_vcs_info(&huge, &Limits::default()).unwrap_err();
    assert!(
        matches!(&e, MErr::LimitExceeded(l) if l.limit == "max_vcs_info_bytes"),
        "{e:?}"
    );
    cases.clear();
    assert_malformed_vcs(&sb, &c, &huge);
}

#[test]
fn v03_duplicate_keys() {
    let (sb, c) = setup();
    let other = "1".repeat(40);
    for json in [
        format!(r#"{{"git":{{"sha1":"{c}","sha1":"{other}"}}}}"#),
        format!(r#"{{"git":{{"sha1":"{c}"}},"git":{{"sha1":"{other}"}}}}"#),
        format!(r#"{{"git":{{"sha1":"{c}"}},"path_in_vcs":"","path_in_vcs":"x"}}"#),
    ] {
        let e = metadata::parse_vcs_info(json.as_bytes(), &Limits::default()).unwrap_err();
        assert!(matches!(e, MErr::MalformedVcsInfo { .. }), "{e:?}");
        assert_malformed_vcs(&sb, &c, json.as_bytes());
    }
}

#[test]
fn v04_sha1_forms() {
    let (sb, c) = setup();
    let forms = [
        c[..39].to_owned(),
        format!("{c}0"),
        c.to_uppercase(),
        format!(" {c}"),
        format!("{c}\n"),
        "a".repeat(63),
        "HEAD".to_owned(),
        "refs/heads/main".to_owned(),
        "--upload-pack=touch /tmp/pwned".to_owned(),
        "-c".to_owned(),
        format!("{}^{{tree}}", &c),
        String::new(),
    ];
    for sha in &forms {
        let json = format!(
            r#"{{"git":{{"sha1":{}}}}}"#,
            serde_json::to_string(sha).unwrap()
        );
        let e = metadata::parse_vcs_info(json.as_bytes(), &Limits::default()).unwrap_err();
        assert!(matches!(e, MErr::MalformedVcsInfo { .. }), "{sha}: {e:?}");
    }
    let json = r#"{"git":{"sha1":"--upload-pack=touch /tmp/pwned"}}"#;
    assert_malformed_vcs(&sb, &c, json.as_bytes());
    // 64 hex (sha256 repositories) is accepted syntactically.
    let json = format!(r#"{{"git":{{"sha1":"{}"}}}}"#, "a".repeat(64));
    assert!(metadata::parse_vcs_info(json.as_bytes(), &Limits::default()).is_ok());
}

#[test]
fn v05_publisher_declared_dirty() {
    let (sb, c) = setup();
    let json = format!(r#"{{"git":{{"sha1":"{c}","dirty":true}},"path_in_vcs":""}}"#);
    let r = sb
        .verify(&sb.request(crate_of(&files_with(
            &c,
            ".cargo_vcs_info.json",
            Some(json.as_bytes()),
        ))))
        .unwrap();
    assert!(
        has_finding(&r, "publisher_declared_dirty"),
        "{}",
        r.to_json()
    );
    assert!(r.source.dirty);
    assert!(r.files.compared > 0, "the comparison still runs");
    assert_eq!(r.verdict, Verdict::Match);
}

#[test]
fn v06_hostile_path_in_vcs() {
    let (sb, c) = setup();
    let long = "a/".repeat(5 << 10);
    for p in [
        "../..",
        "/etc",
        "C:\\\\x",
        "a\\\\b",
        ".git",
        ".GIT/x",
        "a/../../b",
        "a/\\u0000b",
        &long,
        "a//b",
        "./a",
    ] {
        let json = format!(r#"{{"git":{{"sha1":"{c}"}},"path_in_vcs":"{p}"}}"#);
        let e = metadata::parse_vcs_info(json.as_bytes(), &Limits::default()).unwrap_err();
        assert!(matches!(e, MErr::MalformedVcsInfo { .. }), "{p}: {e:?}");
        assert_malformed_vcs(&sb, &c, json.as_bytes());
    }
}

#[test]
fn v07_claimed_commit_content_differs() {
    let (sb, c) = setup();
    let mut f = files_with(&c, "src/lib.rs", Some(b"pub fn f() -> u32 {\n    43\n}\n"));
    f.push(("build.rs".into(), b"fn main() { /* payload */ }\n".to_vec()));
    let r = sb.verify(&sb.request(crate_of(&f))).unwrap();
    assert_eq!(r.verdict, Verdict::Mismatch);
    assert_eq!(
        diff_kind(&r, "build.rs"),
        Some(DifferenceKind::OnlyInPublished)
    );
    assert_eq!(
        diff_kind(&r, "src/lib.rs"),
        Some(DifferenceKind::ContentDiffers)
    );
    assert_eq!(r.source.commit.as_deref(), Some(c.as_str()));
}

#[test]
fn v08_commit_only_under_pull_ref() {
    let sb = Sandbox::new();
    let logs = tempfile::tempdir().unwrap();
    let daemon = net::GitDaemon::start(&sb.srv, logs.path());
    let m = net::manifest("foo", "1.0.0", &daemon.url("foo.git"));
    let c = net::make_repo(&sb.srv, "foo", &m, 2, 0);
    let bare = sb.repo_path();
    net::git(&bare, &["config", "uploadpack.allowAnySHA1InWant", "true"]);
    net::git(&bare, &["update-ref", "refs/pull/1/head", &c]);
    net::git(&bare, &["update-ref", "refs/heads/main", &format!("{c}~1")]);
    let bytes = net::make_crate("foo", "1.0.0", &m, &c);
    let mut o = sb.options();
    o.allow_insecure_transport = true;
    let req = Request::new(CrateSource::Bytes(bytes)).with_options(o);
    let r = sb.verify(&req).unwrap();
    assert!(has_finding(&r, "commit_not_on_any_ref"), "{}", r.to_json());
    let fetch = r.fetch.as_ref().unwrap().repository.as_ref().unwrap();
    assert_eq!(fetch.reachable_from, None);
    // The files are equal, but an unreachable commit never gives `match` (promise 9).
    assert_eq!(r.verdict, Verdict::Mismatch);
    assert!(r.differences.is_empty());
}

#[test]
fn v09_commit_not_found() {
    let (sb, c) = setup();
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let r = sb
        .verify(&no_assist(
            &sb,
            crate_of(&files_with(
                &c,
                ".cargo_vcs_info.json",
                Some(&vcs_info(missing)),
            )),
        ))
        .unwrap();
    assert_eq!(r.verdict, Verdict::RevisionNotFound, "{}", r.to_json());
}

#[test]
fn v10_object_type_mismatch() {
    let (sb, c) = setup();
    let bare = sb.repo_path();
    net::git(&bare, &["tag", "-a", "v1.0.0", "-m", "release", &c]);
    let tree = net::git(&bare, &["rev-parse", &format!("{c}^{{tree}}")]);
    let blob = net::git(&bare, &["rev-parse", &format!("{c}:src/lib.rs")]);
    let tag = net::git(&bare, &["rev-parse", "v1.0.0"]);
    for (id, kind) in [(tree, "tree"), (blob, "blob"), (tag, "tag")] {
        let r = sb
            .verify(&no_assist(
                &sb,
                crate_of(&files_with(
                    &c,
                    ".cargo_vcs_info.json",
                    Some(&vcs_info(&id)),
                )),
            ))
            .unwrap();
        assert_eq!(r.verdict, Verdict::RevisionNotFound, "{kind}");
        let f = r
            .findings
            .iter()
            .find(|f| f.kind == "object_type_mismatch")
            .unwrap();
        assert!(f.message.contains(kind), "{}", f.message);
    }
}

#[test]
fn v11_commit_does_not_contain_package() {
    let sb = Sandbox::new();
    // The commit holds package `bar`, the crate claims `foo`.
    let c = net::make_repo(
        &sb.srv,
        "foo",
        &net::manifest("bar", "1.0.0", "https://example.invalid/foo"),
        0,
        0,
    );
    let r = sb
        .verify(&no_assist(&sb, crate_of(&std_files(&c))))
        .unwrap();
    assert_eq!(r.verdict, Verdict::PathNotFound, "{}", r.to_json());
    assert!(has_finding(&r, "path_not_found"));
    // Another version of `foo`: the manifests differ.
    let sb = Sandbox::new();
    let c = net::make_repo(
        &sb.srv,
        "foo",
        &net::manifest("foo", "2.0.0", "https://example.invalid/foo"),
        0,
        0,
    );
    let r = sb
        .verify(&no_assist(&sb, crate_of(&std_files(&c))))
        .unwrap();
    assert_ne!(r.verdict, Verdict::Match, "{}", r.to_json());
    // No Cargo.toml at all at the commit.
    let sb = Sandbox::new();
    let c = sb.fixture_repo();
    let bare = sb.repo_path();
    let tree = net::git(&bare, &["rev-parse", &format!("{c}^{{tree}}")]);
    let sub = net::git(&bare, &["rev-parse", &format!("{tree}:src")]);
    let t2 = hash_tree(&bare, &[("40000", "src", &sub)]);
    let c2 = net::git(&bare, &["commit-tree", &t2, "-m", "no manifest"]);
    let r = sb
        .verify(&no_assist(
            &sb,
            crate_of(&files_with(
                &c,
                ".cargo_vcs_info.json",
                Some(&vcs_info(&c2)),
            )),
        ))
        .unwrap();
    assert_eq!(r.verdict, Verdict::PathNotFound, "{}", r.to_json());
}

/// `git mktree` for a handful of entries.
fn hash_tree(bare: &std::path::Path, entries: &[(&str, &str, &str)]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .args(["mktree"])
        .current_dir(bare)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for (mode, name, id) in entries {
        let kind = if *mode == "40000" { "tree" } else { "blob" };
        input.push_str(&format!("{mode} {kind} {id}\t{name}\n"));
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn v12_unknown_fields_accepted() {
    let (sb, c) = setup();
    let json = format!(
        r#"{{"git":{{"sha1":"{c}","future":{{"x":[1,2]}}}},"path_in_vcs":"","new_field":true,"z":null}}"#
    );
    let r = sb
        .verify(&sb.request(crate_of(&files_with(
            &c,
            ".cargo_vcs_info.json",
            Some(json.as_bytes()),
        ))))
        .unwrap();
    assert_eq!(r.verdict, Verdict::Match, "{}", r.to_json());
    assert!(!has_finding(&r, "malformed_vcs_info"));
}
