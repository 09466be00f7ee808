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
//! Limits from [`Limits`] bound decompressed size, entry count, path length/depth and metadata
//! record size; exceeding one is [`Error::LimitExceeded`].

use std::collections::BTreeMap;
use std::io::Read;

use crate::error::{ErrorKind, LimitError};
use crate::limits::Limits;
use crate::report::{Finding, Severity};
pub use crate::text::{escape, is_bidi_or_invisible};

const BLOCK: usize = 512;

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

/// The type of a non-regular entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EntryType {
    /// A regular file.
    Regular,
    /// A symbolic link.
    Symlink,
    /// A hard link.
    HardLink,
    /// A character or block device.
    Device,
    /// A FIFO.
    Fifo,
    /// A GNU sparse file.
    Sparse,
    /// A contiguous file (`7`), or an unknown type byte.
    Other(u8),
}

impl std::fmt::Display for EntryType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntryType::Regular => f.write_str("regular file"),
            EntryType::Symlink => f.write_str("symbolic link"),
            EntryType::HardLink => f.write_str("hard link"),
            EntryType::Device => f.write_str("device"),
            EntryType::Fifo => f.write_str("fifo"),
            EntryType::Sparse => f.write_str("sparse file"),
            EntryType::Other(b) => write!(f, "entry of type byte {b:#04x}"),
        }
    }
}

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
    /// ([`Limits::max_text_diff_bytes`] per file, [`Limits::max_in_memory_bytes`] in total).
    pub streamed: Option<Streamed>,
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

    fn same_content(&self, other: &File) -> bool {
        self.size == other.size && self.digest().sha256 == other.digest().sha256
    }
}

/// Something in the archive that different readers could interpret differently, or that cargo
/// never produces.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Anomaly {
    /// A non-regular entry (symlink, hard link, device, …). `target` is the link name, if any.
    NonRegular {
        /// Package-relative path.
        path: String,
        /// Entry type.
        entry_type: EntryType,
        /// Link target for symlinks and hard links.
        target: Option<String>,
    },
    /// The same path appears more than once; the first occurrence is kept in `files`.
    Duplicate {
        /// Package-relative path.
        path: String,
        /// Whether the later occurrence has different bytes.
        differs: bool,
    },
    /// Paths that are equal when case is folded.
    CaseCollision {
        /// The colliding package-relative paths.
        paths: Vec<String>,
    },
    /// Non-zero data after the tar end-of-archive marker (a second archive hidden behind it).
    TrailingTarData {
        /// Number of non-zero bytes after the end-of-archive marker.
        bytes: u64,
    },
    /// Data after the first gzip member (cargo only reads the first member).
    TrailingGzipData {
        /// Bytes after the member.
        bytes: u64,
        /// Whether they start a second gzip member.
        gzip_member: bool,
    },
    /// The tar stream ends without the end-of-archive marker.
    MissingEndOfArchive,
    /// A name that is harmless to this reader but means something else to other tools: a
    /// `.git` look-alike, a non-NFC (decomposed) name, a mixed-script confusable (C10).
    SuspiciousPath {
        /// Package-relative path.
        path: String,
        /// What is suspicious about it.
        reason: PathSuspicion,
    },
}

/// Why a name is suspicious (see [`Anomaly::SuspiciousPath`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathSuspicion {
    /// A component that is not `.git` but that git, HFS+ or NTFS treat as `.git`
    /// (`.GIT`, `.g\u{200c}it`, `git~1`, `.git::$INDEX_ALLOCATION`, `.git.`).
    DotGitLike,
    /// A component holding combining characters (a decomposed, non-NFC form that collides
    /// with its precomposed twin on normalizing file systems).
    Unnormalized,
    /// A component mixing Latin with Cyrillic or Greek letters (a homograph of a Latin name).
    Confusable,
}

impl PathSuspicion {
    /// The finding kind: `dot_git_like`, `normalization_collision` or `confusable_path`.
    pub fn as_str(self) -> &'static str {
        match self {
            PathSuspicion::DotGitLike => "dot_git_like",
            PathSuspicion::Unnormalized => "normalization_collision",
            PathSuspicion::Confusable => "confusable_path",
        }
    }
}

fn is_ignorable(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{206a}'..='\u{206f}' | '\u{feff}')
}

