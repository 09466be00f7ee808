//! Assisted search on four real crates published without `.cargo_vcs_info.json` (issue 21),
//! downloaded from static.crates.io (checked against the index `cksum`) and verified against
//! the minimal upstream repository archives of `tests/data/assisted` (see its README).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use provenance_core::{
    Assisted, Category, CrateSource, DifferenceKind, Options, RepoSource, Report, Request, Verdict,
    fetch::Mirror, verify,
};
use sha2::Digest;

/// The archive unpacked (once per process and archive, checked against `SHA256SUMS`).
fn repository(archive: &str) -> PathBuf {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let data = support::repo_root().join("tests/data/assisted");
    let file = data.join(archive);
    let bytes = std::fs::read(&file).unwrap();
    let sums = std::fs::read_to_string(data.join("SHA256SUMS")).unwrap();
    let want = sums
        .lines()
        .find_map(|l| l.strip_suffix(archive).map(|h| h.trim().to_owned()))
        .unwrap_or_else(|| panic!("{archive} is not in SHA256SUMS"));
    assert_eq!(
        support::hex(&sha2::Sha256::digest(&bytes)),
        want,
        "{archive}"
    );
    let dir =
        support::cache_dir()
            .join("assisted-repos")
            .join(format!("{}-{}", archive, &want[..12]));
    if !dir.join("repo.git/HEAD").is_file() {
        let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let st = Command::new("tar")
            .arg("-xzf")
            .arg(&file)
            .arg("-C")
            .arg(&tmp)
            .status()
            .unwrap();
        assert!(st.success());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&tmp, &dir).unwrap();
    }
    dir.join("repo.git")
}

fn assisted(name: &str, version: &str, sha256: &str, archive: &str) -> (Verdict, Assisted) {
    let krate = support::registry_crate(name, version, sha256);
    let repo = repository(archive);
    let report = verify(
        &Request::new(CrateSource::File(krate))
            .with_repo(RepoSource::Path(Path::new(&repo).into())),
    )
    .unwrap_or_else(|e| panic!("{name} {version}: {e}"));
    assisted_of(name, version, &report)
}

fn assisted_of(name: &str, version: &str, report: &Report) -> (Verdict, Assisted) {
    let a = report
        .assisted
        .clone()
        .unwrap_or_else(|| panic!("{name} {version}: no assisted result: {}", report.to_json()));
    (report.verdict, a)
}

#[test]
fn spin_0_4_7_crlf_release_commit() {
    let (verdict, a) = assisted(
        "spin",
        "0.4.7",
        "dc28a8d2f2efa706fc9d3d074e265c1d529db41c1603679861662cb88e05e70a",
        "mvdnes+spin-rs.git.tar.gz",
    );
    assert_eq!(verdict, Verdict::NoVcsInfo);
    // The release commit, not one of the later commits with the same version.
    assert_eq!(a.commit, "51f5d3cbbb93383cd4bc1eed0613d5c1f0dc995f");
    assert_eq!(a.how, "version_commit");
    assert!(!a.differences.is_empty());
    for d in &a.differences {
        assert_eq!(d.kind, DifferenceKind::ContentDiffers, "{}", d.path);
        assert_eq!(d.category, Some(Category::LineEndings), "{}", d.path);
    }
    assert!(a.differences.iter().any(|d| d.path == "Cargo.toml.orig"));
    // Line-ending-only differences: an assisted `match` (the primary verdict is unchanged).
    assert_eq!(a.verdict, Verdict::Match, "{}", a.summary);
    assert!(
        a.reason.starts_with("match after line endings"),
        "{}",
        a.reason
    );
    assert!(a.findings.iter().any(|f| f.kind == "crlf_published"));
    assert!(a.tried >= 1 && a.commits_walked > 5);
}

#[test]
fn nom_3_2_1_dotfiles_skipped_by_older_cargo() {
    let (verdict, a) = assisted(
        "nom",
        "3.2.1",
        "05aec50c70fd288702bcd93284a8444607f3292dbdf2a30de5ea5dcdbe72287b",
        "rust-bakery+nom.git.tar.gz",
    );
    assert_eq!(verdict, Verdict::NoVcsInfo);
    assert_eq!(
        (a.how.as_str(), a.reference.as_str(), a.verdict),
        ("tag", "refs/tags/3.2.1", Verdict::Match)
    );
    let explained: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.kind == "older_cargo_rule")
        .filter_map(|f| f.path.as_deref())
        .collect();
    assert!(explained.contains(&".gitignore"), "{explained:?}");
    assert!(explained.contains(&".travis.yml"), "{explained:?}");
    assert!(a.reason.contains("older cargo"), "{}", a.reason);
    assert!(a.era.starts_with("cargo 1."), "{}", a.era);
}

#[test]
fn libgit2_sys_0_6_18_submodule_only() {
    let (verdict, a) = assisted(
        "libgit2-sys",
        "0.6.18",
        "82fc20bd8beefe7c9f98aae2d3cff78e57f544cdd83d58fe181ec37a5fbe0c77",
        "rust-lang+git2-rs.git.tar.gz",
    );
    assert_eq!(verdict, Verdict::NoVcsInfo);
    assert_eq!(a.verdict, Verdict::SubmoduleUnavailable, "{}", a.summary);
    assert_eq!(a.commit, "3a9f7d7e14c54907a36e1b4849088e72626709ff");
    assert_eq!(a.path_in_vcs, "libgit2-sys");
    assert!(
        a.differences
            .iter()
            .all(|d| d.kind == DifferenceKind::InSubmodule && d.path.starts_with("libgit2/"))
    );
}

