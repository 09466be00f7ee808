//! `--mirror FROM=TO` end to end (issue 16): a superproject whose package links into a
//! submodule outside the package (`crates/widget/src/generated` -> `../../../data/gen`, the
//! objc2 layout), the submodule served only under a mirror on a loopback `git daemon` or in a
//! plain directory of bare repositories. The `.crate` is made by real `cargo package` in a
//! checkout cloned by real git with the same rewriting (`git -c url.TO.insteadOf=FROM clone
//! --recurse-submodules`), so git itself is the oracle of what the mirror serves.

#[path = "../provenance-core/tests/fetch_support/mod.rs"]
mod fetch_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fetch_support::{GitDaemon, git};

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crate-provenance"))
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

/// Parse the CLI's JSON report and validate it against `schema/report.v1.json`.
fn json(out: &Output) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.v1.json"))
            .unwrap(),
    )
    .unwrap();
    if let Err(e) = jsonschema::validator_for(&schema).unwrap().validate(&doc) {
        panic!("report does not match the schema: {e}\n{doc:#}");
    }
    doc
}

/// The fixture: bare repositories under `srv/` (`direct/` = where the declared URLs point,
/// `mirror/` = the mirror), and the `.crate` real cargo packaged from them.
struct Fixture {
    tmp: tempfile::TempDir,
    daemon: GitDaemon,
    krate: PathBuf,
}

impl Fixture {
    fn srv(&self) -> PathBuf {
        self.tmp.path().join("srv")
    }

