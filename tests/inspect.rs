//! `crate-provenance inspect --format json` against the committed JSON Schema
//! `schema/inspect.v1.json`: crates made by real `cargo package --no-verify` from small fixture
//! repositories (exit 0, no `high` finding), the same crates tampered with by hand (exit 1, a
//! `high` finding), the realworld crates, and error documents (exit 2) all validate. Every
//! document is also checked against a strict copy of the schema (unknown properties refused), so
//! the schema names every field the CLI prints; the published schema stays open, as
//! `report.v1.json` is, because fields may be added within version 1.

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::TarEntry;

fn schema(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(support::repo_root().join("schema").join(name)).unwrap())
        .unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema("inspect.v1.json")).expect("the schema itself is valid")
}

/// `unevaluatedProperties: false` in every schema object that lists `properties` (it sees
/// through `$ref`, unlike `additionalProperties`).
fn close(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.contains_key("properties") {
                m.insert("unevaluatedProperties".into(), false.into());
            }
            m.values_mut().for_each(close);
        }
        Value::Array(a) => a.iter_mut().for_each(close),
        _ => {}
    }
}

fn strict_validator() -> jsonschema::Validator {
    let mut s = schema("inspect.v1.json");
    close(&mut s);
    jsonschema::validator_for(&s).expect("the strict schema is valid")
}

/// The document validates against the schema and its strict copy.
fn assert_valid(doc: &Value, what: &str) {
    for (name, v) in [
        ("schema", validator()),
        ("strict schema", strict_validator()),
    ] {
        let errors: Vec<String> = v.iter_errors(doc).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{what}: invalid against the {name}: {errors:#?}\n{}",
            serde_json::to_string_pretty(doc).unwrap()
        );
    }
}

/// `inspect TARGET --format json`: (exit code, document). Stdout must be exactly one JSON
/// document and a newline.
fn inspect(target: &OsStr) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
        .arg("inspect")
        .arg(target)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.ends_with("}\n"), "{stdout}");
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (out.status.code().unwrap_or(-1), doc)
}

/// Inspect a crate: the document validates and the exit status is 1 exactly when a finding is
/// `high`.
fn inspect_crate(path: &Path) -> (i32, Value) {
    let (code, doc) = inspect(path.as_os_str());
    let what = path.display().to_string();
    assert_valid(&doc, &what);
    assert_eq!(doc["kind"], "inspect", "{what}");
    let high = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["severity"] == "high");
    assert_eq!(
        code,
        i32::from(high),
        "{what}: exit status vs findings\n{doc:#}"
    );
    (code, doc)
}

fn high_kinds(doc: &Value) -> Vec<&str> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "high")
        .map(|f| f["kind"].as_str().unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Crates made by real `cargo package`
// ---------------------------------------------------------------------------------------------

/// A fixture repository with one commit.
struct Repo {
    tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Repo {
    fn new(files: &[(&str, &[u8])], executable: &[&str]) -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        for (path, data) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, data).unwrap();
        }
        for path in executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join(path), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        let r = Repo { tmp, dir };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["add", "-A"]);
        r.git(&["commit", "-q", "-m", "fixture"]);
        r
    }

    fn git(&self, args: &[&str]) -> String {
        support::git_fixture(&self.dir, args, "2024-01-01T00:00:00Z")
    }

    /// Real `cargo package --no-verify` of the package in `pkg` (`""` = root): the `.crate`.
    fn package(&self, pkg: &str) -> PathBuf {
        let target = self.tmp.path().join("target");
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cargo
            .args(["package", "--no-verify", "--offline", "-q"])
            .current_dir(self.dir.join(pkg))
            .env("CARGO_TARGET_DIR", &target)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("CARGO_BUILD_TARGET_DIR");
        let out = cargo.output().expect("cargo must be installed");
        assert!(
            out.status.success(),
            "cargo package: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut crates: Vec<PathBuf> = std::fs::read_dir(target.join("package"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "crate"))
            .collect();
        assert_eq!(crates.len(), 1, "{crates:?}");
        crates.pop().unwrap()
    }

    fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }
}

