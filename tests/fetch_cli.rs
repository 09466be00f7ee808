//! `crate-provenance verify NAME@VERSION` end to end: the crate from a registry, the repository
//! from `git daemon` on loopback. The realworld cases download from the real crates.io.

#[path = "../provenance-core/tests/fetch_support/mod.rs"]
mod fetch_support;

use std::path::Path;
use std::process::Command;

use fetch_support::{GitDaemon, Registry, make_crate, make_repo, manifest};

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
}

/// Parse the CLI's JSON and validate it against `schema/report.v1.json` (with its `fetch` part).
fn json(out: &std::process::Output) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.v1.json"))
            .unwrap(),
    )
    .unwrap();
    if let Err(e) = jsonschema::validator_for(&schema).unwrap().validate(&doc) {
        panic!("report does not match the schema: {e}\n{doc:#}");
    }
    doc
}

fn extract(archive: &Path, into: &Path) {
    std::fs::create_dir_all(into).unwrap();
    let f = std::fs::File::open(archive).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(f))
        .unpack(into)
        .unwrap();
}

/// Acceptance: a realworld repository behind `git daemon`, the crate from the real registry.
#[test]
fn realworld_over_git_daemon_with_real_registry() {
    if std::env::var_os("CRATE_PROVENANCE_NO_NETWORK").is_some() {
        return;
    }
    let realworld = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/realworld");
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    for (case, expected) in [
        ("fnv-1.0.7", "match"),
        ("phf_macros-0.11.3", "match"),
        ("hex-0.4.0", "revision_not_found"),
    ] {
        let meta: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(realworld.join(case).join("expected.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            meta["expected_verdict"].as_str().unwrap_or(expected),
            expected
        );
        let base = tmp.path().join(case);
        extract(
            &realworld.join(meta["repo_archive"].as_str().unwrap()),
            &base,
        );
        let daemon = GitDaemon::start(&base, tmp.path());
        let spec = format!(
            "{}@{}",
            meta["name"].as_str().unwrap(),
            meta["version"].as_str().unwrap()
        );
        let out = cli()
            .args(["verify", &spec, "--repo", &daemon.url("repo.git")])
            .arg("--allow-insecure-transport")
            .arg("--cache-dir")
            .arg(&cache)
            .args(["--format", "json"])
            .output()
            .unwrap();
        let report = json(&out);
        assert_eq!(report["verdict"], expected, "{case}: {report:#}");
        assert_eq!(
            report["crate"]["sha256"], meta["crate_sha256"],
            "{case}: verified against the index cksum"
        );
        assert_eq!(out.status.code(), Some(i32::from(expected != "match")));
        if case == "hex-0.4.0" {
            // Cross-checks against the real index: the tag was made after publishing, and the
            // history walk finds the commit the crate was cut from (a local version bump).
            let kinds: Vec<&str> = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["kind"].as_str().unwrap())
                .collect();
            assert!(kinds.contains(&"tag_after_publish"), "{report:#}");
            assert_eq!(
                report["assisted"]["commit"], meta["reference"]["closest_upstream_commit"],
                "{report:#}"
            );
            assert_eq!(
                report["assisted"]["differences"][0]["category"],
                "version_bump_only"
            );
        }
        let fetched = &report["fetch"]["repository"];
        if expected == "match" {
            assert_eq!(fetched["depth"], 1, "{case}: {fetched:#}");
            let commits = meta["repo_upstream"]["commits"].as_u64().unwrap();
            assert!(
                fetched["objects"].as_u64().unwrap() < commits,
                "{case}: {fetched:#}"
            );
        }
    }
}

/// Two processes verify the same crate at once with an empty cache: both succeed.
#[test]
fn concurrent_processes_share_an_empty_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("srv");
    std::fs::create_dir_all(&base).unwrap();
    let daemon = GitDaemon::start(&base, tmp.path());
    let m = manifest("conc", "1.0.0", &daemon.url("conc.git"));
    let commit = make_repo(&base, "conc", &m, 20, 2);
    let registry = Registry::start();
    registry.publish(
        "conc",
        "1.0.0",
        &make_crate("conc", "1.0.0", &m, &commit),
        None,
        false,
    );
    let cache = tmp.path().join("cache");
    let spawn = || {
        cli()
            .args(["verify", "conc@1.0.0", "--index-url", &registry.index_url()])
            .arg("--allow-insecure-transport")
            .arg("--cache-dir")
            .arg(&cache)
            .args(["--format", "json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let report = json(&out);
        assert_eq!(report["verdict"], "match", "{report:#}");
        assert_eq!(out.status.code(), Some(0));
    }
    // Fetches are serialized by the lock: one process fetched (the commit by id, then the
    // branches back to its time), the other found the cache.
    assert_eq!(daemon.upload_packs(), 2);
    let leftovers: Vec<_> = std::fs::read_dir(cache.join("git"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