fn is_combining(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}' | '\u{1ab0}'..='\u{1aff}' | '\u{1dc0}'..='\u{1dff}' | '\u{20d0}'..='\u{20ff}' | '\u{fe20}'..='\u{fe2f}')
}

/// Classify one package-relative path (C10). `.git` itself is not flagged here (compare reports
/// packaged git internals as `git_internals_packaged`).
pub fn path_suspicion(path: &str) -> Option<PathSuspicion> {
    for comp in path.split('/') {
        let visible: String = comp.chars().filter(|c| !is_ignorable(*c)).collect();
        let folded = visible.trim_end_matches(['.', ' ']).to_lowercase();
        let ntfs_stream = folded.split(':').next().unwrap_or_default();
        let short_name = folded
            .strip_prefix("git~")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if comp != ".git" && (folded == ".git" || ntfs_stream == ".git" || short_name) {
            return Some(PathSuspicion::DotGitLike);
        }
        if comp.chars().any(is_combining) {
            return Some(PathSuspicion::Unnormalized);
        }
        let latin = comp
            .chars()
            .any(|c| c.is_ascii_alphabetic() || ('\u{c0}'..='\u{24f}').contains(&c));
        let other = comp
            .chars()
            .any(|c| ('\u{370}'..='\u{3ff}').contains(&c) || ('\u{400}'..='\u{52f}').contains(&c));
        if latin && other {
            return Some(PathSuspicion::Confusable);
        }
    }
    None
}

impl Anomaly {
    /// The anomaly as a report finding.
    pub fn to_finding(&self) -> Finding {
        match self {
            Anomaly::NonRegular {
                path,
                entry_type,
                target,
            } => Finding::new(
                "unsupported_entry_type",
                Severity::High,
                match target {
                    Some(t) => format!(
                        "the archive holds a {entry_type} (target `{}`); cargo only writes regular files",
                        escape(t.as_bytes())
                    ),
                    None => format!("the archive holds a {entry_type}; cargo only writes regular files"),
                },
            )
            .with_path(path.clone()),
            // Identical copies cannot make readers disagree; cargo before 1.7 (2015) wrote a
            // modified tracked file twice (PR #2269), so they are only noted.
            Anomaly::Duplicate { path, differs } => Finding::new(
                "duplicate_path",
                if *differs { Severity::High } else { Severity::Low },
                if *differs {
                    "the path appears more than once with different contents; unpackers disagree on which wins"
                } else {
                    "the path appears more than once with identical contents (cargo before 1.7 wrote modified files twice)"
                },
            )
            .with_path(path.clone()),
            // A portability hazard (one file hides the other on case-insensitive file
            // systems), not a parser disagreement: git and cargo on Linux keep both.
            Anomaly::CaseCollision { paths } => Finding::new(
                "case_collision",
                Severity::Medium,
                format!(
                    "paths collide on case-insensitive file systems: {}",
                    paths
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_path(paths[0].clone()),
            Anomaly::TrailingTarData { bytes } => Finding::new(
                "trailing_data",
                Severity::High,
                format!("{bytes} non-zero bytes follow the tar end-of-archive marker; some readers see more entries than cargo"),
            ),
            Anomaly::TrailingGzipData { bytes, gzip_member } => Finding::new(
                "trailing_data",
                Severity::High,
                if *gzip_member {
                    format!("a second gzip member ({bytes} bytes) follows the first; cargo reads only the first")
                } else {
                    format!("{bytes} bytes of garbage follow the gzip member")
                },
            ),
            Anomaly::MissingEndOfArchive => Finding::new(
                "missing_end_of_archive",
                Severity::Low,
                "the tar stream has no end-of-archive marker",
            ),
            Anomaly::SuspiciousPath { path, reason } => Finding::new(
                reason.as_str(),
                match reason {
                    PathSuspicion::DotGitLike => Severity::High,
                    _ => Severity::Medium,
                },
                match reason {
                    PathSuspicion::DotGitLike => format!(
                        "`{}` is treated as `.git` by git, hfs+ or ntfs",
                        escape(path.as_bytes())
                    ),
                    PathSuspicion::Unnormalized => format!(
                        "`{}` holds combining characters (not nfc); it collides with its precomposed form on normalizing file systems",
                        escape(path.as_bytes())
                    ),
                    _ => format!(
                        "`{}` mixes latin with cyrillic or greek letters (a possible homograph)",
                        escape(path.as_bytes())
                    ),
                },
            )
            .with_path(path.clone()),
        }
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

/// Read a `.crate` file from disk (bounded by [`Limits::max_crate_bytes`]) and parse it.
/// Returns the archive and the raw bytes (for hashing).
pub fn read_file(
    path: &std::path::Path,
    limits: &Limits,
) -> Result<(CrateArchive, Vec<u8>), Error> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    f.take(limits.max_crate_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limits.max_crate_bytes {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_crate_bytes",
            max: limits.max_crate_bytes,
            value: bytes.len() as u64,
        }));
    }
    let archive = parse(&bytes, limits)?;
    Ok((archive, bytes))
}

/// A reader that fails once more than `cap` bytes went through it.
struct Capped<R> {
    inner: R,
    seen: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen += n as u64;
        if self.seen > self.cap {
            return Err(std::io::Error::other(CapHit));
        }
        Ok(n)
    }
}

