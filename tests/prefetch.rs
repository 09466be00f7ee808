//! The batch engine's prefetch (issue 16, item 4): a scan of N versions of one repository
//! fetches it once (all commits in one negotiation), counted on the server side in a real
//! loopback `git daemon --verbose` log, and its results equal those of the same scan with the
//! prefetch off (each version fetching its own commit), field by field except the reports'
//! transfer figures.
//!
//! Two repositories behind `--mirror https://github.com/=git://127.0.0.1:PORT/`: `acme/widget`,
//! every version's commit the tip of a tag or branch (one request), and `acme/gadget`, whose
//! middle version is on no tag and whose newest is behind `main` (one request, plus one
//! `deepen-since` to establish reachability, as a per-version fetch would do per version); and
//! `acme/gizmo`, one of whose versions names a commit the server does not have.

#[path = "../provenance-core/tests/fetch_support/mod.rs"]
mod fetch_support;
#[path = "support/watch_registry.rs"]
mod watch_registry;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use fetch_support::{GitDaemon, git, make_crate, manifest};
use provenance_core::batch::{self, Config, Silent, Target};
use watch_registry::Registry;

/// A bare repository `<srv>/acme/<name>.git` with one commit per version (tagged `v…` when
/// `tagged(i)`) and `after` commits after the last; each version's `.crate` published.
fn publish_repo(
    srv: &Path,
    registry: &Registry,
    name: &str,
    versions: &[&str],
    tagged: impl Fn(usize) -> bool,
    after: usize,
) {
    let work = srv.join(format!("{name}.work"));
    std::fs::create_dir_all(work.join("src")).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    let url = format!("https://github.com/acme/{name}");
    for (i, v) in versions.iter().enumerate() {
        let m = manifest(name, v, &url);
        std::fs::write(work.join("Cargo.toml"), &m).unwrap();
        std::fs::write(work.join("src/lib.rs"), "pub fn f() -> u32 {\n    42\n}\n").unwrap();
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", &format!("release {v}")]);
        let commit = git(&work, &["rev-parse", "HEAD"]);
        if tagged(i) {
            git(&work, &["tag", &format!("v{v}")]);
        }
        registry.publish(name, v, &make_crate(name, v, &m, &commit));
    }
    for i in 0..after {
        std::fs::write(work.join("NOTES"), format!("{i}\n")).unwrap();
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "later"]);
    }
    std::fs::create_dir_all(srv.join("acme")).unwrap();
    let bare = srv.join(format!("acme/{name}.git"));
    git(
        srv,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
}

/// The results file as JSON lines, sorted, without the transfer figures that describe how a
/// commit arrived (strategy, objects, bytes) rather than what was verified.
fn results(path: &Path) -> Vec<serde_json::Value> {
    let mut lines: Vec<serde_json::Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for l in &mut lines {
        if let Some(r) = l
            .pointer_mut("/fetch/repository")
            .and_then(|r| r.as_object_mut())
        {
            for k in ["strategy", "objects", "bytes", "commit_objects"] {
                r.remove(k);
            }
        }
    }
    lines.sort_by_key(ToString::to_string);
    lines
}

