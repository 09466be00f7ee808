//! `crate-provenance watch`: follow crates in the registry, verify every new version with the
//! batch engine (the same as `scan`: worker isolation, limits, `--jobs`, policy), keep the
//! history in SQLite ([`db`]) and alert on verdicts the policy denies ([`alert`]).
//!
//! One poll cycle:
//! 1. deliver what the outbox still holds (a previous run was killed after a commit);
//! 2. poll each followed crate's index file with a conditional request (an unchanged crate is
//!    a `304` without a body) and record each answer in one transaction: on the crate's first
//!    answer its starting versions as `pending` and the older ones as history; later, new
//!    versions as `pending`, and yanks / un-yanks;
//! 3. poll the `--feed`s: their items' versions are `pending` unless known, and a feed gap is
//!    recorded when the oldest item is newer than the newest seen before;
//! 4. verify every `pending` version through [`provenance_core::batch::run`]; each result is
//!    committed with its alert and the alert's outbox rows in one transaction, then the alert
//!    is printed on stdout (one JSON line);
//! 5. deliver the webhook's outbox.
//!
//! `--once` runs one cycle; otherwise a cycle starts every `--interval`.

pub mod alert;
pub mod db;
pub mod feed;
pub mod site;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use provenance_core::batch::policy::Policy;
use provenance_core::batch::{self, Entry, Observer, inputs};
use provenance_core::fetch::{Polled, Registry};

use crate::scan::ScanArgs;
use db::{Db, Start};

/// Exit status when stopped by a signal (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;
/// Index polls in flight at once (they are small requests; the verifications use `--jobs`).
const POLL_THREADS: usize = 8;

/// Arguments of `watch`: its own, and every flag of `scan` (the same engine and options).
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Follow these crates (comma-separated names), starting at their newest version.
    #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',')]
    crates: Vec<String>,
    /// A feed of recent publishes (RSS 2.0 as crates.io's `/rss/updates.xml`): verify every
    /// version it announces.
    #[arg(long, value_name = "URL")]
    feed: Vec<String>,
    /// Run one poll cycle and exit (for cron and CI): 0, or 1 when an alert was raised.
    #[arg(long)]
    once: bool,
    /// Time between poll cycles: seconds, or with a unit (`90s`, `5m`, `1h`).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_interval)]
    interval: Duration,
    /// The watch database [default: `watch.sqlite3` in the cache directory].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// POST every alert (JSON) to this URL, signed with `--webhook-secret-file`.
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    /// The webhook's secret: the `X-Provenance-Signature-256` header is
    /// `sha256=<hex HMAC-SHA256 of the body>` under it.
    #[arg(long, value_name = "FILE", requires = "webhook")]
    webhook_secret_file: Option<PathBuf>,
    #[command(flatten)]
    scan: ScanArgs,
}

/// Arguments of `db`.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DbCommand {
    /// Load `scan --out` / Dask results files (JSON Lines) into the watch database.
    Import {
        /// Results files.
        #[arg(required = true)]
        results: Vec<PathBuf>,
        /// The watch database [default: `watch.sqlite3` in the cache directory].
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Cache directory (where the default database lives).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("expected seconds or `NUMBER(s|m|h)`, got `{s}`"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("unknown unit `{unit}` (use `s`, `m` or `h`)")),
    };
    if secs == 0 {
        return Err("the interval must be at least 1 second".into());
    }
    Ok(Duration::from_secs(secs))
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {message}");
    ExitCode::from(2)
}

