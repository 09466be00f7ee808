//! `cargo provenance` (the `cargo-provenance` binary) on a fixture workspace served by a loopback
//! registry and `git daemon`: the same results as `crate-provenance scan --lockfile`, run
//! directly and through real `cargo`; and the completions and man pages of both binaries.

mod world;

use std::path::Path;
use std::process::Command;

use world::{World, jsonl, text};

fn cargo_provenance(w: &World) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cargo-provenance"));
    c.env_remove("CI").current_dir(w.tmp.path());
    c
}

fn sorted_lines(path: &Path) -> Vec<String> {
    let mut v: Vec<String> = jsonl(path)
        .iter()
        .map(|l| serde_json::to_string(l).unwrap())
        .collect();
    v.sort();
    v
}

fn summary(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", text(out)))
}

#[test]
fn cargo_provenance_gives_the_results_of_scan() {
    let w = World::new();
    // `scan` in the workspace root: `./provenance.toml` is the policy.
    let scan = w
        .crate_provenance(&["scan", "--lockfile", "Cargo.lock", "--format", "json"])
        .args(["--out", w.path("scan.jsonl").to_str().unwrap()])
        .args(w.registry_args("cache-scan"))
        .output()
        .unwrap();
    assert_eq!(scan.status.code(), Some(1), "{}", text(&scan));
    let expected = summary(&scan);
    assert_eq!(expected["total"], 6, "{expected:#}");
    assert_eq!(expected["gate_failed"], true);
    let skipped: Vec<&str> = expected["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["app", "forked", "tool"], "{expected:#}");

    // `cargo-provenance` run directly, from outside the workspace, pointed at a member's
    // manifest: the workspace's lock file and the workspace's policy.
    let direct = cargo_provenance(&w)
        .arg("--manifest-path")
        .arg(w.ws().join("app/Cargo.toml"))
        .args(["--format", "json", "--out"])
        .arg(w.path("direct.jsonl"))
        .args(w.registry_args("cache-direct"))
        .output()
        .unwrap();
    assert_eq!(direct.status.code(), Some(1), "{}", text(&direct));
    assert_eq!(summary(&direct), expected);
    assert_eq!(
        sorted_lines(&w.path("direct.jsonl")),
        sorted_lines(&w.path("scan.jsonl"))
    );

    // Through real cargo, from a member's directory: cargo finds `cargo-provenance` on PATH
    // and runs it as `cargo-provenance provenance ARGS`.
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_cargo-provenance"))
        .parent()
        .unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_owned())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let via_cargo = Command::new(cargo)
        .arg("provenance")
        .args(["--format", "json", "--out"])
        .arg(w.path("cargo.jsonl"))
        .args(w.registry_args("cache-cargo"))
        .current_dir(w.ws().join("tool"))
        .env("PATH", path)
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(via_cargo.status.code(), Some(1), "{}", text(&via_cargo));
    assert_eq!(summary(&via_cargo), expected);
    assert_eq!(
        sorted_lines(&w.path("cargo.jsonl")),
        sorted_lines(&w.path("scan.jsonl"))
    );

    // `--policy` and `--deny` still win over the workspace's policy file.
    let open = cargo_provenance(&w)
        .args(["provenance", "--manifest-path"])
        .arg(w.ws().join("Cargo.toml"))
        .args(["--deny", "no_vcs_info", "--format", "json", "--out"])
        .arg(w.path("direct.jsonl"))
        .args(w.registry_args("cache-direct"))
        .output()
        .unwrap();
    assert_eq!(open.status.code(), Some(0), "{}", text(&open));
    assert_eq!(summary(&open)["deny"], serde_json::json!(["no_vcs_info"]));
}

#[test]
fn cargo_provenance_errors() {
    let w = World::new();
    std::fs::remove_file(w.ws().join("Cargo.lock")).unwrap();
    let out = cargo_provenance(&w)
        .args(["provenance", "--manifest-path"])
        .arg(w.ws().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has no `Cargo.lock`") && err.contains("cargo generate-lockfile"),
        "{err}"
    );

    let out = cargo_provenance(&w)
        .args(["provenance", "--manifest-path"])
        .arg(w.path("nowhere/Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cargo cannot find the workspace"),
        "{}",
        text(&out)
    );
}

#[test]
fn help_version_completions_and_man_pages() {
    let help = Command::new(env!("CARGO_BIN_EXE_cargo-provenance"))
        .args(["provenance", "--help"])
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0), "{}", text(&help));
    let h = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "Usage: cargo provenance [OPTIONS]",
        "--manifest-path <PATH>",
        "--sarif <FILE>",
        "--attest-dir <DIR>",
        "--deny <VERDICT[,VERDICT...]>",
    ] {
        assert!(h.contains(needle), "{needle} missing from:\n{h}");
    }
    let version = Command::new(env!("CARGO_BIN_EXE_cargo-provenance"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        concat!("cargo-provenance ", env!("CARGO_PKG_VERSION"))
    );

    let tmp = tempfile::tempdir().unwrap();
    let generate = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
            .arg("generate")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    for (bin, needles) in [
        (
            "crate-provenance",
            &["scan", "--attest-dir", "generate"][..],
        ),
        ("cargo-provenance", &["--manifest-path", "--sarif"][..]),
    ] {
        let bash = generate(&["completions", "bash", "--bin", bin]);
        for n in needles {
            assert!(
                bash.contains(n),
                "{bin}: {n} missing from the bash completions"
            );
        }
        let file = tmp.path().join(format!("{bin}.bash"));
        std::fs::write(&file, &bash).unwrap();
        let syntax = Command::new("bash").arg("-n").arg(&file).output().unwrap();
        assert!(syntax.status.success(), "bash -n: {}", text(&syntax));
        for shell in ["zsh", "fish", "elvish", "powershell"] {
            assert!(
                generate(&["completions", shell, "--bin", bin]).contains(bin),
                "{shell}"
            );
        }
    }

    let man = tmp.path().join("man");
    generate(&["man", man.to_str().unwrap()]);
    let mut pages: Vec<String> = std::fs::read_dir(&man)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for page in [
        "cargo-provenance.1",
        "crate-provenance.1",
        "crate-provenance-verify.1",
        "crate-provenance-scan.1",
        "crate-provenance-report.1",
        "crate-provenance-attest-verify.1",
        "crate-provenance-generate-man.1",
    ] {
        assert!(pages.iter().any(|p| p == page), "{page} not in {pages:?}");
    }
    assert!(
        !pages.iter().any(|p| p.contains("worker")),
        "hidden subcommands get no page: {pages:?}"
    );
    let page = std::fs::read_to_string(man.join("cargo-provenance.1")).unwrap();
    assert!(page.contains(".TH cargo-provenance 1"), "{page}");
    assert!(page.contains("manifest\\-path"), "{page}");
    // When man(1) is installed, it must render the page.
    if let Ok(out) = Command::new("man")
        .arg("-l")
        .arg(man.join("crate-provenance-scan.1"))
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
    {
        assert!(out.status.success(), "man -l: {}", text(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("attest"));
    }
}
