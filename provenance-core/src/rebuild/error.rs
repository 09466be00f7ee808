//! The errors of the rebuild stage.

use crate::error::{ErrorKind, LimitError};
use crate::repo;

/// Errors of the rebuild stage. `PackageNotFound` and `Package` are verdicts
/// (`path_not_found`, `package_error`) when reached through [`crate::verify`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No `Cargo.toml` with this package name at the path (or anywhere, when discovering).
    #[error("no package `{name}` at `{path}` in commit `{commit}`{found}")]
    PackageNotFound {
        /// The package name.
        name: String,
        /// The path looked at (`<discovery>` when searching).
        path: String,
        /// The commit.
        commit: String,
        /// What was found instead, formatted (`""` or `; found ...`).
        found: String,
    },
    /// Cargo's rules cannot package this commit (the message says which rule fails).
    #[error("cargo cannot package `{path}`: {message}")]
    Package {
        /// The package path.
        path: String,
        /// What fails.
        message: String,
    },
    /// Reading the repository failed.
    #[error(transparent)]
    Repo(#[from] repo::Error),
    /// A limit was exceeded.
    #[error("{0}")]
    LimitExceeded(LimitError),
}

impl Error {
    /// The stable classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::PackageNotFound { .. } | Error::Package { .. } => ErrorKind::InvalidInput,
            Error::Repo(e) => e.kind(),
            Error::LimitExceeded(_) => ErrorKind::LimitExceeded,
        }
    }
}
