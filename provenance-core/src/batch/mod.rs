//! The batch engine: verify many crate versions, appending one result line per version to a
//! resumable results file.
//!
//! Every batch front-end uses this module, so they agree line for line: `crate-provenance scan`
//! (and `cargo provenance`), the Python package's `crate_provenance.scan(...)`, and its Dask
//! module `crate_provenance.distributed` (which only partitions, submits to the cluster, retries
//! and collects; each partition is a [`run`]).
//!
//! * [`inputs`]: what to verify — a `Cargo.lock`, a `NAME@VERSION` list, a CycloneDX or SPDX
//!   SBOM, all or the latest versions of crates in the registry index — as [`Target`]s, with the
//!   packages that are skipped and why.
//! * [`plan`]: group versions by normalized repository and pack them into partitions.
//! * [`results`]: the append-only JSON Lines results file ([`Appender`], [`results::load`],
//!   [`results::merge`]).
//! * [`outcome`]: the one mapping from how a verification ended to a line (errors, panics,
//!   timeouts, crashed workers, unreachable repositories).
//! * [`isolate`]: one worker process per crate version, with resource limits.
//! * [`policy`] and [`summary`]: the gate (deny list, `provenance.toml` exemptions) and the
//!   summary (counts, the versions that are not `match`, human / JSON / Markdown).
//! * [`run`]: the driver — resume from the results file, `jobs` parallel verifications (in
//!   threads, or each in a worker process), per-crate timeout, a stop flag, an optional crash
//!   [`Journal`], and an [`Observer`] for progress.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use provenance_core::batch::{self, inputs, Config, Silent};
//!
//! let mut targets = inputs::Inputs::default();
//! inputs::list(&mut targets, "crates.txt".as_ref())?;
//! let config = Config::new(provenance_core::Options::default());
//! let run = batch::run(&config, &targets.targets, Some("results.jsonl".as_ref()), &mut Silent,
//!     &AtomicBool::new(false))?;
//! let refs: Vec<&batch::Entry> = run.entries.iter().collect();
//! let policy = batch::policy::Policy::default();
//! print!("{}", batch::summary::human(&batch::summary::summarize(&refs, &targets.skipped, &policy)));
//! # Ok::<(), String>(())
//! ```

pub mod inputs;
pub mod isolate;
pub mod outcome;
pub mod plan;
pub mod policy;
pub mod prefetch;
pub mod results;
pub mod summary;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub use inputs::{Inputs, Skipped, Target};
pub use isolate::{Worker, WorkerLimits, WorkerRequest};
pub use results::{Appender, Entry, Outcome};

use crate::request::Options;

/// A hook called in the verifying thread right before a crate version is verified (after the
/// [`Journal`] recorded the start). An `Err` stops the run with that error.
pub type BeforeVerify = Arc<dyn Fn(&Target) -> Result<(), String> + Send + Sync>;

/// A crash journal for in-process runs whose process may die: every start is appended (and
/// synced) to `path` before the verification; a version that has `max_starts` starts in it and
/// no result is not verified again but recorded as [`outcome::lost`].
#[derive(Debug, Clone)]
pub struct Journal {
    /// The journal file (`NAME@VERSION` per line).
    pub path: PathBuf,
    /// Starts after which a version is given up.
    pub max_starts: u32,
}

/// How to run a batch.
#[derive(Clone)]
pub struct Config {
    /// Verification options (the engine always sets `unreachable_is_not_found`:
    /// [`outcome::batch_options`]).
    pub options: Options,
    /// Parallel verifications (at least 1).
    pub jobs: usize,
    /// Give up on one crate version after this long (`limit_exceeded`).
    pub timeout: Duration,
    /// Verify each crate version in a worker process (`None`: in this process, in threads).
    pub isolation: Option<Worker>,
    /// Verify versions whose line in the results file is an error again.
    pub retry_errors: bool,
    /// A crash journal (in-process runs in a process that may be killed).
    pub journal: Option<Journal>,
    /// Called right before each verification.
    pub before_verify: Option<BeforeVerify>,
    /// Before verifying, fetch each repository once with every commit its pending versions
    /// need ([`prefetch`]). Default `true`; results are the same without it (only slower, and
    /// the reports' transfer figures differ).
    pub prefetch: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("options", &self.options)
            .field("jobs", &self.jobs)
            .field("timeout", &self.timeout)
            .field("isolation", &self.isolation)
            .field("retry_errors", &self.retry_errors)
            .field("journal", &self.journal)
            .field("before_verify", &self.before_verify.is_some())
            .field("prefetch", &self.prefetch)
            .finish()
    }
}

