//! Assisted matching (issue 11): every path of the search on fixture repositories, with archives
//! made by real `cargo package` from a checkout of the commit they should be found at.
//!
//! * each version-tag form (`v{version}`, `{version}`, `{name}-v{version}`, `{name}-{version}`,
//!   `{name}@{version}`), lightweight and annotated;
//! * no tag: the commit whose manifest has the version (`version_commit`);
//! * no commit with the version: the closest commit of the history walk (`closest_commit`),
//!   whose only difference is the version bump (`version_bump_only`);
//! * no candidate at all;
//! * the winner's submodule fetched from the server the superproject came from (loopback `git
//!   daemon`), or unavailable when the server lacks it.

#[path = "../provenance-core/tests/fetch_support/mod.rs"]
mod fetch_support;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use provenance_core::{
    Category, CrateSource, DifferenceKind, Options, RepoSource, Request, SourceHow, Verdict, verify,
};
use support::TarEntry;

struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    n: u32,
}

impl Repo {
    fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        std::fs::create_dir_all(&dir).unwrap();
        let r = Repo {
            _tmp: tmp,
            dir,
            n: 0,
        };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }
    fn git(&self, args: &[&str]) -> String {
        support::git_fixture(
            &self.dir,
            args,
            &format!("2024-01-0{}T00:00:00Z", 1 + self.n % 9),
        )
    }
    fn commit(&mut self, version: &str, lib: &str, readme: &str) -> String {
        let manifest = format!(
            "[package]\nname = \"assist\"\nversion = \"{version}\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"x\"\nrepository = \"https://example.com/assist\"\n"
        );
        std::fs::create_dir_all(self.dir.join("src")).unwrap();
        std::fs::write(self.dir.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(self.dir.join("src/lib.rs"), lib).unwrap();
        std::fs::write(self.dir.join("README.md"), readme).unwrap();
        self.n += 1;
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", &format!("commit {}", self.n)]);
        self.git(&["rev-parse", "HEAD"])
    }
}

fn toolchain() -> Option<String> {
    let out = Command::new("rustup")
        .args(["show", "active-toolchain"])
        .output()
        .ok()?;
    String::from_utf8(out.stdout)
        .ok()?
        .split_whitespace()
        .next()
        .map(str::to_owned)
}

/// Real `cargo package` of `commit`, from a clean clone; `.cargo_vcs_info.json` removed (the
/// crate looks like one published without vcs info) and, optionally, the version bumped in
/// `Cargo.toml.orig`/`Cargo.toml` after packaging (a local bump that was never committed).
fn package(repo: &Repo, commit: &str, bump_to: Option<&str>) -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let checkout = tmp.path().join("checkout");
    let st = Command::new("git")
        .args(["clone", "-q"])
        .arg(&repo.dir)
        .arg(&checkout)
        .status()
        .unwrap();
    assert!(st.success());
    let st = Command::new("git")
        .args(["checkout", "-q", "--detach", commit])
        .current_dir(&checkout)
        .status()
        .unwrap();
    assert!(st.success());
    let mut cargo = Command::new("cargo");
    cargo
        .args(["package", "--no-verify", "--allow-dirty", "--offline", "-q"])
        .current_dir(&checkout)
        .env("CARGO_TARGET_DIR", tmp.path().join("target"));
    if let Some(t) = toolchain() {
        cargo.env("RUSTUP_TOOLCHAIN", t);
    }
    let out = cargo.output().expect("cargo must be installed");
    assert!(
        out.status.success(),
        "cargo package: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tmp.path().join("target/package");
    let krate = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "crate"))
        .unwrap();
    let (mut prefix, mut entries) = support::unpack(&std::fs::read(krate).unwrap());
    entries.retain(|(p, _)| p != ".cargo_vcs_info.json");
    if let Some(v) = bump_to {
        let old_prefix = prefix.clone();
        let old_version = old_prefix.rsplit_once('-').unwrap().1.to_owned();
        prefix = format!("assist-{v}");
        for (p, e) in &mut entries {
            if (p == "Cargo.toml" || p == "Cargo.toml.orig")
                && let TarEntry::File(d) = e
            {
                let text = String::from_utf8(d.clone()).unwrap();
                *d = text
                    .replacen(
                        &format!("version = \"{old_version}\""),
                        &format!("version = \"{v}\""),
                        1,
                    )
                    .into_bytes();
            }
        }
    }
    support::pack(&prefix, &entries)
}

