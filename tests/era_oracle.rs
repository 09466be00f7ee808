//! Era oracle: what *older* cargo releases generate passes the manifest and lock-file checks.
//!
//! Each `tests/fixtures/era_*.sh` builds a repository that exercises one normalization rule
//! whose output changed over cargo's history (explicit targets whose files are excluded, dev-
//! dependencies dropped, feature entries stripped, renamed and target-specific dependencies).
//! `tests/data/era/FIXTURE@cargo-1.N.crate` is what real cargo 1.N made of it
//! (`scripts/era-oracle.sh` builds those cargos from the registry and regenerates the files; the
//! fixtures' commit ids are fixed, so the archives' `.cargo_vcs_info.json` names the commit the
//! test rebuilds). Today's cargo is run live as well. For every archive: `inspect` raises no
//! `high` finding and no generated-file finding, and `verify` against the fixture says `match`.

use std::path::{Path, PathBuf};
use std::process::Command;

use provenance_core::{CrateSource, Options, RepoSource, Request, Severity, Verdict};

const GENERATED_KINDS: &[&str] = provenance_core::intrinsic::GENERATED_FILE_KINDS;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("tests/fixtures"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_prefix("era_")
                .and_then(|n| n.strip_suffix(".sh"))
                .map(|n| format!("era_{n}"))
        })
        .collect();
    out.sort();
    out
}

fn run(c: &mut Command) -> std::process::Output {
    let out = c.output().expect("spawn");
    assert!(
        out.status.success(),
        "{c:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Build the fixture; returns (repository, commit, package directory).
fn build(name: &str, dir: &Path) -> (PathBuf, String, PathBuf) {
    let repo = dir.join("repo");
    run(Command::new("bash")
        .arg(root().join(format!("tests/fixtures/{name}.sh")))
        .arg(&repo));
    let sha = String::from_utf8(
        run(Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["rev-parse", "main"]))
        .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let listed = String::from_utf8(
        run(Command::new("git").arg("-C").arg(&repo).args([
            "grep",
            "-l",
            "^name = \"era",
            "main",
            "--",
            "*Cargo.toml",
        ]))
        .stdout,
    )
    .unwrap();
    let manifest = listed
        .lines()
        .next()
        .expect("an era package")
        .trim_start_matches("main:");
    let pkg = repo.join(Path::new(manifest).parent().unwrap());
    (repo, sha, pkg)
}

/// Today's cargo packages the fixture (`--exclude-lockfile` when a lock file cannot be resolved
/// offline: the fixtures' path dependencies are in no registry).
fn package_with_current_cargo(pkg: &Path, target: &Path) -> PathBuf {
    let cargo = || {
        let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        if let Some(tc) = std::env::var_os("RUSTUP_TOOLCHAIN") {
            c.env("RUSTUP_TOOLCHAIN", tc);
        }
        c.current_dir(pkg)
            .env("CARGO_TARGET_DIR", target)
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("CARGO_BUILD_TARGET_DIR")
            .args(["package", "--no-verify", "--offline"]);
        c
    };
    if !cargo().output().expect("cargo").status.success() {
        run(cargo().arg("--exclude-lockfile"));
    }
    let dir = target.join("package");
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "crate"))
        .expect("cargo wrote a .crate")
}

fn check(label: &str, krate: &Path, repo: &Path, sha: &str) {
    let inspection =
        provenance_core::inspect(&CrateSource::File(krate.to_owned()), &Options::default())
            .unwrap();
    assert!(
        !inspection
            .findings
            .iter()
            .any(|f| f.severity == Severity::High || GENERATED_KINDS.contains(&f.kind.as_str())),
        "{label}: inspect\n{}",
        inspection.to_json()
    );
    let report = provenance_core::verify(
        &Request::new(CrateSource::File(krate.to_owned()))
            .with_repo(RepoSource::Path(repo.to_owned())),
    )
    .unwrap();
    assert_eq!(report.source.commit.as_deref(), Some(sha), "{label}");
    assert_eq!(
        report.verdict,
        Verdict::Match,
        "{label}\n{}",
        report.to_json()
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|f| GENERATED_KINDS.contains(&f.kind.as_str())),
        "{label}\n{}",
        report.to_json()
    );
}

#[test]
fn older_and_current_cargo_output_passes_the_checks() {
    let data = root().join("tests/data/era");
    let names = fixtures();
    assert!(names.len() >= 3, "era fixtures missing: {names:?}");
    for name in names {
        let dir = tempfile::tempdir().unwrap();
        let (repo, sha, pkg) = build(&name, dir.path());
        let mut old: Vec<PathBuf> = std::fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let f = p.file_name().unwrap().to_string_lossy();
                f.starts_with(&format!("{name}@cargo-1.")) && f.ends_with(".crate")
            })
            .collect();
        old.sort();
        assert!(
            !old.is_empty(),
            "no archive of `{name}` from an older cargo in tests/data/era (run scripts/era-oracle.sh)"
        );
        for krate in &old {
            check(&krate.display().to_string(), krate, &repo, &sha);
        }
        let current = package_with_current_cargo(&pkg, &dir.path().join("target"));
        check(&format!("{name} (current cargo)"), &current, &repo, &sha);
    }
}