const LIB_MANIFEST: &str = "[package]\nname = \"plain\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"x\"\nrepository = \"https://example.com/plain\"\n";

/// A library without anything special.
fn plain() -> (Repo, PathBuf) {
    let r = Repo::new(
        &[
            ("Cargo.toml", LIB_MANIFEST.as_bytes()),
            ("src/lib.rs", b"pub fn f() {}\n"),
            ("README.md", b"# plain\n"),
        ],
        &[],
    );
    let c = r.package("");
    (r, c)
}

/// A package with a build script, `links`, a binary target (so cargo publishes a `Cargo.lock`),
/// a binary file, an executable script, a large file, a generated file and a vendored directory.
fn busy() -> (Repo, PathBuf) {
    let manifest = "[package]\nname = \"busy\"\nversion = \"0.2.0\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"x\"\nrepository = \"https://example.com/busy\"\nlinks = \"busy\"\nbuild = \"build.rs\"\n\n[[bin]]\nname = \"busy\"\npath = \"src/main.rs\"\n";
    let large = "all work and no play\n".repeat(60_000);
    let r = Repo::new(
        &[
            ("Cargo.toml", manifest.as_bytes()),
            ("build.rs", b"fn main() {}\n"),
            ("src/main.rs", b"mod generated;\nfn main() {}\n"),
            (
                "src/generated.rs",
                b"// @generated by a tool. Do not edit.\npub const X: u8 = 1;\n",
            ),
            ("data/blob.dat", b"\x00\x01\x02binary\x00data"),
            ("tools/run.sh", b"#!/bin/sh\necho hi\n"),
            ("assets/large.txt", large.as_bytes()),
            ("vendor/zlib/zlib.c", b"int z(void) { return 0; }\n"),
            ("vendor/zlib/zlib.h", b"int z(void);\n"),
        ],
        &["tools/run.sh"],
    );
    let c = r.package("");
    (r, c)
}

/// A proc-macro member of a workspace (`path_in_vcs` = `"macros"`).
fn member() -> (Repo, PathBuf) {
    let r = Repo::new(
        &[
            ("Cargo.toml", b"[workspace]\nmembers = [\"macros\"]\nresolver = \"2\"\n"),
            (
                "macros/Cargo.toml",
                b"[package]\nname = \"member-macros\"\nversion = \"1.0.0\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"x\"\n\n[lib]\nproc-macro = true\n",
            ),
            ("macros/src/lib.rs", b"// a proc macro\n"),
        ],
        &[],
    );
    let c = r.package("macros");
    (r, c)
}

fn paths(v: &Value) -> Vec<(&str, &str)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["reason"].as_str().unwrap()))
        .collect()
}

#[test]
fn honest_library_validates_with_no_high_finding() {
    let (repo, krate) = plain();
    let (code, doc) = inspect_crate(&krate);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["crate"]["name"], "plain");
    assert_eq!(doc["crate"]["version"], "0.1.0");
    let d = &doc["declared"];
    assert_eq!(d["repository"], "https://example.com/plain");
    assert_eq!(d["commit"], repo.head().as_str());
    assert_eq!(d["path_in_vcs"], "");
    assert_eq!((&d["dirty"], &d["vcs_info"]), (&false.into(), &true.into()));
    // `path_in_vcs` is recorded since cargo 1.57.
    let min: u32 = doc["era"]["min"].as_str().unwrap()[2..].parse().unwrap();
    assert!(min >= 57, "{doc:#}");
    let inv = &doc["inventory"];
    assert_eq!(inv["build_script"], Value::Null);
    assert_eq!(inv["proc_macro"], false);
    assert_eq!(inv["links"], Value::Null);
    for list in [
        "binary_files",
        "executable_files",
        "large_files",
        "generated_files",
    ] {
        assert_eq!(inv[list], serde_json::json!([]), "{list}");
    }
}

