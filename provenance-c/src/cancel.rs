//! `prov_cancel`: a cancellation token for running verifications (SECURITY.md B5).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::handle::{self, Castable};
use crate::result::{PROV_RESULT_NULL_PARAMETER, PROV_RESULT_OK, prov_result};

/// A cancellation token. Attach it to options with `prov_options_set_cancel`; any thread may
/// then call `prov_cancel_trigger` to make running and future verifications with those options
/// return `PROV_RESULT_INTERRUPTED`. A triggered token stays triggered.
#[derive(Debug)]
pub struct prov_cancel {
    _private: [u8; 0],
}

impl Castable for prov_cancel {
    type RustType = Arc<AtomicBool>;
}

/// Create an untriggered token; free it with `prov_cancel_free`.
///
/// # Safety
///
/// `out` must be NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_cancel_new(out: *mut *mut prov_cancel) -> prov_result {
    ffi_panic_boundary! {
        if out.is_null() {
            return PROV_RESULT_NULL_PARAMETER;
        }
        let handle = handle::into_handle::<prov_cancel>(Arc::new(AtomicBool::new(false)));
        // SAFETY: non-NULL and writable per the contract.
        unsafe { *out = handle };
        PROV_RESULT_OK
    }
}

/// Trigger the token. Thread-safe; not async-signal-safe (the handle lookup takes a lock), so
/// from a signal handler set a flag and trigger from a normal thread.
///
/// # Safety
///
/// `cancel` must not be freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_cancel_trigger(cancel: *const prov_cancel) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        match unsafe { handle::borrow(cancel) } {
            Ok(flag) => {
                flag.store(true, Ordering::Relaxed);
                PROV_RESULT_OK
            }
            Err(e) => e.into(),
        }
    }
}

/// Free a token (options it was attached to keep working with their own reference). NULL and
/// an already-freed token are ignored.
///
/// # Safety
///
/// No other call may be using `cancel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_cancel_free(cancel: *mut prov_cancel) {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        unsafe { handle::free(cancel) }
    }
}
