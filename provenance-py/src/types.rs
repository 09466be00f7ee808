//! Immutable Python views of core's report types. Conversion only: every value comes from
//! `provenance_core::Report` or `provenance_core::Inspection`, and `to_json()` is core's own
//! serialization.

use provenance_core as core;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

/// Python's `repr()` of a string (quotes and escapes exactly as Python would).
fn repr_str(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_string())
}

fn repr_opt(py: Python<'_>, s: Option<&str>) -> PyResult<String> {
    s.map_or_else(|| Ok("None".to_owned()), |s| repr_str(py, s))
}

fn new_list<T: pyo3::PyClass>(py: Python<'_>, items: &[Py<T>]) -> PyResult<Py<PyList>> {
    Ok(PyList::new(py, items.iter().map(|i| i.clone_ref(py)))?.unbind())
}

/// Size and SHA-256 of one side of a difference.
#[pyclass(frozen, module = "crate_provenance._native", get_all)]
#[derive(Debug)]
pub struct FileDigest {
    size: u64,
    sha256: String,
}

#[pymethods]
impl FileDigest {
    fn __repr__(&self) -> String {
        format!("FileDigest(size={}, sha256='{}')", self.size, self.sha256)
    }
}

impl FileDigest {
    fn new(py: Python<'_>, d: Option<&core::FileDigest>) -> PyResult<Option<Py<FileDigest>>> {
        d.map(|d| {
            Py::new(
                py,
                FileDigest {
                    size: d.size,
                    sha256: d.sha256.clone(),
                },
            )
        })
        .transpose()
    }
}

/// One file that differs between the `.crate` and what cargo would package.
#[pyclass(frozen, module = "crate_provenance._native", get_all)]
#[derive(Debug)]
pub struct Difference {
    path: String,
    kind: &'static str,
    diff: Option<String>,
    published: Option<Py<FileDigest>>,
    repo: Option<Py<FileDigest>>,
    repo_path: Option<String>,
    category: Option<&'static str>,
    severity: Option<&'static str>,
}

#[pymethods]
impl Difference {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Difference(path={}, kind='{}')",
            repr_str(py, &self.path)?,
            self.kind
        ))
    }
}

impl Difference {
    fn new(py: Python<'_>, d: &core::Difference) -> PyResult<Py<Difference>> {
        Py::new(
            py,
            Difference {
                path: d.path.clone(),
                kind: d.kind.as_str(),
                diff: d.diff.clone(),
                published: FileDigest::new(py, d.published.as_ref())?,
                repo: FileDigest::new(py, d.repo.as_ref())?,
                repo_path: d.repo_path.clone(),
                category: d.category.map(core::report::Category::as_str),
                severity: d.severity.map(severity),
            },
        )
    }

    fn list(py: Python<'_>, ds: &[core::Difference]) -> PyResult<Vec<Py<Difference>>> {
        ds.iter().map(|d| Difference::new(py, d)).collect()
    }
}

/// An observation that does not by itself decide the verdict.
#[pyclass(frozen, module = "crate_provenance._native", get_all)]
#[derive(Debug)]
pub struct Finding {
    kind: String,
    severity: &'static str,
    message: String,
    path: Option<String>,
}

#[pymethods]
impl Finding {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Finding(kind={}, severity='{}', path={})",
            repr_str(py, &self.kind)?,
            self.severity,
            repr_opt(py, self.path.as_deref())?
        ))
    }
}

impl Finding {
    fn list(py: Python<'_>, fs: &[core::Finding]) -> PyResult<Vec<Py<Finding>>> {
        fs.iter()
            .map(|f| {
                Py::new(
                    py,
                    Finding {
                        kind: f.kind.clone(),
                        severity: severity(f.severity),
                        message: f.message.clone(),
                        path: f.path.clone(),
                    },
                )
            })
            .collect()
    }
}

fn severity(s: core::Severity) -> &'static str {
    match s {
        core::Severity::Info => "info",
        core::Severity::Low => "low",
        core::Severity::Medium => "medium",
        core::Severity::High => "high",
    }
}

fn source_how(h: core::SourceHow) -> &'static str {
    match h {
        core::SourceHow::Recorded => "recorded",
        core::SourceHow::DiscoveredPath => "discovered_path",
        core::SourceHow::Tag => "tag",
        // `SourceHow` is non-exhaustive; a new variant needs a name here.
        _ => "unknown",
    }
}