#[test]
fn honest_package_with_everything_a_reviewer_looks_at() {
    let (_repo, krate) = busy();
    let (code, doc) = inspect_crate(&krate);
    assert_eq!(code, 0, "{doc:#}");
    let inv = &doc["inventory"];
    assert_eq!(inv["build_script"], "build.rs");
    assert_eq!(inv["links"], "busy");
    assert_eq!(paths(&inv["binary_files"]), [("data/blob.dat", "binary")]);
    assert_eq!(
        paths(&inv["executable_files"]),
        [("tools/run.sh", "executable_bit")]
    );
    assert_eq!(paths(&inv["large_files"]), [("assets/large.txt", "large")]);
    assert_eq!(
        paths(&inv["generated_files"]),
        [("src/generated.rs", "generated")]
    );
    assert_eq!(
        inv["vendored_directories"],
        serde_json::json!([{"path": "vendor", "files": 2, "bytes": 39}])
    );
    let dirs: Vec<&str> = inv["directories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(dirs, [".", "assets", "data", "src", "tools", "vendor"]);
    // The binary target makes cargo publish a `Cargo.lock`; it passes the lock-file check.
    let tar = support::unpack(&std::fs::read(&krate).unwrap()).1;
    assert!(tar.iter().any(|(p, _)| p == "Cargo.lock"));
}

#[test]
fn honest_proc_macro_member_of_a_workspace() {
    let (repo, krate) = member();
    let (code, doc) = inspect_crate(&krate);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["declared"]["path_in_vcs"], "macros");
    assert_eq!(doc["declared"]["commit"], repo.head().as_str());
    assert_eq!(doc["declared"]["repository"], Value::Null);
    assert_eq!(doc["inventory"]["proc_macro"], true);
}

// ---------------------------------------------------------------------------------------------
// Tampered crates
// ---------------------------------------------------------------------------------------------

/// Rewrite `krate` with `f` applied to its entries; the new `.crate` is written beside it.
fn tamper(krate: &Path, f: impl FnOnce(&mut Vec<(String, TarEntry)>)) -> PathBuf {
    let (prefix, mut entries) = support::unpack(&std::fs::read(krate).unwrap());
    f(&mut entries);
    let out = krate.with_file_name(format!("tampered-{prefix}.crate"));
    std::fs::write(&out, support::pack(&prefix, &entries)).unwrap();
    out
}

fn file_mut<'a>(entries: &'a mut [(String, TarEntry)], path: &str) -> &'a mut Vec<u8> {
    match entries.iter_mut().find(|(p, _)| p == path) {
        Some((_, TarEntry::File(d))) => d,
        _ => panic!("no file {path}"),
    }
}

#[test]
fn normalized_manifest_with_an_added_dependency_is_high() {
    let (_repo, krate) = plain();
    let bad = tamper(&krate, |e| {
        file_mut(e, "Cargo.toml").extend_from_slice(b"\n[dependencies.evil]\nversion = \"1\"\n");
    });
    let (code, doc) = inspect_crate(&bad);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        high_kinds(&doc),
        ["normalized_manifest_diverges"],
        "{doc:#}"
    );
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "normalized_manifest_diverges")
        .unwrap();
    assert!(
        f["message"].as_str().unwrap().contains("dependencies.evil"),
        "{f:#}"
    );
}

#[test]
fn lockfile_with_an_undeclared_package_is_high() {
    let (_repo, krate) = busy();
    let bad = tamper(&krate, |e| {
        file_mut(e, "Cargo.lock").extend_from_slice(
            b"\n[[package]]\nname = \"evil\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        );
    });
    let (code, doc) = inspect_crate(&bad);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(high_kinds(&doc), ["lockfile_inconsistent"], "{doc:#}");
    let f = &doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "lockfile_inconsistent")
        .unwrap();
    assert_eq!(f["path"], "Cargo.lock");
    assert!(
        f["message"].as_str().unwrap().contains("`evil 1.0.0`"),
        "{f:#}"
    );
}

