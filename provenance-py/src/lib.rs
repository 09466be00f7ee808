//! Python bindings for crate-provenance: the native module `crate_provenance._native`.
//!
//! Thin by design: arguments are converted to owned Rust values, the work runs in
//! `provenance_core` with the GIL released, and the result is converted back. Errors go
//! through the one table in [`errors`]; a mismatch is a `Report`, never an exception.
#![forbid(unsafe_code)]

mod batch;
mod errors;
mod types;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use provenance_core::{CrateSource, ErrorKind, Options, Progress, RepoSource, Request, Stage};
use pyo3::prelude::*;

use errors::BindingError;

/// How often the calling thread wakes up to check for signals (Ctrl-C) while core works.
const POLL: Duration = Duration::from_millis(50);

/// What the worker tells the calling thread.
enum Event {
    Stage(Stage, Option<u64>),
    Inc(u64),
}

/// Forwards core's progress to the calling thread (only when a callback was given).
struct ChannelProgress {
    tx: Option<Sender<Event>>,
}

impl Progress for ChannelProgress {
    fn stage(&mut self, stage: Stage, total: Option<u64>) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Event::Stage(stage, total));
        }
    }

    fn inc(&mut self, n: u64) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Event::Inc(n));
        }
    }
}

/// What the calling thread saw while it was detached.
enum Wake {
    Stage(Stage, Option<u64>),
    Tick,
    Done,
}

/// Wait (without the GIL) until a new stage begins, the worker finishes, or [`POLL`] passes;
/// increments are summed, never delivered one by one.
fn wait(rx: &Receiver<Event>, done: &mut u64) -> Wake {
    let deadline = Instant::now() + POLL;
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Event::Inc(n)) => *done += n,
            Ok(Event::Stage(s, total)) => return Wake::Stage(s, total),
            Err(RecvTimeoutError::Timeout) => return Wake::Tick,
            Err(RecvTimeoutError::Disconnected) => return Wake::Done,
        }
    }
}

/// How long the calling thread waits, after a signal handler or the progress callback raised, for
/// the worker to stop before it returns without it (SECURITY.md B5: Ctrl-C returns within 1 s
/// even while core is blocked in I/O it cannot interrupt, e.g. waiting for a stalled server).
const GRACE: Duration = Duration::from_millis(500);

/// Run `work` on a worker thread with the GIL released.
///
/// The calling thread waits without the GIL and re-attaches only every [`POLL`] (to run
/// `check_signals`, so Ctrl-C sets core's interrupt flag) and when a stage begins or ends (to
/// call `progress(stage, done, total)`). If a signal handler or the callback raises, the flag is
/// set, the worker stops at its next check, and that exception propagates. A worker that has not
/// stopped within [`GRACE`] is left to finish on its own (it owns everything it uses, holds no
/// Python object, and its result is dropped), so the exception is never delayed by a blocking
/// read in core.
fn run_detached<T: Send + 'static>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(&mut dyn Progress, &AtomicBool) -> Result<T, BindingError> + Send + 'static,
) -> PyResult<T> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<Event>();
    let want_events = progress.is_some();
    let flag = Arc::clone(&interrupt);
    let worker = std::thread::Builder::new()
        .name("crate-provenance".into())
        .spawn(move || {
            // `tx` lives until the work ends: the channel disconnecting is the "done" signal.
            let mut p = ChannelProgress {
                tx: want_events.then(|| tx.clone()),
            };
            let out = work(&mut p, &flag);
            drop(tx);
            out
        })
        .map_err(|e| {
            BindingError::new(
                ErrorKind::Internal,
                format!("cannot start a worker thread: {e}"),
            )
        })?;

    // The first exception raised by a signal handler or the callback; it wins over the result.
    let mut pending: Option<(PyErr, Instant)> = None;
    let call = |stage: Stage, n: u64, total: Option<u64>| -> PyResult<()> {
        match progress {
            Some(cb) => cb.call1((stage.as_str(), n, total)).map(drop),
            None => Ok(()),
        }
    };
    let mut current: Option<(Stage, Option<u64>)> = None;
    let mut done = 0u64;
    let mut rx = rx;
    loop {
        let (back, wake, n) = py.detach(move || {
            let mut n = 0;
            let wake = wait(&rx, &mut n);
            (rx, wake, n)
        });
        rx = back;
        done += n;
        let mut delivered = Ok(());
        // After an exception, the callback is not called again.
        let call = |stage, n, total| {
            if pending.is_none() {
                call(stage, n, total)
            } else {
                Ok(())
            }
        };
        match wake {
            Wake::Stage(stage, total) => {
                if let Some((s, t)) = current.take() {
                    delivered = call(s, done, t);
                }
                done = 0;
                current = Some((stage, total));
                delivered = delivered.and_then(|()| call(stage, 0, total));
            }
            Wake::Tick => {}
            Wake::Done => {
                if let Some((s, t)) = current.take() {
                    delivered = call(s, done, t);
                }
            }
        }
        if pending.is_none()
            && let Err(e) = delivered.and_then(|()| py.check_signals())
        {
            interrupt.store(true, Ordering::Relaxed);
            pending = Some((e, Instant::now()));
        }
        if matches!(wake, Wake::Done) {
            break;
        }
        if let Some((e, since)) = pending.take() {
            if since.elapsed() >= GRACE {
                // Leave the worker: dropping its handle detaches it.
                return Err(e);
            }
            pending = Some((e, since));
        }
    }
    let result = worker.join();
    if let Some((e, _)) = pending {
        return Err(e);
    }
    match result {
        Ok(r) => r.map_err(PyErr::from),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(BindingError::new(ErrorKind::Internal, format!("panic: {what}")).into())
        }
    }
}