impl Config {
    /// One job, 600 s per crate version, in-process, no journal.
    pub fn new(options: Options) -> Config {
        Config {
            options,
            jobs: 1,
            timeout: Duration::from_secs(600),
            isolation: None,
            retry_errors: false,
            journal: None,
            before_verify: None,
            prefetch: true,
        }
    }
}

/// What [`run`] is about to do.
#[derive(Debug, Clone, Copy)]
pub struct Planned {
    /// Versions to verify now.
    pub pending: usize,
    /// Versions the results file already has.
    pub already: usize,
    /// Parallel verifications.
    pub jobs: usize,
}

/// Progress of a [`run`], called on the thread that called `run`.
pub trait Observer {
    /// Before the first verification.
    fn planned(&mut self, _plan: &Planned) {}
    /// The versions being verified now changed (`NAME@VERSION`).
    fn in_flight(&mut self, _keys: &[String]) {}
    /// A line was recorded.
    fn finished(&mut self, _entry: &Entry) {}
    /// About every 200 ms without other news.
    fn idle(&mut self) {}
}

/// An [`Observer`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {}

/// What a [`run`] did.
#[derive(Debug)]
pub struct Run {
    /// The line of every target that has one (this run's or the results file's), in target
    /// order.
    pub entries: Vec<Entry>,
    /// Versions verified (or failed) in this run.
    pub verified: usize,
    /// Versions the results file already had.
    pub already: usize,
    /// Versions that were to be verified in this run.
    pub pending: usize,
    /// The stop flag ended the run early (versions in flight were not recorded).
    pub interrupted: bool,
    /// How long the verifications took (the prefetch included).
    pub elapsed: Duration,
    /// What the prefetch did, per repository (empty when it was off or nothing was pending).
    pub prefetched: Vec<crate::fetch::Prefetched>,
}

fn lower_key(name: &str, version: &str) -> String {
    format!("{}@{version}", name.to_ascii_lowercase())
}