#[test]
fn malformed_vcs_info_and_bidi_controls_validate() {
    let (_repo, krate) = plain();
    let bad = tamper(&krate, |e| {
        *file_mut(e, ".cargo_vcs_info.json") = br#"{"git":{"sha1":"HEAD"}}"#.to_vec();
        file_mut(e, "src/lib.rs").extend_from_slice("// \u{202e}evil\n".as_bytes());
    });
    let (code, doc) = inspect_crate(&bad);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        high_kinds(&doc),
        ["malformed_vcs_info", "suspicious_codepoints"],
        "{doc:#}"
    );
    // A malformed `.cargo_vcs_info.json` is there but gives no commit.
    assert_eq!(doc["declared"]["vcs_info"], true);
    assert_eq!(doc["declared"]["commit"], Value::Null);
}

// ---------------------------------------------------------------------------------------------
// Realworld crates, errors, and the schema's own strictness
// ---------------------------------------------------------------------------------------------

#[test]
fn realworld_crates_validate() {
    let ids = support::all_ids();
    assert!(ids.len() >= 10, "{ids:?}");
    for id in ids {
        let (_, doc) = inspect_crate(&support::entry(&id).crate_file);
        assert_eq!(
            format!(
                "{}-{}",
                doc["crate"]["name"].as_str().unwrap(),
                doc["crate"]["version"].as_str().unwrap()
            ),
            id
        );
    }
}

#[test]
fn error_documents_validate() {
    let tmp = tempfile::tempdir().unwrap();
    let corrupt = tmp.path().join("corrupt.crate");
    std::fs::write(&corrupt, b"not a gzip stream").unwrap();
    let missing = tmp.path().join("missing.crate");
    for (target, kind) in [
        (corrupt.as_os_str(), "invalid_archive"),
        (missing.as_os_str(), "not_found"),
        (OsStr::new("no-version-given"), "invalid_input"),
    ] {
        let (code, doc) = inspect(target);
        assert_eq!(code, 2, "{doc:#}");
        assert_eq!(doc["error"]["kind"], kind, "{doc:#}");
        assert_valid(&doc, kind);
    }
}

#[test]
fn schema_rejects_malformed_inspections() {
    let (_repo, krate) = busy();
    let (_, good) = inspect_crate(&krate);
    let (v, strict) = (validator(), strict_validator());
    let bad = |f: &dyn Fn(&mut Value)| {
        let mut doc = good.clone();
        f(&mut doc);
        doc
    };
    for (what, doc) in [
        ("kind", bad(&|d| d["kind"] = "verify".into())),
        ("schema_version", bad(&|d| d["schema_version"] = 2.into())),
        ("era", bad(&|d| d["era"]["min"] = "2.0".into())),
        ("sha256", bad(&|d| d["crate"]["sha256"] = "ABC".into())),
        ("commit", bad(&|d| d["declared"]["commit"] = "HEAD".into())),
        (
            "binary reason",
            bad(&|d| d["inventory"]["binary_files"][0]["reason"] = "large".into()),
        ),
        (
            "executable reason",
            bad(&|d| d["inventory"]["executable_files"][0]["reason"] = "binary".into()),
        ),
        (
            "missing field",
            bad(&|d| {
                d["inventory"].as_object_mut().unwrap().remove("links");
            }),
        ),
        (
            "size",
            bad(&|d| d["inventory"]["large_files"][0]["size"] = (-1).into()),
        ),
    ] {
        assert!(v.validate(&doc).is_err(), "{what}: accepted");
    }
    // The published schema accepts fields added later in version 1; the strict copy (what this
    // suite checks the CLI against) does not, at any depth.
    for doc in [
        bad(&|d| d["added_later"] = true.into()),
        bad(&|d| d["inventory"]["directories"][0]["added_later"] = true.into()),
        bad(&|d| d["inventory"]["large_files"][0]["added_later"] = true.into()),
    ] {
        assert!(v.validate(&doc).is_ok());
        assert!(strict.validate(&doc).is_err());
    }
    // An inspection is not a verification report, and vice versa.
    let report = jsonschema::validator_for(&schema("report.v1.json")).unwrap();
    assert!(report.validate(&good).is_err());
}