/// `repo=`: a `str` is a URL or a path (as on the command line); any other `os.PathLike` is a path.
#[derive(Debug)]
enum RepoArg {
    Str(String),
    Path(PathBuf),
}

/// Not derived: a derived enum turns the failure of its last variant into a `TypeError`, also a
/// `KeyboardInterrupt` raised by the signal handler while `os.fspath` runs Python code (Ctrl-C
/// at that moment); here every error of the path conversion propagates as it is (SECURITY.md B5).
impl FromPyObject<'_, '_> for RepoArg {
    type Error = PyErr;

    fn extract(ob: Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
        // A `str` that is not UTF-8 (PEP 383 surrogates) is a path, through `os.fspath`.
        if let Ok(s) = ob.extract::<String>() {
            return Ok(RepoArg::Str(s));
        }
        ob.extract::<PathBuf>().map(RepoArg::Path)
    }
}

impl From<RepoArg> for RepoSource {
    fn from(r: RepoArg) -> RepoSource {
        match r {
            RepoArg::Str(s) => RepoSource::parse(&s),
            RepoArg::Path(p) => RepoSource::Path(p),
        }
    }
}

fn invalid(message: &str) -> PyErr {
    BindingError::new(ErrorKind::InvalidInput, message).into()
}

/// `mirrors=`: a mapping `{from: to}` (in its order; see `provenance_core::fetch::mirror`),
/// checked like `--mirror`.
pub(crate) fn mirrors_arg(
    mirrors: Option<&Bound<'_, pyo3::types::PyDict>>,
    allow_insecure_transport: bool,
) -> PyResult<Vec<provenance_core::fetch::Mirror>> {
    let mut pairs = Vec::new();
    if let Some(d) = mirrors {
        for (k, v) in d.iter() {
            let (Ok(from), Ok(to)) = (k.extract::<String>(), v.extract::<String>()) else {
                return Err(invalid("`mirrors` must map `str` to `str`"));
            };
            pairs.push((from, to));
        }
    }
    provenance_core::fetch::mirror::collect(&[], &pairs, allow_insecure_transport)
        .map_err(|e| BindingError::from_core(&e.into()).into())
}

/// `index_url=`, else the crates.io replacement of `cargo_config=` (the CLI's `--cargo-config`:
/// `[source.crates-io] replace-with` → a `sparse+` registry or a `local-registry`); both given
/// is an `invalid_input` error, as the CLI refuses `--index-url` with `--cargo-config`.
pub(crate) fn index_arg(
    index_url: Option<String>,
    cargo_config: Option<PathBuf>,
) -> PyResult<Option<String>> {
    match (index_url, cargo_config) {
        (Some(_), Some(_)) => Err(invalid(
            "`index_url` and `cargo_config` cannot be used together",
        )),
        (None, Some(f)) => provenance_core::fetch::cargo_config::crates_io_index(&f)
            .map_err(|e| BindingError::from_core(&e.into()).into()),
        (url, None) => Ok(url),
    }
}

/// `cache_dir=`: an empty path would silently mean the current directory.
fn cache_dir_arg(cache_dir: Option<PathBuf>) -> PyResult<Option<PathBuf>> {
    match cache_dir {
        Some(p) if p.as_os_str().is_empty() => Err(invalid("`cache_dir` is empty")),
        other => Ok(other),
    }
}

