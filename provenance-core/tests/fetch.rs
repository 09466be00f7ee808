//! Fetch stage against real servers on 127.0.0.1 (a sparse registry over HTTP, `git daemon`,
//! `git http-backend` behind a tiny HTTP server). No mocks. One test uses the real crates.io.
#![allow(clippy::many_single_char_names)]

mod fetch_support;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use fetch_support::{
    GitDaemon, HttpServer, Registry, Response, git, git_http_backend, make_crate, make_repo,
    manifest, sha256,
};
use provenance_core::{CrateSource, ErrorKind, Options, RepoSource, Request, Verdict, fetch};

fn options(cache: &Path, registry: &Registry) -> Options {
    let mut o = Options::default();
    o.cache_dir = Some(cache.to_owned());
    o.index_url = Some(registry.index_url());
    o.allow_insecure_transport = true;
    o
}

fn registry_request(name: &str, version: &str, opts: Options) -> Request {
    Request::new(CrateSource::Registry {
        name: name.into(),
        version: version.into(),
    })
    .with_options(opts)
}

fn verify(req: &Request) -> Result<provenance_core::Report, provenance_core::Error> {
    std::panic::catch_unwind(|| provenance_core::verify(req)).expect("no panic")
}

/// A repository served by `git http-backend`, and a registry publishing a crate made from it.
struct Http {
    tmp: tempfile::TempDir,
    root: std::path::PathBuf,
    git: HttpServer,
    registry: Registry,
    commit: String,
}

fn http_setup(name: &str, filler: usize, after: usize) -> Http {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("srv");
    std::fs::create_dir_all(&root).unwrap();
    let r2 = root.clone();
    let git = HttpServer::start(move |req| git_http_backend(&r2, req));
    let m = manifest(name, "1.0.0", &git.url(&format!("/{name}.git")));
    let commit = make_repo(&root, name, &m, filler, after);
    let registry = Registry::start();
    registry.publish(
        name,
        "1.0.0",
        &make_crate(name, "1.0.0", &m, &commit),
        None,
        false,
    );
    Http {
        tmp,
        root,
        git,
        registry,
        commit,
    }
}

#[test]
fn registry_and_http_backend_happy_path_then_cache_hit() {
    let h = http_setup("happy", 30, 0);
    let cache = h.tmp.path().join("cache");
    let req = registry_request("happy", "1.0.0", options(&cache, &h.registry));
    let report = verify(&req).unwrap();
    assert_eq!(report.verdict, Verdict::Match, "{}", report.to_json());
    let f = report.fetch.clone().unwrap();
    let d = f.download.unwrap();
    assert!(!d.from_cache && !d.yanked);
    let r = f.repository.unwrap();
    assert_eq!(r.strategy, "want_by_id");
    assert_eq!(r.depth, Some(1));
    assert_eq!(r.reachable_from.as_deref(), Some("refs/heads/main"));
    // Depth 1: the commit, its tree, its blobs — far below the full history.
    let full: u64 = git(
        &h.root.join("happy.git"),
        &["rev-list", "--objects", "--all"],
    )
    .lines()
    .count() as u64;
    assert!(
        r.objects <= 10 && full >= 60,
        "fetched {} of {full}",
        r.objects
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.kind == "commit_not_on_any_ref")
    );
    // The crate is in the cache, content-addressed.
    let crates = cache.join("crates");
    assert!(
        walk(&crates)
            .iter()
            .any(|p| p.ends_with(format!("{}.crate", report.krate.sha256)))
    );

    let (git_before, reg_before) = (h.git.requests().len(), h.registry.server.requests().len());
    let again = verify(&req).unwrap();
    assert_eq!(again.verdict, Verdict::Match);
    // Deterministic: a warm cache gives the same report bytes (promise 13).
    assert_eq!(again.to_json(), report.to_json());
    let f = again.fetch.unwrap();
    assert!(f.download.unwrap().from_cache);
    assert!(f.repository.unwrap().from_cache);
    assert_eq!(
        h.git.requests().len(),
        git_before,
        "no git request on a cache hit"
    );
    assert_eq!(
        h.registry.server.requests().len(),
        reg_before,
        "no registry request on a cache hit"
    );

    // Offline uses only the cache.
    let mut o = options(&cache, &h.registry);
    o.offline = true;
    assert_eq!(
        verify(&registry_request("happy", "1.0.0", o))
            .unwrap()
            .verdict,
        Verdict::Match
    );
    let mut o = options(&h.tmp.path().join("empty-cache"), &h.registry);
    o.offline = true;
    let e = verify(&registry_request("happy", "1.0.0", o)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn git_daemon_transport_depth_one() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("srv");
    std::fs::create_dir_all(&base).unwrap();
    let daemon = GitDaemon::start(&base, tmp.path());
    let m = manifest("viad", "1.0.0", &daemon.url("viad.git"));
    let commit = make_repo(&base, "viad", &m, 40, 3);
    let registry = Registry::start();
    registry.publish(
        "viad",
        "1.0.0",
        &make_crate("viad", "1.0.0", &m, &commit),
        None,
        false,
    );
    let cache = tmp.path().join("cache");
    let report = verify(&registry_request(
        "viad",
        "1.0.0",
        options(&cache, &registry),
    ))
    .unwrap();
    assert_eq!(report.verdict, Verdict::Match, "{}", report.to_json());
    let r = report.fetch.unwrap().repository.unwrap();
    assert_eq!(r.depth, Some(1));
    assert!(r.commit_objects <= 10, "{r:?}");
    // Not a tip: reachability was established by deepening the branches to the commit's time.
    assert_eq!(r.reachable_from.as_deref(), Some("refs/heads/main"));
    let full = git(&base.join("viad.git"), &["rev-list", "--objects", "--all"])
        .lines()
        .count();
    assert!(full > 80, "{full}");
    let served = daemon.upload_packs();
    let again = verify(&registry_request(
        "viad",
        "1.0.0",
        options(&cache, &registry),
    ))
    .unwrap();
    assert_eq!(again.verdict, Verdict::Match);
    assert_eq!(
        daemon.upload_packs(),
        served,
        "a cache hit makes no git request"
    );
}