#[test]
fn one_fetch_per_repository_and_the_same_results_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = tmp.path().join("srv");
    std::fs::create_dir_all(&srv).unwrap();
    let registry = Registry::start();
    let widget = ["0.1.0", "0.1.1", "0.2.0", "0.3.0", "1.0.0"];
    publish_repo(&srv, &registry, "widget", &widget, |_| true, 0);
    let gadget = ["0.1.0", "0.2.0", "0.3.0"];
    publish_repo(&srv, &registry, "gadget", &gadget, |i| i != 1, 2);
    // gizmo 0.2.0 names a commit its repository does not have: the server refuses the whole
    // request (`not our ref`); the prefetch then fetches every branch and tag once (as that
    // version's own fetch would) and records, for this scan only, that the commit is missing.
    let gizmo = ["0.1.0", "0.2.0"];
    publish_repo(&srv, &registry, "gizmo", &gizmo[..1], |_| true, 0);
    let m = manifest("gizmo", "0.2.0", "https://github.com/acme/gizmo");
    registry.publish(
        "gizmo",
        "0.2.0",
        &make_crate("gizmo", "0.2.0", &m, &"5".repeat(40)),
    );
    // ghost's repository does not exist on the server: asked once per scan, not per version.
    let ghost = ["0.1.0", "0.2.0"];
    for v in ghost {
        let m = manifest("ghost", v, "https://github.com/acme/ghost");
        let commit = if v == "0.1.0" { "6" } else { "7" }.repeat(40);
        registry.publish("ghost", v, &make_crate("ghost", v, &m, &commit));
    }
    let daemon = GitDaemon::start(&srv, tmp.path());

    let mut targets = Vec::new();
    for (name, versions) in [
        ("widget", &widget[..]),
        ("gadget", &gadget[..]),
        ("gizmo", &gizmo[..]),
        ("ghost", &ghost[..]),
    ] {
        for v in versions {
            targets.push(Target {
                name: name.into(),
                version: (*v).into(),
            });
        }
    }
    let scan = |prefetch: bool, tag: &str| {
        let mut options = provenance_core::Options::default();
        options.index_url = Some(registry.index_url());
        options.allow_insecure_transport = true;
        options.cache_dir = Some(tmp.path().join(format!("cache-{tag}")));
        options.mirrors = vec![
            provenance_core::fetch::Mirror::new(
                "https://github.com/",
                &format!("git://127.0.0.1:{}/", daemon.port),
                true,
            )
            .unwrap(),
        ];
        let mut config = Config::new(options);
        config.prefetch = prefetch;
        // Two jobs: gizmo 0.2.0's fallback fetch of every tag (its commit is missing) may run
        // before gizmo 0.1.0 is verified; its tags are its own (see
        // `findings_do_not_depend_on_order_or_jobs`).
        config.jobs = 2;
        let out = tmp.path().join(format!("{tag}.jsonl"));
        let before = (
            daemon.upload_packs_for("widget"),
            daemon.upload_packs_for("gadget"),
            daemon.upload_packs_for("gizmo"),
            daemon.upload_packs_for("ghost"),
        );
        let run = batch::run(
            &config,
            &targets,
            Some(&out),
            &mut Silent,
            &AtomicBool::new(false),
        )
        .unwrap();
        let served = (
            daemon.upload_packs_for("widget") - before.0,
            daemon.upload_packs_for("gadget") - before.1,
            daemon.upload_packs_for("gizmo") - before.2,
            daemon.upload_packs_for("ghost") - before.3,
        );
        (results(&out), served, run)
    };

    let (with, served, run) = scan(true, "on");
    assert_eq!(
        with.len(),
        widget.len() + gadget.len() + gizmo.len() + ghost.len()
    );
    for l in &with {
        let missing = l["crate"]["name"] == "gizmo" && l["crate"]["version"] == "0.2.0";
        let want = if missing {
            "revision_not_found"
        } else if l["crate"]["name"] == "ghost" {
            "repository_not_found"
        } else {
            "match"
        };
        assert_eq!(l["verdict"], want, "{l:#}");
    }
    let gizmo_prefetch = run
        .prefetched
        .iter()
        .find(|p| p.url.contains("gizmo"))
        .expect("gizmo was prefetched");
    assert_eq!(
        (
            gizmo_prefetch.wanted,
            gizmo_prefetch.recorded,
            gizmo_prefetch.requests
        ),
        (2, 2, 2),
        "{gizmo_prefetch:?}"
    );
    // gizmo: the commits by id (refused), then every branch and tag; no version asks again.
    assert_eq!(served.2, 2, "upload-pack requests for acme/gizmo");
    assert_eq!(served.3, 1, "upload-pack requests for acme/ghost");
    // Every version of a repository from one negotiation: widget's commits are all tips.
    assert_eq!(served.0, 1, "upload-pack requests for acme/widget");
    // gadget: the commits, then one deepen for reachability of the untagged ones.
    assert_eq!(served.1, 2, "upload-pack requests for acme/gadget");
    let widget_prefetch = run
        .prefetched
        .iter()
        .find(|p| p.url.contains("widget"))
        .expect("widget was prefetched");
    assert_eq!(
        (
            widget_prefetch.wanted,
            widget_prefetch.recorded,
            widget_prefetch.requests
        ),
        (widget.len(), widget.len(), 1),
        "{widget_prefetch:?}"
    );
    assert!(widget_prefetch.skipped.is_none(), "{widget_prefetch:?}");
    // The untagged gadget version is reachable from `main`, as a per-version fetch finds.
    let middle = with
        .iter()
        .find(|l| l["crate"]["name"] == "gadget" && l["crate"]["version"] == "0.2.0")
        .unwrap();
    assert_eq!(
        middle["fetch"]["repository"]["reachable_from"], "refs/heads/main",
        "{middle:#}"
    );

    let (without, served_without, run_without) = scan(false, "off");
    assert!(run_without.prefetched.is_empty());
    // Without the prefetch every version fetches (at least) once: the counter counts.
    assert!(served_without.0 >= widget.len(), "{served_without:?}");
    assert!(served_without.1 >= gadget.len(), "{served_without:?}");
    assert!(served_without.3 >= ghost.len(), "{served_without:?}");
    assert_eq!(with, without);
}

