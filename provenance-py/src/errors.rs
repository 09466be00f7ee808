//! The one mapping from core's [`ErrorKind`] to Python exceptions.
//!
//! The classes are defined in Python (`crate_provenance/exceptions.py`), so they have docstrings,
//! pickle cleanly and are easy to stub; Rust only imports them. Every class takes
//! `(message, kind)` and exposes `.kind`, the stable [`ErrorKind::as_str`] name.

use provenance_core::ErrorKind;
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::import_exception;
use pyo3::prelude::*;

import_exception!(crate_provenance.exceptions, ProvenanceError);
import_exception!(crate_provenance.exceptions, LocalIOError);
import_exception!(crate_provenance.exceptions, LocalFileNotFoundError);
import_exception!(crate_provenance.exceptions, LocalPermissionError);
import_exception!(crate_provenance.exceptions, ArchiveError);
import_exception!(crate_provenance.exceptions, LimitExceededError);
import_exception!(crate_provenance.exceptions, RebuildError);
import_exception!(crate_provenance.exceptions, FetchError);
import_exception!(crate_provenance.exceptions, CrateNotFoundError);
import_exception!(crate_provenance.exceptions, InvalidInputError);
import_exception!(crate_provenance.exceptions, UnsupportedError);
import_exception!(crate_provenance.exceptions, InternalError);

/// The Python class an [`ErrorKind`] is raised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    LocalIo,
    LocalFileNotFound,
    LocalPermission,
    Archive,
    LimitExceeded,
    Rebuild,
    Fetch,
    CrateNotFound,
    InvalidInput,
    Unsupported,
    /// The builtin `KeyboardInterrupt`, not a `ProvenanceError`.
    KeyboardInterrupt,
    Internal,
}

/// The table. [`ErrorKind`] is `#[non_exhaustive]`: a kind missing here is raised as
/// `InternalError`, and the unit tests fail until it gets an entry.
const TABLE: &[(ErrorKind, Class)] = &[
    (ErrorKind::Io, Class::LocalIo),
    (ErrorKind::NotFound, Class::LocalFileNotFound),
    (ErrorKind::PermissionDenied, Class::LocalPermission),
    (ErrorKind::InvalidArchive, Class::Archive),
    (ErrorKind::InvalidMetadata, Class::Archive),
    (ErrorKind::LimitExceeded, Class::LimitExceeded),
    (ErrorKind::Git, Class::Rebuild),
    (ErrorKind::Network, Class::Fetch),
    (ErrorKind::CrateNotFound, Class::CrateNotFound),
    (ErrorKind::ChecksumMismatch, Class::Fetch),
    (ErrorKind::UrlPolicy, Class::Fetch),
    (ErrorKind::InvalidInput, Class::InvalidInput),
    (ErrorKind::Unsupported, Class::Unsupported),
    (ErrorKind::Interrupted, Class::KeyboardInterrupt),
    (ErrorKind::Internal, Class::Internal),
];

fn lookup(kind: ErrorKind) -> Option<Class> {
    TABLE.iter().find(|(k, _)| *k == kind).map(|(_, c)| *c)
}

#[cfg(test)]
impl Class {
    /// The class's name (in `crate_provenance.exceptions`, or `builtins` for `KeyboardInterrupt`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Class::LocalIo => "LocalIOError",
            Class::LocalFileNotFound => "LocalFileNotFoundError",
            Class::LocalPermission => "LocalPermissionError",
            Class::Archive => "ArchiveError",
            Class::LimitExceeded => "LimitExceededError",
            Class::Rebuild => "RebuildError",
            Class::Fetch => "FetchError",
            Class::CrateNotFound => "CrateNotFoundError",
            Class::InvalidInput => "InvalidInputError",
            Class::Unsupported => "UnsupportedError",
            Class::KeyboardInterrupt => "KeyboardInterrupt",
            Class::Internal => "InternalError",
        }
    }
}

impl Class {
    fn new_err(self, message: String, kind: &'static str) -> PyErr {
        let args = (message, kind);
        match self {
            Class::LocalIo => LocalIOError::new_err(args),
            Class::LocalFileNotFound => LocalFileNotFoundError::new_err(args),
            Class::LocalPermission => LocalPermissionError::new_err(args),
            Class::Archive => ArchiveError::new_err(args),
            Class::LimitExceeded => LimitExceededError::new_err(args),
            Class::Rebuild => RebuildError::new_err(args),
            Class::Fetch => FetchError::new_err(args),
            Class::CrateNotFound => CrateNotFoundError::new_err(args),
            Class::InvalidInput => InvalidInputError::new_err(args),
            Class::Unsupported => UnsupportedError::new_err(args),
            Class::KeyboardInterrupt => PyKeyboardInterrupt::new_err(args.0),
            Class::Internal => InternalError::new_err(args),
        }
    }
}

/// A core error reduced to what crosses into Python: the kind and the message chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BindingError {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
}

