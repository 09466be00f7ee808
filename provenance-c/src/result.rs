//! `prov_result`: the status code of every fallible function, with fixed numbers.
//!
//! Numbers are never reused or renumbered; a retired code stays here as a comment.
//! 0 is success, 1–99 are conditions of the C boundary itself, 100 and up map 1:1 from
//! [`provenance_core::ErrorKind`] (see [`from_kind`]).

use std::ffi::{CStr, c_char};

use provenance_core::ErrorKind;

/// The status returned by every fallible `prov_` function: `PROV_RESULT_OK` (0) or one of the
/// `PROV_RESULT_*` codes. The numbers are fixed and never reused. A verification that finds a
/// mismatch still returns `PROV_RESULT_OK`; the verdict is in the report.
///
/// It is a plain `uint32_t` in C (not a Rust enum), so any value may be passed back to
/// `prov_result_message` safely.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct prov_result(pub u32);

/// Success.
pub const PROV_RESULT_OK: prov_result = prov_result(0);
/// A required pointer argument was NULL.
pub const PROV_RESULT_NULL_PARAMETER: prov_result = prov_result(1);
/// The library panicked (a bug); the call had no effect and later calls still work.
pub const PROV_RESULT_PANIC: prov_result = prov_result(2);
/// A string argument that must be UTF-8 (crate name, version, URL) is not.
pub const PROV_RESULT_INVALID_UTF8: prov_result = prov_result(3);
/// An index argument is out of range.
pub const PROV_RESULT_INDEX_OUT_OF_RANGE: prov_result = prov_result(4);
/// A handle argument was not created by this library, was already freed, or has the wrong type.
pub const PROV_RESULT_INVALID_HANDLE: prov_result = prov_result(5);
/// The header the program was compiled with does not match the library (`prov_check_version`).
pub const PROV_RESULT_VERSION_MISMATCH: prov_result = prov_result(6);

/// I/O error reading a local file (other than not-found / permission denied).
pub const PROV_RESULT_IO: prov_result = prov_result(100);
/// A local file or directory named by the caller does not exist.
pub const PROV_RESULT_NOT_FOUND: prov_result = prov_result(101);
/// A local file or directory could not be read because of permissions.
pub const PROV_RESULT_PERMISSION_DENIED: prov_result = prov_result(102);
/// The `.crate` file is not a valid gzip-compressed tar archive, or holds hostile paths.
pub const PROV_RESULT_INVALID_ARCHIVE: prov_result = prov_result(103);
/// The crate's metadata (`Cargo.toml`, `Cargo.toml.orig`, `.cargo_vcs_info.json`) is unusable.
pub const PROV_RESULT_INVALID_METADATA: prov_result = prov_result(104);
/// A configured resource limit was exceeded.
pub const PROV_RESULT_LIMIT_EXCEEDED: prov_result = prov_result(105);
/// Reading the git repository failed.
pub const PROV_RESULT_GIT: prov_result = prov_result(106);
/// A network transfer failed (DNS, TLS, connection, HTTP status, timeout).
pub const PROV_RESULT_NETWORK: prov_result = prov_result(107);
/// The registry has no such crate or version.
pub const PROV_RESULT_CRATE_NOT_FOUND: prov_result = prov_result(108);
/// A downloaded `.crate` does not have the checksum the registry index records.
pub const PROV_RESULT_CHECKSUM_MISMATCH: prov_result = prov_result(109);
/// A URL or transport was refused by policy (scheme, host, credentials).
pub const PROV_RESULT_URL_POLICY: prov_result = prov_result(110);
/// The arguments are inconsistent or incomplete.
pub const PROV_RESULT_INVALID_INPUT: prov_result = prov_result(111);
/// The operation needs something this build or mode does not provide (e.g. registry
/// downloads, or network while offline).
pub const PROV_RESULT_UNSUPPORTED: prov_result = prov_result(112);
/// The operation was interrupted.
pub const PROV_RESULT_INTERRUPTED: prov_result = prov_result(113);
/// A bug: an internal invariant did not hold.
pub const PROV_RESULT_INTERNAL: prov_result = prov_result(114);

/// One row of the code table.
#[derive(Debug)]
pub(crate) struct CodeInfo {
    pub code: prov_result,
    /// Stable snake_case name (for `ErrorKind` codes: `ErrorKind::as_str`).
    pub name: &'static CStr,
    pub message: &'static str,
}

macro_rules! code {
    ($code:expr, $name:literal, $msg:literal) => {
        CodeInfo {
            code: $code,
            name: $name,
            message: $msg,
        }
    };
}

