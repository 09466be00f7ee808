//! The batch engine ([`provenance_core::batch`]) for Python: `crate_provenance.scan(...)`, and
//! the pieces `crate_provenance.distributed` distributes (locate, plan, result lines, merge).
//! Nothing here decides what a line says: that is the engine's.
// PyO3 extracts arguments as owned values.
#![allow(clippy::needless_pass_by_value)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use provenance_core::batch::{self, Target, inputs, outcome, plan, policy, results, summary};
use provenance_core::{ErrorKind, Options};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors::BindingError;
use crate::{cache_dir_arg, mirrors_arg, run_detached};

fn invalid(message: impl Into<String>) -> PyErr {
    BindingError::new(ErrorKind::InvalidInput, message).into()
}

/// `targets=`: a list file (`str` or `os.PathLike`), or an iterable of `(name, version)` pairs
/// or `"NAME@VERSION"` strings.
fn add_targets(into: &mut inputs::Inputs, targets: &Bound<'_, PyAny>) -> PyResult<()> {
    if targets.is_instance_of::<PyString>() || targets.hasattr("__fspath__")? {
        let path: PathBuf = targets.extract()?;
        return inputs::list(into, &path).map_err(invalid);
    }
    for item in targets.try_iter()? {
        let item = item?;
        if let Ok(spec) = item.extract::<String>() {
            inputs::spec(into, &spec).map_err(invalid)?;
        } else if let Ok((name, version)) = item.extract::<(String, String)>() {
            inputs::spec(into, &format!("{name}@{version}")).map_err(invalid)?;
        } else {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "a target must be \"NAME@VERSION\" or a (name, version) pair, not {}",
                item.get_type().name()?
            )));
        }
    }
    Ok(())
}

/// What `scan` did: the summary of `crate-provenance scan --format json`, and the run.
#[pyclass(frozen, module = "crate_provenance._native")]
#[derive(Debug)]
pub struct Summary {
    inner: summary::Summary,
    #[pyo3(get)]
    verified: usize,
    #[pyo3(get)]
    already: usize,
    #[pyo3(get)]
    elapsed: f64,
    #[pyo3(get)]
    results: Option<PathBuf>,
}

#[pymethods]
impl Summary {
    /// Crate versions with a result line.
    #[getter]
    fn total(&self) -> usize {
        self.inner.total
    }

