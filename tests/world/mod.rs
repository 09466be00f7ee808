//! A fixture world for the integration outputs (`cargo provenance`, SARIF, attestations, SBOM
//! annotation, the GitHub Action's script): crates served by a loopback sparse registry,
//! repositories by a loopback `git daemon`, and a cargo workspace whose `Cargo.lock` names them.
#![allow(dead_code)]

#[path = "../../provenance-core/tests/fetch_support/mod.rs"]
pub mod fetch_support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fetch_support::{GitDaemon, Registry, make_crate, make_repo, manifest};

/// The registry crates of the fixture workspace's `Cargo.lock`, with their verdicts.
pub const CRATES: &[(&str, &str)] = &[
    ("alpha", "match"),
    ("beta", "match"),
    ("gamma", "mismatch"),
    ("delta", "revision_not_found"),
    ("eps", "error"),
    ("zeta", "repository_not_found"),
];

/// The workspace's policy: `gamma` and `eps` fail the gate, `delta` is exempt.
pub const POLICY: &str = "[gate]\ndeny = [\"mismatch\", \"revision_not_found\", \"error\"]\n\n[[exemptions.delta]]\nversion = \"1.0.0\"\nreason = \"published from a fork; reviewed\"\n";

/// A `.crate` whose `src/lib.rs` differs from the repository's.
fn crate_with_lib(name: &str, manifest: &str, sha1: &str, lib: &str) -> Vec<u8> {
    let prefix = format!("{name}-1.0.0");
    let vcs =
        format!("{{\n  \"git\": {{\n    \"sha1\": \"{sha1}\"\n  }},\n  \"path_in_vcs\": \"\"\n}}");
    let files: Vec<(&str, Vec<u8>)> = vec![
        (".cargo_vcs_info.json", vcs.into_bytes()),
        ("Cargo.toml", manifest.as_bytes().to_vec()),
        ("Cargo.toml.orig", manifest.as_bytes().to_vec()),
        ("src/lib.rs", lib.as_bytes().to_vec()),
    ];
    let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(enc);
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, format!("{prefix}/{path}"), data.as_slice())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// The servers, the published `.crate` files, and a workspace `ws/` (members `app`, `tool`).
pub struct World {
    pub tmp: tempfile::TempDir,
    pub registry: Registry,
    pub daemon: GitDaemon,
    /// The published bytes of each crate (`NAME` → `.crate`).
    pub crates: BTreeMap<String, Vec<u8>>,
}

impl World {
    pub fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("srv");
        std::fs::create_dir_all(&base).unwrap();
        let daemon = GitDaemon::start(&base, tmp.path());
        let registry = Registry::start();
        let mut crates = BTreeMap::new();
        let mut publish = |name: &str, bytes: Vec<u8>| {
            registry.publish(name, "1.0.0", &bytes, None, false);
            crates.insert(name.to_owned(), bytes);
        };
        for name in ["alpha", "beta"] {
            let m = manifest(name, "1.0.0", &daemon.url(&format!("{name}.git")));
            let commit = make_repo(&base, name, &m, 0, 1);
            publish(name, make_crate(name, "1.0.0", &m, &commit));
        }
        let m = manifest("gamma", "1.0.0", &daemon.url("gamma.git"));
        let commit = make_repo(&base, "gamma", &m, 0, 0);
        publish(
            "gamma",
            crate_with_lib("gamma", &m, &commit, "pub fn f() -> u32 {\n    43\n}\n"),
        );
        let m = manifest("delta", "1.0.0", &daemon.url("delta.git"));
        make_repo(&base, "delta", &m, 0, 0);
        publish(
            "delta",
            make_crate("delta", "1.0.0", &m, &"1234567890".repeat(4)),
        );
        publish("eps", b"this is not a crate".to_vec());
        let m = manifest("zeta", "1.0.0", &daemon.url("nothere.git"));
        publish("zeta", make_crate("zeta", "1.0.0", &m, &"ab".repeat(20)));

        let w = World {
            tmp,
            registry,
            daemon,
            crates,
        };
        w.write_workspace();
        w
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    /// The workspace root.
    pub fn ws(&self) -> PathBuf {
        self.path("ws")
    }

    fn write_workspace(&self) {
        let ws = self.ws();
        for member in ["app", "tool"] {
            std::fs::create_dir_all(ws.join(member).join("src")).unwrap();
            std::fs::write(
                ws.join(member).join("Cargo.toml"),
                format!(
                    "[package]\nname = \"{member}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"
                ),
            )
            .unwrap();
            std::fs::write(ws.join(member).join("src/lib.rs"), "").unwrap();
        }
        std::fs::write(
            ws.join("Cargo.toml"),
            "[workspace]\nmembers = [\"app\", \"tool\"]\nresolver = \"2\"\n",
        )
        .unwrap();
        let mut s = String::from(
            "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n",
        );
        for (n, _) in CRATES {
            let _ = write!(
                s,
                "\n[[package]]\nname = \"{n}\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"00\"\n"
            );
        }
        s.push_str("\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"alpha\",\n \"beta\",\n]\n");
        s.push_str("\n[[package]]\nname = \"forked\"\nversion = \"0.2.0\"\nsource = \"git+https://example.invalid/forked?branch=main#0123456789012345678901234567890123456789\"\n");
        s.push_str("\n[[package]]\nname = \"tool\"\nversion = \"0.1.0\"\n");
        std::fs::write(ws.join("Cargo.lock"), s).unwrap();
        std::fs::write(ws.join("provenance.toml"), POLICY).unwrap();
    }

    /// The 1-based line of `name = "NAME"` in the workspace's `Cargo.lock`.
    pub fn lock_line(&self, name: &str) -> u64 {
        let text = std::fs::read_to_string(self.ws().join("Cargo.lock")).unwrap();
        let needle = format!("name = \"{name}\"");
        text.lines().position(|l| l == needle).unwrap() as u64 + 1
    }

    /// The registry and cache arguments every scan of this world needs.
    pub fn registry_args(&self, cache: &str) -> Vec<String> {
        vec![
            "--index-url".into(),
            self.registry.index_url(),
            "--allow-insecure-transport".into(),
            "--cache-dir".into(),
            self.path(cache).to_str().unwrap().into(),
        ]
    }

    /// `crate-provenance ARGS` in the workspace root.
    pub fn crate_provenance(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_crate-provenance"));
        c.current_dir(self.ws()).args(args).env_remove("CI");
        c
    }
}

/// Status, stdout and stderr, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The lines of a JSON Lines file.
pub fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A JSON Schema validator for a file of the repository.
pub fn validator(rel: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let schema: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("`{}` is not a valid schema: {e}", path.display()))
}

/// Every validation error of `doc`, as text (empty when valid).
pub fn schema_errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}
