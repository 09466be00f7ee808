//! No false alarms, and laundering still caught (issue: "no false alarms on honest crates").
//!
//! 1. Real crate versions from the registry (sha256-checked against the index) that real
//!    `cargo package` reproduces exactly raise no `high` crate-intrinsic finding: cargo of their
//!    era wrote their normalized `Cargo.toml` and `Cargo.lock` that way.
//! 2. Laundering controls: a real matching crate (ryu 1.0.23, hexyl 0.17.0 from the real-world
//!    set) with its *generated* files edited — an added dependency, a changed requirement, an
//!    added build script, `links`, `proc-macro`, an added feature, a changed library path, a lock
//!    file with an undeclared package — gives a `high` finding from `inspect` and from `verify`,
//!    whatever the verdict (`mismatch` with the repository, `repository_not_found` without it).

mod support;

use provenance_core::{
    CrateSource, Options, RepoSource, Report, Request, Severity, Verdict, inspect, verify,
};
use support::TarEntry;

/// Honest crate versions that earlier checks flagged, with the index's sha256.
const HONEST: &[(&str, &str, &str, &str)] = &[
    // Explicit `[[test]]`/`[[bench]]`/`[[example]]` targets whose files are not packaged
    // (cargo < 1.80 kept them verbatim).
    (
        "log",
        "0.4.22",
        "a7a70ba024b9dc04c27ea2f0c0548feb474ec5c54bba33a7f72f873a39d07b24",
        "explicit targets without files",
    ),
    (
        "textwrap",
        "0.15.2",
        "b7b3e525a49ec206798b40326a44121291b530c963cfb01018f63e135bac543d",
        "explicit targets without files",
    ),
    (
        "syn",
        "0.15.18",
        "90c39a061e2f412a9f869540471ab679e85e50c6b05604daf28bc3060f75c430",
        "explicit targets without files (2018)",
    ),
    // A renamed (`package = "serde_core"`) and target-specific dependency in the lock file.
    (
        "semver",
        "1.0.27",
        "d767eb0aabc880b29956c35734170f26ed551a859dbd361d140cdbeca61ab1e2",
        "renamed and target-specific dependencies",
    ),
    // Features naming version-less dev-dependencies, stripped by cargo >= 1.78.
    (
        "objc2",
        "0.6.4",
        "3a12a8ed07aefc768292f076dc3ac8c48f3781c8f2d5851dd3d98950e8c5a89f",
        "feature entries of dropped dev-dependencies",
    ),
    (
        "wasm-bindgen",
        "0.2.127",
        "1b70935747edd64d89de3efa29d73789b806c15798f8e7dca4d8ac356b50ce70",
        "feature entries of dropped dev-dependencies",
    ),
    // Found by the registry sweep (docs/sweep.md): `[[example]] path = "../examples/x.rs"` in
    // `.orig` written as `examples/x.rs`, a file the crate does not hold.
    (
        "rust-s3",
        "0.35.0-alpha.1",
        "810b4cf98ec967dec422afb368c4e23f7712e93e89bd1088595129e307db5f09",
        "target paths rewritten to files not packaged",
    ),
];

fn intrinsic_high(findings: &[provenance_core::Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::High)
        .filter(|f| {
            !matches!(
                f.kind.as_str(),
                "repository_not_found" | "repository_unreachable"
            )
        })
        .map(|f| format!("{}: {}", f.kind, f.message))
        .collect()
}

#[test]
fn honest_registry_crates_raise_no_high_finding() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-repository");
    for (name, version, sha256, why) in HONEST {
        let file = support::registry_crate(name, version, sha256);
        let i = inspect(&CrateSource::File(file.clone()), &Options::default()).unwrap();
        assert!(
            !i.has_high(),
            "{name} {version} ({why}): inspect\n{}",
            i.to_json()
        );
        // `verify` runs the same checks whatever the verdict.
        let r = verify(
            &Request::new(CrateSource::File(file)).with_repo(RepoSource::Path(missing.clone())),
        )
        .unwrap();
        assert_eq!(r.verdict, Verdict::RepositoryNotFound);
        assert_eq!(
            intrinsic_high(&r.findings),
            Vec::<String>::new(),
            "{name} {version} ({why}): verify\n{}",
            r.to_json()
        );
    }
}

fn file_mut<'a>(entries: &'a mut [(String, TarEntry)], path: &str) -> &'a mut Vec<u8> {
    match entries.iter_mut().find(|(p, _)| p == path) {
        Some((_, TarEntry::File(d))) => d,
        _ => panic!("no file {path}"),
    }
}