/// The crate to read: `crate_file`, or `name` and `version` from the registry (exactly one).
fn crate_arg(
    name: Option<String>,
    version: Option<String>,
    crate_file: Option<PathBuf>,
) -> PyResult<CrateSource> {
    match (name, version, crate_file) {
        (None, None, Some(path)) => Ok(CrateSource::File(path)),
        (Some(name), Some(version), None) => Ok(CrateSource::Registry { name, version }),
        (None, None, None) => Err(invalid("give `name` and `version`, or `crate_file`")),
        (Some(_) | None, Some(_) | None, None) => Err(invalid("give both `name` and `version`")),
        (_, _, Some(_)) => Err(invalid(
            "give either `name` and `version`, or `crate_file`, not both",
        )),
    }
}

/// `progress=`: `None` or a callable.
fn progress_arg(progress: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    match progress {
        Some(p) if !p.is_callable() => Err(pyo3::exceptions::PyTypeError::new_err(
            "`progress` must be callable",
        )),
        _ => Ok(()),
    }
}

/// Verify a crate against its repository.
#[pyfunction]
#[pyo3(signature = (
    name = None,
    version = None,
    *,
    crate_file = None,
    repo = None,
    cache_dir = None,
    index_url = None,
    offline = false,
    allow_insecure_transport = false,
    progress = None,
    mirrors = None,
    cargo_config = None,
))]
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
fn verify(
    py: Python<'_>,
    name: Option<String>,
    version: Option<String>,
    crate_file: Option<PathBuf>,
    repo: Option<RepoArg>,
    cache_dir: Option<PathBuf>,
    index_url: Option<String>,
    offline: bool,
    allow_insecure_transport: bool,
    progress: Option<&Bound<'_, PyAny>>,
    mirrors: Option<&Bound<'_, pyo3::types::PyDict>>,
    cargo_config: Option<PathBuf>,
) -> PyResult<types::Report> {
    let krate = crate_arg(name, version, crate_file)?;
    progress_arg(progress)?;
    let mut options = Options::default();
    options.cache_dir = cache_dir_arg(cache_dir)?;
    options.index_url = index_arg(index_url, cargo_config)?;
    options.offline = offline;
    options.allow_insecure_transport = allow_insecure_transport;
    options.mirrors = mirrors_arg(mirrors, allow_insecure_transport)?;
    let mut request = Request::new(krate).with_options(options);
    if let Some(r) = repo {
        request = request.with_repo(r.into());
    }
    let report = run_detached(py, progress, move |p, flag| {
        provenance_core::verify_opts(&request, p, flag).map_err(|e| BindingError::from_core(&e))
    })?;
    types::Report::new(py, report)
}

/// Inspect a crate alone, without its repository (`provenance_core::inspect_opts`).
#[pyfunction]
#[pyo3(signature = (
    crate_file = None,
    *,
    name = None,
    version = None,
    cache_dir = None,
    offline = false,
    index_url = None,
    progress = None,
    mirrors = None,
    cargo_config = None,
))]
#[allow(clippy::too_many_arguments)]
fn inspect(
    py: Python<'_>,
    crate_file: Option<PathBuf>,
    name: Option<String>,
    version: Option<String>,
    cache_dir: Option<PathBuf>,
    offline: bool,
    index_url: Option<String>,
    progress: Option<&Bound<'_, PyAny>>,
    mirrors: Option<&Bound<'_, pyo3::types::PyDict>>,
    cargo_config: Option<PathBuf>,
) -> PyResult<types::Inspection> {
    let krate = crate_arg(name, version, crate_file)?;
    progress_arg(progress)?;
    let mut options = Options::default();
    options.cache_dir = cache_dir_arg(cache_dir)?;
    options.index_url = index_arg(index_url, cargo_config)?;
    options.offline = offline;
    // Accepted for uniformity: inspect fetches no repository.
    options.mirrors = mirrors_arg(mirrors, false)?;
    let inspection = run_detached(py, progress, move |p, flag| {
        provenance_core::inspect_opts(&krate, &options, p, flag)
            .map_err(|e| BindingError::from_core(&e))
    })?;
    types::Inspection::new(py, inspection)
}