#[derive(Debug)]
struct CapHit;
impl std::fmt::Display for CapHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("decompressed size cap reached")
    }
}
impl std::error::Error for CapHit {}

struct Stream<'a> {
    r: Capped<flate2::bufread::GzDecoder<&'a [u8]>>,
    offset: u64,
}

enum Fill {
    Full,
    Eof(usize),
}

impl Stream<'_> {
    fn map_err(&self, e: &std::io::Error) -> Error {
        if e.get_ref()
            .is_some_and(<dyn std::error::Error + Send + Sync>::is::<CapHit>)
        {
            return Error::LimitExceeded(LimitError {
                limit: "max_decompressed_bytes",
                max: self.r.cap,
                value: self.r.seen,
            });
        }
        Error::Gzip {
            message: e.to_string(),
        }
    }

    /// Fill `buf` completely, or report how much was read before EOF.
    fn fill(&mut self, buf: &mut [u8]) -> Result<Fill, Error> {
        let mut got = 0;
        while got < buf.len() {
            match self.r.read(&mut buf[got..]) {
                Ok(0) => return Ok(Fill::Eof(got)),
                Ok(n) => {
                    got += n;
                    self.offset += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.map_err(&e)),
            }
        }
        Ok(Fill::Full)
    }

    /// Read exactly `len` bytes of entry data plus padding to the next block.
    fn read_data(&mut self, len: u64, path: &str) -> Result<Vec<u8>, Error> {
        // Never pre-allocate from the declared size: grow as bytes arrive (C19).
        let mut out = Vec::with_capacity(len.min(1 << 20) as usize);
        self.read_with(len, path, &mut |c| out.extend_from_slice(c))?;
        Ok(out)
    }

    /// Read `len` bytes of entry data, hashing instead of keeping them: the git blob id (SHA-1,
    /// collision-detecting) and the SHA-256.
    fn read_hashed(&mut self, len: u64, path: &str) -> Result<Streamed, Error> {
        let mut git = gix::hash::hasher(gix::hash::Kind::Sha1);
        git.update(&gix::objs::encode::loose_header(
            gix::object::Kind::Blob,
            len,
        ));
        let mut sha = <sha2::Sha256 as sha2::Digest>::new();
        self.read_with(len, path, &mut |c| {
            git.update(c);
            sha2::Digest::update(&mut sha, c);
        })?;
        Ok(Streamed {
            blob_sha1: git.try_finalize().ok(),
            sha256: crate::ids::hex(&sha2::Digest::finalize(sha)),
        })
    }

    /// Read exactly `len` bytes plus padding, handing each chunk to `sink`.
    fn read_with(
        &mut self,
        len: u64,
        path: &str,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Error> {
        let mut chunk = [0u8; 8192];
        let mut remaining = len;
        while remaining > 0 {
            let want = remaining.min(chunk.len() as u64) as usize;
            match self.fill(&mut chunk[..want])? {
                Fill::Full => {}
                Fill::Eof(_) => {
                    return Err(Error::Truncated {
                        offset: self.offset,
                        path: escape(path.as_bytes()),
                        declared: len,
                    });
                }
            }
            sink(&chunk[..want]);
            remaining -= want as u64;
        }
        let pad = (BLOCK as u64 - len % BLOCK as u64) % BLOCK as u64;
        if pad > 0 {
            let mut p = [0u8; BLOCK];
            if let Fill::Eof(_) = self.fill(&mut p[..pad as usize])? {
                return Err(Error::Truncated {
                    offset: self.offset,
                    path: escape(path.as_bytes()),
                    declared: len,
                });
            }
        }
        Ok(())
    }
}

