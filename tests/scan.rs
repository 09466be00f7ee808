//! `crate-provenance scan` and `report` end to end: crates served by a loopback sparse registry,
//! repositories by a loopback `git daemon` (the fetch tests' servers).

#[path = "../provenance-core/tests/fetch_support/mod.rs"]
mod fetch_support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use fetch_support::{Gate, GitDaemon, Registry, Response, make_crate, make_repo, manifest};

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A `.crate` with the given `src/lib.rs` (and the package commit's vcs info).
fn crate_with_lib(name: &str, version: &str, manifest: &str, sha1: &str, lib: &str) -> Vec<u8> {
    let prefix = format!("{name}-{version}");
    let vcs =
        format!("{{\n  \"git\": {{\n    \"sha1\": \"{sha1}\"\n  }},\n  \"path_in_vcs\": \"\"\n}}");
    let files: Vec<(&str, Vec<u8>)> = vec![
        (".cargo_vcs_info.json", vcs.into_bytes()),
        ("Cargo.toml", manifest.as_bytes().to_vec()),
        ("Cargo.toml.orig", manifest.as_bytes().to_vec()),
        ("src/lib.rs", lib.as_bytes().to_vec()),
    ];
    fetch_support::tar_gz(&prefix, &files)
}

/// A registry + git daemon with one crate per verdict of interest.
struct World {
    tmp: tempfile::TempDir,
    registry: Registry,
    _daemon: GitDaemon,
}

const LOCK_NAMES: &[&str] = &["alpha", "beta", "gamma", "delta", "eps", "zeta"];

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("srv");
        std::fs::create_dir_all(&base).unwrap();
        let daemon = GitDaemon::start(&base, tmp.path());
        let registry = Registry::start();
        let publish_match = |name: &str| {
            let m = manifest(name, "1.0.0", &daemon.url(&format!("{name}.git")));
            let commit = make_repo(&base, name, &m, 0, 1);
            registry.publish(
                name,
                "1.0.0",
                &make_crate(name, "1.0.0", &m, &commit),
                None,
                false,
            );
            (m, commit)
        };
        // match
        publish_match("alpha");
        publish_match("beta");
        // mismatch: the published lib.rs differs from the repository's
        let m = manifest("gamma", "1.0.0", &daemon.url("gamma.git"));
        let commit = make_repo(&base, "gamma", &m, 0, 0);
        registry.publish(
            "gamma",
            "1.0.0",
            &crate_with_lib(
                "gamma",
                "1.0.0",
                &m,
                &commit,
                "pub fn f() -> u32 {\n    43\n}\n",
            ),
            None,
            false,
        );
        // revision_not_found: the recorded commit is not in the repository
        let m = manifest("delta", "1.0.0", &daemon.url("delta.git"));
        make_repo(&base, "delta", &m, 0, 0);
        registry.publish(
            "delta",
            "1.0.0",
            &make_crate("delta", "1.0.0", &m, &"1234567890".repeat(4)),
            None,
            false,
        );
        // a corrupt archive (its checksum is right, its content is not a gzip'd tar)
        registry.publish("eps", "1.0.0", b"this is not a crate", None, false);
        // repository_not_found: the daemon has no such repository
        let m = manifest("zeta", "1.0.0", &daemon.url("nothere.git"));
        registry.publish(
            "zeta",
            "1.0.0",
            &make_crate("zeta", "1.0.0", &m, &"ab".repeat(20)),
            None,
            false,
        );
        World {
            tmp,
            registry,
            _daemon: daemon,
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    fn lockfile(&self) -> PathBuf {
        let mut s = String::from("# generated\nversion = 4\n\n");
        for n in LOCK_NAMES {
            let _ = write!(
                s,
                "[[package]]\nname = \"{n}\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"00\"\n\n"
            );
        }
        s.push_str("[[package]]\nname = \"mine\"\nversion = \"0.1.0\"\n\n");
        s.push_str("[[package]]\nname = \"forked\"\nversion = \"0.2.0\"\nsource = \"git+https://example.invalid/forked?branch=main#0123456789012345678901234567890123456789\"\n");
        let p = self.path("Cargo.lock");
        std::fs::write(&p, s).unwrap();
        p
    }

    fn scan(&self, args: &[&str], cache: &str) -> Command {
        let mut c = cli();
        c.current_dir(self.tmp.path())
            .arg("scan")
            .args(args)
            .args(["--index-url", &self.registry.index_url()])
            .arg("--allow-insecure-transport")
            .arg("--cache-dir")
            .arg(self.path(cache))
            .env_remove("CI");
        c
    }
}

fn summary_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", text(out)))
}

