//! Per-crate worker processes for `scan` (shared/SECURITY.md §5 promise 5).
//!
//! Each crate version is parsed, fetched and compared by a child process running this same
//! binary's hidden `__verify-worker` subcommand: the parent writes one [`WorkerRequest`] (JSON)
//! on the child's stdin; the child lowers its own resource limits (`RLIMIT_AS`, `RLIMIT_CPU`,
//! `RLIMIT_CORE` = 0) before it reads any untrusted byte, verifies, and writes exactly one
//! results-file line (the report, or an error object) on stdout. The parent enforces the
//! wall-clock `--timeout` by killing the child. A child that dies — abort, stack overflow,
//! allocation failure under `RLIMIT_AS`, `SIGXCPU`, `SIGBUS`/`SIGSEGV` — or that writes no valid
//! line becomes an error line of kind [`WORKER_CRASHED`] for that crate, and the scan goes on.
//!
//! No external program is run: only `std::env::current_exe()`.

use std::io::{Read, Write};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use provenance_core::{CrateSource, ErrorKind, Options, Request};
use serde::{Deserialize, Serialize};

use super::results::{Entry, Outcome};

/// The error kind of a crate whose worker process died (a scan-level outcome).
pub const WORKER_CRASHED: &str = "worker_crashed";

/// The hidden subcommand name.
pub const SUBCOMMAND: &str = "__verify-worker";

/// Test-only fault injection (debug builds only): `NAME=abort|overflow|oom|exit[,NAME=…]`.
#[cfg(debug_assertions)]
const FAULT_ENV: &str = "CRATE_PROVENANCE_TEST_FAULT";

/// At most this much of a worker's stdout is read (a report is far smaller).
const MAX_STDOUT: u64 = 256 << 20;
/// At most this much of a worker's stderr is kept (its tail goes into the error message).
const MAX_STDERR: usize = 4096;

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
    /// The `Options` fields `scan` sets.
    pub index_url: Option<String>,
    /// Cache directory.
    pub cache_dir: Option<std::path::PathBuf>,
    /// `--offline`.
    pub offline: bool,
    /// `--allow-insecure-transport`.
    pub allow_insecure_transport: bool,
    /// Assisted matching.
    pub assisted: bool,
    /// Unreachable repositories are `repository_not_found`.
    pub unreachable_is_not_found: bool,
    /// The limits the worker applies to itself.
    pub limits: WorkerLimits,
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
            unreachable_is_not_found: options.unreachable_is_not_found,
            limits,
        }
    }

    fn options(&self) -> Options {
        let mut o = Options::default();
        o.index_url.clone_from(&self.index_url);
        o.cache_dir.clone_from(&self.cache_dir);
        o.offline = self.offline;
        o.allow_insecure_transport = self.allow_insecure_transport;
        o.assisted = self.assisted;
        o.unreachable_is_not_found = self.unreachable_is_not_found;
        o
    }
}

/// How a worker run ended, as seen by the pool.
#[derive(Debug)]
pub enum Ended {
    /// A result line (a report, an error, or `worker_crashed`).
    Done(Outcome),
    /// Killed because the pool's flag was raised (timeout or interrupt; the pool decides).
    Stopped,
}

fn apply_limits(limits: WorkerLimits) -> Result<(), String> {
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

/// `crate-provenance __verify-worker`: one request on stdin, one results line on stdout.
pub fn worker_main() -> ExitCode {
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().take(1 << 20).read_to_end(&mut input) {
        let _ = writeln!(std::io::stderr(), "error: cannot read the request: {e}");
        return ExitCode::from(2);
    }
    let req: WorkerRequest = match serde_json::from_slice(&input) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: invalid worker request: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = apply_limits(req.limits) {
        let _ = writeln!(std::io::stderr(), "error: {e}");
        return ExitCode::from(2);
    }
    #[cfg(debug_assertions)]
    inject_fault(&req.name);
    let request = Request::new(CrateSource::Registry {
        name: req.name.clone(),
        version: req.version.clone(),
    })
    .with_options(req.options());
    let never = AtomicBool::new(false);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        provenance_core::verify_opts(&request, &mut provenance_core::Discard, &never)
    }));
    let outcome = match result {
        Ok(Ok(report)) => Outcome::Report(Box::new(report)),
        Ok(Err(e)) => Outcome::Error {
            kind: e.kind().as_str().to_owned(),
            message: crate::render::error_chain(&e),
        },
        Err(panic) => Outcome::Error {
            kind: ErrorKind::Internal.as_str().to_owned(),
            message: format!(
                "panic while verifying: {}",
                panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default()
            ),
        },
    };
    let entry = Entry {
        name: req.name,
        version: req.version,
        outcome,
    };
    let mut out = std::io::stdout().lock();
    let line = entry.to_line() + "\n";
    if out
        .write_all(line.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

#[cfg(debug_assertions)]
fn inject_fault(name: &str) {
    let Ok(spec) = std::env::var(FAULT_ENV) else {
        return;
    };
    let Some(kind) = spec
        .split(',')
        .filter_map(|f| f.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, k)| k.to_owned())
    else {
        return;
    };
    match kind.as_str() {
        "abort" => std::process::abort(),
        "overflow" => {
            fn deep(n: u64) -> u64 {
                let buf = [n; 512];
                std::hint::black_box(&buf);
                if std::hint::black_box(n) == u64::MAX {
                    return 0;
                }
                deep(n + 1) + std::hint::black_box(buf[7])
            }
            std::hint::black_box(deep(0));
        }
        "oom" => {
            // Far below the machine's memory, far above a test's `--worker-memory`: only
            // `RLIMIT_AS` makes this allocation fail.
            let mut v: Vec<u8> = Vec::with_capacity(4 << 30);
            v.push(1);
            std::hint::black_box(&v);
        }
        "exit" => std::process::exit(3),
        "hang" => std::thread::sleep(Duration::from_secs(3600)),
        _ => {}
    }
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

/// The last `MAX_STDERR` bytes of the worker's stderr, one line, escaped.
fn tail(stderr: &[u8]) -> String {
    let start = stderr.len().saturating_sub(MAX_STDERR);
    let text = String::from_utf8_lossy(&stderr[start..]);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(
            ": {}",
            super::summary::clean(&text.replace('\n', " | ")).trim()
        )
    }
}

fn crashed(key: &str, what: &str, stderr: &[u8]) -> Outcome {
    Outcome::Error {
        kind: WORKER_CRASHED.to_owned(),
        message: format!("worker process for `{key}` {what}{}", tail(stderr)),
    }
}

/// Verify one crate version in a worker process. `stop` is polled: when it is raised the worker
/// is killed and [`Ended::Stopped`] returned.
pub fn run(req: &WorkerRequest, stop: &AtomicBool) -> Ended {
    let key = format!("{}@{}", req.name, req.version);
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            return Ended::Done(crashed(
                &key,
                &format!("could not be started: no executable path: {e}"),
                b"",
            ));
        }
    };
    let mut command = Command::new(exe);
    // A process group of its own: a terminal's Ctrl-C reaches only the scan, which kills its
    // workers and records nothing for them (they are verified again on resume).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = match command
        .arg(SUBCOMMAND)
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
