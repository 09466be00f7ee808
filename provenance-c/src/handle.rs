//! Opaque handles (rustls-ffi's `Castable` pattern) plus a registry of live handles.
//!
//! A handle is a `Box<RustType>` turned into a pointer to a zero-sized, opaque C type. Every
//! handle the library gives out is recorded (address and C type) until it is freed, so a
//! pointer the library did not hand out, a handle of the wrong type, an already-freed handle
//! and a double free are all detected before anything is dereferenced (SECURITY.md B2). The
//! remaining hazard is the caller's: freeing a handle while another thread still uses it.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// An opaque C type standing for a Rust type.
pub(crate) trait Castable: 'static {
    /// What the handle points to. Handles may be shared between threads.
    type RustType: Send + Sync + 'static;
}

/// Why a handle was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandleError {
    Null,
    Invalid,
}

impl From<HandleError> for crate::result::prov_result {
    fn from(e: HandleError) -> Self {
        match e {
            HandleError::Null => crate::result::PROV_RESULT_NULL_PARAMETER,
            HandleError::Invalid => crate::result::PROV_RESULT_INVALID_HANDLE,
        }
    }
}

// A BTreeMap (not a HashMap) so that leak checkers see its allocations as reachable from the
// static: hashbrown keeps only an interior pointer, which valgrind reports as "possibly lost".
static LIVE: Mutex<BTreeMap<usize, TypeId>> = Mutex::new(BTreeMap::new());

fn live() -> std::sync::MutexGuard<'static, BTreeMap<usize, TypeId>> {
    // A panic while holding the lock cannot leave the map half-updated (single insert/remove).
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Move `value` to the heap and return it as a new, registered handle.
pub(crate) fn into_handle<C: Castable>(value: C::RustType) -> *mut C {
    let ptr = Box::into_raw(Box::new(value));
    live().insert(ptr as usize, TypeId::of::<C>());
    ptr.cast::<C>()
}

fn is_live<C: Castable>(ptr: *const C) -> bool {
    live().get(&(ptr as usize)) == Some(&TypeId::of::<C>())
}

/// Borrow the value behind a handle.
///
/// # Safety
///
/// The handle must not be freed (by any thread) while the returned reference is in use; the
/// lifetime `'a` is chosen by the caller and must not outlive that.
pub(crate) unsafe fn borrow<'a, C: Castable>(
    ptr: *const C,
) -> Result<&'a C::RustType, HandleError> {
    if ptr.is_null() {
        return Err(HandleError::Null);
    }
    if !is_live(ptr) {
        return Err(HandleError::Invalid);
    }
    // SAFETY: the registry holds exactly the pointers returned by `into_handle::<C>` that have
    // not been freed, so `ptr` came from `Box::into_raw` of a `C::RustType` and is still
    // allocated; the caller guarantees it is not freed while the reference lives. Only shared
    // references are ever created, so there is no aliasing `&mut`.
    Ok(unsafe { &*ptr.cast::<C::RustType>() })
}

/// Borrow mutably. Same contract as [`borrow`], plus: no other reference to the value may exist
/// (the C API documents that a `prov_options` must not be modified while it is in use).
///
/// # Safety
///
/// See above.
pub(crate) unsafe fn borrow_mut<'a, C: Castable>(
    ptr: *mut C,
) -> Result<&'a mut C::RustType, HandleError> {
    if ptr.is_null() {
        return Err(HandleError::Null);
    }
    if !is_live(ptr) {
        return Err(HandleError::Invalid);
    }
    // SAFETY: as in `borrow`; exclusivity is the caller's guarantee (non-const C pointer,
    // documented as "not while other calls use it").
    Ok(unsafe { &mut *ptr.cast::<C::RustType>() })
}

/// Free a handle. NULL, unknown pointers and already-freed handles are ignored.
///
/// # Safety
///
/// No reference obtained from [`borrow`] for this handle may be in use.
pub(crate) unsafe fn free<C: Castable>(ptr: *mut C) {
    if ptr.is_null() {
        return;
    }
    let removed = {
        let mut map = live();
        if map.get(&(ptr as usize)) == Some(&TypeId::of::<C>()) {
            map.remove(&(ptr as usize));
            true
        } else {
            false
        }
    };
    if removed {
        // SAFETY: the pointer was registered for `C`, so it came from `Box::into_raw` of a
        // `C::RustType`; we just removed it from the registry under the lock, so no other
        // `free` can reach this point for the same allocation (no double free).
        drop(unsafe { Box::from_raw(ptr.cast::<C::RustType>()) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct A {
        _private: [u8; 0],
    }
    impl Castable for A {
        type RustType = String;
    }
    #[derive(Debug)]
    struct B {
        _private: [u8; 0],
    }
    impl Castable for B {
        type RustType = String;
    }

    #[test]
    fn b02_wrong_type_stale_and_double_free_are_detected() {
        let a = into_handle::<A>("x".to_owned());
        // SAFETY: `a` is live and not freed concurrently.
        let ok = unsafe { borrow(a) }.map(String::as_str);
        assert_eq!(ok, Ok("x"));
        // SAFETY: never dereferenced: the type check fails first.
        let wrong_type = unsafe { borrow(a.cast::<B>()) }.map(String::as_str);
        assert_eq!(wrong_type, Err(HandleError::Invalid));
        // SAFETY: no borrows in use.
        unsafe { free(a) };
        // SAFETY: stale handle: refused without dereferencing.
        let stale = unsafe { borrow(a) }.map(String::as_str);
        assert_eq!(stale, Err(HandleError::Invalid));
        // SAFETY: double free is detected and ignored.
        unsafe { free(a) };
        // SAFETY: NULL is refused.
        let null = unsafe { borrow::<A>(std::ptr::null()) }.map(String::as_str);
        assert_eq!(null, Err(HandleError::Null));
    }
}
