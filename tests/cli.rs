//! CLI behaviour: exit codes and insta snapshots of human and JSON output for every verdict,
//! errors in both formats, and `--help`.

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::TarEntry;

fn cli<I, S>(args: I) -> (i32, String, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `verify --crate-file C --repo R --format json`: (exit code, stdout, stderr).
fn verify_json(crate_file: &Path, repo: &Path) -> (i32, String, String) {
    cli([
        OsStr::new("verify"),
        OsStr::new("--crate-file"),
        crate_file.as_os_str(),
        OsStr::new("--repo"),
        repo.as_os_str(),
        OsStr::new("--format"),
        OsStr::new("json"),
    ])
}

/// Replace machine-specific paths so snapshots are stable.
fn redact(s: &str, repo: &Path) -> String {
    s.replace(&repo.display().to_string(), "[REPO]")
}

/// Run `verify --crate-file` in both formats; snapshot both; return the exit code.
fn verify_both(name: &str, crate_file: &Path, repo: Option<&Path>) -> i32 {
    let mut codes = Vec::new();
    for format in ["human", "json"] {
        let mut args: Vec<std::ffi::OsString> =
            vec!["verify".into(), "--crate-file".into(), crate_file.into()];
        if let Some(r) = repo {
            args.push("--repo".into());
            args.push(r.into());
        }
        args.push("--format".into());
        args.push(format.into());
        let (code, out, err) = cli(&args);
        let text = redact(
            &format!("{out}{err}"),
            repo.unwrap_or(Path::new("/nonexistent-marker")),
        );
        if format == "json" {
            let v: serde_json::Value =
                serde_json::from_str(&out).expect("stdout is one JSON document");
            assert_eq!(v["schema_version"], 1);
        }
        insta::assert_snapshot!(format!("{name}_{format}"), text);
        codes.push(code);
    }
    assert_eq!(codes[0], codes[1]);
    codes[0]
}

fn write_crate(dir: &Path, name: &str, prefix: &str, entries: &[(String, TarEntry)]) -> PathBuf {
    let p = dir.join(format!("{name}.crate"));
    std::fs::write(&p, support::pack(prefix, entries)).unwrap();
    p
}

fn ryu_entries() -> (support::Entry, String, Vec<(String, TarEntry)>) {
    let e = support::entry("ryu-1.0.23");
    let (prefix, entries) = support::unpack(&std::fs::read(&e.crate_file).unwrap());
    (e, prefix, entries)
}

fn set_file(entries: &mut Vec<(String, TarEntry)>, path: &str, data: &[u8]) {
    entries.retain(|(p, _)| p != path);
    entries.push((path.to_owned(), TarEntry::File(data.to_vec())));
}

fn file<'a>(entries: &'a [(String, TarEntry)], path: &str) -> &'a [u8] {
    match entries.iter().find(|(p, _)| p == path) {
        Some((_, TarEntry::File(d))) => d,
        _ => panic!("{path}"),
    }
}

/// A git fixture with fixed identities and dates, so commit ids are stable.
struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        std::fs::create_dir_all(&dir).unwrap();
        let f = Fixture { _tmp: tmp, dir };
        f.git(&["init", "-q", "-b", "main"]);
        f
    }
    fn git(&self, args: &[&str]) -> String {
        support::git_fixture(&self.dir, args, "2024-01-01T00:00:00Z")
    }
    fn write(&self, path: &str, data: &[u8]) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    fn commit(&self) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", "fixture"]);
        self.git(&["rev-parse", "HEAD"])
    }
}

const MANIFEST: &str = "[package]\nname = \"fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"x\"\nrepository = \"https://example.com/fixture\"\n";

fn vcs(sha: &str) -> Vec<u8> {
    format!("{{\n  \"git\": {{\n    \"sha1\": \"{sha}\"\n  }},\n  \"path_in_vcs\": \"\"\n}}")
        .into_bytes()
}

fn f(p: &str, d: &[u8]) -> (String, TarEntry) {
    (p.to_owned(), TarEntry::File(d.to_vec()))
}

#[test]
fn verdict_match() {
    let e = support::entry("ryu-1.0.23");
    assert_eq!(verify_both("match", &e.crate_file, Some(&e.repo)), 0);
}

#[test]
fn verdict_mismatch() {
    let (e, prefix, mut entries) = ryu_entries();
    let mut lib = file(&entries, "src/lib.rs").to_vec();
    lib.extend_from_slice(b"\npub fn injected() {}\n");
    set_file(&mut entries, "src/lib.rs", &lib);
    entries.push(f("build.rs", b"fn main() {}\n"));
    let tmp = tempfile::tempdir().unwrap();
    let c = write_crate(tmp.path(), "mismatch", &prefix, &entries);
    assert_eq!(verify_both("mismatch", &c, Some(&e.repo)), 1);
}

