//! `prov_options`: verification options.

use std::ffi::c_char;

use provenance_core::Options;

use crate::handle::{self, Castable};
use crate::result::{PROV_RESULT_NULL_PARAMETER, PROV_RESULT_OK, prov_result};
use crate::strings;

/// Options for a verification: cache directory, offline mode, … Create with
/// `prov_options_new`, free with `prov_options_free`. One `prov_options` may be used by many
/// threads at once for verifications, but must not be modified (`prov_options_set_*`) or
/// freed while any call uses it.
#[derive(Debug)]
pub struct prov_options {
    _private: [u8; 0],
}

impl Castable for prov_options {
    type RustType = Options;
}

/// Create options with the defaults: no cache directory, online, assisted tag search on,
/// older-cargo rules on, crates.io index, default resource limits.
///
/// On success `*out` receives a new handle, to be freed with `prov_options_free`.
///
/// # Safety
///
/// `out` must be NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_options_new(out: *mut *mut prov_options) -> prov_result {
    ffi_panic_boundary! {
        if out.is_null() {
            return PROV_RESULT_NULL_PARAMETER;
        }
        let handle = handle::into_handle::<prov_options>(Options::default());
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { *out = handle };
        PROV_RESULT_OK
    }
}

/// Free options created by `prov_options_new`. NULL is accepted and ignored; so is a handle
/// that was already freed (detected, not undefined behaviour), but call it exactly once.
///
/// # Safety
///
/// `opts` must not be in use by another call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_options_free(opts: *mut prov_options) {
    ffi_panic_boundary! {
        // SAFETY: the caller guarantees no call is using `opts`.
        unsafe { handle::free(opts) }
    }
}

/// Apply `f` to the options behind `opts`.
///
/// # Safety
///
/// `opts` must not be in use by another call.
unsafe fn with_mut(
    opts: *mut prov_options,
    f: impl FnOnce(&mut Options) -> Result<(), prov_result>,
) -> prov_result {
    // SAFETY: forwarded contract: exclusive use of `opts` during this call.
    match unsafe { handle::borrow_mut(opts) } {
        Ok(o) => match f(o) {
            Ok(()) => PROV_RESULT_OK,
            Err(code) => code,
        },
        Err(e) => e.into(),
    }
}

/// Set the cache directory for downloads and fetched repositories (any bytes on Unix). The
/// path is copied.
///
/// # Safety
///
/// `opts` must not be in use by another call; `dir` must be a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_options_set_cache_dir(
    opts: *mut prov_options,
    dir: *const c_char,
) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: NULL or NUL-terminated per the contract (NULL is refused).
        let dir = match unsafe { strings::path(dir) } {
            Ok(p) => p,
            Err(code) => return code,
        };
        // SAFETY: forwarded contract.
        unsafe {
            with_mut(opts, |o| {
                o.cache_dir = Some(dir);
                Ok(())
            })
        }
    }
}

/// Use only what is cached; never touch the network (default `false`).
///
/// # Safety
///
/// `opts` must not be in use by another call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_options_set_offline(
    opts: *mut prov_options,
    offline: bool,
) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        unsafe {
            with_mut(opts, |o| {
                o.offline = offline;
                Ok(())
            })
        }
    }
}

/// Try version tags when the crate has no usable vcs info or its commit is missing
/// (default `true`).
///
/// # Safety
///
/// `opts` must not be in use by another call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_options_set_assisted(
    opts: *mut prov_options,
    assisted: bool,
) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        unsafe {
            with_mut(opts, |o| {
                o.assisted = assisted;
                Ok(())
            })
        }
    }
}

/// Explain differences with the rules of the older cargo that made the crate (finding
/// `older_cargo_rule`; default `true`).
///
/// # Safety
///
/// `opts` must not be in use by another call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_options_set_older_rules(
    opts: *mut prov_options,
    older_rules: bool,
) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        unsafe {
            with_mut(opts, |o| {
                o.older_rules = older_rules;
                Ok(())
            })
        }
    }
}

/// Set the sparse registry index URL (UTF-8; default crates.io). The string is copied.
///
/// # Safety
///
/// `opts` must not be in use by another call; `url` must be a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_options_set_index_url(
    opts: *mut prov_options,
    url: *const c_char,
) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: NULL or NUL-terminated per the contract (NULL is refused).
        let url = match unsafe { strings::utf8(url) } {
            Ok(u) => u.to_owned(),
            Err(code) => return code,
        };
        // SAFETY: forwarded contract.
        unsafe {
            with_mut(opts, |o| {
                o.index_url = Some(url);
                Ok(())
            })
        }
    }
}
