//! Per-crate worker processes (shared/SECURITY.md §5 promise 5).
//!
//! Each crate version is parsed, fetched and compared by a child process: the engine runs a
//! caller-given program (the CLI passes `std::env::current_exe()` and its hidden
//! `__verify-worker` subcommand, see [`Worker`]) and writes one [`WorkerRequest`] (JSON) on the
//! child's stdin. The child — which calls [`serve`] — lowers its own resource limits
//! (`RLIMIT_AS`, `RLIMIT_CPU`, `RLIMIT_CORE` = 0) before it reads any untrusted byte, verifies,
//! and writes exactly one results line (the report, or an error object) on stdout. The engine
//! enforces the wall-clock timeout by killing the child. A child that dies — abort, stack
//! overflow, allocation failure under `RLIMIT_AS`, `SIGXCPU`, `SIGBUS`/`SIGSEGV` — or that writes
//! no valid line becomes an error line of kind [`WORKER_CRASHED`] for that crate, and the batch
//! goes on.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::inputs::Target;
use super::outcome::{self, Verified};
use super::results::{Entry, Outcome};
use crate::request::Options;

pub use super::outcome::WORKER_CRASHED;

/// At most this much of a worker's stdout is read (a report is far smaller).
const MAX_STDOUT: u64 = 256 << 20;
/// At most this much of a worker's stderr is kept (its tail goes into the error message).
const MAX_STDERR: usize = 4096;

/// The program a worker process runs: `program ARGS…`, which must call [`serve`] on its stdin
/// and stdout.
#[derive(Debug, Clone)]
pub struct Worker {
    /// The executable (the CLI: `std::env::current_exe()`).
    pub program: PathBuf,
    /// Its arguments (the CLI: `["__verify-worker"]`).
    pub args: Vec<OsString>,
    /// The limits the worker applies to itself.
    pub limits: WorkerLimits,
}

/// Resource limits of one worker process.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct WorkerLimits {
    /// `RLIMIT_AS` in bytes (0 = unlimited).
    pub address_space: u64,
    /// `RLIMIT_CPU` in seconds (0 = unlimited).
    pub cpu_secs: u64,
}

/// What the parent sends a worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerRequest {
    /// Crate name.
    pub name: String,
    /// Crate version.
    pub version: String,
    /// The `Options` fields a batch sets: the sparse index URL.
    pub index_url: Option<String>,
    /// Cache directory.
    pub cache_dir: Option<std::path::PathBuf>,
    /// `--offline`.
    pub offline: bool,
    /// `--allow-insecure-transport`.
    pub allow_insecure_transport: bool,
    /// Assisted matching.
    pub assisted: bool,
    /// Unreachable repositories are `repository_not_found` (always `true`: the worker verifies
    /// with [`outcome::batch_options`] whatever this says; kept for the protocol).
    pub unreachable_is_not_found: bool,
    /// A diff for every differing text file (`--all-diffs`); absent in older requests.
    #[serde(default)]
    pub all_diffs: bool,
    /// The limits the worker applies to itself.
    pub limits: WorkerLimits,
    /// Repository mirrors (checked by the parent).
    #[serde(default)]
    pub mirrors: Vec<crate::fetch::Mirror>,
    /// The scan's run id ([`Options::batch_run`]); absent in older requests.
    #[serde(default)]
    pub batch_run: Option<String>,
}

impl WorkerRequest {
    /// The request for one crate version with the scan's options.
    pub fn new(name: &str, version: &str, options: &Options, limits: WorkerLimits) -> Self {
        WorkerRequest {
            name: name.to_owned(),
            version: version.to_owned(),
            index_url: options.index_url.clone(),
            cache_dir: options.cache_dir.clone(),
            offline: options.offline,
            allow_insecure_transport: options.allow_insecure_transport,
            assisted: options.assisted,
            unreachable_is_not_found: true,
            all_diffs: options.all_diffs,
            limits,
            mirrors: options.mirrors.clone(),
            batch_run: options.batch_run.clone(),
        }
    }

    /// The options the worker verifies with.
    pub fn options(&self) -> Options {
        let mut o = Options::default();
        o.index_url.clone_from(&self.index_url);
        o.cache_dir.clone_from(&self.cache_dir);
        o.offline = self.offline;
        o.allow_insecure_transport = self.allow_insecure_transport;
        o.assisted = self.assisted;
        o.unreachable_is_not_found = self.unreachable_is_not_found;
        o.mirrors.clone_from(&self.mirrors);
        o.all_diffs = self.all_diffs;
        o.batch_run.clone_from(&self.batch_run);
        o
    }
}

/// How a worker run ended, as seen by the engine.
#[derive(Debug)]
pub enum Ended {
    /// A result line (a report, an error, or `worker_crashed`).
    Done(Outcome),
    /// Killed because the engine's flag was raised (timeout or interrupt; the engine decides).
    Stopped,
}

