//! `prov_options`: verification options.

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use provenance_core::{Options, Progress, Stage};

use crate::cancel::prov_cancel;
use crate::handle::{self, Castable};
use crate::result::{
    PROV_RESULT_INVALID_INPUT, PROV_RESULT_NULL_PARAMETER, PROV_RESULT_OK, prov_result,
};
use crate::strings;

/// Options for a verification: cache directory, offline mode, … Create with
/// `prov_options_new`, free with `prov_options_free`. One `prov_options` may be used by many
/// threads at once for verifications, but must not be modified (`prov_options_set_*`) or
/// freed while any call uses it.
#[derive(Debug)]
pub struct prov_options {
    _private: [u8; 0],
}

/// What a `prov_options` handle holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct OptionsData {
    pub core: Options,
    pub cancel: Option<Arc<AtomicBool>>,
    pub progress: Option<ProgressCallback>,
}

impl Castable for prov_options {
    type RustType = OptionsData;
}

/// Receives progress from `prov_verify_*`: `stage` is a static string (`"read_crate"`,
/// `"download"`, `"fetch"`, `"open_repository"`, `"rebuild"`, `"compare"`, `"assisted"`), `done`
/// counts units (bytes or files) finished in this stage, `total` is the stage's total or 0 if
/// unknown. Called on the thread that called `prov_verify_*`, first with `done == 0` when a stage
/// begins. It must not unwind (C++ exceptions) or `longjmp` out, and must not free the options.
pub type prov_progress_callback = Option<
    unsafe extern "C" fn(userdata: *mut c_void, stage: *const c_char, done: u64, total: u64),
>;

/// A callback and its userdata.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProgressCallback {
    f: unsafe extern "C" fn(*mut c_void, *const c_char, u64, u64),
    userdata: *mut c_void,
}

// SAFETY: the pointer is only handed back to the caller's callback; `prov_options_set_progress`
// documents that if the options are shared between threads, the callback and its userdata must
// be safe to call from all of them at once (the Send + Sync requirement of SECURITY.md B4).
unsafe impl Send for ProgressCallback {}
// SAFETY: as above.
unsafe impl Sync for ProgressCallback {}

/// Adapts a [`ProgressCallback`] to core's [`Progress`].
#[derive(Debug)]
pub(crate) struct CProgress {
    cb: ProgressCallback,
    stage: *const c_char,
    done: u64,
    total: u64,
}

impl CProgress {
    pub(crate) fn new(cb: ProgressCallback) -> CProgress {
        CProgress {
            cb,
            stage: c"start".as_ptr(),
            done: 0,
            total: 0,
        }
    }

    fn call(&self) {
        // SAFETY: the caller registered `f` with `userdata` and promised it is callable with
        // them (see `prov_options_set_progress`); `stage` is a static NUL-terminated string.
        unsafe { (self.cb.f)(self.cb.userdata, self.stage, self.done, self.total) };
    }
}

impl Progress for CProgress {
    fn stage(&mut self, stage: Stage, total: Option<u64>) {
        self.stage = crate::strings::intern(stage.as_str()).as_ptr();
        self.done = 0;
        self.total = total.unwrap_or(0);
        self.call();
    }

    fn inc(&mut self, n: u64) {
        self.done = self.done.saturating_add(n);
        self.call();
    }
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
        let handle = handle::into_handle::<prov_options>(OptionsData::default());
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
    f: impl FnOnce(&mut OptionsData) -> Result<(), prov_result>,
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
/// path is copied. An empty string is `PROV_RESULT_INVALID_INPUT` (it would mean the current
/// directory). A directory that is a symlink is refused when it is used.
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
                if dir.as_os_str().is_empty() {
                    return Err(PROV_RESULT_INVALID_INPUT);
                }
                o.core.cache_dir = Some(dir);
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
                o.core.offline = offline;
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
                o.core.assisted = assisted;
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
                o.core.older_rules = older_rules;
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
                o.core.index_url = Some(url);
                Ok(())
            })
        }
    }
}