    /// Lines per verdict (every verdict, in the summary's order) and `"error"`.
    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in &self.inner.counts {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// `NAME@VERSION` of the results that are not `match`, in result order.
    #[getter]
    fn not_match(&self) -> Vec<String> {
        self.inner
            .not_match
            .iter()
            .map(|r| format!("{}@{}", r.name, r.version))
            .collect()
    }

    /// `NAME@VERSION` of the results the gate denies (no exemption applies).
    #[getter]
    fn denied(&self) -> Vec<String> {
        self.inner
            .not_match
            .iter()
            .filter(|r| r.denied)
            .map(|r| format!("{}@{}", r.name, r.version))
            .collect()
    }

    /// `(name, version, reason)` of the packages the inputs name but that were not verified.
    #[getter]
    fn skipped(&self) -> Vec<(String, String, String)> {
        self.inner
            .skipped
            .iter()
            .map(|s| (s.name.clone(), s.version.clone(), s.reason.clone()))
            .collect()
    }

    /// The denied verdicts.
    #[getter]
    fn deny(&self) -> Vec<String> {
        self.inner.deny.clone()
    }

    /// Exemptions that matched no result.
    #[getter]
    fn unused_exemptions(&self) -> Vec<String> {
        self.inner.unused_exemptions.clone()
    }

    /// Whether the gate fails.
    #[getter]
    fn gate_failed(&self) -> bool {
        self.inner.gate_failed
    }

    /// The gate passes.
    #[getter]
    fn ok(&self) -> bool {
        !self.inner.gate_failed
    }

    /// The summary as `crate-provenance scan --format json` prints it.
    fn to_json(&self) -> String {
        summary::json(&self.inner)
    }

    /// The summary as `crate-provenance scan --format markdown` prints it.
    fn to_markdown(&self) -> String {
        summary::markdown(&self.inner)
    }

    /// The summary as `crate-provenance scan` prints it (`--format human`).
    fn to_text(&self) -> String {
        summary::human(&self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "Summary(total={}, verified={}, already={}, gate_failed={})",
            self.inner.total,
            self.verified,
            self.already,
            if self.inner.gate_failed {
                "True"
            } else {
                "False"
            }
        )
    }
}

/// Verify many crate versions with the batch engine, in this process.
#[pyfunction]
#[pyo3(signature = (
    targets = None,
    *,
    out = None,
    lockfile = Vec::new(),
    sbom = Vec::new(),
    all_versions = Vec::new(),
    jobs = 1,
    deny = None,
    policy = None,
    retry_errors = false,
    timeout = 600,
    cache_dir = None,
    index_url = None,
    offline = false,
    allow_insecure_transport = false,
    assisted = true,
    journal = None,
    max_starts = 2,
    before_verify = None,
    mirrors = None,
    cargo_config = None,
))]
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
pub fn scan(
    py: Python<'_>,
    targets: Option<&Bound<'_, PyAny>>,
    out: Option<PathBuf>,
    lockfile: Vec<PathBuf>,
    sbom: Vec<PathBuf>,
    all_versions: Vec<String>,
    jobs: usize,
    deny: Option<Vec<String>>,
    policy: Option<PathBuf>,
    retry_errors: bool,
    timeout: u64,
    cache_dir: Option<PathBuf>,
    index_url: Option<String>,
    offline: bool,
    allow_insecure_transport: bool,
    assisted: bool,
    journal: Option<PathBuf>,
    max_starts: u32,
    before_verify: Option<Py<PyAny>>,
    mirrors: Option<&Bound<'_, pyo3::types::PyDict>>,
    cargo_config: Option<PathBuf>,
) -> PyResult<Summary> {
    if jobs == 0 {
        return Err(invalid("`jobs` must be at least 1"));
    }
    if let Some(cb) = &before_verify
        && !cb.bind(py).is_callable()
    {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "`before_verify` must be callable",
        ));
    }
    let policy = policy::Policy::from_file(policy.as_deref(), deny.as_deref()).map_err(invalid)?;
    let mut options = Options::default();
    options.cache_dir = cache_dir_arg(cache_dir)?;
    options.index_url = crate::index_arg(index_url, cargo_config)?;
    options.offline = offline;
    options.allow_insecure_transport = allow_insecure_transport;
    options.assisted = assisted;
    // The policy file's `[[mirror]]` entries after the keyword's (which win on equal prefixes).
    let mut mirrors = mirrors_arg(mirrors, allow_insecure_transport)?;
    mirrors.extend(
        provenance_core::fetch::mirror::collect(&[], &policy.mirrors, allow_insecure_transport)
            .map_err(|e| invalid(e.to_string()))?,
    );
    options.mirrors = mirrors;

    // The inputs in the CLI's order: lock files, the list, SBOMs, index selections.
    let mut found = inputs::Inputs::default();
    let index = options.index_url.clone();
    for p in &lockfile {
        inputs::lockfile(&mut found, p, index.as_deref()).map_err(invalid)?;
    }
    if let Some(t) = targets {
        add_targets(&mut found, t)?;
    }
    for p in &sbom {
        inputs::sbom(&mut found, p, index.as_deref()).map_err(invalid)?;
    }
    let selections_options = options.clone();
    let mut config = batch::Config::new(options);
    config.jobs = jobs;
    config.timeout = Duration::from_secs(timeout.max(1));
    config.retry_errors = retry_errors;
    config.journal = journal.map(|path| batch::Journal { path, max_starts });
    // A Python exception raised by `before_verify`, re-raised after the run.
    let raised: Arc<Mutex<Option<PyErr>>> = Arc::default();
    if let Some(cb) = before_verify {
        let raised = Arc::clone(&raised);
        config.before_verify = Some(Arc::new(move |t: &Target| {
            Python::attach(
                |py| match cb.call1(py, (t.name.as_str(), t.version.as_str())) {
                    Ok(_) => Ok(()),
                    Err(e) => {
                        *raised.lock().expect("lock") = Some(e);
                        Err(format!("`before_verify` raised for `{}`", t.key()))
                    }
                },
            )
        }));
    }
    let out_path = out.clone();
    let ran = run_detached(py, None, move |_, flag| {
        for name in &all_versions {
            inputs::all_versions(&mut found, name, &selections_options)
                .map_err(|e| BindingError::new(ErrorKind::InvalidInput, e))?;
        }
        let run = batch::run(
            &config,
            &found.targets,
            out_path.as_deref(),
            &mut batch::Silent,
            flag,
        )
        .map_err(|e| BindingError::new(ErrorKind::Io, e))?;
        Ok((run, found.skipped))
    });
    if let Some(e) = raised.lock().expect("lock").take() {
        return Err(e);
    }
    let (run, skipped) = ran?;
    let refs: Vec<&batch::Entry> = run.entries.iter().collect();
    Ok(Summary {
        inner: summary::summarize(&refs, &skipped, &policy),
        verified: run.verified,
        already: run.already,
        elapsed: run.elapsed.as_secs_f64(),
        results: out,
    })
}