fn verify_bytes(bytes: Vec<u8>, repo: &Path) -> provenance_core::Report {
    verify(&Request::new(CrateSource::Bytes(bytes)).with_repo(RepoSource::Path(repo.to_owned())))
        .unwrap()
}

#[test]
fn every_tag_form_lightweight_and_annotated() {
    for (i, form) in [
        "v0.3.0",
        "0.3.0",
        "assist-v0.3.0",
        "assist-0.3.0",
        "assist@0.3.0",
    ]
    .into_iter()
    .enumerate()
    {
        for annotated in [false, true] {
            let mut repo = Repo::new();
            let tagged = repo.commit("0.3.0", "pub fn a() {}\n", "readme\n");
            if annotated {
                repo.git(&["tag", "-a", "-m", "release", form]);
            } else {
                repo.git(&["tag", form]);
            }
            // Later work on the branch, so the tag is not simply the tip.
            repo.commit(
                "0.4.0",
                &format!("pub fn a() {{}}\npub fn b{i}() {{}}\n"),
                "readme 2\n",
            );
            let r = verify_bytes(package(&repo, &tagged, None), &repo.dir);
            assert_eq!(r.verdict, Verdict::NoVcsInfo);
            assert_eq!(r.source.how, SourceHow::Tag);
            let a = r
                .assisted
                .as_ref()
                .unwrap_or_else(|| panic!("{form}: no assisted"));
            assert_eq!(
                (a.how.as_str(), a.reference.as_str()),
                ("tag", format!("refs/tags/{form}").as_str())
            );
            assert_eq!(a.commit, tagged, "{form} annotated={annotated}");
            assert_eq!(a.verdict, Verdict::Match, "{form}: {}", r.to_json());
        }
    }
}

#[test]
fn commit_with_the_version_when_no_tag_fits() {
    let mut repo = Repo::new();
    repo.commit("0.1.0", "pub fn a() {}\n", "one\n");
    let released = repo.commit("0.2.0", "pub fn a() {}\npub fn b() {}\n", "two\n");
    repo.commit(
        "0.2.0",
        "pub fn a() {}\npub fn b() {}\n",
        "two, edited after the release\n",
    );
    repo.commit("0.3.0", "pub fn c() {}\n", "three\n");
    let r = verify_bytes(package(&repo, &released, None), &repo.dir);
    assert_eq!(r.verdict, Verdict::NoVcsInfo);
    let a = r.assisted.unwrap();
    assert_eq!(a.how, "version_commit");
    assert_eq!(a.commit, released);
    assert_eq!(a.verdict, Verdict::Match);
}

#[test]
fn closest_commit_when_the_version_was_bumped_locally() {
    let mut repo = Repo::new();
    repo.commit("0.1.0", "pub fn a() {}\n", "one\n");
    let base = repo.commit("0.1.0", "pub fn a() {}\npub fn b() {}\n", "two\n");
    repo.commit(
        "0.1.0",
        "pub fn a() {}\npub fn b() {}\npub fn c() {}\n",
        "three\n",
    );
    // Published as 0.2.0 from `base` plus an uncommitted version bump.
    let r = verify_bytes(package(&repo, &base, Some("0.2.0")), &repo.dir);
    assert_eq!(r.verdict, Verdict::NoVcsInfo);
    let a = r.assisted.unwrap();
    assert_eq!(a.how, "closest_commit");
    assert_eq!(a.commit, base);
    assert_eq!(a.verdict, Verdict::Mismatch);
    let d: Vec<_> = a
        .differences
        .iter()
        .map(|d| (d.path.as_str(), d.kind, d.category))
        .collect();
    assert_eq!(
        d,
        vec![(
            "Cargo.toml.orig",
            DifferenceKind::ContentDiffers,
            Some(Category::VersionBumpOnly)
        )]
    );
    assert_eq!(a.summary, "1 file differs: 1 version_bump_only (info)");
}

#[test]
fn no_candidate_when_the_package_is_not_in_the_repository() {
    let mut source = Repo::new();
    let c = source.commit("0.1.0", "pub fn a() {}\n", "one\n");
    let krate = package(&source, &c, None);
    // Another repository without this package.
    let other = Repo::new();
    std::fs::write(other.dir.join("README.md"), "nothing here\n").unwrap();
    other.git(&["add", "-A"]);
    other.git(&["commit", "-q", "-m", "x"]);
    let r = verify_bytes(krate, &other.dir);
    assert_eq!(r.verdict, Verdict::NoVcsInfo);
    assert!(r.assisted.is_none(), "{}", r.to_json());
    assert_eq!(r.source.how, SourceHow::Recorded);
}

