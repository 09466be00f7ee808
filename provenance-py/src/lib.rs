//! Python bindings (see issue 5).
#![forbid(unsafe_code)]