fn note(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// Test-only pause points (debug builds): with `CRATE_PROVENANCE_TEST_PAUSE=POINT[:N]` the
/// process writes its id to `CRATE_PROVENANCE_TEST_PAUSE_FILE` at the `N`th (default: first)
/// time it reaches `POINT`, then waits there (for the test's `kill -9`). Points: `verify`
/// (right before a verification), `record-result` (inside the transaction recording a
/// verification and its alert), `record-index` (inside the transaction recording an index
/// answer).
pub fn pause(point: &str) {
    #[cfg(debug_assertions)]
    {
        use std::sync::atomic::AtomicUsize;
        static HITS: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
        static PAUSED: AtomicUsize = AtomicUsize::new(0);
        let Ok(spec) = std::env::var("CRATE_PROVENANCE_TEST_PAUSE") else {
            return;
        };
        let (want, nth) = match spec.split_once(':') {
            Some((p, n)) => (p.to_owned(), n.parse().unwrap_or(1)),
            None => (spec.clone(), 1),
        };
        if want != point {
            return;
        }
        let hit = {
            let mut hits = HITS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let h = hits.entry(point.to_owned()).or_default();
            *h += 1;
            *h
        };
        if hit == nth && PAUSED.fetch_add(1, Ordering::SeqCst) == 0 {
            if let Ok(f) = std::env::var("CRATE_PROVENANCE_TEST_PAUSE_FILE") {
                let _ = std::fs::write(f, std::process::id().to_string());
            }
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}

/// The crates followed and where each starts, by lowercase name.
fn watch_list(args: &WatchArgs) -> Result<BTreeMap<String, (String, Start)>, String> {
    let mut out: BTreeMap<String, (String, Start)> = BTreeMap::new();
    let mut add = |name: &str, start: Start| {
        let entry = out
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| (name.to_owned(), start.clone()));
        entry.1 = match (std::mem::replace(&mut entry.1, Start::Newest), start) {
            (Start::All, _) | (_, Start::All) => Start::All,
            (Start::Pinned(mut a), Start::Pinned(b)) => {
                a.extend(b.into_iter().filter(|v| !a.contains(v)).collect::<Vec<_>>());
                Start::Pinned(a)
            }
            (Start::Pinned(a), Start::Newest) | (Start::Newest, Start::Pinned(a)) => {
                Start::Pinned(a)
            }
            (Start::Newest, Start::Newest) => Start::Newest,
        };
    };
    let (lockfiles, lists, sboms, all) = args.scan.watch_inputs();
    let (index, _) = args.scan.index();
    let mut pinned = inputs::Inputs::default();
    for p in lockfiles {
        inputs::lockfile(&mut pinned, p, index)?;
    }
    for p in sboms {
        inputs::sbom(&mut pinned, p, index)?;
    }
    for t in &pinned.targets {
        add(&t.name, Start::Pinned(vec![t.version.clone()]));
    }
    for p in lists {
        let text = std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let (name, version) = match line.split_once('@') {
                Some((n, v)) => (n.trim(), Some(v.trim())),
                None => (line, None),
            };
            if !valid_name(name) || version.is_some_and(str::is_empty) {
                return Err(format!(
                    "line {} of `{}`: expected `NAME` or `NAME@VERSION`, got `{}`",
                    i + 1,
                    p.display(),
                    line.escape_debug()
                ));
            }
            add(
                name,
                version.map_or(Start::Newest, |v| Start::Pinned(vec![v.to_owned()])),
            );
        }
    }
    for n in args
        .crates
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
    {
        if !valid_name(n) {
            return Err(format!(
                "`--crates`: `{}` is not a crate name",
                n.escape_debug()
            ));
        }
        add(n, Start::Newest);
    }
    for n in all {
        add(n, Start::All);
    }
    Ok(out)
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The database path: `--db`, or `watch.sqlite3` in the cache directory.
fn db_path(
    db: Option<&std::path::Path>,
    cache_dir: Option<&std::path::Path>,
) -> Result<PathBuf, String> {
    if let Some(p) = db {
        return Ok(p.to_owned());
    }
    cache_dir
        .map(std::path::Path::to_path_buf)
        .or_else(provenance_core::fetch::cache::default_dir)
        .map(|d| d.join("watch.sqlite3"))
        .ok_or_else(|| {
            "no database path: give `--db`, `--cache-dir`, or set `XDG_CACHE_HOME` or `HOME`".into()
        })
}

/// Hold `DB.lock` for as long as this `watch` runs: two watches on one database would verify
/// the same pending versions twice. A second one fails at once (cron runs that overlap).
fn own(db: &std::path::Path) -> Result<std::fs::File, String> {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    let lock = PathBuf::from(name);
    if let Some(dir) = lock.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|e| format!("cannot open `{}`: {e}", lock.display()))?;
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => Ok(file),
        Err(fs4::TryLockError::WouldBlock) => Err(format!(
            "the database `{}` is in use by another `watch` (it holds `{}`)",
            db.display(),
            lock.display()
        )),
        Err(fs4::TryLockError::Error(e)) => Err(format!("cannot lock `{}`: {e}", lock.display())),
    }
}

