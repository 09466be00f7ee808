//! `--cargo-config FILE` (issue 16): cargo's own source replacement of crates.io, with a
//! loopback sparse registry and with a `local-registry` directory (which real cargo reads too:
//! `cargo fetch --offline` against the same config is the oracle of the layout), and the
//! refusal of a `directory` source.

#[path = "../provenance-core/tests/fetch_support/mod.rs"]
mod fetch_support;

use std::path::Path;
use std::process::{Command, Output};

use fetch_support::{GitDaemon, Registry, make_crate, make_repo, manifest, sha256};

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn verify(args: &[&str], cache: &Path) -> serde_json::Value {
    let out = cli()
        .args([
            "verify",
            "cfgd@1.0.0",
            "--format",
            "json",
            "--allow-insecure-transport",
        ])
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .output()
        .unwrap();
    json(&out)
}

/// The repository behind `git daemon`, the crate published to a loopback sparse registry and
/// written as a local registry under `root/vendor/registry`.
struct World {
    _daemon: GitDaemon,
    registry: Registry,
    krate: Vec<u8>,
}

fn world(root: &Path) -> World {
    let srv = root.join("srv");
    std::fs::create_dir_all(&srv).unwrap();
    let daemon = GitDaemon::start(&srv, root);
    let m = manifest("cfgd", "1.0.0", &daemon.url("cfgd.git"));
    let commit = make_repo(&srv, "cfgd", &m, 0, 0);
    let krate = make_crate("cfgd", "1.0.0", &m, &commit);
    let registry = Registry::start();
    registry.publish("cfgd", "1.0.0", &krate, None, false);
    // The local registry: `index/cf/gd/cfgd` and `cfgd-1.0.0.crate`.
    let reg = root.join("vendor/registry");
    std::fs::create_dir_all(reg.join("index/cf/gd")).unwrap();
    std::fs::write(
        reg.join("index/cf/gd/cfgd"),
        format!(
            "{{\"name\":\"cfgd\",\"vers\":\"1.0.0\",\"deps\":[],\"cksum\":\"{}\",\"features\":{{}},\"yanked\":false}}\n",
            sha256(&krate)
        ),
    )
    .unwrap();
    std::fs::write(reg.join("cfgd-1.0.0.crate"), &krate).unwrap();
    World {
        _daemon: daemon,
        registry,
        krate,
    }
}

fn config(root: &Path, source: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(root.join(".cargo")).unwrap();
    let f = root.join(".cargo/config.toml");
    std::fs::write(
        &f,
        format!("[source.crates-io]\nreplace-with = \"airgap\"\n\n[source.airgap]\n{source}\n"),
    )
    .unwrap();
    f
}

#[test]
fn sparse_replacement_is_the_index_url() {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(tmp.path());
    let cfg = config(
        tmp.path(),
        &format!("registry = \"{}\"", w.registry.index_url()),
    );
    let via_config = verify(
        &["--cargo-config", cfg.to_str().unwrap()],
        &tmp.path().join("c1"),
    );
    assert_eq!(via_config["verdict"], "match", "{via_config:#}");
    let direct = verify(
        &["--index-url", &w.registry.index_url()],
        &tmp.path().join("c2"),
    );
    assert_eq!(via_config, direct);
    // Both flags at once: a usage error.
    let out = cli()
        .args([
            "verify",
            "cfgd@1.0.0",
            "--cargo-config",
            cfg.to_str().unwrap(),
        ])
        .args(["--index-url", &w.registry.index_url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn local_registry_replacement_read_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(tmp.path());
    let cfg = config(tmp.path(), "local-registry = \"vendor/registry\"");
    // The oracle: real cargo resolves and fetches `cfgd` from this local registry, offline.
    let consumer = tmp.path().join("consumer");
    std::fs::create_dir_all(consumer.join("src")).unwrap();
    std::fs::create_dir_all(consumer.join(".cargo")).unwrap();
    std::fs::copy(&cfg, consumer.join(".cargo/config.toml")).unwrap();
    std::fs::write(
        consumer.join(".cargo/config.toml"),
        std::fs::read_to_string(&cfg).unwrap().replace(
            "vendor/registry",
            tmp.path().join("vendor/registry").to_str().unwrap(),
        ),
    )
    .unwrap();
    std::fs::write(
        consumer.join("Cargo.toml"),
        "[package]\nname = \"consumer\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\ncfgd = \"=1.0.0\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(consumer.join("src/lib.rs"), "").unwrap();
    let out = Command::new("cargo")
        .args(["fetch", "--offline"])
        .current_dir(&consumer)
        .env("CARGO_HOME", tmp.path().join("cargo-home"))
        .output()
        .expect("cargo must be installed");
    assert!(
        out.status.success(),
        "cargo fetch: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let report = verify(
        &["--cargo-config", cfg.to_str().unwrap()],
        &tmp.path().join("c1"),
    );
    assert_eq!(report["verdict"], "match", "{report:#}");
    let url = report["fetch"]["download"]["url"].as_str().unwrap();
    assert!(
        url.starts_with("file://") && url.ends_with("/vendor/registry/cfgd-1.0.0.crate"),
        "{url}"
    );
    assert_eq!(
        report["crate"]["sha256"].as_str().unwrap(),
        sha256(&w.krate)
    );
    // The `.crate` altered in the local registry: its index `cksum` no longer matches.
    std::fs::write(
        tmp.path().join("vendor/registry/cfgd-1.0.0.crate"),
        b"changed",
    )
    .unwrap();
    let bad = verify(
        &["--cargo-config", cfg.to_str().unwrap()],
        &tmp.path().join("c2"),
    );
    assert_eq!(bad["error"]["kind"], "checksum_mismatch", "{bad:#}");
}

#[test]
fn directory_sources_are_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), "directory = \"vendor\"");
    let out = cli()
        .args(["verify", "cfgd@1.0.0", "--format", "json", "--cargo-config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "invalid_input");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unpacked sources"),
        "{doc}"
    );
}