/// Edit one generated file of a realworld crate; check `inspect`, `verify` with the repository
/// and `verify` against a missing repository.
fn laundered(id: &str, file: &str, edit: impl FnOnce(&mut String), kind: &str, needle: &str) {
    let entry = support::entry(id);
    let (prefix, mut entries) = support::unpack(&std::fs::read(&entry.crate_file).unwrap());
    let data = file_mut(&mut entries, file);
    let mut text = String::from_utf8(data.clone()).unwrap();
    let before = text.clone();
    edit(&mut text);
    assert_ne!(before, text, "the edit changed nothing");
    *data = text.into_bytes();
    let bytes = support::pack(&prefix, &entries);
    let check = |findings: &[provenance_core::Finding], what: &str, json: String| {
        assert!(
            findings.iter().any(|f| f.kind == kind
                && f.severity == Severity::High
                && f.message.contains(needle)),
            "{id} {what}: expected a high `{kind}` finding naming `{needle}`:\n{json}"
        );
    };
    let i = inspect(&CrateSource::Bytes(bytes.clone()), &Options::default()).unwrap();
    assert!(i.has_high());
    check(&i.findings, "inspect", i.to_json());
    let with_repo: Report = verify(
        &Request::new(CrateSource::Bytes(bytes.clone())).with_repo(RepoSource::Path(entry.repo)),
    )
    .unwrap();
    assert_eq!(
        with_repo.verdict,
        Verdict::Mismatch,
        "{}",
        with_repo.to_json()
    );
    check(&with_repo.findings, "verify", with_repo.to_json());
    let dir = tempfile::tempdir().unwrap();
    let without: Report = verify(
        &Request::new(CrateSource::Bytes(bytes))
            .with_repo(RepoSource::Path(dir.path().join("gone"))),
    )
    .unwrap();
    assert_eq!(without.verdict, Verdict::RepositoryNotFound);
    check(
        &without.findings,
        "verify without repository",
        without.to_json(),
    );
}

const DIVERGES: &str = "normalized_manifest_diverges";

#[test]
fn control_unedited_realworld_crates_are_clean() {
    for id in ["ryu-1.0.23", "hexyl-0.17.0"] {
        let entry = support::entry(id);
        let i = inspect(&CrateSource::File(entry.crate_file), &Options::default()).unwrap();
        assert!(!i.has_high(), "{}", i.to_json());
    }
}

#[test]
fn laundering_added_dependency() {
    laundered(
        "ryu-1.0.23",
        "Cargo.toml",
        |t| t.push_str("\n[dependencies.evil]\nversion = \"1\"\n"),
        DIVERGES,
        "dependencies.evil",
    );
}

#[test]
fn laundering_changed_requirement() {
    laundered(
        "hexyl-0.17.0",
        "Cargo.toml",
        |t| {
            let i = t.find("[dependencies.").unwrap();
            let j = i + t[i..].find("version = \"").unwrap() + "version = \"".len();
            t.insert_str(j, "=0.0.1, ");
        },
        DIVERGES,
        "version `=0.0.1, ",
    );
}

#[test]
fn laundering_added_build_script() {
    laundered(
        "ryu-1.0.23",
        "Cargo.toml",
        |t| *t = t.replacen("build = false", "build = \"src/lib.rs\"", 1),
        DIVERGES,
        "package.build",
    );
}

#[test]
fn laundering_changed_links() {
    laundered(
        "ryu-1.0.23",
        "Cargo.toml",
        |t| *t = t.replacen("[package]\n", "[package]\nlinks = \"evil\"\n", 1),
        DIVERGES,
        "package.links",
    );
}

#[test]
fn laundering_proc_macro_flipped() {
    laundered(
        "ryu-1.0.23",
        "Cargo.toml",
        |t| *t = t.replacen("[lib]\n", "[lib]\nproc-macro = true\n", 1),
        DIVERGES,
        "lib.proc-macro",
    );
}

#[test]
fn laundering_added_feature() {
    laundered(
        "ryu-1.0.23",
        "Cargo.toml",
        |t| {
            if let Some(i) = t.find("[features]\n") {
                t.insert_str(i + "[features]\n".len(), "evil = []\n");
            } else {
                t.push_str("\n[features]\nevil = []\n");
            }
        },
        DIVERGES,
        "features.evil",
    );
}

#[test]
fn laundering_changed_library_path() {
    laundered(
        "ryu-1.0.23",
        "Cargo.toml",
        |t| *t = t.replacen("path = \"src/lib.rs\"", "path = \"src/d2s.rs\"", 1),
        DIVERGES,
        "lib target path `src/d2s.rs`",
    );
}

#[test]
fn laundering_lockfile_with_undeclared_package() {
    laundered(
        "hexyl-0.17.0",
        "Cargo.lock",
        |t| {
            t.push_str("\n[[package]]\nname = \"evil\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n");
        },
        "lockfile_inconsistent",
        "`evil 1.0.0`",
    );
}

#[test]
fn laundering_lockfile_root_depends_on_undeclared_package() {
    laundered(
        "hexyl-0.17.0",
        "Cargo.lock",
        |t| {
            let i = t.find("name = \"hexyl\"").unwrap();
            let j = i + t[i..].find("dependencies = [\n").unwrap() + "dependencies = [\n".len();
            t.insert_str(j, " \"evil\",\n");
            t.push_str("\n[[package]]\nname = \"evil\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n");
        },
        "lockfile_inconsistent",
        "`evil`",
    );
}
