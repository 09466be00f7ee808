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
    // request (`not our ref`), the prefetch asks again without it and leaves it to verification.
    let gizmo = ["0.1.0", "0.2.0"];
    publish_repo(&srv, &registry, "gizmo", &gizmo[..1], |_| true, 0);
    let m = manifest("gizmo", "0.2.0", "https://github.com/acme/gizmo");
    registry.publish(
        "gizmo",
        "0.2.0",
        &make_crate("gizmo", "0.2.0", &m, &"5".repeat(40)),
    );
    let daemon = GitDaemon::start(&srv, tmp.path());

    let mut targets = Vec::new();
    for (name, versions) in [
        ("widget", &widget[..]),
        ("gadget", &gadget[..]),
        ("gizmo", &gizmo[..]),
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
        // One job: the order of verifications is then the targets' order in both scans. (With
        // more, gizmo 0.2.0's assisted search may fetch the tag `v0.1.0` into the shared cache
        // before gizmo 0.1.0 is verified, which then reports `tag_confirms_commit`: an order
        // dependence of the cache that exists with or without the prefetch.)
        config.jobs = 1;
        let out = tmp.path().join(format!("{tag}.jsonl"));
        let before = (
            daemon.upload_packs_for("widget"),
            daemon.upload_packs_for("gadget"),
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
        );
        (results(&out), served, run)
    };

    let (with, served, run) = scan(true, "on");
    assert_eq!(with.len(), widget.len() + gadget.len() + gizmo.len());
    for l in &with {
        let missing = l["crate"]["name"] == "gizmo" && l["crate"]["version"] == "0.2.0";
        let want = if missing {
            "revision_not_found"
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
        (2, 1, 2),
        "{gizmo_prefetch:?}"
    );
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
    assert_eq!(with, without);
}