/// Parse `.crate` bytes (gzip-compressed tar) into memory.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<CrateArchive, Error> {
    // Test-only fault injection (SECURITY.md B1): lets the binding suites check their panic
    // boundaries. Never enabled by default.
    #[cfg(feature = "fault-injection")]
    assert!(
        !bytes.starts_with(b"PROVENANCE-FAULT-INJECTION:panic"),
        "fault injection: parser panic"
    );
    if bytes.len() as u64 > limits.max_crate_bytes {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_crate_bytes",
            max: limits.max_crate_bytes,
            value: bytes.len() as u64,
        }));
    }
    if bytes.len() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b {
        return Err(Error::Gzip {
            message: if bytes.is_empty() {
                "the file is empty".into()
            } else {
                "not a gzip stream (bad magic bytes)".into()
            },
        });
    }
    let cap = limits.decompressed_cap(bytes.len() as u64);
    let mut stream = Stream {
        r: Capped {
            inner: flate2::bufread::GzDecoder::new(bytes),
            seen: 0,
            cap,
        },
        offset: 0,
    };

    let mut archive = CrateArchive::default();
    let mut pending_gnu_name: Option<Vec<u8>> = None;
    let mut pending_gnu_link: Option<Vec<u8>> = None;
    let mut pending_pax: Option<Pax> = None;
    let mut saw_end = false;
    let mut header_buf = [0u8; BLOCK];
    let mut raw_paths: Vec<String> = Vec::new();
    let mut retained: u64 = 0;

    loop {
        let header_offset = stream.offset;
        match stream.fill(&mut header_buf)? {
            Fill::Full => {}
            Fill::Eof(0) => break,
            Fill::Eof(_) => {
                return Err(Error::Truncated {
                    offset: stream.offset,
                    path: String::new(),
                    declared: BLOCK as u64,
                });
            }
        }
        if header_buf.iter().all(|b| *b == 0) {
            // End of archive: one or two zero blocks. Read the rest and look for hidden data.
            saw_end = true;
            break;
        }
        archive.entry_count += 1;
        if archive.entry_count > limits.max_entries {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_entries",
                max: limits.max_entries,
                value: archive.entry_count,
            }));
        }
        let header = tar::Header::from_byte_slice(&header_buf);
        verify_checksum(&header_buf, header_offset)?;
        // The size field as stored: the number of data bytes that follow in the stream.
        // (`Header::size` returns a GNU sparse file's `realsize` instead, which would let the
        // data of an `S` entry be read as headers: C7.)
        let header_size = header.entry_size().map_err(|e| Error::TarHeader {
            offset: header_offset,
            message: format!("unparsable size: {e}"),
        })?;
        // A declared size that cannot fit the decompressed cap is refused before anything is
        // buffered (C17: one entry declaring 1 GiB of zeros never grows a 512 MiB buffer).
        let remaining = stream.r.cap.saturating_sub(stream.offset);
        if header_size > remaining {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_decompressed_bytes",
                max: stream.r.cap,
                value: stream.offset.saturating_add(header_size),
            }));
        }
        let entry_type = header.entry_type();

        // Metadata entries first.
        if entry_type.is_gnu_longname() || entry_type.is_gnu_longlink() {
            check_record_size(header_size, limits)?;
            let mut data = stream.read_data(header_size, "././@LongLink")?;
            while data.last() == Some(&0) {
                data.pop();
            }
            if entry_type.is_gnu_longname() {
                pending_gnu_name = Some(data);
            } else {
                pending_gnu_link = Some(data);
            }
            continue;
        }
        if entry_type.is_pax_local_extensions() {
            check_record_size(header_size, limits)?;
            let data = stream.read_data(header_size, "pax header")?;
            if pending_pax.is_some() {
                return Err(Error::MalformedPax {
                    message: "two pax extended headers for one entry".into(),
                });
            }
            pending_pax = Some(parse_pax(&data)?);
            continue;
        }
        if entry_type.is_pax_global_extensions() {
            // Policy (C7): global headers change how every later entry is read; cargo never
            // writes one, so the archive is refused.
            return Err(Error::InvalidEntry {
                path: escape(&header.path_bytes()),
                message: "pax global extended header (`g`) is not supported".into(),
            });
        }

        // The effective name: PAX path, else GNU long name, else the header (with ustar prefix).
        let pax = pending_pax.take();
        let gnu_name = pending_gnu_name.take();
        let gnu_link = pending_gnu_link.take();
        let name: Vec<u8> = match (&pax.as_ref().and_then(|p| p.path.clone()), &gnu_name) {
            (Some(p), Some(g)) if p != g => {
                return Err(Error::AmbiguousPath {
                    gnu: escape(g),
                    pax: escape(p),
                });
            }
            (Some(p), _) => p.clone(),
            (None, Some(g)) => g.clone(),
            (None, None) => header.path_bytes().into_owned(),
        };
        let link: Option<Vec<u8>> = pax
            .as_ref()
            .and_then(|p| p.linkpath.clone())
            .or(gnu_link)
            .or_else(|| header.link_name_bytes().map(std::borrow::Cow::into_owned));
        if let Some(pax_size) = pax.as_ref().and_then(|p| p.size)
            && pax_size != header_size
        {
            return Err(Error::PaxSizeMismatch {
                path: escape(&name),
                pax: pax_size,
                header: header_size,
            });
        }

        let is_dir = entry_type.is_dir();
        let rel = validate_path(&name, is_dir, &mut archive.prefix, limits)?;
        let kind = classify_type(entry_type);

        if is_dir {
            if header_size != 0 {
                return Err(Error::InvalidEntry {
                    path: escape(&name),
                    message: format!("directory entry with {header_size} bytes of data"),
                });
            }
            continue;
        }
        let Some(rel) = rel else {
            return Err(Error::InvalidEntry {
                path: escape(&name),
                message: "a file entry names the top-level directory itself".into(),
            });
        };
        if matches!(kind, EntryType::Regular) {
            let mode = header.mode().unwrap_or(0);
            // Keep small files (and the metadata cargo generates) in memory; hash the rest while
            // streaming, so memory stays bounded whatever the archive holds (C17, E12).
            let metadata = matches!(
                rel.as_str(),
                "Cargo.toml" | "Cargo.toml.orig" | "Cargo.lock" | ".cargo_vcs_info.json"
            ) && header_size <= limits.max_manifest_bytes;
            let keep = metadata
                || (header_size <= limits.max_text_diff_bytes
                    && retained + header_size <= limits.max_in_memory_bytes);
            let file = if keep {
                retained += header_size;
                File::new(stream.read_data(header_size, &rel)?, mode)
            } else {
                File {
                    data: Vec::new(),
                    mode,
                    size: header_size,
                    streamed: Some(stream.read_hashed(header_size, &rel)?),
                }
            };
            raw_paths.push(rel.clone());
            let after_non_regular = archive
                .anomalies
                .iter()
                .any(|a| matches!(a, Anomaly::NonRegular { path, .. } if *path == rel));
            if let Some(existing) = archive.files.get(&rel) {
                let differs = !existing.same_content(&file);
                archive
                    .anomalies
                    .push(Anomaly::Duplicate { path: rel, differs });
            } else {
                if after_non_regular {
                    // A link (or device, …) and then a regular file under the same name:
                    // unpackers disagree on which one wins (C5), never resolved silently.
                    archive.anomalies.push(Anomaly::Duplicate {
                        path: rel.clone(),
                        differs: true,
                    });
                }
                archive.files.insert(rel, file);
            }
        } else {
            // Skip any data (sparse/contiguous files declare some); never interpret it.
            stream.read_with(header_size, &rel, &mut |_| {})?;
            raw_paths.push(rel.clone());
            let duplicate = archive.files.contains_key(&rel)
                || archive
                    .anomalies
                    .iter()
                    .any(|a| matches!(a, Anomaly::NonRegular { path, .. } if *path == rel));
            if duplicate {
                archive.anomalies.push(Anomaly::Duplicate {
                    path: rel.clone(),
                    differs: true,
                });
            }
            archive.anomalies.push(Anomaly::NonRegular {
                path: rel,
                entry_type: kind,
                target: link.map(|l| String::from_utf8_lossy(&l).into_owned()),
            });
        }
    }

    if pending_pax.is_some() || pending_gnu_name.is_some() || pending_gnu_link.is_some() {
        return Err(Error::Truncated {
            offset: stream.offset,
            path: "(extended header without entry)".into(),
            declared: 0,
        });
    }
    if archive.entry_count == 0 {
        return Err(Error::Empty);
    }

    // Everything after the end-of-archive marker must be zeros.
    if saw_end {
        let mut nonzero = 0u64;
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            match stream.r.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    stream.offset += n as u64;
                    nonzero += chunk[..n].iter().filter(|b| **b != 0).count() as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(stream.map_err(&e)),
            }
        }
        if nonzero > 0 {
            archive
                .anomalies
                .push(Anomaly::TrailingTarData { bytes: nonzero });
        }
    } else {
        archive.anomalies.push(Anomaly::MissingEndOfArchive);
    }
    archive.decompressed_bytes = stream.offset;
    let rest = stream.r.inner.into_inner();
    if !rest.is_empty() {
        archive.anomalies.push(Anomaly::TrailingGzipData {
            bytes: rest.len() as u64,
            gzip_member: rest.starts_with(&[0x1f, 0x8b]),
        });
    }

    // Case-fold collisions among all paths (regular or not).
    let mut folded: BTreeMap<String, Vec<String>> = BTreeMap::new();
    raw_paths.sort();
    raw_paths.dedup();
    for p in raw_paths {
        if let Some(reason) = path_suspicion(&p) {
            archive.anomalies.push(Anomaly::SuspiciousPath {
                path: p.clone(),
                reason,
            });
        }
        folded.entry(p.to_lowercase()).or_default().push(p);
    }
    for (_, paths) in folded {
        if paths.len() > 1 {
            archive.anomalies.push(Anomaly::CaseCollision { paths });
        }
    }
    Ok(archive)
}

