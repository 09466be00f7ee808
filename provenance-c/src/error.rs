//! `prov_error`: the detail of a failed verification (optional; see `prov_verify_*_ex`).

use std::ffi::c_char;

use crate::handle::{self, Castable};
use crate::result::{PROV_RESULT_NULL_PARAMETER, PROV_RESULT_OK, prov_result};
use crate::strings;

/// The detail of a failed call: its code and an English message naming what failed (which
/// file, which limit, …). Returned through the optional `err_out` parameter of the `_ex`
/// functions; freed with `prov_error_free`. Immutable and shareable between threads.
#[derive(Debug)]
pub struct prov_error {
    _private: [u8; 0],
}

#[derive(Debug)]
pub(crate) struct ErrorData {
    code: prov_result,
    /// NUL-terminated.
    message: Box<[u8]>,
}

impl Castable for prov_error {
    type RustType = ErrorData;
}

impl ErrorData {
    pub(crate) fn new(code: prov_result, message: &str) -> ErrorData {
        ErrorData {
            code,
            message: strings::to_c_bytes(message),
        }
    }
}

/// Hand out a new error object.
pub(crate) fn into_handle(data: ErrorData) -> *mut prov_error {
    handle::into_handle::<prov_error>(data)
}

/// The code of the failure (the same value the `_ex` function returned);
/// `PROV_RESULT_NULL_PARAMETER` / `PROV_RESULT_INVALID_HANDLE` if `err` is NULL / invalid.
///
/// # Safety
///
/// `err` must not be freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_error_code(err: *const prov_error) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        match unsafe { handle::borrow(err) } {
            Ok(e) => e.code,
            Err(e) => e.into(),
        }
    }
}

/// The message (UTF-8, NUL-terminated, terminal-safe as produced by the library; borrowed:
/// valid until `prov_error_free`). `*out_len` is its length without the NUL.
///
/// # Safety
///
/// `out` and `out_len` must be valid for writes; `err` must not be freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_error_message(
    err: *const prov_error,
    out: *mut *const c_char,
    out_len: *mut usize,
) -> prov_result {
    ffi_panic_boundary! {
        if out.is_null() || out_len.is_null() {
            return PROV_RESULT_NULL_PARAMETER;
        }
        // SAFETY: forwarded contract.
        let e = match unsafe { handle::borrow(err) } {
            Ok(e) => e,
            Err(e) => return e.into(),
        };
        // SAFETY: both pointers are non-NULL and writable per the contract.
        unsafe { strings::write_borrowed(&e.message, out, out_len) };
        PROV_RESULT_OK
    }
}

/// Free an error. NULL (and an already-freed error) is accepted and ignored.
///
/// # Safety
///
/// No other call may be using `err`, and its message must no longer be used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_error_free(err: *mut prov_error) {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        unsafe { handle::free(err) }
    }
}
