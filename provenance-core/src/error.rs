//! The stable error classification shared by every surface (CLI exit codes, JSON `error.kind`,
//! Python exception classes, C `prov_result` codes).

use serde::Serialize;

/// A stable, coarse classification of every error this crate can return.
///
/// Every stage error (`archive::Error`, `metadata::Error`, `repo::Error`, `rebuild::Error`,
/// `compare::Error`, [`Error`](crate::Error)) has a `kind()` method returning one of these.
/// The names (snake_case in JSON, see [`ErrorKind::as_str`]) never change; new kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// An I/O error reading a local file (other than not-found / permission denied).
    Io,
    /// A local file or directory named by the caller does not exist.
    NotFound,
    /// A local file or directory could not be read because of permissions.
    PermissionDenied,
    /// The `.crate` file is not a valid gzip-compressed tar archive, or holds hostile paths.
    InvalidArchive,
    /// The crate's metadata (`Cargo.toml`, `Cargo.toml.orig`, `.cargo_vcs_info.json`) is unusable.
    InvalidMetadata,
    /// A configured resource limit was exceeded (the message names the limit and the value).
    LimitExceeded,
    /// Reading the git repository failed (corrupt objects, unreadable pack, …).
    Git,
    /// A network transfer failed (DNS, TLS, connection, HTTP status, timeout).
    Network,
    /// The registry has no such crate or version.
    CrateNotFound,
    /// A downloaded `.crate` does not have the checksum the registry index records.
    ChecksumMismatch,
    /// A URL or transport was refused by policy (scheme, host, credentials).
    UrlPolicy,
    /// The caller's arguments are inconsistent or incomplete.
    InvalidInput,
    /// The operation needs something this build or mode does not provide (e.g. network while offline).
    Unsupported,
    /// The operation was interrupted through the `should_interrupt` flag.
    Interrupted,
    /// A bug: an invariant did not hold, or a panic was caught at a boundary.
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order (for exhaustive tests of bindings).
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::Io,
        ErrorKind::NotFound,
        ErrorKind::PermissionDenied,
        ErrorKind::InvalidArchive,
        ErrorKind::InvalidMetadata,
        ErrorKind::LimitExceeded,
        ErrorKind::Git,
        ErrorKind::Network,
        ErrorKind::CrateNotFound,
        ErrorKind::ChecksumMismatch,
        ErrorKind::UrlPolicy,
        ErrorKind::InvalidInput,
        ErrorKind::Unsupported,
        ErrorKind::Interrupted,
        ErrorKind::Internal,
    ];

    /// The stable snake_case name of this kind, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::NotFound => "not_found",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::InvalidArchive => "invalid_archive",
            ErrorKind::InvalidMetadata => "invalid_metadata",
            ErrorKind::LimitExceeded => "limit_exceeded",
            ErrorKind::Git => "git",
            ErrorKind::Network => "network",
            ErrorKind::CrateNotFound => "crate_not_found",
            ErrorKind::ChecksumMismatch => "checksum_mismatch",
            ErrorKind::UrlPolicy => "url_policy",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::Internal => "internal",
        }
    }

    /// Classify a local I/O error.
    pub fn from_io(err: &std::io::Error) -> ErrorKind {
        match err.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            _ => ErrorKind::Io,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which configured limit was exceeded; carried by `LimitExceeded` errors of every stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitError {
    /// The name of the limit, as the field of [`Limits`](crate::Limits) (e.g. `max_decompressed_bytes`).
    pub limit: &'static str,
    /// The configured maximum.
    pub max: u64,
    /// The value that was seen (or at least reached) when the limit was hit.
    pub value: u64,
}

impl std::fmt::Display for LimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "limit `{}` exceeded: {} > {}",
            self.limit, self.value, self.max
        )
    }
}

/// The full message of an error and its sources, `: `-separated (cargo style), with every
/// control character escaped (attacker-controlled names can reach messages). The CLI's JSON
/// `error.message`, Python exception messages and C messages all use this.
pub fn error_message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = crate::text::escape(e.to_string().as_bytes());
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = crate::text::escape(c.to_string().as_bytes());
        if !s.ends_with(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}