#[test]
fn registry_failures_are_typed() {
    let h = http_setup("regfail", 0, 0);
    let cache = h.tmp.path().join("cache");
    let opts = || options(&cache, &h.registry);
    // Unknown crate, unknown version.
    let e = verify(&registry_request("nosuchcrate", "1.0.0", opts())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CrateNotFound, "{e}");
    let e = verify(&registry_request("regfail", "9.9.9", opts())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CrateNotFound, "{e}");
    assert!(e.to_string().contains("`regfail@9.9.9`"), "{e}");

    // Checksum mismatch: typed error, nothing cached.
    let bytes = make_crate(
        "badsum",
        "1.0.0",
        &manifest("badsum", "1.0.0", "https://example.invalid/x"),
        &"a".repeat(40),
    );
    h.registry
        .publish("badsum", "1.0.0", &bytes, Some(&"0".repeat(64)), false);
    let e = verify(&registry_request("badsum", "1.0.0", opts())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ChecksumMismatch, "{e}");
    assert!(
        !walk(&cache.join("crates"))
            .iter()
            .any(|p| p.extension().is_some_and(|x| x == "crate"))
    );

    // Truncated download.
    let bytes = make_crate(
        "trunc",
        "1.0.0",
        &manifest("trunc", "1.0.0", "https://example.invalid/x"),
        &"a".repeat(40),
    );
    h.registry.publish("trunc", "1.0.0", &bytes, None, false);
    let half = bytes[..bytes.len() / 2].to_vec();
    let len = bytes.len();
    h.registry
        .fault(&Registry::crate_path("trunc", "1.0.0"), move || {
            Response::Truncated {
                declared: len,
                body: half.clone(),
            }
        });
    let e = verify(&registry_request("trunc", "1.0.0", opts())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert!(e.to_string().contains("127.0.0.1"), "names the host: {e}");

    // Server 500: retried (bounded), then a typed network error.
    h.registry.publish("five", "1.0.0", &bytes, None, false);
    h.registry
        .fault(&Registry::crate_path("five", "1.0.0"), || {
            Response::status(500)
        });
    let e = verify(&registry_request("five", "1.0.0", opts())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert!(e.to_string().contains("500"), "{e}");
    let tries = h
        .registry
        .server
        .requests()
        .iter()
        .filter(|r| r.contains("/crates/five/"))
        .count();
    assert_eq!(tries, 3, "one try and two retries");

    // Slow server: the timeout fires. The download stalls 40 times longer than the timeout,
    // so the only way to end early is our timeout (the late answer would be a checksum error).
    h.registry.publish("slow", "1.0.0", &bytes, None, false);
    let stall = Duration::from_secs(120);
    h.registry
        .fault(&Registry::crate_path("slow", "1.0.0"), move || {
            Response::Slow {
                delay: stall,
                inner: Box::new(Response::ok("late")),
            }
        });
    let mut fo = fetch::Options::default();
    fo.cache_dir = Some(cache.clone());
    fo.index_url = Some(h.registry.index_url());
    fo.allow_insecure_transport = true;
    fo.http_timeout = Duration::from_secs(3);
    fo.retries = 0;
    let start = std::time::Instant::now();
    let e = fetch::crate_archive(
        "slow",
        "1.0.0",
        &fo,
        &mut provenance_core::Discard,
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert!(e.to_string().contains("timed out"), "{e}");
    assert!(
        e.to_string().contains("/crates/slow/"),
        "the download timed out, not an index request: {e}"
    );
    assert!(start.elapsed() < stall);
}

#[test]
fn yanked_version_is_a_finding() {
    let h = http_setup("yank", 0, 0);
    let m = manifest("yank", "2.0.0", &h.git.url("/yank.git"));
    // Same repository content, a new version whose manifest lives at a second commit.
    let work = h.tmp.path().join("yank-work");
    git(
        h.tmp.path(),
        &[
            "clone",
            "-q",
            h.root.join("yank.git").to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    std::fs::write(work.join("Cargo.toml"), &m).unwrap();
    git(&work, &["commit", "-q", "-am", "2.0.0"]);
    git(&work, &["push", "-q", "origin", "main"]);
    let c2 = git(&work, &["rev-parse", "HEAD"]);
    h.registry.publish(
        "yank",
        "2.0.0",
        &make_crate("yank", "2.0.0", &m, &c2),
        None,
        true,
    );
    let cache = h.tmp.path().join("cache");
    let report = verify(&registry_request(
        "yank",
        "2.0.0",
        options(&cache, &h.registry),
    ))
    .unwrap();
    assert_eq!(report.verdict, Verdict::Match, "{}", report.to_json());
    assert!(report.findings.iter().any(|f| f.kind == "yanked"));
    assert!(report.fetch.unwrap().download.unwrap().yanked);
    let _ = h.commit;
}

#[test]
fn repository_outcomes_map_to_verdicts() {
    let h = http_setup("outc", 3, 0);
    let cache = h.tmp.path().join("cache");
    let crate_bytes = |repo: &str, sha1: &str| {
        make_crate("outc", "1.0.0", &manifest("outc", "1.0.0", repo), sha1)
    };
    let run = |repo_url: &str, sha1: &str| {
        let mut req = Request::new(CrateSource::Bytes(crate_bytes(repo_url, sha1)))
            .with_options(options(&cache, &h.registry));
        req = req.with_repo(RepoSource::Url(repo_url.to_owned()));
        verify(&req).unwrap()
    };
    // 404 over HTTP.
    let r = run(&h.git.url("/missing.git"), &h.commit);
    assert_eq!(r.verdict, Verdict::RepositoryNotFound, "{}", r.to_json());
    // Not a git repository: a web server answering 200 with HTML.
    let web = HttpServer::start(|_| Response::ok("<html>hello</html>"));
    let r = run(&web.url("/some/repo"), &h.commit);
    assert_eq!(r.verdict, Verdict::RepositoryNotFound, "{}", r.to_json());
    // Redirect to another host: refused.
    let target = h.git.url("/outc.git");
    let redirector = HttpServer::start(move |req| {
        Response::redirect(&format!(
            "{}{}?{}",
            target.replace("127.0.0.1", "localhost"),
            req.path.trim_start_matches("/moved.git"),
            req.query
        ))
    });
    let r = run(&redirector.url("/moved.git"), &h.commit);
    assert_eq!(r.verdict, Verdict::RepositoryNotFound, "{}", r.to_json());
    assert!(
        r.findings.iter().any(|f| f.message.contains("redirect")),
        "{}",
        r.to_json()
    );
    assert!(h.git.requests().is_empty() || !h.git.requests().iter().any(|l| l.contains("moved")));
    // A git daemon without that repository.
    let tmp = tempfile::tempdir().unwrap();
    let daemon = GitDaemon::start(&h.root, tmp.path());
    let r = run(&daemon.url("nothere.git"), &h.commit);
    assert_eq!(r.verdict, Verdict::RepositoryNotFound, "{}", r.to_json());
    // The sha is absent: revision_not_found (after the fallback fetch of every ref).
    let r = run(&daemon.url("outc.git"), &"1234567890".repeat(4));
    assert_eq!(r.verdict, Verdict::RevisionNotFound, "{}", r.to_json());
    assert_eq!(r.fetch.unwrap().repository.unwrap().strategy, "all_refs");
    // Connection refused: a typed network error naming the host.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut req = Request::new(CrateSource::Bytes(crate_bytes("x", &h.commit)))
        .with_options(options(&cache, &h.registry));
    req = req.with_repo(RepoSource::Url(format!("git://127.0.0.1:{closed}/x.git")));
    let e = verify(&req).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
    // Policy: ssh / ext refused for --repo (typed), and for a crate's own repository (verdict).
    for bad in ["ssh://git@127.0.0.1/x", "ext::sh -c touch% /tmp/pwned"] {
        let mut req = Request::new(CrateSource::Bytes(crate_bytes(
            "https://example.invalid/x",
            &h.commit,
        )))
        .with_options(options(&cache, &h.registry));
        req = req.with_repo(RepoSource::Url(bad.to_owned()));
        assert_eq!(verify(&req).unwrap_err().kind(), ErrorKind::UrlPolicy);
        let req = Request::new(CrateSource::Bytes(crate_bytes(bad, &h.commit)))
            .with_options(options(&cache, &h.registry));
        assert_eq!(verify(&req).unwrap().verdict, Verdict::RepositoryNotFound);
    }
}

#[test]
fn commit_only_under_a_pull_ref() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("srv");
    std::fs::create_dir_all(&base).unwrap();
    let daemon = GitDaemon::start(&base, tmp.path());
    let m = manifest("prref", "1.0.0", &daemon.url("prref.git"));
    let commit = make_repo(&base, "prref", &m, 2, 0);
    // Move the package commit off every branch: `main` goes back one commit, the package
    // commit stays reachable only from `refs/pull/1/head`.
    let bare = base.join("prref.git");
    git(&bare, &["update-ref", "refs/pull/1/head", &commit]);
    git(
        &bare,
        &["update-ref", "refs/heads/main", &format!("{commit}~1")],
    );
    let registry = Registry::start();
    registry.publish(
        "prref",
        "1.0.0",
        &make_crate("prref", "1.0.0", &m, &commit),
        None,
        false,
    );
    let report = verify(&registry_request(
        "prref",
        "1.0.0",
        options(&tmp.path().join("cache"), &registry),
    ))
    .unwrap();
    // Every file is equal, but a commit no branch or tag reaches never verifies (promise 9).
    assert_eq!(report.verdict, Verdict::Mismatch, "{}", report.to_json());
    assert!(report.differences.is_empty());
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind == "commit_not_on_any_ref"),
        "{}",
        report.to_json()
    );
}

#[test]
fn submodule_commits_are_fetched_or_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("srv");
    std::fs::create_dir_all(&base).unwrap();
    let daemon = GitDaemon::start(&base, tmp.path());
    // The submodule repository.
    let subw = base.join("sub.work");
    std::fs::create_dir_all(&subw).unwrap();
    git(&subw, &["init", "-q", "-b", "main"]);
    std::fs::write(subw.join("data.txt"), "from the submodule\n").unwrap();
    git(&subw, &["add", "-A"]);
    git(&subw, &["commit", "-q", "-m", "sub"]);
    let sub_commit = git(&subw, &["rev-parse", "HEAD"]);
    git(&base, &["clone", "-q", "--bare", "sub.work", "sub.git"]);
    // The parent: a package with `vendor/` as a submodule (relative URL).
    let m = manifest("withsub", "1.0.0", &daemon.url("withsub.git"));
    let pw = base.join("withsub.work");
    std::fs::create_dir_all(pw.join("src")).unwrap();
    git(&pw, &["init", "-q", "-b", "main"]);
    std::fs::write(pw.join("Cargo.toml"), &m).unwrap();
    std::fs::write(pw.join("src/lib.rs"), "pub fn f() -> u32 {\n    42\n}\n").unwrap();
    std::fs::write(
        pw.join(".gitmodules"),
        "[submodule \"vendor\"]\n\tpath = vendor\n\turl = ../sub.git\n",
    )
    .unwrap();
    git(&pw, &["add", "-A"]);
    git(
        &pw,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{sub_commit},vendor"),
        ],
    );
    git(&pw, &["commit", "-q", "-m", "package"]);
    let commit = git(&pw, &["rev-parse", "HEAD"]);
    git(
        &base,
        &["clone", "-q", "--bare", "withsub.work", "withsub.git"],
    );

    let vcs = format!("{{\"git\":{{\"sha1\":\"{commit}\"}},\"path_in_vcs\":\"\"}}");
    let files: Vec<(&str, Vec<u8>)> = vec![
        (".cargo_vcs_info.json", vcs.into_bytes()),
        (
            ".gitmodules",
            b"[submodule \"vendor\"]\n\tpath = vendor\n\turl = ../sub.git\n".to_vec(),
        ),
        ("Cargo.toml", m.clone().into_bytes()),
        ("Cargo.toml.orig", m.clone().into_bytes()),
        ("src/lib.rs", b"pub fn f() -> u32 {\n    42\n}\n".to_vec()),
        ("vendor/data.txt", b"from the submodule\n".to_vec()),
    ];
    let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut t = tar::Builder::new(enc);
    for (p, d) in &files {
        let mut hd = tar::Header::new_gnu();
        hd.set_size(d.len() as u64);
        hd.set_mode(0o644);
        t.append_data(&mut hd, format!("withsub-1.0.0/{p}"), d.as_slice())
            .unwrap();
    }
    let bytes = t.into_inner().unwrap().finish().unwrap();
    let registry = Registry::start();
    registry.publish("withsub", "1.0.0", &bytes, None, false);
    let report = verify(&registry_request(
        "withsub",
        "1.0.0",
        options(&tmp.path().join("cache"), &registry),
    ))
    .unwrap();
    assert_eq!(report.verdict, Verdict::Match, "{}", report.to_json());
    let subs = report.fetch.unwrap().repository.unwrap().submodules;
    assert_eq!(subs.len(), 1);
    assert!(
        subs[0].available && subs[0].url.ends_with("/sub.git"),
        "{subs:?}"
    );

    // The submodule repository disappears: `submodule_unavailable`.
    std::fs::rename(base.join("sub.git"), base.join("gone.git")).unwrap();
    let report = verify(&registry_request(
        "withsub",
        "1.0.0",
        options(&tmp.path().join("cache2"), &registry),
    ))
    .unwrap();
    assert_eq!(
        report.verdict,
        Verdict::SubmoduleUnavailable,
        "{}",
        report.to_json()
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind == "submodule_unavailable")
    );
}

/// Needs the real registry (index.crates.io + static.crates.io); reachable here and in CI.
/// Set `CRATE_PROVENANCE_NO_NETWORK=1` to skip.
#[test]
fn real_registry_download_matches_index_cksum() {
    if std::env::var_os("CRATE_PROVENANCE_NO_NETWORK").is_some() {
        return;
    }
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/realworld/fnv-1.0.7/expected.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut fo = fetch::Options::default();
    fo.cache_dir = Some(tmp.path().to_owned());
    let d = fetch::crate_archive(
        "fnv",
        "1.0.7",
        &fo,
        &mut provenance_core::Discard,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(d.sha256, expected["crate_sha256"].as_str().unwrap());
    assert_eq!(sha256(&d.bytes), d.sha256);
    assert!(d.url.starts_with("https://"), "{}", d.url);
    assert_eq!(
        d.bytes.len() as u64,
        expected["crate_size"].as_u64().unwrap()
    );
}