/// Every code, in numeric order.
pub(crate) const CODES: &[CodeInfo] = &[
    code!(PROV_RESULT_OK, c"ok", "ok"),
    code!(
        PROV_RESULT_NULL_PARAMETER,
        c"null_parameter",
        "a required pointer argument was NULL"
    ),
    code!(
        PROV_RESULT_PANIC,
        c"panic",
        "internal error: the library panicked (please report this bug); the call had no effect"
    ),
    code!(
        PROV_RESULT_INVALID_UTF8,
        c"invalid_utf8",
        "a string argument that must be UTF-8 is not"
    ),
    code!(
        PROV_RESULT_INDEX_OUT_OF_RANGE,
        c"index_out_of_range",
        "index out of range"
    ),
    code!(
        PROV_RESULT_INVALID_HANDLE,
        c"invalid_handle",
        "the handle was not created by this library, was already freed, or has the wrong type"
    ),
    code!(
        PROV_RESULT_VERSION_MISMATCH,
        c"version_mismatch",
        "the program was compiled against a different crate_provenance.h than this library"
    ),
    code!(PROV_RESULT_IO, c"io", "I/O error reading a local file"),
    code!(
        PROV_RESULT_NOT_FOUND,
        c"not_found",
        "a local file or directory does not exist"
    ),
    code!(
        PROV_RESULT_PERMISSION_DENIED,
        c"permission_denied",
        "permission denied reading a local file or directory"
    ),
    code!(
        PROV_RESULT_INVALID_ARCHIVE,
        c"invalid_archive",
        "the .crate file is not a valid gzip-compressed tar archive, or holds hostile paths"
    ),
    code!(
        PROV_RESULT_INVALID_METADATA,
        c"invalid_metadata",
        "the crate's metadata (Cargo.toml, Cargo.toml.orig, .cargo_vcs_info.json) is unusable"
    ),
    code!(
        PROV_RESULT_LIMIT_EXCEEDED,
        c"limit_exceeded",
        "a configured resource limit was exceeded"
    ),
    code!(PROV_RESULT_GIT, c"git", "reading the git repository failed"),
    code!(PROV_RESULT_NETWORK, c"network", "a network transfer failed"),
    code!(
        PROV_RESULT_CRATE_NOT_FOUND,
        c"crate_not_found",
        "the registry has no such crate or version"
    ),
    code!(
        PROV_RESULT_CHECKSUM_MISMATCH,
        c"checksum_mismatch",
        "the downloaded .crate does not have the checksum the registry index records"
    ),
    code!(
        PROV_RESULT_URL_POLICY,
        c"url_policy",
        "a URL or transport was refused by policy"
    ),
    code!(
        PROV_RESULT_INVALID_INPUT,
        c"invalid_input",
        "the arguments are inconsistent or incomplete"
    ),
    code!(
        PROV_RESULT_UNSUPPORTED,
        c"unsupported",
        "the operation is not supported by this build or in this mode"
    ),
    code!(
        PROV_RESULT_INTERRUPTED,
        c"interrupted",
        "the operation was interrupted"
    ),
    code!(
        PROV_RESULT_INTERNAL,
        c"internal",
        "internal error: an invariant did not hold (please report this bug)"
    ),
];

/// The code for a core error kind (1:1; a kind added to core later maps to
/// `PROV_RESULT_INTERNAL` until it gets its own code, which the tests catch).
pub(crate) fn from_kind(kind: ErrorKind) -> prov_result {
    match kind {
        ErrorKind::Io => PROV_RESULT_IO,
        ErrorKind::NotFound => PROV_RESULT_NOT_FOUND,
        ErrorKind::PermissionDenied => PROV_RESULT_PERMISSION_DENIED,
        ErrorKind::InvalidArchive => PROV_RESULT_INVALID_ARCHIVE,
        ErrorKind::InvalidMetadata => PROV_RESULT_INVALID_METADATA,
        ErrorKind::LimitExceeded => PROV_RESULT_LIMIT_EXCEEDED,
        ErrorKind::Git => PROV_RESULT_GIT,
        ErrorKind::Network => PROV_RESULT_NETWORK,
        ErrorKind::CrateNotFound => PROV_RESULT_CRATE_NOT_FOUND,
        ErrorKind::ChecksumMismatch => PROV_RESULT_CHECKSUM_MISMATCH,
        ErrorKind::UrlPolicy => PROV_RESULT_URL_POLICY,
        ErrorKind::InvalidInput => PROV_RESULT_INVALID_INPUT,
        ErrorKind::Unsupported => PROV_RESULT_UNSUPPORTED,
        ErrorKind::Interrupted => PROV_RESULT_INTERRUPTED,
        _ => PROV_RESULT_INTERNAL,
    }
}

pub(crate) fn info(code: prov_result) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}

/// The message for `code` (a generic one for unknown codes).
fn message_of(code: prov_result) -> String {
    match info(code) {
        Some(i) => i.message.to_owned(),
        None => format!("unknown prov_result code {}", code.0),
    }
}

