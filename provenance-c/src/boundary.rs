//! The panic boundary around every exported function (rustls-ffi's `ffi_panic_boundary!`).

use std::ffi::c_char;

use crate::result::{PROV_RESULT_PANIC, prov_result};

/// What an exported function returns when its body panicked.
pub(crate) trait PanicOrDefault {
    fn value() -> Self;
}

impl PanicOrDefault for prov_result {
    fn value() -> Self {
        PROV_RESULT_PANIC
    }
}

impl PanicOrDefault for usize {
    fn value() -> Self {
        0
    }
}

impl PanicOrDefault for () {
    fn value() -> Self {}
}

impl PanicOrDefault for *const c_char {
    fn value() -> Self {
        std::ptr::null()
    }
}

/// Run the body; if it panics, return [`PanicOrDefault::value`] of the function's return type
/// instead of unwinding into C. The body is a closure, so `return` inside it returns its value.
/// Requires `panic = "unwind"` (set in the workspace release profile).
macro_rules! ffi_panic_boundary {
    ( $($body:tt)* ) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($body)* })) {
            Ok(ret) => ret,
            Err(_) => return $crate::boundary::PanicOrDefault::value(),
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::result::{PROV_RESULT_OK, PROV_RESULT_PANIC, prov_result};

    fn may_panic(panic: bool) -> prov_result {
        ffi_panic_boundary! {
            assert!(!panic, "injected fault");
            PROV_RESULT_OK
        }
    }

    fn len_may_panic(panic: bool) -> usize {
        ffi_panic_boundary! {
            assert!(!panic, "injected fault");
            7
        }
    }

    #[test]
    fn b01_panics_become_codes_and_the_next_call_works() {
        assert_eq!(may_panic(true), PROV_RESULT_PANIC);
        assert_eq!(may_panic(false), PROV_RESULT_OK);
        assert_eq!(len_may_panic(true), 0);
        assert_eq!(len_may_panic(false), 7);
    }
}