fn check_record_size(size: u64, limits: &Limits) -> Result<(), Error> {
    if size > limits.max_metadata_record_bytes {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_metadata_record_bytes",
            max: limits.max_metadata_record_bytes,
            value: size,
        }));
    }
    Ok(())
}

fn verify_checksum(block: &[u8; BLOCK], offset: u64) -> Result<(), Error> {
    let sum: u32 = block[..148]
        .iter()
        .chain(&block[156..])
        .map(|b| u32::from(*b))
        .sum::<u32>()
        + 8 * 32;
    let field = &block[148..156];
    let text: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| *b as char)
        .collect();
    let text = text.trim();
    let stored = u32::from_str_radix(text, 8).map_err(|_| Error::TarHeader {
        offset,
        message: format!("unparsable checksum field `{}`", escape(field)),
    })?;
    if stored != sum {
        return Err(Error::TarHeader {
            offset,
            message: format!("checksum mismatch (stored {stored}, computed {sum})"),
        });
    }
    Ok(())
}

fn classify_type(t: tar::EntryType) -> EntryType {
    match t.as_byte() {
        b'0' | 0 => EntryType::Regular,
        b'1' => EntryType::HardLink,
        b'2' => EntryType::Symlink,
        b'3' | b'4' => EntryType::Device,
        b'6' => EntryType::Fifo,
        b'S' => EntryType::Sparse,
        other => EntryType::Other(other),
    }
}

