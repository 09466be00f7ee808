//! `prov_report`: the result of a verification.

use std::ffi::{CStr, c_char};

use provenance_core::{Inspection, Report};

use crate::handle::{self, Castable};
use crate::result::{
    PROV_RESULT_INDEX_OUT_OF_RANGE, PROV_RESULT_NULL_PARAMETER, PROV_RESULT_OK, prov_result,
};
use crate::strings;

/// The report of one verification: the verdict, every difference, and the full JSON document
/// (the same bytes as `crate-provenance verify --format json`, without the final newline).
/// Returned by `prov_verify_*`, freed with `prov_report_free`. A report is immutable: any number
/// of threads may read it at once. Strings borrowed from it stay valid until it is freed.
///
/// `prov_inspect_file` returns the same handle type holding an inspection: its JSON is the
/// inspection's (`crate-provenance inspect --format json`), and it has no verdict (NULL) and no
/// differences.
#[derive(Debug)]
pub struct prov_report {
    _private: [u8; 0],
}

#[derive(Debug)]
pub(crate) struct ReportData {
    /// `None` for an inspection.
    verdict: Option<&'static CStr>,
    /// NUL-terminated.
    json: Box<[u8]>,
    /// NUL-terminated paths, one per difference.
    paths: Vec<Box<[u8]>>,
    kinds: Vec<&'static CStr>,
    /// Crate name and version, and what `prov_sbom_annotate` records for this report (`None`
    /// for an inspection, which has no verdict: `prov_sbom_annotate` leaves its component as
    /// it is).
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) annotation: Option<provenance_core::sbom::Annotation>,
}

impl Castable for prov_report {
    type RustType = ReportData;
}

impl ReportData {
    pub(crate) fn new(report: &Report) -> ReportData {
        ReportData {
            verdict: Some(strings::intern(report.verdict.as_str())),
            json: strings::to_c_bytes(&report.to_json()),
            paths: report
                .differences
                .iter()
                .map(|d| strings::to_c_bytes(&d.path))
                .collect(),
            kinds: report
                .differences
                .iter()
                .map(|d| strings::intern(d.kind.as_str()))
                .collect(),
            name: report.krate.name.clone(),
            version: report.krate.version.clone(),
            annotation: Some(crate::sbom::annotation(report)),
        }
    }

    /// An inspection: its JSON, no verdict, no differences.
    pub(crate) fn from_inspection(inspection: &Inspection) -> ReportData {
        ReportData {
            verdict: None,
            json: strings::to_c_bytes(&inspection.to_json()),
            paths: Vec::new(),
            kinds: Vec::new(),
            name: inspection.krate.name.clone(),
            version: inspection.krate.version.clone(),
            annotation: None,
        }
    }
}

/// The verdict as a static NUL-terminated string: `"match"`, `"mismatch"`,
/// `"match_but_symlinks"`, `"no_vcs_info"`, … (see VERDICTS.md). The string is never freed and
/// outlives the report. Returns NULL if `report` is NULL or not a live report, and for an
/// inspection (from `prov_inspect_file`), which has no verdict.
///
/// # Safety
///
/// `report` must not be freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_report_verdict(report: *const prov_report) -> *const c_char {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        match unsafe { handle::borrow(report) } {
            Ok(r) => r.verdict.map_or(std::ptr::null(), CStr::as_ptr),
            Err(_) => std::ptr::null(),
        }
    }
}

/// The number of differences (0 for NULL, an invalid handle or an inspection).
///
/// # Safety
///
/// `report` must not be freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_report_difference_count(report: *const prov_report) -> usize {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        match unsafe { handle::borrow(report) } {
            Ok(r) => r.paths.len(),
            Err(_) => 0,
        }
    }
}

/// The package-relative, `/`-separated path of difference `i` (differences are sorted by path;
/// an inspection has none: `PROV_RESULT_INDEX_OUT_OF_RANGE`).
///
/// On success `*out` points to the path (NUL-terminated, borrowed from the report: valid until
/// `prov_report_free`) and `*out_len` is its length in bytes without the NUL.
///
/// # Safety
///
/// `out` and `out_len` must be valid for writes; `report` must not be freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_report_difference_path(
    report: *const prov_report,
    i: usize,
    out: *mut *const c_char,
    out_len: *mut usize,
) -> prov_result {
    ffi_panic_boundary! {
        if out.is_null() || out_len.is_null() {
            return PROV_RESULT_NULL_PARAMETER;
        }
        // SAFETY: forwarded contract.
        let r = match unsafe { handle::borrow(report) } {
            Ok(r) => r,
            Err(e) => return e.into(),
        };
        let Some(path) = r.paths.get(i) else {
            return PROV_RESULT_INDEX_OUT_OF_RANGE;
        };
        // SAFETY: both pointers are non-NULL and writable per the contract.
        unsafe { strings::write_borrowed(path, out, out_len) };
        PROV_RESULT_OK
    }
}

/// The kind of difference `i` as a static NUL-terminated string (`"content_differs"`,
/// `"only_in_published"`, `"only_in_repo"`, `"symlink_text"`, `"in_submodule"`), or NULL if
/// `report` is invalid or `i` is out of range (always for an inspection).
///
/// # Safety
///
/// `report` must not be freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_report_difference_kind(
    report: *const prov_report,
    i: usize,
) -> *const c_char {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        match unsafe { handle::borrow(report) } {
            Ok(r) => r.kinds.get(i).map_or(std::ptr::null(), |k| k.as_ptr()),
            Err(_) => std::ptr::null(),
        }
    }
}

/// The full report as pretty-printed JSON (schema_version 1; byte-identical to the CLI's
/// `--format json` output without its final newline): the verification report of
/// `schema/report.v1.json`, or for a handle from `prov_inspect_file` the inspection of
/// `schema/inspect.v1.json` (`crate-provenance inspect --format json`).
///
/// On success `*out` points to the document (UTF-8, NUL-terminated, borrowed from the report:
/// valid until `prov_report_free`) and `*out_len` is its length in bytes without the NUL.
///
/// # Safety
///
/// `out` and `out_len` must be valid for writes; `report` must not be freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_report_json(
    report: *const prov_report,
    out: *mut *const c_char,
    out_len: *mut usize,
) -> prov_result {
    ffi_panic_boundary! {
        if out.is_null() || out_len.is_null() {
            return PROV_RESULT_NULL_PARAMETER;
        }
        // SAFETY: forwarded contract.
        let r = match unsafe { handle::borrow(report) } {
            Ok(r) => r,
            Err(e) => return e.into(),
        };
        // SAFETY: both pointers are non-NULL and writable per the contract.
        unsafe { strings::write_borrowed(&r.json, out, out_len) };
        PROV_RESULT_OK
    }
}

/// Free a report and every string borrowed from it. NULL is accepted and ignored; so is a
/// report that was already freed (detected, not undefined behaviour), but call it exactly once.
///
/// # Safety
///
/// No other call may be using `report`, and strings borrowed from it must no longer be used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_report_free(report: *mut prov_report) {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        unsafe { handle::free(report) }
    }
}
