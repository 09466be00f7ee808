//! Opaque handles (rustls-ffi's `Castable` pattern) plus a registry of live handles.
//!
//! A handle is a token, not an address: `Box<RustType>` stays with the library, registered
//! under a token that is never handed out twice (a 64-bit counter), together with the C type.
//! The C side only ever passes tokens back (the types are opaque and never dereferenced), so a
//! pointer the library did not hand out, a handle of the wrong type, an already-freed handle
//! and a double free are all detected before anything is dereferenced — also after the memory
//! of a freed handle was reused for a new one (SECURITY.md B2: the token plays the role of a
//! generation counter). The remaining hazard is the caller's: freeing a handle while another
//! thread still uses it.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// A live handle: the address of its `Box` (provenance exposed) and its C type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    addr: usize,
    ty: TypeId,
}

// A BTreeMap (not a HashMap) so that leak checkers see its allocations as reachable from the
// static: hashbrown keeps only an interior pointer, which valgrind reports as "possibly lost".
// The boxes themselves are reachable through `Entry::addr`.
static LIVE: Mutex<BTreeMap<usize, Entry>> = Mutex::new(BTreeMap::new());

/// The next token; 16-aligned, far from 0, never reused.
static NEXT: AtomicUsize = AtomicUsize::new(0x10_0000);

fn live() -> std::sync::MutexGuard<'static, BTreeMap<usize, Entry>> {
    // A panic while holding the lock cannot leave the map half-updated (single insert/remove).
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Move `value` to the heap and return a new, registered handle (a token).
pub(crate) fn into_handle<C: Castable>(value: C::RustType) -> *mut C {
    let addr = Box::into_raw(Box::new(value)).expose_provenance();
    let token = NEXT.fetch_add(16, Ordering::Relaxed);
    live().insert(
        token,
        Entry {
            addr,
            ty: TypeId::of::<C>(),
        },
    );
    std::ptr::without_provenance_mut(token)
}

/// The address of the live `C` behind `ptr`, if it is one.
fn lookup<C: Castable>(ptr: *const C) -> Option<usize> {
    live()
        .get(&ptr.addr())
        .filter(|e| e.ty == TypeId::of::<C>())
        .map(|e| e.addr)
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
    let addr = lookup(ptr).ok_or(HandleError::Invalid)?;
    let real = std::ptr::with_exposed_provenance::<C::RustType>(addr);
    // SAFETY: the registry maps exactly the tokens returned by `into_handle::<C>` that have not
    // been freed to the address of their `Box<C::RustType>` (provenance exposed there), which is
    // still allocated; the caller guarantees it is not freed while the reference lives. Only
    // shared references are ever created, so there is no aliasing `&mut`.
    Ok(unsafe { &*real })
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
    let addr = lookup(ptr.cast_const()).ok_or(HandleError::Invalid)?;
    let real = std::ptr::with_exposed_provenance_mut::<C::RustType>(addr);
    // SAFETY: as in `borrow`; exclusivity is the caller's guarantee (non-const C pointer,
    // documented as "not while other calls use it").
    Ok(unsafe { &mut *real })
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
        match map.get(&ptr.addr()) {
            Some(e) if e.ty == TypeId::of::<C>() => map.remove(&ptr.addr()).map(|e| e.addr),
            _ => None,
        }
    };
    if let Some(addr) = removed {
        // SAFETY: the token was registered for `C`, so `addr` came from `Box::into_raw` of a
        // `C::RustType`; we just removed it from the registry under the lock, so no other
        // `free` can reach this point for the same allocation (no double free).
        drop(unsafe { Box::from_raw(std::ptr::with_exposed_provenance_mut::<C::RustType>(addr)) });
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
        // Reuse: new handles (the allocator hands the freed memory out again) never make the
        // old token valid, and tokens are never repeated.
        let again: Vec<*mut A> = (0..64).map(|i| into_handle::<A>(format!("{i}"))).collect();
        assert!(!again.contains(&a));
        // SAFETY: stale token, refused without dereferencing.
        let stale_after_reuse = unsafe { borrow(a) }.map(String::as_str);
        assert_eq!(stale_after_reuse, Err(HandleError::Invalid));
        for h in again {
            // SAFETY: live, no borrows in use.
            unsafe { free(h) };
        }
        // A made-up pointer is not a handle either.
        let made_up = std::ptr::without_provenance::<A>(0xdead_bee0);
        // SAFETY: refused without dereferencing.
        let not_a_handle = unsafe { borrow(made_up) }.map(String::as_str);
        assert_eq!(not_a_handle, Err(HandleError::Invalid));
    }
}