/// Allow `http://`, `git://` and `file://` repository and registry URLs and loopback or private
/// hosts (default `false`; the CLI's `--allow-insecure-transport`). Set it before
/// `prov_options_add_mirror` to add `http://` or `git://` mirrors.
///
/// # Safety
///
/// `opts` must not be in use by another call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_options_set_allow_insecure_transport(
    opts: *mut prov_options,
    allow: bool,
) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        unsafe {
            with_mut(opts, |o| {
                o.core.allow_insecure_transport = allow;
                Ok(())
            })
        }
    }
}

/// Add a repository mirror: repositories whose normalized URL starts with `from` (at a `/`
/// boundary) are fetched from `to` followed by the rest of the URL (git's
/// `url.<to>.insteadOf=<from>`; the longest `from` wins, the first added among equal ones). It
/// applies to the crate's repository, tag lookups and submodule URLs. `to` may be an `https://`
/// URL or a local directory (a bare repository or a directory of them); `http://` and `git://`
/// targets, `ext::`, ssh and credentials are refused with `PROV_RESULT_INVALID_INPUT`. Both
/// strings (UTF-8) are copied. Reports keep the declared URL in `source.repository` and add
/// `source.fetched_from`.
///
/// # Safety
///
/// `opts` must not be in use by another call; `from` and `to` must be NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_options_add_mirror(
    opts: *mut prov_options,
    from: *const c_char,
    to: *const c_char,
) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: NULL or NUL-terminated per the contract (NULL is refused).
        let from = match unsafe { strings::utf8(from) } {
            Ok(u) => u.to_owned(),
            Err(code) => return code,
        };
        // SAFETY: as above.
        let to = match unsafe { strings::utf8(to) } {
            Ok(u) => u.to_owned(),
            Err(code) => return code,
        };
        // SAFETY: forwarded contract.
        unsafe {
            with_mut(opts, |o| {
                let mirror = provenance_core::fetch::Mirror::new(
                    &from,
                    &to,
                    o.core.allow_insecure_transport,
                )
                .map_err(|_| PROV_RESULT_INVALID_INPUT)?;
                o.core.mirrors.push(mirror);
                Ok(())
            })
        }
    }
}

/// Make verifications with these options stop when `cancel` is triggered (`prov_cancel_trigger`,
/// from any thread): they then return `PROV_RESULT_INTERRUPTED` at the next stage boundary.
/// The options keep their own reference, so `cancel` may be freed independently.
///
/// # Safety
///
/// `opts` must not be in use by another call; `cancel` must not be freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_options_set_cancel(
    opts: *mut prov_options,
    cancel: *const prov_cancel,
) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        let flag = match unsafe { handle::borrow(cancel) } {
            Ok(flag) => Arc::clone(flag),
            Err(e) => return e.into(),
        };
        // SAFETY: forwarded contract.
        unsafe {
            with_mut(opts, |o| {
                o.cancel = Some(flag);
                Ok(())
            })
        }
    }
}

/// Report progress of verifications with these options to `callback(userdata, stage, done,
/// total)` (see `prov_progress_callback`). `userdata` may be NULL; it is passed back unchanged.
/// If the options are used by several threads at once, the callback is called from all of them
/// concurrently and must be thread-safe.
///
/// # Safety
///
/// `opts` must not be in use by another call; `callback` must be callable with `userdata` for as
/// long as these options are used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_options_set_progress(
    opts: *mut prov_options,
    callback: prov_progress_callback,
    userdata: *mut c_void,
) -> prov_result {
    ffi_panic_boundary! {
        let Some(f) = callback else {
            return PROV_RESULT_NULL_PARAMETER;
        };
        // SAFETY: forwarded contract.
        unsafe {
            with_mut(opts, |o| {
                o.progress = Some(ProgressCallback { f, userdata });
                Ok(())
            })
        }
    }
}