/// Verify `targets`, appending a line per version to `out` (when given) as each finishes.
///
/// Versions `out` already has are not verified again (with `retry_errors`, error lines are).
/// Raising `stop` ends the run: running verifications are abandoned and not recorded, so the
/// next run verifies them. `Err` only for a problem of the batch itself (unreadable or
/// unwritable results file, a failing [`Config::before_verify`]).
pub fn run(
    config: &Config,
    targets: &[Target],
    out: Option<&Path>,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<Run, String> {
    let previous = match out {
        Some(p) => results::load(p)?,
        None => Vec::new(),
    };
    let mut done: HashMap<String, Entry> = previous
        .into_iter()
        .map(|e| (lower_key(&e.name, &e.version), e))
        .collect();
    let pending: Vec<Target> = targets
        .iter()
        .filter(|t| match done.get(&lower_key(&t.name, &t.version)) {
            None => true,
            Some(e) => config.retry_errors && e.verdict().is_none(),
        })
        .cloned()
        .collect();
    let already = targets.len() - pending.len();
    let jobs = config.jobs.max(1).min(pending.len().max(1));
    observer.planned(&Planned {
        pending: pending.len(),
        already,
        jobs,
    });
    let mut appender = out.map(Appender::open).transpose()?;
    let journal = match &config.journal {
        Some(j) => Some(JournalState::open(j)?),
        None => None,
    };
    let started = Instant::now();
    let mut options = outcome::batch_options(&config.options);
    if config.prefetch {
        options.batch_run = Some(run_id());
    }
    let prefetched = if config.prefetch && !pending.is_empty() {
        prefetch::repositories(&pending, &options, jobs, stop)
    } else {
        Vec::new()
    };
    let pool = Pool {
        jobs,
        config,
        options,
        stop,
        journal: journal.as_ref(),
    };
    let pending_count = pending.len();
    let (verified, interrupted) = pool.run(pending, observer, |entry| {
        if let Some(a) = appender.as_mut() {
            a.append(entry)?;
        }
        done.insert(lower_key(&entry.name, &entry.version), entry.clone());
        Ok(())
    })?;
    let entries = targets
        .iter()
        .filter_map(|t| done.get(&lower_key(&t.name, &t.version)).cloned())
        .collect();
    Ok(Run {
        entries,
        verified,
        already,
        pending: pending_count,
        interrupted,
        elapsed: started.elapsed(),
        prefetched,
    })
}

/// An id for one batch run, unique on this machine: the process id and the time.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

/// The journal's file and the starts it recorded before this run.
struct JournalState {
    file: Mutex<std::fs::File>,
    path: PathBuf,
    starts: HashMap<String, u32>,
    max_starts: u32,
}

impl JournalState {
    fn open(j: &Journal) -> Result<JournalState, String> {
        let mut starts: HashMap<String, u32> = HashMap::new();
        for key in results::lines(&j.path)? {
            *starts.entry(key.trim().to_owned()).or_default() += 1;
        }
        if let Some(dir) = j.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&j.path)
            .map_err(|e| format!("cannot open `{}`: {e}", j.path.display()))?;
        // A start torn by a kill: finish its line so that the next one stands alone.
        let torn = std::fs::read(&j.path).is_ok_and(|b| !b.is_empty() && !b.ends_with(b"\n"));
        if torn {
            (&file)
                .write_all(b"\n")
                .map_err(|e| format!("cannot write `{}`: {e}", j.path.display()))?;
        }
        Ok(JournalState {
            file: Mutex::new(file),
            path: j.path.clone(),
            starts,
            max_starts: j.max_starts.max(1),
        })
    }

    /// `Some(starts)` when `key` is given up; otherwise the start is recorded.
    fn start(&self, key: &str) -> Result<Option<u32>, String> {
        let n = self.starts.get(key).copied().unwrap_or(0);
        if n >= self.max_starts {
            return Ok(Some(n));
        }
        let f = self.file.lock().expect("journal lock");
        (&*f)
            .write_all(format!("{key}\n").as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| format!("cannot write `{}`: {e}", self.path.display()))?;
        Ok(None)
    }
}

enum Msg {
    Started(usize, String),
    Finished(usize, Entry),
    Aborted(usize),
    Failed(usize, String),
}

/// One worker's in-flight state, shared with the watchdog (the driver's thread).
#[derive(Default)]
struct Slot {
    started: Mutex<Option<Instant>>,
    flag: AtomicBool,
}

struct Pool<'a> {
    jobs: usize,
    config: &'a Config,
    options: Options,
    stop: &'a AtomicBool,
    journal: Option<&'a JournalState>,
}