// ---- issue 21: the long tail ----

/// The crate's entries rewritten by `f` (then packed again).
fn rewrite(bytes: &[u8], f: impl Fn(&mut Vec<(String, TarEntry)>)) -> Vec<u8> {
    let (prefix, mut entries) = support::unpack(bytes);
    f(&mut entries);
    support::pack(&prefix, &entries)
}

#[test]
fn release_commit_older_than_five_later_commits_with_the_same_version() {
    let mut repo = Repo::new();
    repo.commit("0.1.0", "pub fn a() {}\n", "one\n");
    let released = repo.commit("0.2.0", "pub fn a() {}\npub fn b() {}\n", "two\n");
    for i in 0..6 {
        repo.commit(
            "0.2.0",
            &format!("pub fn a() {{}}\npub fn b() {{}}\npub fn later{i}() {{}}\n"),
            "two\n",
        );
    }
    let r = verify_bytes(package(&repo, &released, None), &repo.dir);
    let a = r.assisted.clone().unwrap();
    assert_eq!(
        (a.how.as_str(), a.commit.as_str()),
        ("version_commit", released.as_str())
    );
    assert_eq!(a.verdict, Verdict::Match);
    assert_eq!(a.reason, "exact match");
    assert!(a.complete && a.tried >= 1 && a.commits_walked >= 8, "{a:?}");
}

#[test]
fn crlf_published_crate_finds_its_commit() {
    let mut repo = Repo::new();
    repo.commit("0.1.0", "pub fn a() {}\n", "one\n");
    let released = repo.commit("0.2.0", "pub fn a() {}\npub fn b() {}\n", "two\nlines\n");
    // A later commit with the same version whose lib.rs is byte-equal to nothing published.
    repo.commit(
        "0.2.0",
        "pub fn a() {}\npub fn b() {}\npub fn c() {}\n",
        "two\nlines\n",
    );
    // Published from a Windows checkout: every text file with CRLF line ends.
    let crlf = |d: &[u8]| {
        String::from_utf8(d.to_vec())
            .unwrap()
            .replace("\r\n", "\n")
            .replace('\n', "\r\n")
            .into_bytes()
    };
    let krate = rewrite(&package(&repo, &released, None), |entries| {
        for (p, e) in entries.iter_mut() {
            if p != "Cargo.toml"
                && p != "Cargo.lock"
                && let TarEntry::File(d) = e
            {
                *d = crlf(d);
            }
        }
    });
    let r = verify_bytes(krate, &repo.dir);
    let a = r.assisted.clone().unwrap();
    assert_eq!(a.commit, released, "{}", r.to_json());
    assert!(!a.differences.is_empty());
    for d in &a.differences {
        assert_eq!(d.category, Some(Category::LineEndings), "{}", d.path);
        assert_eq!(
            d.diff.as_deref(),
            Some(provenance_core::compare::LINE_ENDINGS_ONLY),
            "{}",
            d.path
        );
    }
    // `Cargo.toml.orig` differs only in line endings: not a version bump.
    assert!(
        a.differences
            .iter()
            .any(|d| d.path == "Cargo.toml.orig" && d.category == Some(Category::LineEndings))
    );
    assert!(
        a.findings.iter().any(|f| f.kind == "crlf_published"),
        "{:?}",
        a.findings
    );
    // Every difference is in line endings only: the assisted verdict is `match`.
    assert_eq!(a.verdict, Verdict::Match, "{}", r.to_json());
    assert!(
        a.reason.starts_with("match after line endings") && a.reason.contains("crlf_published"),
        "{}",
        a.reason
    );
    // The primary verdict keeps the byte-for-byte rule.
    assert_eq!(r.verdict, Verdict::NoVcsInfo);

    // The same crate with one real change besides the line endings stays a `mismatch`.
    let edited = rewrite(&package(&repo, &released, None), |entries| {
        for (p, e) in entries.iter_mut() {
            if p != "Cargo.toml"
                && p != "Cargo.lock"
                && let TarEntry::File(d) = e
            {
                if p == "README.md" {
                    d.extend_from_slice(b"edited\n");
                }
                *d = crlf(d);
            }
        }
    });
    let r = verify_bytes(edited, &repo.dir);
    let a = r.assisted.clone().unwrap();
    assert_eq!(a.commit, released, "{}", r.to_json());
    assert_eq!(a.verdict, Verdict::Mismatch, "{}", r.to_json());
    assert!(
        a.differences
            .iter()
            .any(|d| d.path == "README.md" && d.category != Some(Category::LineEndings)),
        "{}",
        r.to_json()
    );
    assert!(!a.reason.contains("match after"), "{}", a.reason);
}

