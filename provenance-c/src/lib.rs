//! C bindings (see issue 6).