/// The crate versions a list file and `Cargo.lock` / SBOM files name, in the CLI's order
/// (lock files, the list, SBOMs), without duplicates, and the skipped packages.
#[pyfunction]
#[pyo3(signature = (targets = None, *, lockfile = Vec::new(), sbom = Vec::new(), index_url = None))]
#[allow(clippy::type_complexity)]
pub fn read_targets(
    targets: Option<&Bound<'_, PyAny>>,
    lockfile: Vec<PathBuf>,
    sbom: Vec<PathBuf>,
    index_url: Option<String>,
) -> PyResult<(Vec<(String, String)>, Vec<(String, String, String)>)> {
    let mut found = inputs::Inputs::default();
    for p in &lockfile {
        inputs::lockfile(&mut found, p, index_url.as_deref()).map_err(invalid)?;
    }
    if let Some(t) = targets {
        add_targets(&mut found, t)?;
    }
    for p in &sbom {
        inputs::sbom(&mut found, p, index_url.as_deref()).map_err(invalid)?;
    }
    Ok((
        found
            .targets
            .into_iter()
            .map(|t| (t.name, t.version))
            .collect(),
        found
            .skipped
            .into_iter()
            .map(|s| (s.name, s.version, s.reason))
            .collect(),
    ))
}

/// The summary of a results file (`crate-provenance report --format json`); `None` = no
/// results (to check `deny` and `policy` early).
#[pyfunction]
#[pyo3(signature = (results = None, *, deny = None, policy = None))]
pub fn summarize(
    py: Python<'_>,
    results: Option<PathBuf>,
    deny: Option<Vec<String>>,
    policy: Option<PathBuf>,
) -> PyResult<Summary> {
    let policy = policy::Policy::from_file(policy.as_deref(), deny.as_deref()).map_err(invalid)?;
    let path = results.clone();
    let entries = run_detached(py, None, move |_, _| match &path {
        Some(p) => results::load(p).map_err(|e| BindingError::new(ErrorKind::Io, e)),
        None => Ok(Vec::new()),
    })?;
    let refs: Vec<&batch::Entry> = entries.iter().collect();
    Ok(Summary {
        inner: summary::summarize(&refs, &[], &policy),
        verified: 0,
        already: entries.len(),
        elapsed: 0.0,
        results,
    })
}

/// `(name, version, partition key, error line)` of [`locate_versions`].
type Located = (String, String, Option<String>, Option<String>);