#[test]
fn bare_version_tag_of_a_sibling_package_is_skipped() {
    let repo = Repo::new();
    let write = |path: &str, text: &str| {
        let p = repo.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    let manifest = |name: &str, version: &str| {
        format!(
            "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"x\"\nrepository = \"https://example.com/pair\"\n"
        )
    };
    write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"one\", \"two\"]\nresolver = \"2\"\n",
    );
    write("one/Cargo.toml", &manifest("one", "0.1.0"));
    write("one/src/lib.rs", "pub fn one() {}\n");
    write("two/Cargo.toml", &manifest("two", "0.1.0"));
    write("two/src/lib.rs", "pub fn two() {}\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "both 0.1.0"]);
    let two_released = repo.git(&["rev-parse", "HEAD"]);
    // `one` 0.2.0 is released with the bare tag `0.2.0`; `two` is still 0.1.0 there.
    write("one/Cargo.toml", &manifest("one", "0.2.0"));
    write("one/src/lib.rs", "pub fn one() {}\npub fn more() {}\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "one 0.2.0"]);
    repo.git(&["tag", "0.2.0"]);
    // `two` 0.2.0, never tagged.
    write("two/Cargo.toml", &manifest("two", "0.2.0"));
    write("two/src/lib.rs", "pub fn two() {}\npub fn more() {}\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "two 0.2.0"]);
    let two_020 = repo.git(&["rev-parse", "HEAD"]);
    let _ = two_released;
    // Package `two` 0.2.0 from its release commit.
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new("cargo")
        .args([
            "package",
            "--no-verify",
            "--allow-dirty",
            "--offline",
            "-q",
            "-p",
            "two",
        ])
        .current_dir(&repo.dir)
        .env("CARGO_TARGET_DIR", tmp.path())
        .envs(toolchain().map(|t| ("RUSTUP_TOOLCHAIN", t)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(tmp.path().join("package/two-0.2.0.crate")).unwrap();
    let krate = rewrite(&bytes, |e| e.retain(|(p, _)| p != ".cargo_vcs_info.json"));
    let r = verify_bytes(krate, &repo.dir);
    let a = r.assisted.clone().unwrap();
    assert_ne!(a.reference, "refs/tags/0.2.0", "{}", r.to_json());
    assert_eq!(a.commit, two_020);
    assert_eq!(a.path_in_vcs, "two");
    assert_eq!(a.verdict, Verdict::Match, "{}", r.to_json());
    assert!(
        a.findings
            .iter()
            .any(|f| f.kind == "assisted_tag_skipped" && f.message.contains("0.1.0")),
        "{:?}",
        a.findings
    );
}

#[test]
fn dotfiles_named_by_include_were_skipped_by_the_cargo_of_the_day() {
    let mut repo = Repo::new();
    // `include` names dotfiles, as nom 3.2.1 did; cargo 1.4–1.41 skipped them anyway.
    let released = {
        std::fs::write(repo.dir.join(".gitignore"), "target\n").unwrap();
        std::fs::write(repo.dir.join(".travis.yml"), "language: rust\n").unwrap();
        repo.commit("0.2.0", "pub fn a() {}\n", "readme\n")
    };
    let manifest = std::fs::read_to_string(repo.dir.join("Cargo.toml")).unwrap();
    std::fs::write(
        repo.dir.join("Cargo.toml"),
        format!(
            "{manifest}include = [\"src/**/*\", \"Cargo.toml\", \".gitignore\", \".travis.yml\"]\n"
        ),
    )
    .unwrap();
    repo.git(&["commit", "-q", "-am", "include"]);
    let released_with_include = repo.git(&["rev-parse", "HEAD"]);
    let _ = released;
    repo.git(&["tag", "v0.2.0"]);
    // What cargo 1.30 made of it: no dotfiles, no `Cargo.lock`, a normalized manifest of that
    // time (no explicit targets).
    let krate = rewrite(&package(&repo, &released_with_include, None), |entries| {
        entries.retain(|(p, _)| p != ".gitignore" && p != ".travis.yml" && p != "Cargo.lock");
        let orig = entries
            .iter()
            .find(|(p, _)| p == "Cargo.toml.orig")
            .map(|(_, e)| e.clone())
            .unwrap();
        for (p, e) in entries.iter_mut() {
            if p == "Cargo.toml"
                && let TarEntry::File(o) = &orig
            {
                let mut d = b"# THIS FILE IS AUTOMATICALLY GENERATED BY CARGO\n\n".to_vec();
                d.extend_from_slice(o);
                *e = TarEntry::File(d);
            }
        }
    });
    let r = verify_bytes(krate, &repo.dir);
    let a = r.assisted.clone().unwrap();
    assert_eq!(a.reference, "refs/tags/v0.2.0");
    assert_eq!(a.verdict, Verdict::Match, "{}", r.to_json());
    assert!(a.differences.is_empty());
    let explained: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.kind == "older_cargo_rule")
        .filter_map(|f| f.path.as_deref())
        .collect();
    assert_eq!(
        explained,
        vec![".gitignore", ".travis.yml"],
        "{:?}",
        a.findings
    );
    assert!(a.reason.contains("older cargo"), "{}", a.reason);
    assert!(a.era.starts_with("cargo 1.19–"), "{}", a.era);
}

/// Real `cargo package` of `assist` 0.2.0 in `checkout` (its `vendor/lib` submodule checked
/// out), without `.cargo_vcs_info.json`: the archive assisted matching starts from.
fn package_with_submodule(checkout: &Path, scratch: &Path) -> Vec<u8> {
    let out = Command::new("cargo")
        .args(["package", "--no-verify", "--allow-dirty", "--offline", "-q"])
        .current_dir(checkout)
        .env("CARGO_TARGET_DIR", scratch.join("target"))
        .envs(toolchain().map(|t| ("RUSTUP_TOOLCHAIN", t)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(scratch.join("target/package/assist-0.2.0.crate")).unwrap();
    let krate = rewrite(&bytes, |e| e.retain(|(p, _)| p != ".cargo_vcs_info.json"));
    assert!(
        support::unpack(&krate)
            .1
            .iter()
            .any(|(p, _)| p == "vendor/lib/inner.c")
    );
    krate
}

#[test]
fn submodule_only_differences_rank_above_a_real_mismatch() {
    // The vendored library, in its own repository.
    let sub = Repo::new();
    std::fs::write(sub.dir.join("inner.c"), "int inner(void) { return 1; }\n").unwrap();
    sub.git(&["add", "-A"]);
    sub.git(&["commit", "-q", "-m", "inner"]);
    let mut repo = Repo::new();
    repo.commit("0.1.0", "pub fn a() {}\n", "one\n");
    let sub_url = sub.dir.to_str().unwrap().to_owned();
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &sub_url,
        "vendor/lib",
    ]);
    let released = repo.commit("0.2.0", "pub fn a() {}\npub fn b() {}\n", "two\n");
    // A later commit with the same version and a different lib.rs: a real mismatch.
    repo.commit(
        "0.2.0",
        "pub fn a() {}\npub fn b() {}\npub fn c() {}\n",
        "two\n",
    );
    // Packaged from a checkout with the submodule.
    let tmp = tempfile::tempdir().unwrap();
    let checkout = tmp.path().join("checkout");
    for args in [
        vec![
            "clone",
            "-q",
            repo.dir.to_str().unwrap(),
            checkout.to_str().unwrap(),
        ],
        vec![
            "-C",
            checkout.to_str().unwrap(),
            "checkout",
            "-q",
            "--detach",
            &released,
        ],
        vec![
            "-C",
            checkout.to_str().unwrap(),
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "update",
            "-q",
            "--init",
        ],
    ] {
        let st = Command::new("git").args(&args).status().unwrap();
        assert!(st.success(), "git {args:?}");
    }
    let krate = package_with_submodule(&checkout, tmp.path());
    // Verified against a bare copy: the submodule's repository is not there.
    let bare = tmp.path().join("bare.git");
    let st = Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(&repo.dir)
        .arg(&bare)
        .status()
        .unwrap();
    assert!(st.success());
    let r = verify_bytes(krate, &bare);
    let a = r.assisted.clone().unwrap();
    assert_eq!(a.commit, released, "{}", r.to_json());
    assert_eq!(a.verdict, Verdict::SubmoduleUnavailable, "{}", r.to_json());
    assert_eq!(
        a.differences
            .iter()
            .map(|d| (d.path.as_str(), d.kind))
            .collect::<Vec<_>>(),
        vec![("vendor/lib/inner.c", DifferenceKind::InSubmodule)]
    );
    assert!(a.reason.contains("submodules"), "{}", a.reason);
}

/// `git` in `dir` (test set-up), failing the test on an error.
fn git_in(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn winner_submodule_fetched_from_the_superprojects_server() {
    // The vendored library, next to the superproject (`../lib.git`) on a loopback `git daemon`.
    let tmp = tempfile::tempdir().unwrap();
    let srv = tmp.path().join("srv");
    std::fs::create_dir_all(srv.join("acme")).unwrap();
    let sub = Repo::new();
    std::fs::write(sub.dir.join("inner.c"), "int inner(void) { return 1; }\n").unwrap();
    sub.git(&["add", "-A"]);
    sub.git(&["commit", "-q", "-m", "inner"]);
    let mut repo = Repo::new();
    let beside = repo.dir.parent().unwrap().join("lib.git");
    for to in [&srv.join("acme/lib.git"), &beside] {
        git_in(
            tmp.path(),
            &[
                "clone",
                "-q",
                "--bare",
                sub.dir.to_str().unwrap(),
                to.to_str().unwrap(),
            ],
        );
    }
    repo.commit("0.1.0", "pub fn a() {}\n", "one\n");
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        beside.to_str().unwrap(),
        "vendor/lib",
    ]);
    repo.git(&[
        "config",
        "-f",
        ".gitmodules",
        "submodule.vendor/lib.url",
        "../lib.git",
    ]);
    let released = repo.commit("0.2.0", "pub fn a() {}\npub fn b() {}\n", "two\n");
    repo.git(&["tag", "v0.2.0", &released]);
    // Packaged from a checkout with the submodule (`../lib.git` from the clone's origin).
    let checkout = tmp.path().join("checkout");
    git_in(
        tmp.path(),
        &[
            "clone",
            "-q",
            repo.dir.to_str().unwrap(),
            checkout.to_str().unwrap(),
        ],
    );
    git_in(&checkout, &["checkout", "-q", "--detach", &released]);
    git_in(
        &checkout,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "update",
            "-q",
            "--init",
        ],
    );
    let krate = package_with_submodule(&checkout, tmp.path());
    git_in(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--bare",
            repo.dir.to_str().unwrap(),
            srv.join("acme/assist.git").to_str().unwrap(),
        ],
    );
    let daemon = fetch_support::GitDaemon::start(&srv, tmp.path());
    let run = |cache: &str| {
        let mut options = Options::default();
        options.allow_insecure_transport = true;
        options.cache_dir = Some(tmp.path().join(cache));
        let file = tmp.path().join("assist-0.2.0.crate");
        std::fs::write(&file, &krate).unwrap();
        verify(
            &Request::new(CrateSource::File(file))
                .with_repo(RepoSource::Url(format!(
                    "git://127.0.0.1:{}/acme/assist.git",
                    daemon.port
                )))
                .with_options(options),
        )
        .unwrap()
    };
    // The tag was fetched (depth 1) without the submodule; the winner's submodule commit is
    // fetched from `git://…/acme/lib.git`, and the winner is a match.
    let r = run("cache-a");
    assert_eq!(r.verdict, Verdict::NoVcsInfo, "{}", r.to_json());
    let a = r.assisted.clone().unwrap();
    assert_eq!(
        (a.reference.as_str(), a.commit.as_str(), a.verdict),
        ("refs/tags/v0.2.0", released.as_str(), Verdict::Match),
        "{}",
        r.to_json()
    );
    assert!(a.differences.is_empty(), "{}", r.to_json());
    let subs = &r
        .fetch
        .as_ref()
        .unwrap()
        .repository
        .as_ref()
        .unwrap()
        .submodules;
    assert!(
        subs.iter().any(|s| s.path == "vendor/lib"
            && s.available
            && s.url == format!("git://127.0.0.1:{}/acme/lib.git", daemon.port)),
        "{}",
        r.to_json()
    );
    // Without the library on the server (fresh cache): `submodule_unavailable`, and why.
    std::fs::remove_dir_all(srv.join("acme/lib.git")).unwrap();
    let r = run("cache-b");
    let a = r.assisted.clone().unwrap();
    assert_eq!(a.verdict, Verdict::SubmoduleUnavailable, "{}", r.to_json());
    assert!(
        a.findings.iter().any(|f| f.kind == "submodule_unavailable"),
        "{}",
        r.to_json()
    );
}