#[test]
fn verdict_no_vcs_info() {
    let e = support::entry("fnv-1.0.6");
    assert_eq!(verify_both("no_vcs_info", &e.crate_file, Some(&e.repo)), 1);
}

#[test]
fn verdict_revision_not_found() {
    let e = support::entry("hex-0.4.0");
    assert_eq!(
        verify_both("revision_not_found", &e.crate_file, Some(&e.repo)),
        1
    );
}

#[test]
fn verdict_repository_not_found() {
    let e = support::entry("ryu-1.0.23");
    let tmp = tempfile::tempdir().unwrap();
    let not_repo = tmp.path().join("not-a-repo");
    std::fs::create_dir_all(&not_repo).unwrap();
    assert_eq!(
        verify_both("repository_not_found", &e.crate_file, Some(&not_repo)),
        1
    );
}

#[test]
fn verdict_path_not_found() {
    let (e, prefix, mut entries) = ryu_entries();
    let v: serde_json::Value =
        serde_json::from_slice(file(&entries, ".cargo_vcs_info.json")).unwrap();
    let sha = v["git"]["sha1"].as_str().unwrap().to_owned();
    let json = format!(
        "{{\n  \"git\": {{\n    \"sha1\": \"{sha}\"\n  }},\n  \"path_in_vcs\": \"nope\"\n}}"
    );
    set_file(&mut entries, ".cargo_vcs_info.json", json.as_bytes());
    let tmp = tempfile::tempdir().unwrap();
    let c = write_crate(tmp.path(), "path_not_found", &prefix, &entries);
    assert_eq!(verify_both("path_not_found", &c, Some(&e.repo)), 1);
}

#[test]
fn verdict_no_repository() {
    let (_, prefix, mut entries) = ryu_entries();
    let manifest = String::from_utf8(file(&entries, "Cargo.toml").to_vec()).unwrap();
    let mut stripped = String::new();
    for l in manifest.lines().filter(|l| !l.starts_with("repository")) {
        stripped.push_str(l);
        stripped.push('\n');
    }
    set_file(&mut entries, "Cargo.toml", stripped.as_bytes());
    let tmp = tempfile::tempdir().unwrap();
    let c = write_crate(tmp.path(), "no_repository", &prefix, &entries);
    assert_eq!(verify_both("no_repository", &c, None), 1);
}

#[test]
fn verdict_package_error() {
    // A tracked `.cargo_vcs_info.json` is a reserved name: every cargo since 1.30 refuses it.
    let fx = Fixture::new();
    fx.write("Cargo.toml", MANIFEST.as_bytes());
    fx.write("src/lib.rs", b"pub fn f() {}\n");
    fx.write(".cargo_vcs_info.json", b"{}\n");
    let sha = fx.commit();
    let entries = vec![
        f("Cargo.toml", MANIFEST.as_bytes()),
        f("Cargo.toml.orig", MANIFEST.as_bytes()),
        f("src/lib.rs", b"pub fn f() {}\n"),
        f(".cargo_vcs_info.json", &vcs(&sha)),
    ];
    let c = write_crate(
        fx.dir.parent().unwrap(),
        "package_error",
        "fixture-0.1.0",
        &entries,
    );
    assert_eq!(verify_both("package_error", &c, Some(&fx.dir)), 1);
}

/// A missing readme is an error since cargo 1.81, a warning before: a crate whose vcs info
/// allows cargo 1.57–1.80 is explained by the older rule.
#[test]
fn missing_readme_is_explained_by_older_cargo() {
    let fx = Fixture::new();
    let manifest = format!("{MANIFEST}readme = \"MISSING.md\"\n");
    fx.write("Cargo.toml", manifest.as_bytes());
    fx.write("src/lib.rs", b"pub fn f() {}\n");
    let sha = fx.commit();
    let entries = vec![
        f("Cargo.toml", manifest.as_bytes()),
        f("Cargo.toml.orig", manifest.as_bytes()),
        f("src/lib.rs", b"pub fn f() {}\n"),
        f(".cargo_vcs_info.json", &vcs(&sha)),
    ];
    let c = write_crate(
        fx.dir.parent().unwrap(),
        "missing_readme",
        "fixture-0.1.0",
        &entries,
    );
    let (code, out, _) = verify_json(&c, &fx.dir);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("older_cargo_rule"));
    // With `dirty: true` the crate was made by cargo >= 1.81, which refuses the package.
    let dirty = format!(
        "{{\n  \"git\": {{\n    \"sha1\": \"{sha}\",\n    \"dirty\": true\n  }},\n  \"path_in_vcs\": \"\"\n}}"
    );
    let mut entries = entries;
    set_file(&mut entries, ".cargo_vcs_info.json", dirty.as_bytes());
    let c = write_crate(
        fx.dir.parent().unwrap(),
        "missing_readme_dirty",
        "fixture-0.1.0",
        &entries,
    );
    let (code, out, _) = verify_json(&c, &fx.dir);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "package_error", "{out}");
}

