//! Differential tests: our file selection against real `cargo package`, rule by rule.
//!
//! Each case has a fixture script `tests/fixtures/diff_<case>.sh` that builds a git repository
//! with fixed identities and dates. The test clones it (a clean work tree, as a publisher's),
//! runs the oracle `cargo package --no-verify --allow-dirty --offline` in the package directory
//! of the clone, and then checks that
//! 1. `crate-provenance verify --crate-file <cargo's .crate> --repo <fixture>` says `match`,
//! 2. `crate-provenance list-files` lists exactly the entries of cargo's archive (and of
//!    `cargo package --list`),
//! 3. the report's `files.published` equals the number of archive entries.
//!
//! Cases where cargo refuses to package check that we refuse too. Nothing here skips: a missing
//! `git`, `bash` or `cargo` fails the tests.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// What cargo does with a case, and therefore what we must do.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Cargo packages it; we must select the same files and say `match`.
    Match,
    /// Cargo packages it but reads a file from outside the repository. We must list the same
    /// paths, report the finding `kind` (high severity), and never say `match`: content that
    /// cannot be seen is never verified (the finding blocks `match`).
    External { finding: &'static str },
    /// `include` matches the checkout's `.git/` internals at the repository root (spec §2.4: the
    /// walk has no `.git` special case). They are in no commit: each is `only_in_published`, the
    /// finding `git_internals_packaged` explains them, and the verdict is `mismatch`.
    GitInternals,
    /// The checkout holds untracked, not ignored files that cargo packages (`dirty: true`). We
    /// must select cargo's files minus exactly those, and answer `mismatch` with one
    /// `only_in_published` difference per file and `source.dirty`.
    Dirty { untracked: &'static [&'static str] },
    /// Cargo refuses to package the commit; `list-files` must fail. With `patch`, those files
    /// are then replaced in the checkout so cargo can package a dirty tree (`dirty: true`, the
    /// commit's sha1) and `verify` must answer `package_error` for the commit.
    Refused { patch: Option<Files> },
}

/// Files to write, relative to the checkout root (`../` reaches beside the checkout).
type Files = &'static [(&'static str, &'static [u8])];

#[derive(Debug, Clone, Copy)]
struct Case {
    /// The package directory inside the repository (`""` = root).
    pkg: &'static str,
    /// Clone with `--recurse-submodules` (initialized submodules in the checkout).
    submodules: bool,
    /// Written into the checkout after cloning (untracked files, files outside the repository).
    checkout_files: Files,
    /// The `path_in_vcs` cargo records, when it is not `pkg` (a symlinked manifest).
    path_in_vcs: Option<&'static str>,
    expect: Expect,
}

const fn case(pkg: &'static str) -> Case {
    Case {
        pkg,
        submodules: false,
        checkout_files: &[],
        path_in_vcs: None,
        expect: Expect::Match,
    }
}