fn count(s: &serde_json::Value, k: &str) -> u64 {
    s["counts"][k].as_u64().unwrap()
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn lockfile_scan_counts_gate_and_exemptions() {
    let w = World::new();
    let lock = w.lockfile();
    let out = w
        .scan(
            &[
                "--lockfile",
                lock.to_str().unwrap(),
                "--out",
                "r.jsonl",
                "--jobs",
                "3",
                "--format",
                "json",
            ],
            "cache",
        )
        .output()
        .unwrap();
    // No gate: exit 0, whatever the verdicts.
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let s = summary_json(&out);
    assert_eq!(s["total"], 6, "{s:#}");
    assert_eq!(count(&s, "match"), 2, "{s:#}");
    assert_eq!(count(&s, "mismatch"), 1, "{s:#}");
    assert_eq!(count(&s, "revision_not_found"), 1, "{s:#}");
    assert_eq!(count(&s, "repository_not_found"), 1, "{s:#}");
    assert_eq!(count(&s, "error"), 1, "{s:#}");
    let skipped: Vec<&str> = s["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["reason"].as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 2, "{s:#}");
    assert!(
        skipped.iter().any(|r| r.starts_with("git dependency")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|r| r.starts_with("path or workspace")),
        "{skipped:?}"
    );

    // The results file: one line per crate, reports as VERDICTS.md JSON, the corrupt archive as
    // an error object; it did not stop the others.
    let rows = lines(&w.path("r.jsonl"));
    assert_eq!(rows.len(), 6);
    let eps = rows.iter().find(|r| r["crate"]["name"] == "eps").unwrap();
    assert_eq!(eps["schema_version"], 1);
    assert_eq!(eps["crate"]["version"], "1.0.0");
    assert_eq!(eps["error"]["kind"], "invalid_archive", "{eps:#}");
    assert!(eps["error"]["message"].as_str().unwrap().len() > 5);
    let gamma = rows.iter().find(|r| r["crate"]["name"] == "gamma").unwrap();
    assert_eq!(gamma["verdict"], "mismatch");
    assert_eq!(gamma["differences"][0]["path"], "src/lib.rs");
    for r in &rows {
        let l = serde_json::to_string(r).unwrap();
        assert!(!l.contains('\n'));
    }

    // Human summary: the table and the non-match list.
    let out = w
        .scan(
            &["--lockfile", lock.to_str().unwrap(), "--out", "r.jsonl"],
            "cache",
        )
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("verdict") && human.contains("match"),
        "{human}"
    );
    assert!(human.contains("gamma@1.0.0  mismatch"), "{human}");
    assert!(!human.contains("alpha@1.0.0"), "{human}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("0 crate versions to verify (6 already"),
        "{}",
        text(&out)
    );

    // The gate: a denied verdict exits 1 (nothing is verified again).
    let gate = |args: &[&str]| {
        let out = w
            .scan(
                &[
                    &["--lockfile", lock.to_str().unwrap(), "--out", "r.jsonl"],
                    args,
                ]
                .concat(),
                "cache",
            )
            .output()
            .unwrap();
        (out.status.code(), text(&out))
    };
    assert_eq!(gate(&["--deny", "mismatch,revision_not_found"]).0, Some(1));
    assert_eq!(gate(&["--deny", "no_vcs_info"]).0, Some(0));
    assert_eq!(gate(&["--deny", "error"]).0, Some(1));
    let (code, t) = gate(&["--deny", "mismatch,bogus"]);
    assert_eq!(code, Some(2), "{t}");
    assert!(t.contains("unknown verdict `bogus`"), "{t}");

    // provenance.toml (found in the current directory): exemptions with reasons, and the deny
    // list.
    std::fs::write(
        w.path("provenance.toml"),
        "[gate]\ndeny = [\"mismatch\", \"revision_not_found\"]\n\n[[exemptions.gamma]]\nversion = \"1.0.0\"\nreason = \"reviewed the diff by hand\"\n",
    )
    .unwrap();
    let (code, t) = gate(&[]);
    assert_eq!(code, Some(1), "{t}"); // delta is still denied
    assert!(t.contains("exemption: reviewed the diff by hand"), "{t}");
    std::fs::write(
        w.path("provenance.toml"),
        "[gate]\ndeny = [\"mismatch\", \"revision_not_found\"]\n\n[[exemptions.gamma]]\nversion = \"1.0.0\"\nreason = \"reviewed the diff by hand\"\n\n[[exemptions.delta]]\nversion = \"1.0.0\"\nreason = \"upstream force-pushed; tag checked\"\n\n[[exemptions.omega]]\nversion = \"9.9.9\"\nreason = \"not in this lockfile\"\n",
    )
    .unwrap();
    let (code, t) = gate(&[]);
    assert_eq!(code, Some(0), "{t}");
    assert!(
        t.contains("exemption `omega@9.9.9` matches no result"),
        "{t}"
    );
    // `--deny` replaces the file's list.
    assert_eq!(gate(&["--deny", "error"]).0, Some(1));
    // An exemption without a reason is refused.
    std::fs::write(
        w.path("provenance.toml"),
        "[[exemptions.gamma]]\nversion = \"1.0.0\"\nreason = \"\"\n",
    )
    .unwrap();
    let (code, t) = gate(&[]);
    assert_eq!(code, Some(2), "{t}");
    assert!(t.contains("has no `reason`"), "{t}");
    std::fs::remove_file(w.path("provenance.toml")).unwrap();

    // `report`: the same summary from the results file, as Markdown, with the gate.
    let out = cli()
        .current_dir(w.tmp.path())
        .args([
            "report", "r.jsonl", "--format", "markdown", "--deny", "mismatch",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("| `match` | 2 |"), "{md}");
    assert!(md.contains("| `mismatch` | 1 |"), "{md}");
    assert!(md.contains("| gamma@1.0.0 | `mismatch` |"), "{md}");
    let out = cli()
        .current_dir(w.tmp.path())
        .args(["report", "r.jsonl", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(count(&summary_json(&out), "error"), 1);

    // `--retry-errors` verifies the failed crate again and appends its new line.
    let out = w
        .scan(
            &[
                "--lockfile",
                lock.to_str().unwrap(),
                "--out",
                "r.jsonl",
                "--retry-errors",
            ],
            "cache",
        )
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 crate versions to verify"),
        "{}",
        text(&out)
    );
    assert_eq!(lines(&w.path("r.jsonl")).len(), 7);
}

#[test]
fn cyclonedx_and_spdx_inputs() {
    let w = World::new();
    let cdx = serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "metadata": { "component": { "name": "app", "purl": "pkg:cargo/app@0.1.0?download_url=file://./" } },
        "components": [
            { "name": "alpha", "purl": "pkg:cargo/alpha@1.0.0" },
            { "name": "gamma", "purl": "pkg:cargo/gamma@1.0.0", "components": [
                { "name": "eps", "purl": "pkg:cargo/eps@1.0.0" }
            ]},
            { "name": "left-pad", "purl": "pkg:npm/left-pad@1.3.0" },
            { "name": "forked", "purl": "pkg:cargo/forked@0.2.0?vcs_url=git%2Bhttps%3A%2F%2Fexample.invalid%2Fforked" },
            { "name": "alpha", "purl": "pkg:cargo/alpha@1.0.0" }
        ]
    });
    std::fs::write(w.path("bom.cdx.json"), cdx.to_string()).unwrap();
    let out = w
        .scan(
            &[
                "--sbom",
                "bom.cdx.json",
                "--out",
                "c.jsonl",
                "--format",
                "json",
            ],
            "cache",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let s = summary_json(&out);
    assert_eq!(s["total"], 3, "{s:#}");
    assert_eq!(count(&s, "match"), 1);
    assert_eq!(count(&s, "mismatch"), 1);
    assert_eq!(count(&s, "error"), 1);
    assert_eq!(s["skipped"].as_array().unwrap().len(), 3, "{s:#}");

    let spdx = serde_json::json!({
        "spdxVersion": "SPDX-2.3",
        "packages": [
            { "name": "beta", "externalRefs": [ { "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:cargo/beta@1.0.0" } ] },
            { "name": "delta", "externalRefs": [ { "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:cargo/delta@1.0.0" } ] },
            { "name": "nopurl" }
        ]
    });
    std::fs::write(w.path("bom.spdx.json"), spdx.to_string()).unwrap();
    std::fs::write(w.path("list.txt"), "# pinned\nzeta@1.0.0\n\nalpha@1.0.0\n").unwrap();
    let out = w
        .scan(
            &[
                "--sbom",
                "bom.spdx.json",
                "--list",
                "list.txt",
                "--format",
                "json",
                "--deny",
                "repository_not_found",
            ],
            "cache",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let s = summary_json(&out);
    assert_eq!(s["total"], 4, "{s:#}");
    assert_eq!(count(&s, "match"), 2);
    assert_eq!(count(&s, "revision_not_found"), 1);
    assert_eq!(count(&s, "repository_not_found"), 1);
    assert!(s["gate_failed"].as_bool().unwrap());

    // `--all-versions` reads the index.
    let m = manifest("alpha", "1.0.1", "https://example.invalid/alpha");
    w.registry.publish(
        "alpha",
        "1.0.1",
        &crate_with_lib("alpha", "1.0.1", &m, &"cd".repeat(20), "x"),
        None,
        true,
    );
    let out = w
        .scan(&["--all-versions", "alpha", "--format", "json"], "cache2")
        .output()
        .unwrap();
    let s = summary_json(&out);
    assert_eq!(s["total"], 2, "{}", text(&out));
    assert_eq!(count(&s, "match"), 1);
    assert_eq!(count(&s, "repository_not_found"), 1, "{s:#}");

    // Bad input is an error of the tool: exit 2.
    std::fs::write(w.path("bad.txt"), "alpha 1.0.0\n").unwrap();
    let out = w.scan(&["--list", "bad.txt"], "cache").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1 of"));
    let out = w.scan(&[], "cache").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// Opens the gate when dropped (also when the test fails), so no server thread waits on.
struct OpenOnDrop(Gate);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

#[test]
fn interrupted_scan_resumes_where_it_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("srv");
    std::fs::create_dir_all(&base).unwrap();
    let daemon = GitDaemon::start(&base, tmp.path());
    let registry = Registry::start();
    let names: Vec<String> = (0..8).map(|i| format!("res{i}")).collect();
    // The first three downloads are answered; the others are held until the interrupted scan
    // has ended, so that it is interrupted midway however fast or slow the machine is.
    const ANSWERED: usize = 3;
    let gate = OpenOnDrop(Gate::default());
    let mut list = String::new();
    for (i, n) in names.iter().enumerate() {
        let m = manifest(n, "1.0.0", &daemon.url(&format!("{n}.git")));
        let commit = make_repo(&base, n, &m, 0, 0);
        let bytes = make_crate(n, "1.0.0", &m, &commit);
        registry.publish(n, "1.0.0", &bytes, None, false);
        if i >= ANSWERED {
            let gate = gate.0.clone();
            registry.fault(&Registry::crate_path(n, "1.0.0"), move || Response::Held {
                gate: gate.clone(),
                inner: Box::new(Response::ok(bytes.clone())),
            });
        }
        let _ = writeln!(list, "{n}@1.0.0");
    }
    std::fs::write(tmp.path().join("list.txt"), list).unwrap();
    let out_file = tmp.path().join("r.jsonl");
    let scan = |cache: &str| {
        let mut c = cli();
        c.current_dir(tmp.path())
            .args([
                "scan", "--list", "list.txt", "--out", "r.jsonl", "--jobs", "1",
            ])
            .args(["--index-url", &registry.index_url()])
            .arg("--allow-insecure-transport")
            .arg("--cache-dir")
            .arg(tmp.path().join(cache))
            .args(["--format", "json"]);
        c
    };
    let child = scan("cache1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready to interrupt: the answered crates are recorded (`--jobs 1`: in list order) and the
    // next download is waiting on the gate. The deadline only catches a scan that never gets
    // there.
    let deadline = Instant::now() + Duration::from_secs(600);
    let held = format!("GET {}", Registry::crate_path(&names[ANSWERED], "1.0.0"));
    while lines(&out_file).len() < ANSWERED || !registry.server.requests().contains(&held) {
        assert!(
            Instant::now() < deadline,
            "no results: {:?}",
            registry.server.requests()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(child.id(), "-INT");
    let out = child.wait_with_output().unwrap();
    gate.0.open();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("run the same command again to resume"),
        "{}",
        text(&out)
    );
    let done = lines(&out_file);
    assert_eq!(done.len(), ANSWERED, "{done:#?}");
    assert!(done.iter().all(|r| r["verdict"] == "match"), "{done:#?}");

    // The rerun (with an empty cache, so every verification downloads) verifies only the rest.
    let before = registry.server.requests().len();
    let out = scan("cache2").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let downloads = registry.server.requests()[before..]
        .iter()
        .filter(|r| r.contains(".crate"))
        .count();
    assert_eq!(downloads, names.len() - done.len());
    let all = lines(&out_file);
    assert_eq!(all.len(), names.len());
    let mut keys: Vec<String> = all
        .iter()
        .map(|r| r["crate"]["name"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), names.len());
    let s = summary_json(&out);
    assert_eq!(count(&s, "match"), 8, "{s:#}");
    drop(daemon);
}
