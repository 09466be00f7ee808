//! The errors of the fetch stage, and how network failures are described.

use crate::error::{ErrorKind, LimitError};

/// Errors of the fetch stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry has no such crate, or no such version of it.
    #[error("crate `{name}{}` not found in the registry at `{registry}`", version.as_ref().map(|v| format!("@{v}")).unwrap_or_default())]
    CrateNotFound {
        /// The crate name.
        name: String,
        /// The version, when the crate exists but the version does not.
        version: Option<String>,
        /// The registry host (or index directory).
        registry: String,
    },
    /// The downloaded `.crate` does not hash to the index `cksum`; nothing was cached.
    #[error(
        "checksum mismatch for `{name}@{version}`: the registry index records sha256 `{expected}`, the download has `{actual}`"
    )]
    ChecksumMismatch {
        /// The crate name.
        name: String,
        /// The version.
        version: String,
        /// The index `cksum`.
        expected: String,
        /// The sha256 of the downloaded bytes.
        actual: String,
    },
    /// A network transfer failed.
    #[error("{what} from `{host}` failed: {message}")]
    Network {
        /// The host that was contacted.
        host: String,
        /// What was being done.
        what: String,
        /// What went wrong (DNS, connection, TLS, HTTP status, timeout, truncation).
        message: String,
        /// Whether retrying may help (used for bounded retries).
        transient: bool,
    },
    /// A URL or transport was refused by policy.
    #[error("`{url}` refused: {reason}")]
    UrlPolicy {
        /// The URL (escaped).
        url: String,
        /// Why.
        reason: String,
    },
    /// A limit was exceeded.
    #[error("{0}")]
    LimitExceeded(LimitError),
    /// The cache directory is unusable.
    #[error("cache `{path}`: {message}")]
    Cache {
        /// The path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// `offline` was requested but what is needed is not cached.
    #[error("offline: {what} is not in the cache")]
    Offline {
        /// What was needed.
        what: String,
    },
    /// The registry index served something unusable.
    #[error("invalid registry index: {message}")]
    InvalidIndex {
        /// What is wrong.
        message: String,
    },
    /// The request itself is invalid.
    #[error("{message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
    },
    /// The local repository machinery failed.
    #[error("git repository for `{url}`: {message}")]
    Git {
        /// The repository URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// `should_interrupt` was set.
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// The stable classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::CrateNotFound { .. } => ErrorKind::CrateNotFound,
            Error::ChecksumMismatch { .. } => ErrorKind::ChecksumMismatch,
            Error::Network { .. } | Error::InvalidIndex { .. } => ErrorKind::Network,
            Error::UrlPolicy { .. } => ErrorKind::UrlPolicy,
            Error::LimitExceeded(_) => ErrorKind::LimitExceeded,
            Error::Cache { .. } => ErrorKind::Io,
            Error::Offline { .. } => ErrorKind::Unsupported,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Git { .. } => ErrorKind::Git,
            Error::Interrupted => ErrorKind::Interrupted,
        }
    }
}

/// Render an error and its sources on one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Describe a reqwest failure, saying plainly when it is DNS, a refused connection, TLS or a timeout.
pub(crate) fn describe_reqwest(e: &reqwest::Error, host: &str) -> String {
    let full = chain(e);
    let lower = full.to_ascii_lowercase();
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        format!("dns lookup of `{host}` failed ({full})")
    } else if e.is_timeout() {
        format!("timed out ({full})")
    } else if lower.contains("connection refused") {
        format!("connection to `{host}` refused ({full})")
    } else if lower.contains("certificate") || lower.contains("tls") {
        format!("tls handshake with `{host}` failed ({full})")
    } else {
        full
    }
}
