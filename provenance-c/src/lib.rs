//! # crate_provenance — the C API of crate-provenance
//!
//! A thin, panic-safe C ABI over [`provenance_core`]. The header `include/crate_provenance.h`
//! is generated from this crate by cbindgen (see `cbindgen.toml`) and committed; the
//! conventions (rustls-ffi style) are described in `README.md`, "API Conventions":
//!
//! * every symbol starts with `prov_`; handles (`prov_options`, `prov_report`, `prov_sbom`,
//!   `prov_error`, `prov_cancel`) are opaque and owned by the library;
//! * fallible functions return a [`prov_result`] with fixed numbers and write their outputs
//!   through out-parameters only on success;
//! * `_free` accepts NULL; handles are tracked, so a double free or a wrong/stale handle is
//!   detected (ignored by `_free`, [`PROV_RESULT_INVALID_HANDLE`] elsewhere) instead of being UB;
//! * every exported body runs inside [`ffi_panic_boundary!`], so a Rust panic becomes
//!   [`PROV_RESULT_PANIC`] (or NULL / 0) and never unwinds into C.
#![allow(non_camel_case_types)]

#[macro_use]
mod boundary;
mod cancel;
mod error;
mod handle;
mod options;
mod report;
mod result;
mod sbom;
mod strings;
mod verify;

pub use cancel::{prov_cancel, prov_cancel_free, prov_cancel_new, prov_cancel_trigger};
pub use error::{prov_error, prov_error_code, prov_error_free, prov_error_message};
pub use options::{
    prov_options, prov_options_free, prov_options_new, prov_options_set_assisted,
    prov_options_set_cache_dir, prov_options_set_cancel, prov_options_set_index_url,
    prov_options_set_offline, prov_options_set_older_rules, prov_options_set_progress,
    prov_progress_callback,
};
pub use report::{
    prov_report, prov_report_difference_count, prov_report_difference_kind,
    prov_report_difference_path, prov_report_free, prov_report_json, prov_report_verdict,
};
pub use result::{
    PROV_RESULT_CHECKSUM_MISMATCH, PROV_RESULT_CRATE_NOT_FOUND, PROV_RESULT_GIT,
    PROV_RESULT_INDEX_OUT_OF_RANGE, PROV_RESULT_INTERNAL, PROV_RESULT_INTERRUPTED,
    PROV_RESULT_INVALID_ARCHIVE, PROV_RESULT_INVALID_HANDLE, PROV_RESULT_INVALID_INPUT,
    PROV_RESULT_INVALID_METADATA, PROV_RESULT_INVALID_UTF8, PROV_RESULT_IO,
    PROV_RESULT_LIMIT_EXCEEDED, PROV_RESULT_NETWORK, PROV_RESULT_NOT_FOUND,
    PROV_RESULT_NULL_PARAMETER, PROV_RESULT_OK, PROV_RESULT_PANIC, PROV_RESULT_PERMISSION_DENIED,
    PROV_RESULT_UNSUPPORTED, PROV_RESULT_URL_POLICY, PROV_RESULT_VERSION_MISMATCH, prov_result,
    prov_result_message, prov_result_name,
};
pub use sbom::{
    prov_sbom, prov_sbom_annotate, prov_sbom_annotated_count, prov_sbom_bytes, prov_sbom_free,
};
pub use verify::{
    prov_inspect_file, prov_verify_crate, prov_verify_crate_ex, prov_verify_crate_file,
    prov_verify_crate_file_ex,
};

/// The library version as a static NUL-terminated string, e.g. `"0.1.0"`.
///
/// Compare it with `PROV_VERSION_STRING` from the header to detect a header/library mismatch.
#[unsafe(no_mangle)]
pub extern "C" fn prov_version() -> *const std::ffi::c_char {
    ffi_panic_boundary! {
        VERSION.as_ptr()
    }
}

/// Check that the header a program was compiled with matches this library: call
/// `prov_check_version(PROV_VERSION_STRING)` once at start-up. Returns `PROV_RESULT_OK` or
/// `PROV_RESULT_VERSION_MISMATCH` (there is no ABI stability before 1.0, so the versions must be
/// equal), `PROV_RESULT_NULL_PARAMETER` for NULL.
///
/// # Safety
///
/// `header_version` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_check_version(
    header_version: *const std::ffi::c_char,
) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: NULL or NUL-terminated per the contract.
        match unsafe { strings::bytes(header_version) } {
            Ok(v) if v == VERSION.to_bytes() => PROV_RESULT_OK,
            Ok(_) => PROV_RESULT_VERSION_MISMATCH,
            Err(code) => code,
        }
    }
}

const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
) {
    Ok(v) => v,
    Err(_) => panic!("version contains NUL"),
};