/// Lower this process's own resource limits: `RLIMIT_CORE` = 0, `RLIMIT_AS` and `RLIMIT_CPU`
/// (SIGXCPU at the soft limit, SIGKILL 5 s later) as given (0 = unchanged). A no-op off Unix.
pub fn apply_limits(limits: WorkerLimits) -> Result<(), String> {
    #[cfg(unix)]
    {
        use rlimit::Resource;
        let set = |r: Resource, name: &str, v: u64| {
            rlimit::setrlimit(r, v, v).map_err(|e| format!("cannot set {name} to {v}: {e}"))
        };
        set(Resource::CORE, "RLIMIT_CORE", 0)?;
        if limits.address_space > 0 {
            set(Resource::AS, "RLIMIT_AS", limits.address_space)?;
        }
        if limits.cpu_secs > 0 {
            // SIGXCPU at the soft limit, SIGKILL at the hard one.
            rlimit::setrlimit(Resource::CPU, limits.cpu_secs, limits.cpu_secs + 5)
                .map_err(|e| format!("cannot set RLIMIT_CPU: {e}"))?;
        }
    }
    #[cfg(not(unix))]
    let _ = limits;
    Ok(())
}

/// The worker side: read one [`WorkerRequest`] from `input` (at most 1 MiB), apply its limits,
/// call `before` (the CLI's test-only fault injection), verify with [`outcome::verify`], and
/// write one results line with its newline to `output`. `Err` (nothing written) for an
/// unreadable request or limits that cannot be set; the caller exits non-zero.
pub fn serve(
    input: &mut dyn Read,
    output: &mut dyn Write,
    before: impl FnOnce(&WorkerRequest),
) -> Result<(), String> {
    let mut bytes = Vec::new();
    input
        .take(1 << 20)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the request: {e}"))?;
    let req: WorkerRequest =
        serde_json::from_slice(&bytes).map_err(|e| format!("invalid worker request: {e}"))?;
    apply_limits(req.limits)?;
    before(&req);
    let target = Target {
        name: req.name.clone(),
        version: req.version.clone(),
    };
    let never = AtomicBool::new(false);
    let outcome = match outcome::verify(&target, &req.options(), &never) {
        Verified::Done(o) => o,
        Verified::Stopped => outcome::error(&crate::request::Error::Interrupted),
    };
    let line = outcome::entry(&target, outcome).to_line() + "\n";
    output
        .write_all(line.as_bytes())
        .and_then(|()| output.flush())
        .map_err(|e| format!("cannot write the result: {e}"))
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        _ => "signal",
    }
}

fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            let core = if status.core_dumped() {
                " (core dumped)"
            } else {
                ""
            };
            return format!("was killed by signal {sig} ({}){core}", signal_name(sig));
        }
    }
    match status.code() {
        Some(c) => format!("exited with status {c} without a result"),
        None => "ended without a result".to_owned(),
    }
}

fn crashed(key: &str, what: &str, stderr: &[u8]) -> Outcome {
    outcome::worker_crashed(key, what, stderr)
}

/// Verify one crate version in a worker process. `stop` is polled: when it is raised the worker
/// is killed and [`Ended::Stopped`] returned.
pub fn run(worker: &Worker, req: &WorkerRequest, stop: &AtomicBool) -> Ended {
    let key = format!("{}@{}", req.name, req.version);
    let mut command = Command::new(&worker.program);
    // A process group of its own: a terminal's Ctrl-C reaches only the scan, which kills its
    // workers and records nothing for them (they are verified again on resume).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = match command
        .args(&worker.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Ended::Done(crashed(&key, &format!("could not be started: {e}"), b"")),
    };
    let request = serde_json::to_vec(req).expect("request serializes");
    if let Some(mut stdin) = child.stdin.take() {
        // A worker that dies before reading is reported through its exit status below.
        let _ = stdin.write_all(&request);
    }
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stdout).take(MAX_STDOUT).read_to_end(&mut buf);
        // Drain the rest so that the child never blocks on a full pipe.
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut keep: Vec<u8> = Vec::new();
        let mut chunk = [0u8; 8192];
        while let Ok(n) = stderr.read(&mut chunk) {
            if n == 0 {
                break;
            }
            keep.extend_from_slice(&chunk[..n]);
            if keep.len() > 2 * MAX_STDERR {
                keep.drain(..keep.len() - MAX_STDERR);
            }
        }
        keep
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => {}
            Err(e) => break Err(e),
        }
        if stop.load(Ordering::Relaxed) {
            let _ = child.kill();
            let _ = child.wait();
            let _ = out_reader.join();
            let _ = err_reader.join();
            return Ended::Stopped;
        }
        let pause = if started.elapsed() < Duration::from_millis(200) {
            2
        } else {
            20
        };
        std::thread::sleep(Duration::from_millis(pause));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            let _ = child.kill();
            return Ended::Done(crashed(&key, &format!("could not be waited for: {e}"), b""));
        }
    };
    if status.success() {
        let line = String::from_utf8_lossy(&stdout);
        let line = line.trim_end_matches('\n');
        match Entry::parse(line) {
            Ok(entry) if entry.name == req.name && entry.version == req.version => {
                return Ended::Done(entry.outcome);
            }
            Ok(entry) => {
                return Ended::Done(crashed(
                    &key,
                    &format!("answered for another crate (`{}`)", entry.key()),
                    &stderr,
                ));
            }
            Err(e) => {
                return Ended::Done(crashed(
                    &key,
                    &format!("wrote no valid result ({e})"),
                    &stderr,
                ));
            }
        }
    }
    Ended::Done(crashed(&key, &describe(status), &stderr))
}