#[test]
fn verdict_submodule_unavailable() {
    let fx = Fixture::new();
    fx.write("Cargo.toml", MANIFEST.as_bytes());
    fx.write("src/lib.rs", b"pub fn f() {}\n");
    fx.write(
        ".gitmodules",
        b"[submodule \"vendor/lib\"]\n\tpath = vendor/lib\n\turl = https://example.com/lib.git\n",
    );
    fx.git(&["add", "-A"]);
    fx.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        "160000,1111111111111111111111111111111111111111,vendor/lib",
    ]);
    fx.git(&["commit", "-q", "-m", "fixture"]);
    let sha = fx.git(&["rev-parse", "HEAD"]);
    let entries = vec![
        f(".gitmodules", b"[submodule \"vendor/lib\"]\n\tpath = vendor/lib\n\turl = https://example.com/lib.git\n"),
        f("Cargo.toml", MANIFEST.as_bytes()),
        f("Cargo.toml.orig", MANIFEST.as_bytes()),
        f("src/lib.rs", b"pub fn f() {}\n"),
        f("vendor/lib/lib.c", b"int f(void) { return 1; }\n"),
        f(".cargo_vcs_info.json", &vcs(&sha)),
    ];
    let c = write_crate(
        fx.dir.parent().unwrap(),
        "submodule",
        "fixture-0.1.0",
        &entries,
    );
    assert_eq!(verify_both("submodule_unavailable", &c, Some(&fx.dir)), 1);
}

#[test]
fn verdict_match_but_symlinks() {
    let fx = Fixture::new();
    fx.write("Cargo.toml", MANIFEST.as_bytes());
    fx.write("src/lib.rs", b"pub fn f() {}\n");
    fx.write("docs/LICENSE-MIT", b"MIT license text\n");
    std::os::unix::fs::symlink("docs/LICENSE-MIT", fx.dir.join("LICENSE-MIT")).unwrap();
    let sha = fx.commit();
    let entries = vec![
        f("Cargo.toml", MANIFEST.as_bytes()),
        f("Cargo.toml.orig", MANIFEST.as_bytes()),
        f("LICENSE-MIT", b"docs/LICENSE-MIT"),
        f("docs/LICENSE-MIT", b"MIT license text\n"),
        f("src/lib.rs", b"pub fn f() {}\n"),
        f(".cargo_vcs_info.json", &vcs(&sha)),
    ];
    let c = write_crate(
        fx.dir.parent().unwrap(),
        "symlinks",
        "fixture-0.1.0",
        &entries,
    );
    assert_eq!(verify_both("match_but_symlinks", &c, Some(&fx.dir)), 1);
}

#[test]
fn error_corrupt_crate_is_exit_2_in_both_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let c = tmp.path().join("corrupt.crate");
    std::fs::write(&c, b"<html>404 not found</html>").unwrap();
    let e = support::entry("ryu-1.0.23");
    assert_eq!(verify_both("error_corrupt", &c, Some(&e.repo)), 2);
}

#[test]
fn error_missing_crate_file() {
    let (code, out, _) = cli([
        "verify",
        "--crate-file",
        "/nonexistent/x.crate",
        "--format",
        "json",
    ]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["error"]["kind"], "not_found");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(cli(["verify"]).0, 2);
    assert_eq!(cli(["verify", "nonsense"]).0, 2);
    assert_eq!(cli(["frobnicate"]).0, 2);
}

#[test]
fn help() {
    for args in [
        vec!["--help"],
        vec!["verify", "--help"],
        vec!["list-files", "--help"],
        vec!["scan", "--help"],
        vec!["report", "--help"],
    ] {
        let (code, out, _) = cli(&args);
        assert_eq!(code, 0);
        insta::assert_snapshot!(format!("help_{}", args.join("_").replace("--", "")), out);
    }
}