impl Pool<'_> {
    /// Verify `pending` on `jobs` threads; `record` is called on the calling thread for every
    /// result, in completion order. A failing `record` stops the pool. Returns `(verified,
    /// interrupted)`.
    fn run(
        &self,
        pending: Vec<Target>,
        observer: &mut dyn Observer,
        mut record: impl FnMut(&Entry) -> Result<(), String>,
    ) -> Result<(usize, bool), String> {
        let queue = Mutex::new(pending.into_iter());
        let slots: Vec<Slot> = (0..self.jobs).map(|_| Slot::default()).collect();
        let mut current: Vec<Option<String>> = vec![None; self.jobs];
        let mut verified = 0;
        let mut failure = None;
        // Raised on a failure of the batch itself; `self.stop` is the caller's.
        let failed = AtomicBool::new(false);
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            for (i, slot) in slots.iter().enumerate() {
                let tx = tx.clone();
                let queue = &queue;
                let failed = &failed;
                s.spawn(move || self.worker(i, slot, queue, &tx, failed));
            }
            drop(tx);
            loop {
                match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(Msg::Started(i, key)) => {
                        current[i] = Some(key);
                        observer.in_flight(&current.iter().flatten().cloned().collect::<Vec<_>>());
                    }
                    Ok(Msg::Finished(i, entry)) => {
                        current[i] = None;
                        if failure.is_none() {
                            match record(&entry) {
                                Ok(()) => {
                                    verified += 1;
                                    observer.finished(&entry);
                                }
                                Err(e) => {
                                    failure = Some(e);
                                    failed.store(true, Ordering::Relaxed);
                                }
                            }
                        }
                    }
                    Ok(Msg::Aborted(i)) => current[i] = None,
                    Ok(Msg::Failed(i, e)) => {
                        current[i] = None;
                        if failure.is_none() {
                            failure = Some(e);
                        }
                        failed.store(true, Ordering::Relaxed);
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => observer.idle(),
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
                // The watchdog: stops and per-crate timeouts.
                let stop = self.stopping(&failed);
                for slot in &slots {
                    let started = slot.started.lock().expect("slot lock");
                    if started.is_some_and(|t| stop || t.elapsed() > self.config.timeout) {
                        slot.flag.store(true, Ordering::Relaxed);
                    }
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        Ok((verified, self.stop.load(Ordering::Relaxed)))
    }

    fn stopping(&self, failed: &AtomicBool) -> bool {
        self.stop.load(Ordering::Relaxed) || failed.load(Ordering::Relaxed)
    }

    fn worker(
        &self,
        i: usize,
        slot: &Slot,
        queue: &Mutex<std::vec::IntoIter<Target>>,
        tx: &mpsc::Sender<Msg>,
        failed: &AtomicBool,
    ) {
        loop {
            if self.stopping(failed) {
                return;
            }
            let Some(target) = queue.lock().expect("queue lock").next() else {
                return;
            };
            let key = target.key();
            if let Some(journal) = self.journal {
                match journal.start(&key) {
                    Ok(None) => {}
                    Ok(Some(starts)) => {
                        let entry = outcome::entry(&target, outcome::lost(&key, Some(starts)));
                        if tx.send(Msg::Finished(i, entry)).is_err() {
                            return;
                        }
                        continue;
                    }
                    Err(e) => {
                        let _ = tx.send(Msg::Failed(i, e));
                        return;
                    }
                }
            }
            {
                let mut started = slot.started.lock().expect("slot lock");
                slot.flag.store(false, Ordering::Relaxed);
                *started = Some(Instant::now());
            }
            let _ = tx.send(Msg::Started(i, key));
            if let Some(hook) = &self.config.before_verify
                && let Err(e) = hook(&target)
            {
                *slot.started.lock().expect("slot lock") = None;
                let _ = tx.send(Msg::Failed(i, e));
                return;
            }
            let ended = match &self.config.isolation {
                Some(worker) => {
                    let req = WorkerRequest::new(
                        &target.name,
                        &target.version,
                        &self.options,
                        worker.limits,
                    );
                    match isolate::run(worker, &req, &slot.flag) {
                        isolate::Ended::Done(o) => outcome::Verified::Done(o),
                        isolate::Ended::Stopped => outcome::Verified::Stopped,
                    }
                }
                None => outcome::verify(&target, &self.options, &slot.flag),
            };
            *slot.started.lock().expect("slot lock") = None;
            let result = match ended {
                outcome::Verified::Done(o) => o,
                outcome::Verified::Stopped if self.stopping(failed) => {
                    // Not recorded: the next run verifies it.
                    let _ = tx.send(Msg::Aborted(i));
                    return;
                }
                outcome::Verified::Stopped => outcome::timeout(self.config.timeout),
            };
            if tx
                .send(Msg::Finished(i, outcome::entry(&target, result)))
                .is_err()
            {
                return;
            }
        }
    }
}