/// Validate an archive path and strip the `NAME-VERSION/` prefix. The first entry fixes the
/// prefix. Returns `None` for the prefix directory itself.
fn validate_path(
    name: &[u8],
    is_dir: bool,
    prefix: &mut String,
    limits: &Limits,
) -> Result<Option<String>, Error> {
    let err = |problem| Error::InvalidPath {
        path: escape(name),
        problem,
    };
    if name.is_empty() {
        return Err(err(PathProblem::Empty));
    }
    if name.len() as u64 > limits.max_path_bytes {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_path_bytes",
            max: limits.max_path_bytes,
            value: name.len() as u64,
        }));
    }
    if name.contains(&0) {
        return Err(err(PathProblem::Nul));
    }
    let Ok(text) = std::str::from_utf8(name) else {
        return Err(err(PathProblem::NonUtf8));
    };
    if text.starts_with('/') {
        return Err(err(PathProblem::Absolute));
    }
    if text.starts_with("\\\\") || (text.len() >= 2 && text.as_bytes()[1] == b':') {
        return Err(err(PathProblem::WindowsPrefix));
    }
    if text.contains('\\') {
        return Err(err(PathProblem::Backslash));
    }
    let mut trimmed = text;
    if let Some(t) = trimmed.strip_suffix('/') {
        if !is_dir {
            return Err(Error::InvalidEntry {
                path: escape(name),
                message: "a file name ends with `/`".into(),
            });
        }
        trimmed = t;
    }
    let components: Vec<&str> = trimmed.split('/').collect();
    if components.len() as u64 > limits.max_path_depth {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_path_depth",
            max: limits.max_path_depth,
            value: components.len() as u64,
        }));
    }
    for c in &components {
        match *c {
            ".." => return Err(err(PathProblem::ParentDir)),
            "." | "" => return Err(err(PathProblem::CurDirOrEmpty)),
            _ => {}
        }
        if c.len() as u64 > limits.max_component_bytes {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_component_bytes",
                max: limits.max_component_bytes,
                value: c.len() as u64,
            }));
        }
    }
    if prefix.is_empty() {
        components[0].clone_into(prefix);
    } else if components[0] != prefix {
        return Err(err(PathProblem::OutsidePrefix));
    }
    if components.len() == 1 {
        if !is_dir {
            return Err(err(PathProblem::OutsidePrefix));
        }
        return Ok(None);
    }
    Ok(Some(components[1..].join("/")))
}