#[test]
fn list_files_matches_the_published_crate() {
    let e = support::entry("ryu-1.0.23");
    let (_, _, entries) = ryu_entries();
    let v: serde_json::Value =
        serde_json::from_slice(file(&entries, ".cargo_vcs_info.json")).unwrap();
    let sha = v["git"]["sha1"].as_str().unwrap();
    let (code, out, err) = cli([
        OsStr::new("list-files"),
        OsStr::new("--repo"),
        e.repo.as_os_str(),
        OsStr::new("--commit"),
        OsStr::new(sha),
        OsStr::new("--format"),
        OsStr::new("json"),
    ]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ours: Vec<String> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    let mut published: Vec<String> = entries.iter().map(|(p, _)| p.clone()).collect();
    published.sort();
    assert_eq!(ours, published);
    insta::assert_snapshot!("list_files_ryu_json", out);
    let (code, human, _) = cli([
        OsStr::new("list-files"),
        OsStr::new("--repo"),
        e.repo.as_os_str(),
        OsStr::new("--commit"),
        OsStr::new(sha),
    ]);
    assert_eq!(code, 0);
    assert_eq!(human.lines().collect::<Vec<_>>(), published);
}

/// Cross-check: a version tag that points elsewhere than the recorded commit is reported; a
/// `dirty` flag lists the files that explain it.
#[test]
fn cross_checks_tag_and_dirty() {
    let fx = Fixture::new();
    fx.write("Cargo.toml", MANIFEST.as_bytes());
    fx.write("src/lib.rs", b"pub fn f() {}\n");
    let recorded = fx.commit();
    fx.write("src/lib.rs", b"pub fn f() {}\npub fn g() {}\n");
    fx.commit();
    fx.git(&["tag", "v0.1.0"]);
    let dirty = format!(
        "{{\n  \"git\": {{\n    \"sha1\": \"{recorded}\",\n    \"dirty\": true\n  }},\n  \"path_in_vcs\": \"\"\n}}"
    );
    let entries = vec![
        f("Cargo.toml", MANIFEST.as_bytes()),
        f("Cargo.toml.orig", MANIFEST.as_bytes()),
        f("src/lib.rs", b"pub fn f() {}\n// local edit\n"),
        f(".cargo_vcs_info.json", dirty.as_bytes()),
    ];
    let c = write_crate(fx.dir.parent().unwrap(), "cross", "fixture-0.1.0", &entries);
    let (code, out, _) = verify_json(&c, &fx.dir);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let kinds: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"tag_commit_differs"), "{out}");
    assert!(kinds.contains(&"dirty_files"), "{out}");
    assert!(
        out.contains("the files that explain it: `src/lib.rs`"),
        "{out}"
    );
    assert_eq!(v["source"]["dirty"], true);
}

/// Issue 19: `verify` gives the first 20 differing text files a unified diff and summarises the
/// rest (`diffs_omitted`); `--all-diffs` gives every diff.
#[test]
fn diffs_are_bounded_unless_all_diffs() {
    let (e, prefix, mut entries) = ryu_entries();
    let generated = [
        "Cargo.toml",
        "Cargo.toml.orig",
        ".cargo_vcs_info.json",
        "Cargo.lock",
    ];
    for (path, entry) in &mut entries {
        if let TarEntry::File(data) = entry
            && !generated.contains(&path.as_str())
            && std::str::from_utf8(data).is_ok()
        {
            data.extend_from_slice(b"\n// changed after the commit\n");
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let c = write_crate(tmp.path(), "many", &prefix, &entries);
    let run = |extra: &[&str]| {
        let mut args = vec![
            OsStr::new("verify"),
            OsStr::new("--crate-file"),
            c.as_os_str(),
            OsStr::new("--repo"),
            e.repo.as_os_str(),
            OsStr::new("--format"),
            OsStr::new("json"),
        ];
        args.extend(extra.iter().map(OsStr::new));
        let (code, out, err) = cli(args);
        assert_eq!(code, 1, "{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let count = |r: &serde_json::Value, prefix: &str| {
        r["differences"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["diff"].as_str().is_some_and(|t| t.starts_with(prefix)))
            .count()
    };
    let omitted = |r: &serde_json::Value| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "diffs_omitted")
    };
    let bounded = run(&[]);
    let all = run(&["--all-diffs"]);
    let changed = all["differences"].as_array().unwrap().len();
    assert!(changed > 20, "{changed}: {all}");
    assert_eq!(count(&all, "--- a/"), changed);
    assert_eq!(count(&all, "diff not shown"), 0);
    assert!(!omitted(&all));
    assert_eq!(count(&bounded, "--- a/"), 20);
    assert_eq!(count(&bounded, "diff not shown"), changed - 20);
    assert!(omitted(&bounded), "{bounded}");
}
