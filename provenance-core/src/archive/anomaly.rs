//! What different tar readers could read differently, or what cargo never produces: recorded
//! while reading, turned into findings by the later stages.

use crate::report::{Finding, Severity};
use crate::text::escape;

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
