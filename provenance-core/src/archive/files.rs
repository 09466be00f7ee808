//! What a read `.crate` holds: its regular files (kept in memory, or hashed while streaming)
//! and its anomalies.

use std::collections::BTreeMap;

use super::anomaly::Anomaly;

/// A regular file in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// The file's bytes; empty when the file was too large to keep in memory (see `streamed`).
    pub data: Vec<u8>,
    /// The mode bits from the header (recorded, never applied).
    pub mode: u32,
    /// The file's size in bytes.
    pub size: u64,
    /// Set when the bytes were hashed while streaming instead of kept
    /// ([`Limits::max_text_diff_bytes`](crate::Limits::max_text_diff_bytes) per file,
    /// [`Limits::max_in_memory_bytes`](crate::Limits::max_in_memory_bytes) in total).
    pub streamed: Option<Streamed>,
    /// The SHA-1 blob id, computed once (the assisted search compares a file many times).
    pub(super) sha1: std::sync::OnceLock<Option<gix::ObjectId>>,
}

/// Hashes of a file that was not kept in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streamed {
    /// The SHA-1 git blob id (`None` if a SHA-1 collision attack was detected).
    pub blob_sha1: Option<gix::ObjectId>,
    /// Lowercase hex SHA-256.
    pub sha256: String,
}

impl File {
    /// A file kept in memory.
    pub fn new(data: Vec<u8>, mode: u32) -> File {
        File {
            size: data.len() as u64,
            data,
            mode,
            streamed: None,
            sha1: std::sync::OnceLock::new(),
        }
    }

    /// Whether the bytes are in memory.
    pub fn retained(&self) -> bool {
        self.streamed.is_none()
    }

    /// The git blob id for a repository using `kind` (`None` on a detected SHA-1 collision, or
    /// for a streamed file in a SHA-256 repository).
    pub fn blob_id(&self, kind: gix::hash::Kind) -> Option<gix::ObjectId> {
        match &self.streamed {
            None if kind == gix::hash::Kind::Sha1 => *self
                .sha1
                .get_or_init(|| crate::ids::blob_id(kind, &self.data)),
            None => crate::ids::blob_id(kind, &self.data),
            Some(s) if kind == gix::hash::Kind::Sha1 => s.blob_sha1,
            Some(_) => None,
        }
    }

    /// Size and SHA-256.
    pub fn digest(&self) -> crate::report::FileDigest {
        crate::report::FileDigest {
            size: self.size,
            sha256: match &self.streamed {
                Some(s) => s.sha256.clone(),
                None => crate::ids::hex(&<sha2::Sha256 as sha2::Digest>::digest(&self.data)),
            },
        }
    }

    pub(super) fn same_content(&self, other: &File) -> bool {
        self.size == other.size && self.digest().sha256 == other.digest().sha256
    }
}

/// A `.crate` read into memory.
#[derive(Debug, Clone, Default)]
pub struct CrateArchive {
    /// The common top-level directory, `NAME-VERSION`.
    pub prefix: String,
    /// Regular files by package-relative path (prefix stripped), first occurrence wins.
    pub files: BTreeMap<String, File>,
    /// Everything unusual, in archive order.
    pub anomalies: Vec<Anomaly>,
    /// Number of tar entries (headers) read, including metadata entries.
    pub entry_count: u64,
    /// Decompressed size of the tar stream.
    pub decompressed_bytes: u64,
}

impl CrateArchive {
    /// The regular file at `path` (package-relative).
    pub fn file(&self, path: &str) -> Option<&File> {
        self.files.get(path)
    }
}