#[test]
fn curl_sys_0_4_0_sibling_tag_skipped() {
    let (verdict, a) = assisted(
        "curl-sys",
        "0.4.0",
        "8c938373c70e22ee0bc08fd52e25f54b88bd4b69ed740ed917aa691b5bc4db75",
        "alexcrichton+curl-rust.git.tar.gz",
    );
    assert_eq!(verdict, Verdict::NoVcsInfo);
    assert_eq!(a.verdict, Verdict::SubmoduleUnavailable, "{}", a.summary);
    assert_eq!(a.reference, "refs/tags/curl-sys-0.4.0");
    assert_eq!(a.commit, "76e5349895e0ea57e35005aa9cfbe349ae73cdc3");
    // The bare `0.4.0` tag is the sibling crate `curl`'s release: not tried for curl-sys.
    assert!(
        a.findings
            .iter()
            .any(|f| f.kind == "assisted_tag_skipped" && f.message.contains("refs/tags/0.4.0")),
        "{:?}",
        a.findings
    );
    assert!(
        a.differences
            .iter()
            .all(|d| d.kind == DifferenceKind::InSubmodule && d.path.starts_with("curl/"))
    );
}

/// `https://github.com/OWNER/NAME` → a directory of bare repositories: the superproject's
/// archive and the submodule's depth-1 archive (`tests/data/assisted`), as a local mirror of
/// github.com (`--mirror https://github.com/=DIR`).
fn with_submodule_mirror(
    (name, version, sha256): (&str, &str, &str),
    superproject: (&str, &str),
    submodule: (&str, &str),
) -> (Verdict, Assisted, Report) {
    let krate = support::registry_crate(name, version, sha256);
    let mirror = tempfile::tempdir().unwrap();
    for (owner_name, archive) in [superproject, submodule] {
        let link = mirror.path().join(format!("{owner_name}.git"));
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(repository(archive), &link).unwrap();
    }
    let cache = tempfile::tempdir().unwrap();
    let mut options = Options::default();
    options.cache_dir = Some(cache.path().to_owned());
    options.mirrors = vec![
        Mirror::new(
            "https://github.com/",
            mirror.path().to_str().unwrap(),
            false,
        )
        .unwrap(),
    ];
    let report = verify(
        &Request::new(CrateSource::File(krate))
            .with_repo(RepoSource::Url(format!(
                "https://github.com/{}",
                superproject.0
            )))
            .with_options(options),
    )
    .unwrap_or_else(|e| panic!("{name} {version}: {e}"));
    let (verdict, a) = assisted_of(name, version, &report);
    (verdict, a, report)
}

/// The submodule commit the winner's gitlink names was fetched (copied from the mirror).
fn submodule_fetched(report: &Report, path: &str, commit: &str) {
    let subs = &report
        .fetch
        .as_ref()
        .and_then(|f| f.repository.as_ref())
        .unwrap_or_else(|| panic!("no fetch record: {}", report.to_json()))
        .submodules;
    assert!(
        subs.iter()
            .any(|s| s.path == path && s.commit == commit && s.available),
        "{}",
        report.to_json()
    );
}

#[test]
fn libgit2_sys_0_6_18_match_with_the_submodule_mirrored() {
    let (verdict, a, report) = with_submodule_mirror(
        (
            "libgit2-sys",
            "0.6.18",
            "82fc20bd8beefe7c9f98aae2d3cff78e57f544cdd83d58fe181ec37a5fbe0c77",
        ),
        ("rust-lang/git2-rs", "rust-lang+git2-rs.git.tar.gz"),
        ("libgit2/libgit2", "libgit2+libgit2.git.tar.gz"),
    );
    assert_eq!(verdict, Verdict::NoVcsInfo);
    assert_eq!(a.verdict, Verdict::Match, "{}", report.to_json());
    assert_eq!(a.commit, "3a9f7d7e14c54907a36e1b4849088e72626709ff");
    assert_eq!(a.path_in_vcs, "libgit2-sys");
    assert!(a.differences.is_empty(), "{}", a.summary);
    assert!(
        a.files.compared > 100 && a.files.equal == a.files.compared,
        "{:?}",
        a.files
    );
    submodule_fetched(
        &report,
        "libgit2-sys/libgit2",
        "15e119375018fba121cf58e02a9f17fe22df0df8",
    );
}

#[test]
fn curl_sys_0_4_0_match_with_the_submodule_mirrored() {
    let (verdict, a, report) = with_submodule_mirror(
        (
            "curl-sys",
            "0.4.0",
            "8c938373c70e22ee0bc08fd52e25f54b88bd4b69ed740ed917aa691b5bc4db75",
        ),
        (
            "alexcrichton/curl-rust",
            "alexcrichton+curl-rust.git.tar.gz",
        ),
        ("alexcrichton/curl", "alexcrichton+curl.git.tar.gz"),
    );
    assert_eq!(verdict, Verdict::NoVcsInfo);
    assert_eq!(a.verdict, Verdict::Match, "{}", report.to_json());
    assert_eq!(a.reference, "refs/tags/curl-sys-0.4.0");
    assert_eq!(a.commit, "76e5349895e0ea57e35005aa9cfbe349ae73cdc3");
    assert!(a.differences.is_empty(), "{}", a.summary);
    submodule_fetched(
        &report,
        "curl-sys/curl",
        "651be36a7459015d601c22dc36161c9db60c7a1c",
    );
}
