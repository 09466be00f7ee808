//! Reading C strings from arguments.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString, c_char};
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use crate::result::{PROV_RESULT_INVALID_UTF8, PROV_RESULT_NULL_PARAMETER, prov_result};

/// Borrow a NUL-terminated argument.
///
/// # Safety
///
/// `p` must be NULL or point to a NUL-terminated string that stays valid and unmodified for `'a`.
pub(crate) unsafe fn bytes<'a>(p: *const c_char) -> Result<&'a [u8], prov_result> {
    if p.is_null() {
        return Err(PROV_RESULT_NULL_PARAMETER);
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// A UTF-8 argument (names, versions, URLs).
///
/// # Safety
///
/// As for [`bytes`].
pub(crate) unsafe fn utf8<'a>(p: *const c_char) -> Result<&'a str, prov_result> {
    // SAFETY: forwarded contract.
    let b = unsafe { bytes(p) }?;
    std::str::from_utf8(b).map_err(|_| PROV_RESULT_INVALID_UTF8)
}

/// A path argument: any bytes on Unix, UTF-8 elsewhere.
#[cfg_attr(unix, allow(clippy::unnecessary_wraps))]
pub(crate) fn path_from_bytes(b: &[u8]) -> Result<PathBuf, prov_result> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(b)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(b)
            .map(PathBuf::from)
            .map_err(|_| PROV_RESULT_INVALID_UTF8)
    }
}

/// A path argument.
///
/// # Safety
///
/// As for [`bytes`].
pub(crate) unsafe fn path(p: *const c_char) -> Result<PathBuf, prov_result> {
    // SAFETY: forwarded contract.
    path_from_bytes(unsafe { bytes(p) }?)
}

/// A NUL-terminated copy of `s` for handing out as a borrowed string; interior NULs (which
/// the reports never contain: JSON escapes them, archive paths cannot hold them) become `\0`
/// text so the C string and its length agree.
pub(crate) fn to_c_bytes(s: &str) -> Box<[u8]> {
    let mut v = Vec::with_capacity(s.len() + 1);
    for &b in s.as_bytes() {
        if b == 0 {
            v.extend_from_slice(b"\\0");
        } else {
            v.push(b);
        }
    }
    v.push(0);
    v.into_boxed_slice()
}

/// Write a borrowed string (`data` ends in NUL) to the out-parameters.
///
/// # Safety
///
/// `out` and `out_len` must be valid for writes (checked non-NULL by the caller).
pub(crate) unsafe fn write_borrowed(data: &[u8], out: *mut *const c_char, out_len: *mut usize) {
    debug_assert_eq!(data.last(), Some(&0));
    // SAFETY: the caller checked both pointers for NULL and guarantees they are writable.
    unsafe {
        *out = data.as_ptr().cast::<c_char>();
        *out_len = data.len() - 1;
    }
}

/// A static C string for a static Rust string (verdicts, kinds: a small, fixed set), so names
/// stay in sync with core without a hand-written table.
pub(crate) fn intern(s: &'static str) -> &'static CStr {
    // BTreeMap: see `handle::LIVE` (keeps leak checkers quiet about this intentional cache).
    static NAMES: Mutex<BTreeMap<&'static str, &'static CStr>> = Mutex::new(BTreeMap::new());
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    names.entry(s).or_insert_with(|| {
        let c = CString::new(s).unwrap_or_else(|_| CString::from(c"invalid"));
        Box::leak(c.into_boxed_c_str())
    })
}