/// Write a human-readable, English description of `code` into `buf`.
///
/// Returns the number of bytes needed for the whole message including its NUL terminator
/// (so `prov_result_message(code, NULL, 0)` asks for the size). At most `buf_len` bytes are
/// written, always NUL-terminated when `buf_len > 0`; if the return value is greater than
/// `buf_len`, the message was truncated. Any `uint32_t` is accepted; unknown codes get a
/// generic message. Stateless and thread-safe.
///
/// # Safety
///
/// `buf` must be NULL (then `buf_len` is ignored) or point to `buf_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prov_result_message(
    code: prov_result,
    buf: *mut c_char,
    buf_len: usize,
) -> usize {
    ffi_panic_boundary! {
        let msg = message_of(code);
        let needed = msg.len() + 1;
        if buf.is_null() || buf_len == 0 {
            return needed;
        }
        let n = msg.len().min(buf_len - 1);
        // SAFETY: the caller guarantees `buf` points to `buf_len` writable bytes, and
        // `n + 1 <= buf_len`; `msg` is a separate Rust allocation, so they cannot overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
        needed
    }
}

/// The stable snake_case name of `code` as a static NUL-terminated string (for codes from
/// core errors, the same name as the CLI's JSON `error.kind`, e.g. `"invalid_archive"`),
/// or NULL for an unknown code.
#[unsafe(no_mangle)]
pub extern "C" fn prov_result_name(code: prov_result) -> *const c_char {
    ffi_panic_boundary! {
        info(code).map_or(std::ptr::null(), |i| i.name.as_ptr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn b07_every_error_kind_has_its_own_code_name_and_message() {
        let mut seen = HashSet::new();
        for &kind in ErrorKind::ALL {
            let code = from_kind(kind);
            assert!(
                code.0 >= 100,
                "{kind:?} must map to a kind code, got {}",
                code.0
            );
            assert!(
                seen.insert(code),
                "{kind:?} shares code {} with another kind",
                code.0
            );
            let i = info(code).unwrap_or_else(|| panic!("no table row for {kind:?}"));
            assert_eq!(i.name.to_str().unwrap(), kind.as_str());
            assert!(!i.message.is_empty());
        }
        // Every kind code in the table comes from some kind (no orphan codes).
        for c in CODES.iter().filter(|c| c.code.0 >= 100) {
            assert!(seen.contains(&c.code), "code {} has no ErrorKind", c.code.0);
        }
    }

    /// The numbers are ABI: this snapshot must only ever grow.
    #[test]
    fn b07_code_numbers_are_stable() {
        let got: Vec<(u32, &str)> = CODES
            .iter()
            .map(|c| (c.code.0, c.name.to_str().unwrap()))
            .collect();
        let want = [
            (0, "ok"),
            (1, "null_parameter"),
            (2, "panic"),
            (3, "invalid_utf8"),
            (4, "index_out_of_range"),
            (5, "invalid_handle"),
            (6, "version_mismatch"),
            (100, "io"),
            (101, "not_found"),
            (102, "permission_denied"),
            (103, "invalid_archive"),
            (104, "invalid_metadata"),
            (105, "limit_exceeded"),
            (106, "git"),
            (107, "network"),
            (108, "crate_not_found"),
            (109, "checksum_mismatch"),
            (110, "url_policy"),
            (111, "invalid_input"),
            (112, "unsupported"),
            (113, "interrupted"),
            (114, "internal"),
        ];
        assert_eq!(got, want);
        let unique: HashSet<u32> = got.iter().map(|g| g.0).collect();
        assert_eq!(unique.len(), got.len());
    }

    #[test]
    fn message_sizes_and_truncation() {
        // SAFETY: NULL buffer with length 0 is allowed.
        let needed = unsafe { prov_result_message(PROV_RESULT_OK, std::ptr::null_mut(), 0) };
        assert_eq!(needed, 3);
        let mut buf = [0x55_u8; 2];
        // SAFETY: `buf` has 2 writable bytes.
        let n = unsafe { prov_result_message(PROV_RESULT_OK, buf.as_mut_ptr().cast(), buf.len()) };
        assert_eq!(n, 3);
        assert_eq!(buf, [b'o', 0]);
        let mut big: [c_char; 64] = [0; 64];
        // SAFETY: `big` has 64 writable bytes.
        let n = unsafe { prov_result_message(prov_result(9999), big.as_mut_ptr(), big.len()) };
        // SAFETY: the function NUL-terminates within the buffer.
        let s = unsafe { CStr::from_ptr(big.as_ptr()) };
        assert_eq!(s.to_str().unwrap(), "unknown prov_result code 9999");
        assert_eq!(n, s.to_bytes().len() + 1);
        assert!(prov_result_name(prov_result(9999)).is_null());
    }
}