/// Everything one cycle needs.
struct Watch {
    list: BTreeMap<String, (String, Start)>,
    registry: Registry,
    config: batch::Config,
    policy: Policy,
    webhook: Option<alert::Webhook>,
    feeds: Vec<String>,
    insecure: bool,
    out: Option<PathBuf>,
}

/// What one cycle did.
#[derive(Debug, Default)]
struct Cycle {
    polled: usize,
    not_modified: usize,
    modified: usize,
    errors: usize,
    new_versions: usize,
    yank_changes: usize,
    verified: usize,
    alerts: usize,
    interrupted: bool,
}

/// The batch observer: commits each result (with its alert), prints the alert, and appends
/// the result to `--out`.
struct Recorder<'a> {
    db: &'a mut Db,
    out: Option<batch::Appender>,
    policy: &'a Policy,
    targets: Vec<String>,
    alerts: usize,
    failure: Option<String>,
    stop: &'a AtomicBool,
}

impl Observer for Recorder<'_> {
    fn finished(&mut self, entry: &Entry) {
        if self.failure.is_some() {
            return;
        }
        let recorded = self
            .db
            .record_result(entry, "watch", Some((self.policy, &self.targets)))
            .and_then(|alert| match alert {
                Some(_) => alert::deliver_stdout(self.db).map(|n| self.alerts += n),
                None => Ok(()),
            })
            .and_then(|()| match self.out.as_mut() {
                Some(a) => a.append(entry),
                None => Ok(()),
            });
        if let Err(e) = recorded {
            self.failure = Some(e);
            self.stop.store(true, Ordering::Relaxed);
        }
    }
}

