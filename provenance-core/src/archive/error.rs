//! The errors of the archive stage.

use crate::error::{ErrorKind, LimitError};

/// Why a path inside the archive was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathProblem {
    /// A `..` component.
    ParentDir,
    /// A `.` component or an empty component (`a//b`).
    CurDirOrEmpty,
    /// An absolute path.
    Absolute,
    /// A Windows drive or UNC prefix (`C:`, `\\?\`).
    WindowsPrefix,
    /// A backslash, which some unpackers treat as a separator.
    Backslash,
    /// Not valid UTF-8.
    NonUtf8,
    /// A NUL byte.
    Nul,
    /// Not under the common `NAME-VERSION/` prefix.
    OutsidePrefix,
    /// Empty name.
    Empty,
}

impl std::fmt::Display for PathProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PathProblem::ParentDir => "contains a `..` component",
            PathProblem::CurDirOrEmpty => "contains a `.` or empty component",
            PathProblem::Absolute => "is absolute",
            PathProblem::WindowsPrefix => "has a windows drive or unc prefix",
            PathProblem::Backslash => "contains a backslash",
            PathProblem::NonUtf8 => "is not valid utf-8",
            PathProblem::Nul => "contains a nul byte",
            PathProblem::OutsidePrefix => "is outside the `NAME-VERSION/` prefix",
            PathProblem::Empty => "is empty",
        })
    }
}

/// Errors reading a `.crate`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the file failed.
    #[error("failed to read `{path}`")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The gzip stream is invalid (bad header, CRC, truncated).
    #[error("invalid gzip stream: {message}")]
    Gzip {
        /// What the decoder said.
        message: String,
    },
    /// A tar header is invalid (bad checksum, unparsable number).
    #[error("invalid tar header at byte {offset}: {message}")]
    TarHeader {
        /// Offset in the decompressed stream.
        offset: u64,
        /// What was wrong.
        message: String,
    },
    /// The tar stream ends in the middle of a header or an entry's data.
    #[error("tar stream truncated at byte {offset} (entry `{path}` declares {declared} bytes)")]
    Truncated {
        /// Offset in the decompressed stream.
        offset: u64,
        /// The entry being read (escaped).
        path: String,
        /// Its declared size.
        declared: u64,
    },
    /// A path refused for safety.
    #[error("archive path `{path}` {problem}")]
    InvalidPath {
        /// The path (escaped for display).
        path: String,
        /// Why.
        problem: PathProblem,
    },
    /// An entry that is malformed (directory with data, file name ending in `/`, …).
    #[error("invalid archive entry `{path}`: {message}")]
    InvalidEntry {
        /// The path (escaped).
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A PAX extended header is malformed.
    #[error("malformed pax extended header: {message}")]
    MalformedPax {
        /// What was wrong.
        message: String,
    },
    /// A PAX `size` disagrees with the header size (tar smuggling).
    #[error("pax `size` {pax} disagrees with the header size {header} for `{path}`")]
    PaxSizeMismatch {
        /// The path (escaped).
        path: String,
        /// Size in the PAX record.
        pax: u64,
        /// Size in the tar header.
        header: u64,
    },
    /// A GNU long name and a PAX `path` name the same entry differently.
    #[error("gnu long name `{gnu}` and pax path `{pax}` disagree")]
    AmbiguousPath {
        /// GNU long name (escaped).
        gnu: String,
        /// PAX path (escaped).
        pax: String,
    },
    /// A limit was exceeded.
    #[error("{0}")]
    LimitExceeded(LimitError),
    /// The archive has no entries at all.
    #[error("the archive is empty")]
    Empty,
}

impl Error {
    /// The stable classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { source, .. } => ErrorKind::from_io(source),
            Error::LimitExceeded(_) => ErrorKind::LimitExceeded,
            _ => ErrorKind::InvalidArchive,
        }
    }
}