impl BindingError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        BindingError {
            kind,
            message: message.into(),
        }
    }

    /// `e` and its sources, `: `-separated (as the CLI prints them).
    pub(crate) fn from_core(e: &provenance_core::Error) -> Self {
        let mut message = e.to_string();
        let mut cur = std::error::Error::source(e);
        while let Some(c) = cur {
            message.push_str(": ");
            message.push_str(&c.to_string());
            cur = c.source();
        }
        BindingError::new(e.kind(), message)
    }
}

impl From<BindingError> for PyErr {
    fn from(e: BindingError) -> PyErr {
        match lookup(e.kind) {
            Some(class) => class.new_err(e.message, e.kind.as_str()),
            None => Class::Internal.new_err(
                format!(
                    "error kind `{}` has no Python exception class: {}",
                    e.kind, e.message
                ),
                e.kind.as_str(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyo3::PyTypeInfo;
    use pyo3::types::{PyAnyMethods, PyDict};

    fn base(py: Python<'_>) -> Bound<'_, pyo3::types::PyType> {
        ProvenanceError::type_object(py)
    }

    /// Every kind with its class and the builtin it must also be an instance of.
    const EXPECTED: &[(ErrorKind, &str, &str)] = &[
        (ErrorKind::Io, "LocalIOError", "OSError"),
        (
            ErrorKind::NotFound,
            "LocalFileNotFoundError",
            "FileNotFoundError",
        ),
        (
            ErrorKind::PermissionDenied,
            "LocalPermissionError",
            "PermissionError",
        ),
        (ErrorKind::InvalidArchive, "ArchiveError", "ValueError"),
        (ErrorKind::InvalidMetadata, "ArchiveError", "ValueError"),
        (ErrorKind::LimitExceeded, "LimitExceededError", "Exception"),
        (ErrorKind::Git, "RebuildError", "Exception"),
        (ErrorKind::Network, "FetchError", "Exception"),
        (
            ErrorKind::CrateNotFound,
            "CrateNotFoundError",
            "LookupError",
        ),
        (ErrorKind::ChecksumMismatch, "FetchError", "Exception"),
        (ErrorKind::UrlPolicy, "FetchError", "Exception"),
        (ErrorKind::InvalidInput, "InvalidInputError", "ValueError"),
        (ErrorKind::Unsupported, "UnsupportedError", "Exception"),
        (
            ErrorKind::Interrupted,
            "KeyboardInterrupt",
            "KeyboardInterrupt",
        ),
        (ErrorKind::Internal, "InternalError", "Exception"),
    ];

    #[test]
    fn b07_every_kind_has_exactly_one_entry() {
        for kind in ErrorKind::ALL {
            let n = TABLE.iter().filter(|(k, _)| k == kind).count();
            assert_eq!(n, 1, "`{kind}` needs exactly one entry in TABLE");
            let want = EXPECTED.iter().find(|(k, _, _)| k == kind).map(|e| e.1);
            assert_eq!(lookup(*kind).map(Class::name), want, "class for `{kind}`");
        }
        assert_eq!(TABLE.len(), ErrorKind::ALL.len());
    }

    /// Make `crate_provenance.exceptions` importable without the built extension: a bare
    /// package object pointing at `python/crate_provenance`, so `__init__.py` (which imports
    /// `_native`) does not run.
    fn import_exceptions(py: Python<'_>) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/python/crate_provenance");
        let locals = PyDict::new(py);
        locals.set_item("d", dir).unwrap();
        py.run(
            c"import sys, types\n\
              if 'crate_provenance' not in sys.modules:\n\
              \x20   p = types.ModuleType('crate_provenance'); p.__path__ = [d]\n\
              \x20   sys.modules['crate_provenance'] = p\n",
            None,
            Some(&locals),
        )
        .unwrap();
    }

    #[test]
    fn b07_every_kind_raises_its_class_with_kind_and_message() {
        Python::initialize();
        Python::attach(|py| {
            import_exceptions(py);
            let builtins = py.import("builtins").unwrap();
            let exceptions = py.import("crate_provenance.exceptions").unwrap();
            for &(kind, class, builtin) in EXPECTED {
                let err = PyErr::from(BindingError::new(kind, format!("boom `{kind}`")));
                let value = err.value(py);
                let want_class = if class == "KeyboardInterrupt" {
                    builtins.getattr(class).unwrap()
                } else {
                    exceptions.getattr(class).unwrap()
                };
                assert!(value.is_instance(&want_class).unwrap(), "{kind}: {value:?}");
                let want_builtin = builtins.getattr(builtin).unwrap();
                assert!(value.is_instance(&want_builtin).unwrap(), "{kind}");
                assert_eq!(value.str().unwrap().to_string(), format!("boom `{kind}`"));
                if kind == ErrorKind::Interrupted {
                    assert!(!value.is_instance(&base(py)).unwrap());
                } else {
                    assert!(value.is_instance(&base(py)).unwrap(), "{kind}");
                    let got: String = value.getattr("kind").unwrap().extract().unwrap();
                    assert_eq!(got, kind.as_str());
                }
            }
        });
    }
}