impl Case {
    const fn submodules(mut self) -> Self {
        self.submodules = true;
        self
    }
    const fn checkout_files(mut self, files: Files) -> Self {
        self.checkout_files = files;
        self
    }
    const fn path_in_vcs(mut self, path: &'static str) -> Self {
        self.path_in_vcs = Some(path);
        self
    }
    const fn expect(mut self, expect: Expect) -> Self {
        self.expect = expect;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_script(name: &str) -> PathBuf {
    manifest_dir()
        .join("tests/fixtures")
        .join(format!("diff_{name}.sh"))
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Run a command; a tool that cannot be started is a loud failure, never a skip.
fn output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run `{}` (is it installed?): {e}", describe(cmd)))
}

/// Run a command that must succeed.
fn run_ok(cmd: &mut Command) -> Output {
    let out = output(cmd);
    assert!(
        out.status.success(),
        "`{}` failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        describe(cmd),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn git() -> Command {
    let mut c = Command::new("git");
    c.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        // No automatic `git gc` racing the commands that follow (issue 18).
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "gc.auto")
        .env("GIT_CONFIG_VALUE_0", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    c
}

/// The toolchain the tests run under, so the oracle cargo is the same cargo.
fn toolchain() -> Option<&'static str> {
    static TC: OnceLock<Option<String>> = OnceLock::new();
    TC.get_or_init(|| {
        if let Ok(tc) = std::env::var("RUSTUP_TOOLCHAIN") {
            return Some(tc);
        }
        let out = Command::new("rustup")
            .args(["show", "active-toolchain"])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .map(str::to_owned)
    })
    .as_deref()
}

fn cargo(target_dir: &Path) -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(program);
    if let Some(tc) = toolchain() {
        c.env("RUSTUP_TOOLCHAIN", tc);
    }
    c.env("CARGO_TARGET_DIR", target_dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    c
}

fn ours() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
}

fn json(out: &Output, what: &str) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: stdout is not JSON ({e}):\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

/// Build the fixture repository; returns its `main` commit.
fn build_fixture(name: &str, dir: &Path) -> String {
    let script = fixture_script(name);
    assert!(script.is_file(), "missing fixture {}", script.display());
    run_ok(Command::new("bash").arg(&script).arg(dir));
    let out = run_ok(git().arg("-C").arg(dir).args(["rev-parse", "main"]));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn clone(fixture: &Path, checkout: &Path, submodules: bool) {
    let mut c = git();
    c.args(["-c", "protocol.file.allow=always", "clone", "-q"]);
    if submodules {
        c.arg("--recurse-submodules");
    }
    c.arg(fixture).arg(checkout);
    run_ok(&mut c);
}

fn write_files(root: &Path, files: Files) {
    for (rel, bytes) in files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        if path.symlink_metadata().is_ok() {
            std::fs::remove_file(&path).unwrap();
        }
        std::fs::write(&path, bytes).unwrap();
    }
}

/// The `.crate` cargo wrote into `target/package/`.
fn find_crate(target_dir: &Path) -> PathBuf {
    let dir = target_dir.join("package");
    let crates: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "crate"))
        .collect();
    assert_eq!(crates.len(), 1, "expected one .crate in {}", dir.display());
    crates.into_iter().next().unwrap()
}

/// The archive entries (in archive order, `NAME-VERSION/` stripped) and `.cargo_vcs_info.json`.
fn archive_entries(krate: &Path) -> (Vec<String>, Option<Value>) {
    let file = std::fs::File::open(krate).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let stem = krate.file_stem().unwrap().to_string_lossy().into_owned();
    let prefix = format!("{stem}/");
    let mut entries = Vec::new();
    let mut vcs = None;
    for entry in ar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let rel = path
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("archive path `{path}` lacks `{prefix}`"))
            .to_owned();
        if rel == ".cargo_vcs_info.json" {
            let mut s = String::new();
            entry.read_to_string(&mut s).unwrap();
            vcs = Some(serde_json::from_str(&s).unwrap());
        }
        entries.push(rel);
    }
    (entries, vcs)
}

fn list_files(fixture: &Path, sha: &str, pkg: &str) -> Output {
    output(
        ours()
            .args(["list-files", "--repo"])
            .arg(fixture)
            .args(["--commit", sha, "--path", pkg, "--format", "json"]),
    )
}

fn verify(krate: &Path, fixture: &Path) -> (Output, Value) {
    let out = output(
        ours()
            .args(["verify", "--crate-file"])
            .arg(krate)
            .arg("--repo")
            .arg(fixture)
            .args(["--format", "json", "--no-assisted"]),
    );
    let v = json(&out, "verify");
    (out, v)
}

fn inspect(krate: &Path) -> Value {
    let out = output(ours().arg("inspect").arg(krate).args(["--format", "json"]));
    let v = json(&out, "inspect");
    assert_eq!(
        out.status.code(),
        Some(i32::from(
            v["findings"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["severity"] == "high"))
        )),
        "inspect exit status vs its findings:\n{}",
        show(&v)
    );
    v
}