/// The files `cargo package` would put into the archive for the package at `path` in `commit`.
#[pyfunction]
#[pyo3(signature = (repo, commit, path = ""))]
fn list_files(py: Python<'_>, repo: PathBuf, commit: String, path: &str) -> PyResult<Vec<String>> {
    let path = path.to_owned();
    let files = run_detached(py, None, move |_, _| {
        provenance_core::list_files(&repo, &commit, &path, &provenance_core::Limits::default())
            .map_err(|e| BindingError::from_core(&e))
    })?;
    Ok(files.into_iter().map(|f| f.path).collect())
}

/// Fetch options for the index and download helpers.
fn fetch_options(
    cache_dir: Option<PathBuf>,
    index_url: Option<String>,
    offline: bool,
    allow_insecure_transport: bool,
) -> PyResult<provenance_core::fetch::Options> {
    let mut options = Options::default();
    options.cache_dir = cache_dir_arg(cache_dir)?;
    options.index_url = index_url;
    options.offline = offline;
    options.allow_insecure_transport = allow_insecure_transport;
    Ok(provenance_core::fetch::Options::from_verify(&options))
}

fn core_err(e: impl Into<provenance_core::Error>) -> BindingError {
    BindingError::from_core(&e.into())
}

/// Every version of `name` in the registry index, in index order: `(version, yanked)`.
#[pyfunction]
#[pyo3(signature = (
    name,
    *,
    index_url = None,
    cache_dir = None,
    offline = false,
    allow_insecure_transport = false,
))]
fn index_versions(
    py: Python<'_>,
    name: String,
    index_url: Option<String>,
    cache_dir: Option<PathBuf>,
    offline: bool,
    allow_insecure_transport: bool,
) -> PyResult<Vec<(String, bool)>> {
    let options = fetch_options(cache_dir, index_url, offline, allow_insecure_transport)?;
    run_detached(py, None, move |p, flag| {
        let cache = options.cache().map_err(core_err)?;
        let registry =
            provenance_core::fetch::Registry::new(options.index_url.as_deref(), &options)
                .map_err(core_err)?;
        let lines = registry
            .versions(&cache, &name, p, flag)
            .map_err(core_err)?;
        Ok(lines.into_iter().map(|l| (l.vers, l.yanked)).collect())
    })
}

/// The `package.repository` of `name@version` (downloaded and checked like `verify` does, and
/// cached), or `None` when the crate declares none.
#[pyfunction]
#[pyo3(signature = (
    name,
    version,
    *,
    index_url = None,
    cache_dir = None,
    offline = false,
    allow_insecure_transport = false,
))]
fn crate_repository(
    py: Python<'_>,
    name: String,
    version: String,
    index_url: Option<String>,
    cache_dir: Option<PathBuf>,
    offline: bool,
    allow_insecure_transport: bool,
) -> PyResult<Option<String>> {
    let mut options = Options::default();
    options.cache_dir = cache_dir_arg(cache_dir)?;
    options.index_url = index_url;
    options.offline = offline;
    options.allow_insecure_transport = allow_insecure_transport;
    run_detached(py, None, move |_, flag| {
        provenance_core::batch::plan::crate_repository(&name, &version, &options, flag)
            .map_err(|e| BindingError::from_core(&e))
    })
}

/// The cache identity of a repository URL after core's normalization (scheme, lowercase host,
/// port, path without `.git`): two spellings of one repository give the same key.
#[pyfunction]
#[pyo3(signature = (url, *, allow_insecure_transport = false))]
fn repository_key(url: &str, allow_insecure_transport: bool) -> PyResult<String> {
    provenance_core::batch::plan::repository_key(url, allow_insecure_transport)
        .map_err(|e| BindingError::from_core(&e).into())
}

/// Native part of the `crate_provenance` package; import `crate_provenance` instead.
#[pymodule(gil_used = false)]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "VERDICTS",
        pyo3::types::PyTuple::new(
            m.py(),
            provenance_core::Verdict::ALL.iter().map(|v| v.as_str()),
        )?,
    )?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(inspect, m)?)?;
    m.add_function(wrap_pyfunction!(list_files, m)?)?;
    m.add_function(wrap_pyfunction!(index_versions, m)?)?;
    m.add_function(wrap_pyfunction!(crate_repository, m)?)?;
    m.add_function(wrap_pyfunction!(repository_key, m)?)?;
    batch::register(m)?;
    m.add_class::<types::Report>()?;
    m.add_class::<types::Source>()?;
    m.add_class::<types::FileCounts>()?;
    m.add_class::<types::Difference>()?;
    m.add_class::<types::FileDigest>()?;
    m.add_class::<types::Finding>()?;
    m.add_class::<types::Assisted>()?;
    m.add_class::<types::Inspection>()?;
    Ok(())
}