impl Watch {
    /// Poll every followed crate (on [`POLL_THREADS`] threads); the answers are recorded on
    /// this thread, each in its own transaction.
    fn poll_index(&self, db: &mut Db, stop: &AtomicBool, cycle: &mut Cycle) -> Result<(), String> {
        let mut work = Vec::new();
        for (key, (name, start)) in &self.list {
            let (_, validators) = db.crate_state(key)?;
            work.push((name.clone(), start.clone(), validators));
        }
        let queue = Mutex::new(work.into_iter());
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| -> Result<(), String> {
            for _ in 0..POLL_THREADS.min(self.list.len()) {
                let tx = tx.clone();
                let queue = &queue;
                s.spawn(move || {
                    loop {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let next = queue.lock().expect("queue lock").next();
                        let Some((name, start, validators)) = next else {
                            return;
                        };
                        let polled = self.registry.poll(&name, &validators, stop);
                        if tx.send((name, start, polled)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(tx);
            for (name, start, polled) in rx {
                cycle.polled += 1;
                match polled {
                    Ok(Polled::NotModified) => cycle.not_modified += 1,
                    Ok(Polled::Modified { lines, validators }) => {
                        cycle.modified += 1;
                        if let Start::Pinned(p) = &start {
                            for v in p.iter().filter(|v| !lines.iter().any(|l| l.vers == **v)) {
                                note(&format!(
                                    "warning: `{name}@{v}` is not in the registry index"
                                ));
                            }
                        }
                        let r = db.record_index(&name, &lines, &validators, &start)?;
                        cycle.new_versions += r.new_pending;
                        cycle.yank_changes += r.yank_changes;
                    }
                    Ok(Polled::NotFound) => {
                        cycle.errors += 1;
                        note(&format!("warning: `{name}` is not in the registry index"));
                    }
                    Err(e) => {
                        cycle.errors += 1;
                        note(&format!(
                            "warning: cannot poll `{name}`: {}",
                            provenance_core::error_message(&e)
                        ));
                    }
                }
            }
            Ok(())
        })
    }

    fn poll_feeds(&self, db: &mut Db, cycle: &mut Cycle) -> Result<(), String> {
        for url in &self.feeds {
            let (validators, _) = db.feed_state(url)?;
            match feed::fetch(url, &validators, self.insecure) {
                Ok(feed::Fetched::NotModified) => cycle.not_modified += 1,
                Ok(feed::Fetched::Items(items, validators)) => {
                    cycle.modified += 1;
                    let rows: Vec<(String, String, Option<i64>)> = items
                        .into_iter()
                        .map(|i| (i.name, i.version, i.published))
                        .collect();
                    let (new, gap) = db.record_feed(url, &rows, &validators)?;
                    cycle.new_versions += new;
                    if gap {
                        note(&format!(
                            "warning: feed gap in `{url}`: its oldest item is newer than the newest seen before; publishes in between may have been missed"
                        ));
                    }
                }
                Err(e) => {
                    cycle.errors += 1;
                    note(&format!("warning: {e}"));
                }
            }
        }
        Ok(())
    }

    fn targets(&self) -> Vec<String> {
        let mut t = vec![alert::STDOUT.to_owned()];
        if let Some(w) = &self.webhook {
            t.push(w.target().to_owned());
        }
        t
    }

    fn cycle(&self, db: &mut Db, stop: &AtomicBool) -> Result<Cycle, String> {
        let started = db::now();
        let mut cycle = Cycle {
            alerts: alert::deliver_stdout(db)?,
            ..Cycle::default()
        };
        if let Some(w) = &self.webhook {
            w.deliver(db, stop)?;
        }
        let pins: Vec<(String, String)> = self
            .list
            .values()
            .filter_map(|(n, s)| match s {
                Start::Pinned(v) => {
                    Some(v.iter().map(|v| (n.clone(), v.clone())).collect::<Vec<_>>())
                }
                _ => None,
            })
            .flatten()
            .collect();
        cycle.new_versions += db.repin(&pins)?;
        self.poll_index(db, stop, &mut cycle)?;
        self.poll_feeds(db, &mut cycle)?;
        let pending: Vec<batch::Target> = db
            .pending()?
            .into_iter()
            .map(|(name, version)| batch::Target { name, version })
            .collect();
        let mut recorder = Recorder {
            out: self.out.as_deref().map(batch::Appender::open).transpose()?,
            db,
            policy: &self.policy,
            targets: self.targets(),
            alerts: 0,
            failure: None,
            stop,
        };
        // The database decides what is pending: no results file is given to the engine (it
        // would skip versions it already has a line for); the recorder appends to `--out`.
        let run = batch::run(&self.config, &pending, None, &mut recorder, stop)?;
        if let Some(e) = recorder.failure {
            return Err(e);
        }
        cycle.alerts += recorder.alerts;
        cycle.verified = run.verified;
        cycle.interrupted = run.interrupted;
        if let Some(w) = &self.webhook {
            let (_, left) = w.deliver(db, stop)?;
            if left > 0 {
                note(&format!(
                    "warning: {left} webhook deliveries failed; they are retried next cycle"
                ));
            }
        }
        db.record_poll(
            &started,
            [
                cycle.polled,
                cycle.not_modified,
                cycle.modified,
                cycle.errors,
                cycle.new_versions,
            ],
        )?;
        Ok(cycle)
    }
}

/// `crate-provenance watch`.
pub fn run(args: &WatchArgs) -> ExitCode {
    match watch(args) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn watch(args: &WatchArgs) -> Result<ExitCode, String> {
    if let Some(flag) = args.scan.not_for_watch() {
        return Err(format!(
            "`{flag}` is a `scan` flag that `watch` does not support"
        ));
    }
    let list = watch_list(args)?;
    if list.is_empty() && args.feed.is_empty() {
        return Err(
            "nothing to watch: give `--lockfile`, `--list`, `--crates`, `--sbom`, `--all-versions` or `--feed`"
                .into(),
        );
    }
    let policy = args.scan.policy()?;
    let options = args.scan.options(&policy)?;
    let (_, insecure) = args.scan.index();
    let registry = Registry::new(
        options.index_url.as_deref(),
        &provenance_core::fetch::Options::from_verify(&options),
    )
    .map_err(|e| provenance_core::error_message(&e))?;
    let mut config = args.scan.engine(options)?;
    config.before_verify = Some(Arc::new(|_: &batch::Target| {
        pause("verify");
        Ok(())
    }));
    let webhook = args
        .webhook
        .as_deref()
        .map(|u| alert::Webhook::new(u, args.webhook_secret_file.as_deref(), insecure))
        .transpose()?;
    if webhook.is_some() && args.webhook_secret_file.is_none() {
        note(
            "warning: no `--webhook-secret-file`: the webhook's requests are not signed (no `X-Provenance-Signature-256`)",
        );
    }
    let path = db_path(args.db.as_deref(), args.scan.cache_dir())?;
    let _owner = own(&path)?;
    if config.isolation.is_none() {
        // In-process verifications: a version that crashed the process twice is recorded as
        // lost instead of crashing every restart.
        config.journal = Some(batch::Journal {
            path: path.with_extension("journal"),
            max_starts: 2,
        });
    }
    let mut db = Db::open(&path)?;
    let watch = Watch {
        list,
        registry,
        config,
        policy,
        webhook,
        feeds: args.feed.clone(),
        insecure,
        out: args.scan.out().map(std::path::Path::to_path_buf),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(
            sig,
            i32::from(EXIT_INTERRUPTED),
            stop.clone(),
        );
        let _ = signal_hook::flag::register(sig, stop.clone());
    }
    loop {
        let began = Instant::now();
        let c = watch.cycle(&mut db, &stop)?;
        note(&format!(
            "watch: polled {} (not modified {}, modified {}, errors {}); {} new versions, {} yank changes; verified {}, {} alerts in {:.1}s",
            c.polled,
            c.not_modified,
            c.modified,
            c.errors,
            c.new_versions,
            c.yank_changes,
            c.verified,
            c.alerts,
            began.elapsed().as_secs_f64()
        ));
        if c.interrupted || stop.load(Ordering::Relaxed) {
            return Ok(ExitCode::from(EXIT_INTERRUPTED));
        }
        if args.once {
            let code = if c.alerts > 0 {
                1
            } else {
                u8::from(c.errors > 0) * 2
            };
            return Ok(ExitCode::from(code));
        }
        let next = began + args.interval;
        while Instant::now() < next {
            if stop.load(Ordering::Relaxed) {
                return Ok(ExitCode::from(EXIT_INTERRUPTED));
            }
            std::thread::sleep(Duration::from_millis(200).min(next - Instant::now()));
        }
    }
}

/// `crate-provenance db`.
pub fn db_command(args: &DbArgs) -> ExitCode {
    match &args.command {
        DbCommand::Import {
            results,
            db,
            cache_dir,
        } => {
            let imported = db_path(db.as_deref(), cache_dir.as_deref())
                .and_then(|p| Db::open(&p))
                .and_then(|mut d| {
                    let mut n = (0, 0);
                    for f in results {
                        if !f.is_file() {
                            return Err(format!("`{}` is not a file", f.display()));
                        }
                        let (added, known) =
                            d.import(&provenance_core::batch::results::load(f)?)?;
                        n = (n.0 + added, n.1 + known);
                    }
                    Ok(n)
                });
            match imported {
                Ok((added, known)) => {
                    note(&format!(
                        "db import: {added} verifications added ({known} already in the database)"
                    ));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("300").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_interval("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_interval("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_interval("15s").unwrap(), Duration::from_secs(15));
        assert!(parse_interval("0").is_err());
        assert!(parse_interval("5d").is_err());
        assert!(parse_interval("m").is_err());
    }
}
