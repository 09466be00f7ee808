//! Safe `.crate` reader: gzip + tar, read entirely into memory, never touching the filesystem.
//!
//! The tar stream is walked header by header (the `tar` crate decodes the header fields; the
//! iteration, PAX and GNU long-name handling are ours), so every place where tar readers are known
//! to disagree is seen and reported rather than silently resolved:
//!
//! * hostile paths (`..`, absolute, Windows prefixes, backslashes, non-UTF-8, NUL, paths outside
//!   the `NAME-VERSION/` prefix) are a typed [`Error::InvalidPath`];
//! * PAX `size` that disagrees with the header size ([`Error::PaxSizeMismatch`]), malformed PAX
//!   records ([`Error::MalformedPax`]), a GNU long name and a PAX `path` that disagree
//!   ([`Error::AmbiguousPath`]) are errors;
//! * duplicate paths, case-fold collisions, non-regular entries (symlinks, hard links, devices,
//!   FIFOs, sparse files) and data after the tar end-of-archive or after the first gzip member are
//!   recorded as [`Anomaly`] values: the verification turns them into differences and findings
//!   that never allow a `match`.
//!
//! Limits from [`Limits`](crate::Limits) bound decompressed size, entry count, path length/depth and metadata
//! record size; exceeding one is [`Error::LimitExceeded`].
//!
//! Layout: `reader.rs` drives the parse over the bounded decompressed stream (`stream.rs`), one
//! header at a time (`header.rs`); `files.rs` holds what is read, `anomaly.rs` what readers
//! could disagree on, `identity.rs` the crate's name and version; this file only gathers them.

mod anomaly;
mod error;
mod files;
mod header;
mod identity;
mod reader;
mod stream;

pub use crate::text::{escape, is_bidi_or_invisible};
pub use anomaly::{Anomaly, EntryType, PathSuspicion, path_suspicion};
pub use error::{Error, PathProblem};
pub use files::{CrateArchive, File, Streamed};
pub(crate) use identity::identity;
pub use reader::{parse, read_file};
