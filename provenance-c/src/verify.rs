//! `prov_verify_*` and `prov_inspect_file`: run a verification or an inspection.

use std::ffi::c_char;
use std::fmt::Write as _;
use std::sync::atomic::AtomicBool;

use provenance_core::{
    CrateSource, Discard, Progress, RepoSource, Request, inspect_opts, verify_opts,
};

use crate::error::{self, ErrorData, prov_error};
use crate::handle;
use crate::options::{CProgress, prov_options};
use crate::report::{ReportData, prov_report};
use crate::result::{
    self, PROV_RESULT_NULL_PARAMETER, PROV_RESULT_OK, PROV_RESULT_PANIC, info, prov_result,
};
use crate::strings;

/// Escape what could mislead a terminal or log reader (control characters, bidi controls,
/// zero-width characters) in a message that may quote attacker-controlled names.
fn sanitize(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    for c in msg.chars() {
        let suspicious = c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
        if suspicious {
            let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Report a failure through `err_out` (if given) and return its code.
///
/// # Safety
///
/// `err_out` must be NULL or valid for writing one pointer.
unsafe fn fail(
    code: prov_result,
    detail: Option<&str>,
    err_out: *mut *mut prov_error,
) -> prov_result {
    if !err_out.is_null() {
        let message = match detail {
            Some(d) => sanitize(d),
            None => info(code).map_or("error", |i| i.message).to_owned(),
        };
        let handle = error::into_handle(ErrorData::new(code, &message));
        // SAFETY: non-NULL and writable per the contract.
        unsafe { *err_out = handle };
    }
    code
}

/// The crate argument of a verification or inspection.
enum Krate {
    File(*const c_char),
    Registry {
        name: *const c_char,
        version: *const c_char,
    },
}

/// What a call does with the crate.
enum Op {
    /// Verify it against `repo` (NULL = `package.repository`).
    Verify { repo: *const c_char },
    /// Inspect it alone (`provenance_core::inspect_opts`).
    Inspect,
}

/// The common body of every `prov_verify_*` and `prov_inspect_*` function.
///
/// # Safety
///
/// String arguments must be NULL or NUL-terminated; `out` / `err_out` NULL or writable;
/// `opts` not freed or modified during the call.
unsafe fn run(
    opts: *const prov_options,
    krate: &Krate,
    op: &Op,
    out: *mut *mut prov_report,
    err_out: *mut *mut prov_error,
) -> prov_result {
    macro_rules! bail {
        ($code:expr, $detail:expr) => {
            // SAFETY: `err_out` is NULL or writable per the contract.
            return unsafe { fail($code, $detail, err_out) }
        };
    }
    macro_rules! arg {
        ($e:expr, $what:expr) => {
            match $e {
                Ok(v) => v,
                Err(code) => bail!(code, Some(&format!("{}: {}", $what, message(code)))),
            }
        };
    }
    if out.is_null() {
        bail!(PROV_RESULT_NULL_PARAMETER, Some("out: NULL"));
    }
    // SAFETY: forwarded contract.
    let options = arg!(
        unsafe { handle::borrow(opts) }.map_err(prov_result::from),
        "opts"
    );
    let source = match *krate {
        Krate::File(path) => {
            // The parameter's name in the C declaration.
            let what = match op {
                Op::Verify { .. } => "crate_path",
                Op::Inspect => "path",
            };
            // SAFETY: NULL or NUL-terminated per the contract.
            CrateSource::File(arg!(unsafe { strings::path(path) }, what))
        }
        Krate::Registry { name, version } => CrateSource::Registry {
            // SAFETY: NULL or NUL-terminated per the contract.
            name: arg!(unsafe { strings::utf8(name) }, "name").to_owned(),
            // SAFETY: NULL or NUL-terminated per the contract.
            version: arg!(unsafe { strings::utf8(version) }, "version").to_owned(),
        },
    };
    let repo = match *op {
        Op::Verify { repo } if !repo.is_null() => {
            // SAFETY: non-NULL and NUL-terminated per the contract.
            let bytes = arg!(unsafe { strings::bytes(repo) }, "repo");
            Some(match std::str::from_utf8(bytes) {
                Ok(s) => RepoSource::parse(s),
                // Not UTF-8: cannot be a URL, so a local path (any bytes on Unix).
                Err(_) => RepoSource::Path(arg!(strings::path_from_bytes(bytes), "repo")),
            })
        }
        Op::Verify { .. } | Op::Inspect => None,
    };
    let not_cancelled = AtomicBool::new(false);
    let flag = options.cancel.as_deref().unwrap_or(&not_cancelled);
    let mut c_progress = options.progress.map(CProgress::new);
    let mut discard = Discard;
    let progress: &mut dyn Progress = match c_progress.as_mut() {
        Some(p) => p,
        None => &mut discard,
    };
    // A panic in core (a bug; SECURITY.md B1) is caught here rather than only at the outer
    // boundary, so the `_ex` functions can still report it through `err_out`.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match op {
        Op::Verify { .. } => {
            let mut request = Request::new(source).with_options(options.core.clone());
            if let Some(r) = repo {
                request = request.with_repo(r);
            }
            verify_opts(&request, progress, flag).map(|r| ReportData::new(&r))
        }
        Op::Inspect => inspect_opts(&source, &options.core, progress, flag)
            .map(|i| ReportData::from_inspection(&i)),
    }));
    let result = match result {
        Ok(r) => r,
        Err(panic) => bail!(
            PROV_RESULT_PANIC,
            Some(&format!(
                "{}: {}",
                message(PROV_RESULT_PANIC),
                panic_message(panic.as_ref())
            ))
        ),
    };
    match result {
        Ok(data) => {
            let handle = handle::into_handle::<prov_report>(data);
            // SAFETY: `out` is non-NULL (checked above) and writable per the contract.
            unsafe { *out = handle };
            PROV_RESULT_OK
        }
        Err(e) => bail!(result::from_kind(e.kind()), Some(&e.to_string())),
    }
}