fn show(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

fn set(v: &[String]) -> BTreeSet<&str> {
    v.iter().map(String::as_str).collect()
}

// ---------------------------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------------------------

fn run_case(name: &str, case: Case) {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("diff-{name}-"))
        .tempdir()
        .unwrap();
    let fixture = tmp.path().join("fixture");
    let checkout = tmp.path().join("checkout");
    let target = tmp.path().join("target");
    let sha = build_fixture(name, &fixture);
    clone(&fixture, &checkout, case.submodules);
    write_files(&checkout, case.checkout_files);
    let pkg_dir = checkout.join(case.pkg);

    let mut package = cargo(&target);
    package
        .args(["package", "--no-verify", "--allow-dirty", "--offline"])
        .current_dir(&pkg_dir);
    let packaged = output(&mut package);
    let cargo_log = String::from_utf8_lossy(&packaged.stderr).into_owned();

    if let Expect::Refused { patch } = case.expect {
        assert!(
            !packaged.status.success(),
            "oracle: cargo was expected to refuse `{name}` but packaged it:\n{cargo_log}"
        );
        let listed = list_files(&fixture, &sha, case.pkg);
        assert_eq!(
            listed.status.code(),
            Some(2),
            "cargo refuses `{name}` ({cargo_log}) but our list-files succeeded:\n{}",
            String::from_utf8_lossy(&listed.stdout)
        );
        let err = json(&listed, "list-files");
        assert!(
            err.get("error").is_some(),
            "list-files: no error object: {}",
            show(&err)
        );
        if let Some(patch) = patch {
            write_files(&checkout, patch);
            run_ok(&mut package);
            let krate = find_crate(&target);
            let (_, vcs) = archive_entries(&krate);
            let vcs = vcs.expect("cargo wrote no .cargo_vcs_info.json");
            assert_eq!(vcs["git"]["sha1"], sha.as_str(), "{}", show(&vcs));
            let (_, report) = verify(&krate, &fixture);
            assert_eq!(
                report["verdict"],
                "package_error",
                "cargo cannot package commit {sha} of `{name}`; expected package_error:\n{}",
                show(&report)
            );
        }
        return;
    }

    assert!(
        packaged.status.success(),
        "oracle: cargo package failed for `{name}`:\n{cargo_log}"
    );
    let krate = find_crate(&target);
    let (entries, vcs) = archive_entries(&krate);
    let vcs = vcs.unwrap_or_else(|| panic!("cargo wrote no .cargo_vcs_info.json:\n{cargo_log}"));
    assert_eq!(vcs["git"]["sha1"], sha.as_str(), "vcs info: {}", show(&vcs));
    let path_in_vcs = case.path_in_vcs.unwrap_or(case.pkg);
    assert_eq!(vcs["path_in_vcs"], path_in_vcs, "vcs info: {}", show(&vcs));
    let git_internals: Vec<&str> = entries
        .iter()
        .map(String::as_str)
        .filter(|e| e.starts_with(".git/"))
        .collect();
    let untracked: &[&str] = match case.expect {
        Expect::Dirty { untracked } => untracked,
        Expect::GitInternals => {
            assert!(
                !git_internals.is_empty(),
                "cargo packaged no .git/ entries:\n{cargo_log}"
            );
            &git_internals
        }
        _ => &[],
    };
    assert_eq!(
        vcs["git"].get("dirty").is_some(),
        matches!(case.expect, Expect::Dirty { .. }),
        "cargo's dirty flag is not what the case expects: {}\n{cargo_log}",
        show(&vcs)
    );

    // `cargo package --list` names the same entries in the same order.
    let listed_by_cargo = run_ok(
        cargo(&target)
            .args(["package", "--list", "--allow-dirty", "--offline"])
            .current_dir(&pkg_dir),
    );
    let cargo_list: Vec<String> = String::from_utf8(listed_by_cargo.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(cargo_list, entries, "cargo package --list vs the archive");

    // 2. Our list equals cargo's archive.
    let listed = list_files(&fixture, &sha, case.pkg);
    let listed_json = json(&listed, "list-files");
    assert!(
        listed.status.success(),
        "list-files failed for `{name}` although cargo packaged it:\n{}",
        show(&listed_json)
    );
    let ours_list: Vec<String> = listed_json["files"]
        .as_array()
        .expect("files[]")
        .iter()
        .map(|f| f["path"].as_str().expect("files[].path").to_owned())
        .collect();
    let mut cargo_set = set(&entries);
    for u in untracked {
        assert!(cargo_set.remove(u), "cargo did not package untracked `{u}`");
    }
    let our_set = set(&ours_list);
    assert!(
        cargo_set == our_set,
        "file selection differs for `{name}`\n  only in cargo's archive: {:?}\n  only in ours: {:?}\n  \
         cargo: {entries:?}\n  ours:  {ours_list:?}",
        cargo_set.difference(&our_set).collect::<Vec<_>>(),
        our_set.difference(&cargo_set).collect::<Vec<_>>(),
    );
    assert_eq!(
        ours_list.len(),
        entries.len() - untracked.len(),
        "duplicate paths in list-files"
    );

    // 1. + 3. verify.
    let (out, report) = verify(&krate, &fixture);
    assert_eq!(
        report["source"]["commit"],
        sha.as_str(),
        "{}",
        show(&report)
    );
    assert_eq!(
        report["source"]["path_in_vcs"],
        path_in_vcs,
        "{}",
        show(&report)
    );
    assert_eq!(
        report["files"]["published"].as_u64(),
        Some(entries.len() as u64),
        "files.published vs archive entries:\n{}",
        show(&report)
    );
    // Real cargo's generated `Cargo.toml` and `Cargo.lock` pass the manifest and lock-file
    // checks, and `inspect` (the crate alone) raises no high finding on what cargo wrote.
    let generated_kinds = [
        "normalized_manifest_diverges",
        "non_normalized_manifest",
        "lockfile_inconsistent",
        "lockfile_unparsable",
        "lockfile_dangling_dependency",
        "lockfile_without_package",
    ];
    for f in report["findings"].as_array().expect("findings[]") {
        assert!(
            !generated_kinds.contains(&f["kind"].as_str().unwrap_or_default()),
            "real cargo's generated files fail our checks:\n{}",
            show(&report)
        );
    }
    let inspected = inspect(&krate);
    assert!(
        !inspected["findings"]
            .as_array()
            .expect("findings[]")
            .iter()
            .any(|f| f["severity"] == "high"),
        "inspect raises a high finding on real cargo's archive:\n{}",
        show(&inspected)
    );
    match case.expect {
        Expect::Match => {
            assert_eq!(report["verdict"], "match", "{}", show(&report));
            assert_eq!(out.status.code(), Some(0), "exit status for match");
        }
        Expect::External { finding } => {
            assert_eq!(report["verdict"], "mismatch", "{}", show(&report));
            assert_eq!(
                report["differences"].as_array().map(Vec::len),
                Some(0),
                "{}",
                show(&report)
            );
            let found = report["findings"]
                .as_array()
                .expect("findings[]")
                .iter()
                .any(|f| f["kind"] == finding && f["severity"] == "high");
            assert!(
                found,
                "expected a high finding `{finding}`:\n{}",
                show(&report)
            );
        }
        Expect::Dirty { untracked } => {
            assert_eq!(report["verdict"], "mismatch", "{}", show(&report));
            assert_eq!(report["source"]["dirty"], true, "{}", show(&report));
            let mut diffs: Vec<(&str, &str)> = report["differences"]
                .as_array()
                .expect("differences[]")
                .iter()
                .map(|d| (d["path"].as_str().unwrap(), d["kind"].as_str().unwrap()))
                .collect();
            diffs.sort_unstable();
            let mut want: Vec<(&str, &str)> = untracked
                .iter()
                .map(|u| (*u, "only_in_published"))
                .collect();
            want.sort_unstable();
            assert_eq!(diffs, want, "{}", show(&report));
        }
        Expect::GitInternals => {
            assert_eq!(report["verdict"], "mismatch", "{}", show(&report));
            let diffs: Vec<(&str, &str)> = report["differences"]
                .as_array()
                .expect("differences[]")
                .iter()
                .map(|d| (d["path"].as_str().unwrap(), d["kind"].as_str().unwrap()))
                .collect();
            let want: Vec<(&str, &str)> = untracked
                .iter()
                .map(|u| (*u, "only_in_published"))
                .collect();
            let (diffs, want): (BTreeSet<_>, BTreeSet<_>) =
                (diffs.into_iter().collect(), want.into_iter().collect());
            assert_eq!(diffs, want, "{}", show(&report));
            let found = report["findings"]
                .as_array()
                .expect("findings[]")
                .iter()
                .any(|f| f["kind"] == "git_internals_packaged");
            assert!(
                found,
                "expected finding `git_internals_packaged`:\n{}",
                show(&report)
            );
        }
        Expect::Refused { .. } => unreachable!(),
    }
}

// ---------------------------------------------------------------------------------------------
// The cases: one test per rule, named after its fixture `tests/fixtures/diff_<name>.sh`.
// ---------------------------------------------------------------------------------------------

macro_rules! cases {
    ($($(#[$meta:meta])* $name:ident => $case:expr;)*) => {
        /// Every case name, to check that each fixture script has a test.
        const CASES: &[&str] = &[$(stringify!($name)),*];
        $(
            $(#[$meta])*
            #[test]
            fn $name() {
                run_case(stringify!($name), $case);
            }
        )*
    };
}

cases! {
    plain => case("");
    workspace_member => case("crates/alpha");
    subdir_no_workspace => case("rust/sub-crate");
    include => case("");
    exclude => case("");
    exclude_gitignore_semantics => case("");
    include_exclude => case("");
    negated_exclude => case("");
    negated_include => case("");
    escaped_bang => case("");
    nested_package => case("");
    excluded_nested_package => case("");
    nested_package_include => case("");
    ignored_untracked_nested_manifest => case("").checkout_files(&[(
        "sub/Cargo.toml",
        b"[package]\nname = \"sub\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )]);
    target_tracked => case("");
    target_untracked => case("").checkout_files(&[
        ("target/debug/junk.txt", b"build output\n"),
        ("target/Cargo.toml", b"[package]\nname = \"not-nested\"\n"),
    ]);
    target_file_at_root => case("");
    dotfiles => case("");
    dotfiles_include => case("");
    include_everything => case("").expect(Expect::GitInternals);
    include_everything_member => case("crates/incm");
    readme_outside => case("crates/rdm");
    readme_outside_conflict => case("rdmc");
    license_outside => case("crates/lic");
    license_excluded_forced => case("");
    readme_false => case("");
    readme_default_excluded => case("");
    readme_default_txt_include => case("");
    readme_in_nested_package => case("");
    symlink_file => case("crates/lnk");
    symlink_dir => case("crates/lnkd");
    symlink_dir_nested_package => case("crates/main");
    symlink_out_of_repo => case("")
        .checkout_files(&[("../outside.txt", b"a file beside the checkout\n")])
        .expect(Expect::External { finding: "symlink_escapes_repository" });
    dangling_symlink => case("").expect(Expect::Refused {
        patch: Some(&[("broken.txt", b"replaced in the work tree\n")]),
    });
    dangling_symlink_excluded => case("");
    submodule_uninitialized => case("");
    submodule_initialized => case("").submodules();
    submodule_with_manifest => case("").submodules();
    committed_then_ignored => case("").checkout_files(&[
        ("generated/untracked.json", b"ignored and untracked: not packaged\n"),
        ("scratch.local", b"ignored and untracked: not packaged\n"),
    ]);
    cargo_lock_tracked => case("");
    cargo_lock_nested => case("");
    binary_files => case("");
    non_ascii_names => case("");
    empty_files => case("");
    executable_bit => case("");
    workspace_inherit => case("crates/inh");
    workspace_inherit_include => case("crates/inhi");
    workspace_inherit_default_readme => case("crates/inhr");
    manifest_symlink => case("crates/mlink").path_in_vcs("manifests");
    manifest_symlink_same_dir => case("");
    case_variant_manifest => case("");
    special_char_filename => case("").expect(Expect::Refused { patch: None });
    reserved_vcs_info => case("").expect(Expect::Refused { patch: None });
    long_path => case("");
    export_ignore => case("");
    sort_order => case("");
    symlink_chain => case("");
    symlink_dir_loop => case("");
    symlink_dir_excluded => case("");
    symlink_dir_gitignored => case("");
    include_symlink_dir => case("");
    readme_true => case("");
    readme_missing => case("").expect(Expect::Refused {
        patch: Some(&[("NOPE.md", b"created in the work tree only\n")]),
    });
    build_script_outside => case("crates/bso").expect(Expect::Refused { patch: None });
    cargo_toml_orig_reserved => case("").expect(Expect::Refused { patch: None });
    nested_package_deep => case("");
    cargo_toml_directory => case("");
    cargo_toml_directory_include => case("");
    // A portability hazard, not a parser disagreement: a medium finding beside `match`.
    case_only_names => case("");
    workspace_explicit_path => case("pkgs/wsx");
    target_symlink_dir => case("");
    license_outside_conflict => case("licc");
    readme_outside_subdir_name => case("rdms");
    workspace_root_package => case("");
    exclude_manifest_and_lock => case("");
    readme_symlink => case("crates/rsym");
    reserved_names_in_subdir => case("");
    windows_reserved_names => case("");
    special_char_directory => case("");
    untracked_files_dirty => case("")
        .checkout_files(&[
            ("src/untracked.rs", b"pub fn u() {}\n"),
            ("notes/todo.txt", b"untracked, not ignored\n"),
            ("build.log", b"ignored: not packaged, not dirty\n"),
        ])
        .expect(Expect::Dirty { untracked: &["notes/todo.txt", "src/untracked.rs"] });
}

/// The archive order is cargo's component-wise `Path` order; our list must be in that order too.
#[test]
fn sort_order_is_component_wise() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = tmp.path().join("fixture");
    let sha = build_fixture("sort_order", &fixture);
    let listed = list_files(&fixture, &sha, "");
    let v = json(&listed, "list-files");
    let ours_list: Vec<&str> = v["files"]
        .as_array()
        .expect("files[]")
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let mut cargo_order = ours_list.clone();
    cargo_order.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
    assert_eq!(
        ours_list, cargo_order,
        "list-files order vs cargo's Path order"
    );
}

/// Every `diff_*.sh` fixture has a case, and building a fixture twice gives the same commits.
#[test]
fn fixtures_are_complete_and_deterministic() {
    let dir = manifest_dir().join("tests/fixtures");
    let mut scripts: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| {
            n.strip_prefix("diff_")
                .and_then(|n| n.strip_suffix(".sh"))
                .map(str::to_owned)
        })
        .filter(|n| n != "lib")
        .collect();
    scripts.sort();
    let mut cases: Vec<String> = CASES.iter().map(|s| (*s).to_owned()).collect();
    cases.sort();
    assert_eq!(scripts, cases, "fixture scripts vs test cases");
    assert!(cases.len() >= 25);

    let tmp = tempfile::tempdir().unwrap();
    for name in [
        "plain",
        "symlink_dir",
        "submodule_initialized",
        "non_ascii_names",
    ] {
        let refs = |d: &Path| {
            build_fixture(name, d);
            let out = run_ok(
                git()
                    .arg("-C")
                    .arg(d)
                    .args(["for-each-ref", "--format=%(objectname) %(refname)"]),
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let a = refs(&tmp.path().join(format!("{name}-a")));
        let b = refs(&tmp.path().join(format!("{name}-b")));
        assert_eq!(a, b, "fixture `{name}` is not deterministic");
    }
}