/// Where the expected files come from.
#[pyclass(frozen, module = "crate_provenance._native", get_all)]
#[derive(Debug)]
pub struct Source {
    repository: Option<String>,
    commit: Option<String>,
    path_in_vcs: Option<String>,
    dirty: bool,
    how: &'static str,
    /// Where the repository was fetched from when a mirror applied.
    fetched_from: Option<String>,
}

#[pymethods]
impl Source {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Source(repository={}, commit={}, path_in_vcs={}, dirty={}, how='{}')",
            repr_opt(py, self.repository.as_deref())?,
            repr_opt(py, self.commit.as_deref())?,
            repr_opt(py, self.path_in_vcs.as_deref())?,
            if self.dirty { "True" } else { "False" },
            self.how
        ))
    }
}

/// File counts.
#[pyclass(frozen, module = "crate_provenance._native", get_all)]
#[derive(Debug)]
pub struct FileCounts {
    published: u64,
    compared: u64,
    equal: u64,
}

#[pymethods]
impl FileCounts {
    fn __repr__(&self) -> String {
        format!(
            "FileCounts(published={}, compared={}, equal={})",
            self.published, self.compared, self.equal
        )
    }
}

impl FileCounts {
    fn new(py: Python<'_>, f: core::FileCounts) -> PyResult<Py<FileCounts>> {
        Py::new(
            py,
            FileCounts {
                published: f.published,
                compared: f.compared,
                equal: f.equal,
            },
        )
    }
}

/// The assisted search's result for `no_vcs_info` / `revision_not_found`: every field of the
/// JSON report's `assisted` object.
#[pyclass(frozen, module = "crate_provenance._native")]
#[derive(Debug)]
pub struct Assisted {
    #[pyo3(get)]
    how: String,
    #[pyo3(get, name = "ref")]
    reference: String,
    #[pyo3(get)]
    commit: String,
    #[pyo3(get)]
    verdict: &'static str,
    #[pyo3(get)]
    path_in_vcs: String,
    #[pyo3(get)]
    files: Py<FileCounts>,
    #[pyo3(get)]
    summary: String,
    #[pyo3(get)]
    reason: String,
    #[pyo3(get)]
    tried: u64,
    #[pyo3(get)]
    commits_walked: u64,
    #[pyo3(get)]
    complete: bool,
    #[pyo3(get)]
    era: String,
    differences: Vec<Py<Difference>>,
    findings: Vec<Py<Finding>>,
}

#[pymethods]
impl Assisted {
    #[getter]
    fn differences(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        new_list(py, &self.differences)
    }

    #[getter]
    fn findings(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        new_list(py, &self.findings)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Assisted(ref={}, commit='{}', verdict='{}', differences={})",
            repr_str(py, &self.reference)?,
            self.commit,
            self.verdict,
            self.differences.len()
        ))
    }
}

/// The result of a verification. Immutable; a mismatch is a report, not an exception.
#[pyclass(frozen, module = "crate_provenance._native")]
#[derive(Debug)]
pub struct Report {
    #[pyo3(get)]
    schema_version: u32,
    #[pyo3(get)]
    name: String,
    #[pyo3(get)]
    version: String,
    #[pyo3(get)]
    sha256: String,
    #[pyo3(get)]
    verdict: &'static str,
    #[pyo3(get)]
    source: Py<Source>,
    #[pyo3(get)]
    files: Py<FileCounts>,
    #[pyo3(get)]
    assisted: Option<Py<Assisted>>,
    #[pyo3(get)]
    summary: String,
    differences: Vec<Py<Difference>>,
    findings: Vec<Py<Finding>>,
    inner: core::Report,
}

#[pymethods]
impl Report {
    /// `verdict == "match"`.
    #[getter]
    fn ok(&self) -> bool {
        self.inner.is_match()
    }

    #[getter]
    fn differences(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        new_list(py, &self.differences)
    }

    #[getter]
    fn findings(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        new_list(py, &self.findings)
    }

    /// The JSON report: exactly the bytes `crate-provenance verify --format json` prints
    /// (without its trailing newline).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The JSON report as plain Python objects (`json.loads(self.to_json())`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?
            .call_method1("loads", (self.inner.to_json(),))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Report(name={}, version={}, verdict='{}', differences={}, findings={})",
            repr_str(py, &self.name)?,
            repr_str(py, &self.version)?,
            self.verdict,
            self.differences.len(),
            self.findings.len()
        ))
    }
}