    fn verify(&self, extra: &[&str]) -> serde_json::Value {
        let cache = tempfile::tempdir_in(self.tmp.path()).unwrap();
        let out = cli()
            .arg("verify")
            .arg("--crate-file")
            .arg(&self.krate)
            .arg("--cache-dir")
            .arg(cache.path())
            .args(["--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        json(&out)
    }
}

/// `super_url`: the superproject's declared URL (`package.repository`); `sub_url`: the
/// submodule URL in `.gitmodules`; `rewrite`: `(from, to)` for git's `insteadOf` when cloning
/// the oracle checkout. The submodule exists only under `srv/mirror/`, the superproject under
/// both `srv/direct/` and `srv/mirror/`.
fn fixture(super_url: &str, sub_url: &str, rewrite: (&str, &str)) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let srv = tmp.path().join("srv");
    for d in ["direct/acme", "mirror/acme", "work"] {
        std::fs::create_dir_all(srv.join(d)).unwrap();
    }
    let daemon = GitDaemon::start(&srv, tmp.path());
    let port = daemon.port.to_string();
    let super_url = super_url.replace("PORT", &port);
    let sub_url = sub_url.replace("PORT", &port);
    let (from, to) = (
        rewrite.0.replace("PORT", &port),
        rewrite.1.replace("PORT", &port),
    );
    // The submodule: generated sources under `gen/`.
    let sw = srv.join("work/data");
    std::fs::create_dir_all(sw.join("gen")).unwrap();
    git(&sw, &["init", "-q", "-b", "main"]);
    std::fs::write(
        sw.join("gen/mod.rs"),
        "pub fn generated() -> u8 {\n    7\n}\n",
    )
    .unwrap();
    std::fs::write(sw.join("README"), "generated sources\n").unwrap();
    git(&sw, &["add", "-A"]);
    git(&sw, &["commit", "-q", "-m", "gen"]);
    let sub_commit = git(&sw, &["rev-parse", "HEAD"]);
    git(
        &srv,
        &[
            "clone",
            "-q",
            "--bare",
            "work/data",
            "mirror/acme/widget-data.git",
        ],
    );
    // The superproject.
    let pw = srv.join("work/widget");
    std::fs::create_dir_all(pw.join("crates/widget/src")).unwrap();
    git(&pw, &["init", "-q", "-b", "main"]);
    std::fs::write(
        pw.join("crates/widget/Cargo.toml"),
        format!(
            "[package]\nname = \"widget\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"fixture\"\nrepository = \"{super_url}\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        pw.join("crates/widget/src/lib.rs"),
        "#[path = \"generated/mod.rs\"]\nmod generated;\npub use generated::generated;\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("../../../data/gen", pw.join("crates/widget/src/generated"))
        .unwrap();
    std::fs::write(
        pw.join(".gitmodules"),
        format!("[submodule \"data\"]\n\tpath = data\n\turl = {sub_url}\n"),
    )
    .unwrap();
    git(&pw, &["add", "-A"]);
    git(
        &pw,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{sub_commit},data"),
        ],
    );
    git(&pw, &["commit", "-q", "-m", "widget"]);
    for d in ["direct", "mirror"] {
        git(
            &srv,
            &[
                "clone",
                "-q",
                "--bare",
                "work/widget",
                &format!("{d}/acme/widget.git"),
            ],
        );
    }
    // The oracle: git's own insteadOf, a recursive clone, real `cargo package`.
    let checkout = tmp.path().join("checkout");
    let out = Command::new("git")
        .arg("-c")
        .arg(format!("url.{to}.insteadOf={from}"))
        .args([
            "-c",
            "protocol.file.allow=always",
            "clone",
            "-q",
            "--recurse-submodules",
        ])
        .arg(format!("git://127.0.0.1:{port}/mirror/acme/widget.git"))
        .arg(&checkout)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git clone: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        checkout.join("data/gen/mod.rs").is_file(),
        "submodule checked out"
    );
    let target = tmp.path().join("target");
    let mut cargo = Command::new("cargo");
    cargo
        .args(["package", "--no-verify", "--offline", "-q"])
        .current_dir(checkout.join("crates/widget"))
        .env("CARGO_TARGET_DIR", &target);
    if let Some(t) = toolchain() {
        cargo.env("RUSTUP_TOOLCHAIN", t);
    }
    let out = cargo.output().expect("cargo must be installed");
    assert!(
        out.status.success(),
        "cargo package: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let krate = target.join("package/widget-0.1.0.crate");
    assert!(krate.is_file());
    Fixture { tmp, daemon, krate }
}

fn submodule(doc: &serde_json::Value) -> &serde_json::Value {
    &doc["fetch"]["repository"]["submodules"][0]
}

#[test]
fn relative_submodule_url_only_under_the_mirror() {
    // `../widget-data.git` resolves against the declared `…/direct/acme/widget.git`, where it
    // does not exist; the mirror rewrites `…/direct/` to `…/mirror/`.
    let fx = fixture(
        "git://127.0.0.1:PORT/direct/acme/widget.git",
        "../widget-data.git",
        (
            "git://127.0.0.1:PORT/direct/",
            "git://127.0.0.1:PORT/mirror/",
        ),
    );
    let port = fx.daemon.port;
    let without = fx.verify(&["--allow-insecure-transport"]);
    assert_eq!(without["verdict"], "submodule_unavailable", "{without:#}");
    assert!(without["source"].get("fetched_from").is_none());
    assert_eq!(submodule(&without)["available"], false);
    // The `from` prefix given in another spelling (trailing `/` missing) maps alike.
    let with = fx.verify(&[
        "--allow-insecure-transport",
        "--mirror",
        &format!("git://127.0.0.1:{port}/direct=git://127.0.0.1:{port}/mirror"),
    ]);
    assert_eq!(with["verdict"], "match", "{with:#}");
    assert_eq!(
        with["source"]["repository"],
        format!("git://127.0.0.1:{port}/direct/acme/widget.git")
    );
    assert_eq!(
        with["source"]["fetched_from"],
        format!("git://127.0.0.1:{port}/mirror/acme/widget.git")
    );
    let sub = submodule(&with);
    assert_eq!(sub["available"], true, "{with:#}");
    assert_eq!(
        sub["url"],
        format!("git://127.0.0.1:{port}/direct/acme/widget-data.git")
    );
    assert_eq!(
        sub["fetched_from"],
        format!("git://127.0.0.1:{port}/mirror/acme/widget-data.git")
    );
}

#[test]
fn absolute_submodule_url_and_a_directory_of_bare_repositories() {
    // The superproject is reachable where it says; the submodule names a host that does not
    // resolve (`.invalid`), mirrored to the daemon, then to a directory of bare repositories.
    let fx = fixture(
        "git://127.0.0.1:PORT/direct/acme/widget.git",
        "https://github.invalid/acme/widget-data.git",
        ("https://github.invalid/", "git://127.0.0.1:PORT/mirror/"),
    );
    let port = fx.daemon.port;
    let without = fx.verify(&["--allow-insecure-transport"]);
    assert_eq!(without["verdict"], "submodule_unavailable", "{without:#}");
    assert!(
        without["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "submodule_unavailable"),
        "{without:#}"
    );
    // Precedence: the longer prefix (the daemon) wins over the shorter (a dead end).
    let with = fx.verify(&[
        "--allow-insecure-transport",
        "--mirror",
        "https://github.invalid/=git://127.0.0.1:1/nothing/",
        "--mirror",
        &format!("http://GitHub.invalid/acme/=git://127.0.0.1:{port}/mirror/acme/"),
    ]);
    assert_eq!(with["verdict"], "match", "{with:#}");
    assert!(with["source"].get("fetched_from").is_none(), "{with:#}");
    assert_eq!(
        submodule(&with)["fetched_from"],
        format!("git://127.0.0.1:{port}/mirror/acme/widget-data.git")
    );
    // A plain directory of bare repositories (`acme/widget-data.git`, found by adding `.git`
    // to `acme/widget-data`): no `--allow-insecure-transport` needed for the local mirror; the
    // superproject is mirrored to the same directory.
    let farm = fx.srv().join("mirror");
    let mirror = format!("git://127.0.0.1:{port}/direct/=file://{}", farm.display());
    let local_sub = format!("https://github.invalid/={}/", farm.display());
    let with = fx.verify(&["--mirror", &mirror, "--mirror", &local_sub]);
    assert_eq!(with["verdict"], "match", "{with:#}");
    assert_eq!(
        with["source"]["fetched_from"],
        format!("file://{}/acme/widget.git", farm.display())
    );
    assert_eq!(
        submodule(&with)["fetched_from"],
        format!("{}/acme/widget-data.git", farm.display())
    );
    // Human output names the mirror under the declared repository.
    let out = cli()
        .arg("verify")
        .arg("--crate-file")
        .arg(&fx.krate)
        .arg("--cache-dir")
        .arg(fx.tmp.path().join("human-cache"))
        .args(["--mirror", &mirror, "--mirror", &local_sub])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "equals git://127.0.0.1:{port}/direct/acme/widget.git at "
        )) && text.contains(&format!(
            "  fetched from the mirror file://{}/acme/widget.git\n",
            farm.display()
        )),
        "{text}"
    );
}

#[test]
fn mirror_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let krate = tmp.path().join("x.crate");
    std::fs::write(&krate, b"not read").unwrap();
    for (mirror, needle) in [
        ("https://github.com/=ext::sh", "remote helper"),
        (
            "https://github.com/=ext::sh -c touch% /tmp/pwned",
            "refused",
        ),
        ("https://github.com/=ssh://git@mirror.example/", "ssh"),
        ("https://github.com/=git@mirror.example:gh", "scp-like"),
        (
            "https://github.com/=https://user:pw@mirror.example/",
            "credentials",
        ),
        ("https://github.com/=git://mirror.example/", "git://"),
        ("https://github.com/=http://mirror.example/", "http://"),
        ("ext::x=https://mirror.example/", "`from`"),
        ("https://github.com/", "FROM=TO"),
    ] {
        let out = cli()
            .args(["verify", "--crate-file"])
            .arg(&krate)
            .args(["--format", "json", "--mirror", mirror])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{mirror}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["error"]["kind"], "invalid_input", "{mirror}: {doc}");
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{mirror}: {message}");
    }
}