/// A `.crate` of `name@version` whose files are `files` (under the package root), with
/// `.cargo_vcs_info.json` when `vcs` is `Some((sha1, path_in_vcs))`.
fn crate_with(
    name: &str,
    version: &str,
    files: &[(&str, &str)],
    vcs: Option<(&str, &str)>,
) -> Vec<u8> {
    let prefix = format!("{name}-{version}");
    let mut all: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, d)| ((*p).to_owned(), d.as_bytes().to_vec()))
        .collect();
    if let Some((sha1, path)) = vcs {
        all.push((
            ".cargo_vcs_info.json".into(),
            format!("{{\n  \"git\": {{\n    \"sha1\": \"{sha1}\"\n  }},\n  \"path_in_vcs\": \"{path}\"\n}}")
                .into_bytes(),
        ));
    }
    all.sort();
    fetch_support::tar_gz(&prefix, &all)
}

/// The results file as JSON lines sorted by crate (name, version), complete.
fn lines_by_crate(path: &Path) -> Vec<serde_json::Value> {
    let mut lines: Vec<serde_json::Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.sort_by_key(|l| {
        (
            l["crate"]["name"].to_string(),
            l["crate"]["version"].to_string(),
        )
    });
    lines
}

/// Issue 16 (order dependence): one repository `acme/duo` holds two packages at version 0.2.0,
/// `duo/` (published with `.cargo_vcs_info.json`) and `duo-derive/` (published without: its
/// verification is an assisted search, which fetches its version tags, among them `v0.2.0`,
/// into the shared cache); the tag `v0.2.0` points at the commit `duo` records, and
/// `duo 0.1.0` names a commit the server does not have (its fetch falls back to every branch
/// and tag). A version's findings come from what its own fetch looked up, never from refs
/// another version left in the cache: the same scan with one job, two jobs and the input order
/// reversed gives byte-identical results (sorted by crate), and `duo 0.2.0` has no
/// `tag_confirms_commit` from `duo-derive`'s or `duo 0.1.0`'s tags (a single verification
/// fetching it by id, cold, has none either).
#[test]
fn findings_do_not_depend_on_order_or_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = tmp.path().join("srv");
    let work = srv.join("duo.work");
    let registry = Registry::start();
    let url = "https://github.com/acme/duo";
    let lib = "pub fn f() -> u32 {\n    42\n}\n";
    let manifests: Vec<(&str, String)> = ["duo", "duo-derive"]
        .iter()
        .map(|n| (*n, manifest(n, "0.2.0", url)))
        .collect();
    for (n, m) in &manifests {
        std::fs::create_dir_all(work.join(n).join("src")).unwrap();
        std::fs::write(work.join(n).join("Cargo.toml"), m).unwrap();
        std::fs::write(work.join(n).join("src/lib.rs"), lib).unwrap();
    }
    git(&work, &["init", "-q", "-b", "main"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "release 0.2.0"]);
    git(&work, &["tag", "v0.1.0"]);
    git(&work, &["tag", "v0.2.0"]);
    let commit = git(&work, &["rev-parse", "HEAD"]);
    std::fs::write(work.join("NOTES"), "later\n").unwrap();
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "later"]);
    std::fs::create_dir_all(srv.join("acme")).unwrap();
    let bare = srv.join("acme/duo.git");
    git(
        &srv,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    for (n, m) in &manifests {
        let files = [
            ("Cargo.toml", m.as_str()),
            ("Cargo.toml.orig", m.as_str()),
            ("src/lib.rs", lib),
        ];
        let vcs = (*n == "duo").then_some((commit.as_str(), "duo"));
        registry.publish(n, "0.2.0", &crate_with(n, "0.2.0", &files, vcs));
    }
    let m = manifest("duo", "0.1.0", url);
    let files = [
        ("Cargo.toml", m.as_str()),
        ("Cargo.toml.orig", m.as_str()),
        ("src/lib.rs", lib),
    ];
    let missing = "5".repeat(40);
    registry.publish(
        "duo",
        "0.1.0",
        &crate_with("duo", "0.1.0", &files, Some((&missing, "duo"))),
    );
    let daemon = GitDaemon::start(&srv, tmp.path());

    let targets: Vec<Target> = [("duo-derive", "0.2.0"), ("duo", "0.1.0"), ("duo", "0.2.0")]
        .iter()
        .map(|(n, v)| Target {
            name: (*n).into(),
            version: (*v).into(),
        })
        .collect();
    let scan = |jobs: usize, reversed: bool| {
        let tag = format!("j{jobs}-{reversed}");
        let mut options = provenance_core::Options::default();
        options.index_url = Some(registry.index_url());
        options.allow_insecure_transport = true;
        options.cache_dir = Some(tmp.path().join(format!("cache-{tag}")));
        options.mirrors = vec![
            provenance_core::fetch::Mirror::new(
                "https://github.com/",
                &format!("git://127.0.0.1:{}/", daemon.port),
                true,
            )
            .unwrap(),
        ];
        let mut config = Config::new(options);
        config.jobs = jobs;
        let mut order = targets.clone();
        if reversed {
            order.reverse();
        }
        let out = tmp.path().join(format!("{tag}.jsonl"));
        batch::run(
            &config,
            &order,
            Some(&out),
            &mut Silent,
            &AtomicBool::new(false),
        )
        .unwrap();
        lines_by_crate(&out)
    };
    let first = scan(1, false);
    assert_eq!(first.len(), 3);
    let kinds = |l: &serde_json::Value| -> Vec<String> {
        l["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    let derive = &first[2];
    assert_eq!(derive["crate"]["name"], "duo-derive", "{derive:#}");
    assert_eq!(derive["verdict"], "no_vcs_info", "{derive:#}");
    assert_eq!(derive["assisted"]["commit"], commit.as_str(), "{derive:#}");
    let old = &first[0];
    assert_eq!(old["verdict"], "revision_not_found", "{old:#}");
    let duo = &first[1];
    assert_eq!(duo["verdict"], "match", "{duo:#}");
    assert!(
        !kinds(duo).iter().any(|k| k.starts_with("tag_")),
        "another version's tags reached `duo 0.2.0`: {duo:#}"
    );
    for (jobs, reversed) in [(1, true), (2, false), (2, true)] {
        assert_eq!(
            scan(jobs, reversed),
            first,
            "--jobs {jobs}, reversed: {reversed}"
        );
    }
}