impl Report {
    pub(crate) fn new(py: Python<'_>, r: core::Report) -> PyResult<Report> {
        let source = Py::new(
            py,
            Source {
                repository: r.source.repository.clone(),
                commit: r.source.commit.clone(),
                path_in_vcs: r.source.path_in_vcs.clone(),
                dirty: r.source.dirty,
                how: source_how(r.source.how),
                fetched_from: r.source.fetched_from.clone(),
            },
        )?;
        let assisted = r
            .assisted
            .as_ref()
            .map(|a| -> PyResult<Py<Assisted>> {
                Py::new(
                    py,
                    Assisted {
                        how: a.how.clone(),
                        reference: a.reference.clone(),
                        commit: a.commit.clone(),
                        verdict: a.verdict.as_str(),
                        path_in_vcs: a.path_in_vcs.clone(),
                        files: FileCounts::new(py, a.files)?,
                        summary: a.summary.clone(),
                        reason: a.reason.clone(),
                        tried: a.tried,
                        commits_walked: a.commits_walked,
                        complete: a.complete,
                        era: a.era.clone(),
                        differences: Difference::list(py, &a.differences)?,
                        findings: Finding::list(py, &a.findings)?,
                    },
                )
            })
            .transpose()?;
        let findings = Finding::list(py, &r.findings)?;
        Ok(Report {
            schema_version: r.schema_version,
            name: r.krate.name.clone(),
            version: r.krate.version.clone(),
            sha256: r.krate.sha256.clone(),
            verdict: r.verdict.as_str(),
            source,
            files: FileCounts::new(py, r.files)?,
            assisted,
            summary: r.summary.clone(),
            differences: Difference::list(py, &r.differences)?,
            findings,
            inner: r,
        })
    }
}

/// The result of an inspection: a crate examined alone, without its repository. Immutable;
/// there is no verdict, `findings` holds every crate-intrinsic finding.
#[pyclass(frozen, module = "crate_provenance._native")]
#[derive(Debug)]
pub struct Inspection {
    #[pyo3(get)]
    schema_version: u32,
    #[pyo3(get)]
    name: String,
    #[pyo3(get)]
    version: String,
    #[pyo3(get)]
    sha256: String,
    #[pyo3(get)]
    era_min: String,
    #[pyo3(get)]
    era_max: String,
    #[pyo3(get)]
    has_high: bool,
    findings: Vec<Py<Finding>>,
    inner: core::Inspection,
}

#[pymethods]
impl Inspection {
    /// The crate's name (same as `name`).
    #[getter]
    fn crate_name(&self) -> &str {
        &self.name
    }

    #[getter]
    fn findings(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        new_list(py, &self.findings)
    }

    #[getter]
    fn era_evidence(&self) -> Vec<String> {
        self.inner.era.evidence.clone()
    }

    /// `to_dict()["inventory"]` (a new dict on every access).
    #[getter]
    fn inventory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.to_dict(py)?.get_item("inventory")
    }

    /// `to_dict()["declared"]` (a new dict on every access).
    #[getter]
    fn declared<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.to_dict(py)?.get_item("declared")
    }

    /// The JSON document: exactly the bytes `crate-provenance inspect --format json` prints
    /// (without its trailing newline).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The JSON document as plain Python objects (`json.loads(self.to_json())`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?
            .call_method1("loads", (self.inner.to_json(),))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Inspection(name={}, version={}, findings={}, has_high={})",
            repr_str(py, &self.name)?,
            repr_str(py, &self.version)?,
            self.findings.len(),
            if self.has_high { "True" } else { "False" }
        ))
    }
}

impl Inspection {
    pub(crate) fn new(py: Python<'_>, i: core::Inspection) -> PyResult<Inspection> {
        Ok(Inspection {
            schema_version: i.schema_version,
            name: i.krate.name.clone(),
            version: i.krate.version.clone(),
            sha256: i.krate.sha256.clone(),
            era_min: i.era.min.clone(),
            era_max: i.era.max.clone(),
            has_high: i.has_high(),
            findings: Finding::list(py, &i.findings)?,
            inner: i,
        })
    }
}
