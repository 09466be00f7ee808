//! `prov_sbom`: an SBOM annotated with verification results (`provenance_core::sbom`), the same
//! document `crate-provenance scan --sbom IN --annotate OUT` writes.

use std::ffi::c_char;

use provenance_core::sbom::{self, Annotation};

use crate::handle::{self, Castable};
use crate::report::prov_report;
use crate::result::{PROV_RESULT_NULL_PARAMETER, PROV_RESULT_OK, from_kind, prov_result};
use crate::strings;

/// A CycloneDX JSON or SPDX JSON document annotated with verdicts. Returned by
/// `prov_sbom_annotate`, freed with `prov_sbom_free`; immutable.
#[derive(Debug)]
pub struct prov_sbom {
    _private: [u8; 0],
}

#[derive(Debug)]
pub(crate) struct SbomData {
    /// The document, NUL-terminated (JSON never holds a raw NUL).
    bytes: Box<[u8]>,
    annotated: usize,
}

impl Castable for prov_sbom {
    type RustType = SbomData;
}

/// Annotate an SBOM with reports: every `pkg:cargo/NAME@VERSION` component of a CycloneDX JSON
/// document gets the properties `crate-provenance:verdict`, `crate-provenance:commit` and
/// `crate-provenance:report-sha256` (the SHA-256 of the report's compact JSON); every such
/// package of an SPDX 2.3 JSON document gets an annotation (`annotationType` `OTHER`) with the
/// same three facts, dated `date` (`YYYY-MM-DDThh:mm:ssZ`). Components without a report among
/// `reports` (matched by the report's crate name and version) and everything else in the
/// document are left as they are; member order is kept.
///
/// `reports` points to `reports_len` report handles (it may be NULL when `reports_len` is 0).
/// On success `*out` receives a new `prov_sbom`. `PROV_RESULT_INVALID_INPUT` when the document
/// is not JSON or neither CycloneDX nor SPDX; `PROV_RESULT_INVALID_HANDLE` for a bad report.
///
/// # Safety
///
/// `sbom` must point to `sbom_len` readable bytes; `reports` to `reports_len` report pointers;
/// `date` must be a NUL-terminated string; `out` must be valid for writes. The reports must not
/// be freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_sbom_annotate(
    sbom: *const u8,
    sbom_len: usize,
    reports: *const *const prov_report,
    reports_len: usize,
    date: *const c_char,
    out: *mut *mut prov_sbom,
) -> prov_result {
    ffi_panic_boundary! {
        if sbom.is_null() || out.is_null() || (reports.is_null() && reports_len > 0) {
            return PROV_RESULT_NULL_PARAMETER;
        }
        // SAFETY: non-NULL, NUL-terminated per the contract.
        let date = match unsafe { strings::utf8(date) } {
            Ok(d) => d,
            Err(e) => return e,
        };
        // SAFETY: `sbom` is non-NULL and points to `sbom_len` readable bytes per the contract.
        let doc = unsafe { std::slice::from_raw_parts(sbom, sbom_len) };
        let handles: &[*const prov_report] = if reports_len == 0 {
            &[]
        } else {
            // SAFETY: non-NULL and `reports_len` readable pointers per the contract.
            unsafe { std::slice::from_raw_parts(reports, reports_len) }
        };
        let mut known = Vec::with_capacity(handles.len());
        for &h in handles {
            // SAFETY: forwarded contract (each report stays alive during the call).
            match unsafe { handle::borrow(h) } {
                Ok(r) => known.push(r),
                Err(e) => return e.into(),
            }
        }
        let annotated = sbom::annotate(
            doc,
            concat!("crate-provenance-", env!("CARGO_PKG_VERSION")),
            date,
            &mut |name, version| {
                known
                    .iter()
                    .find(|r| {
                        r.annotation.is_some()
                            && r.name.eq_ignore_ascii_case(name)
                            && r.version == version
                    })
                    .and_then(|r| r.annotation.clone())
            },
        );
        match annotated {
            Ok(a) => {
                let mut bytes = a.bytes;
                bytes.push(0);
                let h = handle::into_handle::<prov_sbom>(SbomData {
                    bytes: bytes.into_boxed_slice(),
                    annotated: a.annotated,
                });
                // SAFETY: `out` is non-NULL and writable per the contract.
                unsafe { *out = h };
                PROV_RESULT_OK
            }
            Err(e) => from_kind(e.kind()),
        }
    }
}

/// The annotated document: on success `*out` points to it (UTF-8 JSON ending in a newline,
/// NUL-terminated, borrowed: valid until `prov_sbom_free`) and `*out_len` is its length in
/// bytes without the NUL.
///
/// # Safety
///
/// `out` and `out_len` must be valid for writes; `sbom` must not be freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_sbom_bytes(
    sbom: *const prov_sbom,
    out: *mut *const c_char,
    out_len: *mut usize,
) -> prov_result {
    ffi_panic_boundary! {
        if out.is_null() || out_len.is_null() {
            return PROV_RESULT_NULL_PARAMETER;
        }
        // SAFETY: forwarded contract.
        let s = match unsafe { handle::borrow(sbom) } {
            Ok(s) => s,
            Err(e) => return e.into(),
        };
        // SAFETY: both pointers are non-NULL and writable per the contract.
        unsafe { strings::write_borrowed(&s.bytes, out, out_len) };
        PROV_RESULT_OK
    }
}

/// How many components (CycloneDX) or packages (SPDX) were annotated (0 for NULL or an invalid
/// handle).
///
/// # Safety
///
/// `sbom` must not be freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_sbom_annotated_count(sbom: *const prov_sbom) -> usize {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        match unsafe { handle::borrow(sbom) } {
            Ok(s) => s.annotated,
            Err(_) => 0,
        }
    }
}

/// Free an annotated SBOM and the document borrowed from it. NULL is accepted and ignored; so is
/// one already freed, but call it exactly once.
///
/// # Safety
///
/// No other call may be using `sbom`, and the document borrowed from it must no longer be used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_sbom_free(sbom: *mut prov_sbom) {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        unsafe { handle::free(sbom) }
    }
}

/// What a report contributes to an annotation.
pub(crate) fn annotation(report: &provenance_core::Report) -> Annotation {
    Annotation::of_report(report)
}