/// The text of a caught panic payload (`panic!` with a literal or a formatted message).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

fn message(code: prov_result) -> &'static str {
    info(code).map_or("error", |i| i.message)
}

/// Verify a local `.crate` file against a git repository.
///
/// * `crate_path`: path of the `.crate` file (any bytes on Unix).
/// * `repo`: a URL (`https://…`) or a local path to a bare repository or work tree; NULL means
///   the `package.repository` URL from the crate's `Cargo.toml`.
/// * On `PROV_RESULT_OK`, `*out` receives a new report (free with `prov_report_free`). Any
///   verdict, including `"mismatch"`, is `PROV_RESULT_OK`; other codes mean the inputs were
///   unusable and `*out` is left untouched.
///
/// Blocks until done (reading the archive and the repository; network only for URLs).
/// Thread-safe: any number of threads may verify at once, sharing one `opts`.
///
/// # Safety
///
/// `crate_path` and `repo` must be NULL or NUL-terminated strings; `out` must be NULL or valid
/// for writing one pointer; `opts` must not be modified or freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_verify_crate_file(
    opts: *const prov_options,
    crate_path: *const c_char,
    repo: *const c_char,
    out: *mut *mut prov_report,
) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract; no `err_out`.
        unsafe {
            run(
                opts,
                &Krate::File(crate_path),
                &Op::Verify { repo },
                out,
                std::ptr::null_mut(),
            )
        }
    }
}

/// Like `prov_verify_crate_file`, and on failure (any code but `PROV_RESULT_OK`) also writes a
/// new `prov_error` with the detailed message to `*err_out` if `err_out` is not NULL (free it
/// with `prov_error_free`). On success `*err_out` is left untouched.
///
/// # Safety
///
/// As for `prov_verify_crate_file`; `err_out` must be NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_verify_crate_file_ex(
    opts: *const prov_options,
    crate_path: *const c_char,
    repo: *const c_char,
    out: *mut *mut prov_report,
    err_out: *mut *mut prov_error,
) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        unsafe { run(opts, &Krate::File(crate_path), &Op::Verify { repo }, out, err_out) }
    }
}

