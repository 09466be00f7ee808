//! Dogfooding: real `cargo package` of `provenance-core` and of the CLI crate, from a git
//! repository holding exactly this working tree (committed), verified with our own tool against
//! that repository at `HEAD`: `match`.
//!
//! The repository is made from the files git would commit here (`git ls-files --cached
//! --others --exclude-standard`), so the test works the same in a fresh clone and in a work tree
//! with uncommitted changes. Real cargo is the oracle for what the `.crate` holds; it runs
//! `--offline` (the crates it needs to write each package's `Cargo.lock` are the ones this
//! build already downloaded).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{git_fixture, repo_root};

const DATE: &str = "2024-01-02T03:04:05Z";

/// A new git repository under `dir` with this working tree's files, committed; its `HEAD`.
fn repository_of_this_tree(dir: &Path) -> (PathBuf, String) {
    let root = repo_root();
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(&root)
        .output()
        .expect("git must be installed");
    assert!(
        listed.status.success(),
        "the test needs a git checkout of the repository: {}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let repo = dir.join("repo");
    let mut copied = 0;
    for rel in listed.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = std::str::from_utf8(rel).unwrap();
        let from = root.join(rel);
        // Tracked but deleted in the work tree: not part of the tree we package.
        let Ok(meta) = std::fs::symlink_metadata(&from) else {
            continue;
        };
        let to = repo.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from).unwrap(), &to).unwrap();
        } else if meta.is_file() {
            std::fs::copy(&from, &to).unwrap();
        } else {
            continue;
        }
        copied += 1;
    }
    assert!(copied > 100, "only {copied} files listed");
    git_fixture(&repo, &["init", "-q", "-b", "main"], DATE);
    git_fixture(&repo, &["add", "-A"], DATE);
    git_fixture(&repo, &["commit", "-q", "-m", "this tree"], DATE);
    let head = git_fixture(&repo, &["rev-parse", "HEAD"], DATE);
    (repo, head)
}

#[test]
fn cargo_package_of_this_repository_matches_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, head) = repository_of_this_tree(tmp.path());
    let target = tmp.path().join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Both packages in one run: cargo packages the CLI against the provenance-core it packaged
    // (a local registry overlay), as `cargo publish --workspace` would.
    let out = Command::new(cargo)
        .args([
            "package",
            "-p",
            "provenance-core",
            "-p",
            "crate-provenance",
            "--no-verify",
            "--offline",
        ])
        .current_dir(&repo)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo package: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = env!("CARGO_PKG_VERSION");
    for (package, path_in_vcs) in [
        ("provenance-core", "provenance-core"),
        ("crate-provenance", ""),
    ] {
        let krate = target.join(format!("package/{package}-{version}.crate"));
        let verify = Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
            .arg("verify")
            .arg("--crate-file")
            .arg(&krate)
            .arg("--repo")
            .arg(&repo)
            .args(["--format", "json"])
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&verify.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&verify.stderr)));
        assert_eq!(report["verdict"], "match", "{package}: {report:#}");
        assert_eq!(verify.status.code(), Some(0));
        assert_eq!(report["source"]["commit"], head.as_str(), "{package}");
        assert_eq!(report["source"]["path_in_vcs"], path_in_vcs, "{package}");
        assert_eq!(
            report["source"]["dirty"], false,
            "{package}: cargo saw a clean tree"
        );
        let files = &report["files"];
        assert!(
            files["compared"].as_u64().unwrap() > 20,
            "{package}: {files}"
        );
        assert_eq!(files["compared"], files["equal"], "{package}");
        // The real-world data stays out of the CLI crate (`exclude`); cargo and we agree.
        let bytes = std::fs::read(&krate).unwrap();
        let (_, entries) = support::unpack(&bytes);
        assert!(
            entries.iter().any(|(p, _)| p == "Cargo.toml.orig"),
            "{package}"
        );
        assert!(
            !entries.iter().any(|(p, _)| p.starts_with("tests/data/")),
            "{package}"
        );
        assert_eq!(
            u64::try_from(entries.len()).unwrap(),
            files["published"].as_u64().unwrap(),
            "{package}"
        );
    }
}