#[derive(Debug, Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
}

fn parse_pax(data: &[u8]) -> Result<Pax, Error> {
    let bad = |m: String| Error::MalformedPax { message: m };
    let mut pax = Pax::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut rest = data;
    while !rest.is_empty() {
        // Trailing NUL padding after the last record is tolerated.
        if rest.iter().all(|b| *b == 0) {
            break;
        }
        let sp = rest
            .iter()
            .position(|b| *b == b' ')
            .ok_or_else(|| bad("record without a length".into()))?;
        let len_text =
            std::str::from_utf8(&rest[..sp]).map_err(|_| bad("non-ascii record length".into()))?;
        if len_text.is_empty() || !len_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(format!(
                "invalid record length `{}`",
                escape(len_text.as_bytes())
            )));
        }
        let len: usize = len_text
            .parse()
            .map_err(|_| bad("record length out of range".into()))?;
        if len <= sp + 1 || len > rest.len() {
            return Err(bad(format!("record length {len} does not fit the header")));
        }
        let record = &rest[sp + 1..len];
        let Some((&b'\n', body)) = record.split_last() else {
            return Err(bad("record does not end with a newline".into()));
        };
        let eq = body
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(|| bad("record without `=`".into()))?;
        let (key, value) = (&body[..eq], &body[eq + 1..]);
        if !seen.insert(key.to_vec()) {
            return Err(bad(format!("duplicate key `{}`", escape(key))));
        }
        match key {
            b"path" => pax.path = Some(value.to_vec()),
            b"linkpath" => pax.linkpath = Some(value.to_vec()),
            b"size" => {
                let text =
                    std::str::from_utf8(value).map_err(|_| bad("non-ascii `size`".into()))?;
                if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(format!("invalid `size` value `{}`", escape(value))));
                }
                pax.size = Some(
                    text.parse()
                        .map_err(|_| bad("`size` out of range".into()))?,
                );
            }
            k if k.starts_with(b"GNU.sparse") => {
                return Err(bad("gnu sparse pax records are not supported".into()));
            }
            _ => {}
        }
        rest = &rest[len..];
    }
    Ok(pax)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (p, d) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(d.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, p, *d).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_plain_archive() {
        let bytes = gz(&tar_of(&[
            ("foo-1.0.0/Cargo.toml", b"x"),
            ("foo-1.0.0/src/lib.rs", b"y"),
        ]));
        let a = parse(&bytes, &Limits::default()).unwrap();
        assert_eq!(a.prefix, "foo-1.0.0");
        assert_eq!(a.files.len(), 2);
        assert!(a.anomalies.is_empty(), "{:?}", a.anomalies);
    }

    #[test]
    fn prefix_lookalike_is_outside() {
        let bytes = gz(&tar_of(&[
            ("foo-1.0.0/a", b"x"),
            ("foo-1.0.0-evil/x", b"y"),
        ]));
        let e = parse(&bytes, &Limits::default()).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidPath {
                    problem: PathProblem::OutsidePrefix,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn pax_parsing() {
        let p = parse_pax(b"13 path=abcd\n").unwrap();
        assert_eq!(p.path.as_deref(), Some(&b"abcd"[..]));
        assert!(parse_pax(b"12 size=abc\n").is_err());
        assert!(parse_pax(b"99 path=x\n").is_err());
    }
}