/// Verify a crate version from the registry (downloaded, checked against the index checksum,
/// and compared with the repository named in its `Cargo.toml`). `name` and `version` must be
/// UTF-8. Results as for `prov_verify_crate_file`; the registry is crates.io unless the options
/// name another (`prov_options_set_index_url`).
///
/// # Safety
///
/// `name` and `version` must be NULL or NUL-terminated strings; `out` must be NULL or valid
/// for writing one pointer; `opts` must not be modified or freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_verify_crate(
    opts: *const prov_options,
    name: *const c_char,
    version: *const c_char,
    out: *mut *mut prov_report,
) -> prov_result {
    ffi_panic_boundary! {
        let krate = Krate::Registry { name, version };
        // SAFETY: forwarded contract; no `err_out`.
        unsafe {
            run(
                opts,
                &krate,
                &Op::Verify { repo: std::ptr::null() },
                out,
                std::ptr::null_mut(),
            )
        }
    }
}

/// Like `prov_verify_crate`, with an optional `prov_error` detail as for
/// `prov_verify_crate_file_ex`.
///
/// # Safety
///
/// As for `prov_verify_crate`; `err_out` must be NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_verify_crate_ex(
    opts: *const prov_options,
    name: *const c_char,
    version: *const c_char,
    out: *mut *mut prov_report,
    err_out: *mut *mut prov_error,
) -> prov_result {
    ffi_panic_boundary! {
        let krate = Krate::Registry { name, version };
        // SAFETY: forwarded contract.
        unsafe {
            run(
                opts,
                &krate,
                &Op::Verify { repo: std::ptr::null() },
                out,
                err_out,
            )
        }
    }
}

/// Inspect a local `.crate` file alone, without its repository: the crate-intrinsic findings
/// (archive anomalies, `.cargo_vcs_info.json`, normalized manifest and `Cargo.lock` checks,
/// suspicious code points), the cargo versions that could have made it, and an inventory, as
/// `crate-provenance inspect FILE --format json` prints them.
///
/// * `path`: path of the `.crate` file (any bytes on Unix).
/// * On `PROV_RESULT_OK`, `*out` receives a new `prov_report` holding the inspection (free it
///   with `prov_report_free`). `prov_report_json` gives the inspection's JSON (`"kind":
///   "inspect"`, schema `schema/inspect.v1.json`; byte-identical to the CLI's `--format json`
///   output without its final newline); an inspection has no verdict and no differences, so
///   `prov_report_verdict` returns NULL, `prov_report_difference_count` 0,
///   `prov_report_difference_kind` NULL and `prov_report_difference_path`
///   `PROV_RESULT_INDEX_OUT_OF_RANGE`. High findings are data: still `PROV_RESULT_OK`.
/// * On failure (any other code) `*out` is left untouched and, if `err` is not NULL, `*err`
///   receives a new `prov_error` with the detailed message (free it with `prov_error_free`);
///   on success `*err` is left untouched.
///
/// Of `opts`, the cancellation token (`PROV_RESULT_INTERRUPTED`) and the progress callback
/// (stage `"read_crate"`) apply; the cache, index and offline settings concern registry crates
/// only. Blocks until done; reads only the file. Thread-safe like `prov_verify_crate_file`.
///
/// # Safety
///
/// `path` must be NULL or a NUL-terminated string; `out` and `err` must be NULL or valid for
/// writing one pointer; `opts` must not be modified or freed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_inspect_file(
    opts: *const prov_options,
    path: *const c_char,
    out: *mut *mut prov_report,
    err: *mut *mut prov_error,
) -> prov_result {
    ffi_panic_boundary! {
        // SAFETY: forwarded contract.
        unsafe { run(opts, &Krate::File(path), &Op::Inspect, out, err) }
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn messages_are_terminal_safe() {
        assert_eq!(
            sanitize("bad \u{1b}[31mname\u{202e}x\n"),
            "bad \\u{001b}[31mname\\u{202e}x\\u{000a}"
        );
    }
}