/// For `distributed`: the partition key of each version to verify, from the registry.
///
/// `specs` are `(name, version)` pairs; `names` are expanded from the index (every version, or
/// the latest, yanked ones only with `include_yanked`), leaving out the `NAME@VERSION`s in
/// `skip`. Returns `(name, version, key, None)` per version, and `(name, "*", None, line)` for a
/// name whose index cannot be read (`line` is its error line).
#[pyfunction]
#[pyo3(signature = (
    specs,
    names = Vec::new(),
    *,
    latest_only = false,
    include_yanked = false,
    skip = Vec::new(),
    cache_dir = None,
    index_url = None,
    offline = false,
    allow_insecure_transport = false,
))]
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
pub fn locate_versions(
    py: Python<'_>,
    specs: Vec<(String, String)>,
    names: Vec<String>,
    latest_only: bool,
    include_yanked: bool,
    skip: Vec<String>,
    cache_dir: Option<PathBuf>,
    index_url: Option<String>,
    offline: bool,
    allow_insecure_transport: bool,
) -> PyResult<Vec<Located>> {
    let mut options = Options::default();
    options.cache_dir = cache_dir_arg(cache_dir)?;
    options.index_url = index_url;
    options.offline = offline;
    options.allow_insecure_transport = allow_insecure_transport;
    let skip: std::collections::HashSet<String> = skip.into_iter().collect();
    run_detached(py, None, move |_, flag| {
        let mut out = Vec::new();
        let mut todo: Vec<Target> = specs
            .into_iter()
            .map(|(name, version)| Target { name, version })
            .collect();
        let selection = inputs::Selection {
            latest_only,
            include_yanked,
        };
        for name in names {
            match inputs::index_versions(&name, selection, &options, flag) {
                Ok(versions) => {
                    todo.extend(versions.into_iter().filter(|t| !skip.contains(&t.key())));
                }
                Err(e) => {
                    let line = outcome::entry(
                        &Target {
                            name: name.clone(),
                            version: "*".to_owned(),
                        },
                        outcome::error(&e),
                    )
                    .to_line();
                    out.push((name, "*".to_owned(), None, Some(line)));
                }
            }
        }
        for t in todo {
            let key = plan::locate(&t, &options, flag);
            out.push((t.name, t.version, Some(key), None));
        }
        Ok(out)
    })
}

/// For `distributed`: whole repositories packed into partitions of up to `size` versions (the
/// engine's planning), from `(name, version, key)`.
#[pyfunction]
pub fn plan_partitions(
    located: Vec<(String, String, String)>,
    size: usize,
) -> PyResult<Vec<Vec<(String, String)>>> {
    if size == 0 {
        return Err(invalid("the partition size must be at least 1"));
    }
    let located: Vec<(Target, String)> = located
        .into_iter()
        .map(|(name, version, key)| (Target { name, version }, key))
        .collect();
    Ok(plan::partitions(&located, size)
        .into_iter()
        .map(|p| p.into_iter().map(|t| (t.name, t.version)).collect())
        .collect())
}

/// The complete lines of a results file (a torn last line is left out); `[]` when it does not
/// exist.
#[pyfunction]
pub fn result_lines(path: PathBuf) -> PyResult<Vec<String>> {
    results::lines(&path).map_err(|e| BindingError::new(ErrorKind::Io, e).into())
}

/// `NAME@VERSION` of a results line, or `None`.
#[pyfunction]
pub fn result_key(line: &str) -> Option<String> {
    results::line_key(line)
}

/// Merge results files into `dest` (a later file's line wins; sorted by `NAME@VERSION`;
/// atomic). Returns the number of lines.
#[pyfunction]
pub fn merge_results(py: Python<'_>, sources: Vec<PathBuf>, dest: PathBuf) -> PyResult<usize> {
    run_detached(py, None, move |_, _| {
        results::merge(&sources, &dest).map_err(|e| BindingError::new(ErrorKind::Io, e))
    })
}

/// The error line of a version whose verification took its process down: `starts` times, or
/// (`None`) once as seen by a scheduler.
#[pyfunction]
#[pyo3(signature = (name, version, starts = None))]
pub fn lost_line(name: String, version: String, starts: Option<u32>) -> String {
    let t = Target { name, version };
    outcome::entry(&t, outcome::lost(&t.key(), starts)).to_line()
}

/// Register the batch functions and classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(scan, m)?)?;
    m.add_function(wrap_pyfunction!(read_targets, m)?)?;
    m.add_function(wrap_pyfunction!(summarize, m)?)?;
    m.add_function(wrap_pyfunction!(locate_versions, m)?)?;
    m.add_function(wrap_pyfunction!(plan_partitions, m)?)?;
    m.add_function(wrap_pyfunction!(result_lines, m)?)?;
    m.add_function(wrap_pyfunction!(result_key, m)?)?;
    m.add_function(wrap_pyfunction!(merge_results, m)?)?;
    m.add_function(wrap_pyfunction!(lost_line, m)?)?;
    m.add_class::<Summary>()?;
    Ok(())
}
