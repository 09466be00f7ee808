//! The verification report: the verdict, what was compared, every difference and finding.
//!
//! # Format
//!
//! [`Report`] serializes (with `serde_json`) to the JSON document of shared/VERDICTS.md, with
//! `"schema_version": 1`; the JSON Schema is committed at `schema/report.v1.json`. Within
//! version 1, fields are only ever added. Paths are relative to the package root, `/`-separated,
//! and every list is sorted, so the same inputs always give the same bytes.

use serde::{Deserialize, Serialize};

/// The version of the JSON report format.
pub const SCHEMA_VERSION: u32 = 1;

/// The outcome of a verification, in precedence order (see shared/VERDICTS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// The crate declares no `package.repository` and no repository was given.
    NoRepository,
    /// The `.crate` has no `.cargo_vcs_info.json`.
    NoVcsInfo,
    /// The repository cannot be opened or fetched.
    RepositoryNotFound,
    /// The recorded commit is not in the repository.
    RevisionNotFound,
    /// No `Cargo.toml` for this package at `path_in_vcs` (or anywhere, when discovering).
    PathNotFound,
    /// The package at that commit cannot be packaged by cargo's rules.
    PackageError,
    /// Every difference lies inside git submodules whose commits could not be obtained.
    SubmoduleUnavailable,
    /// At least one difference remains.
    Mismatch,
    /// The only differences are symlinks published as their link text (or the reverse).
    MatchButSymlinks,
    /// The published files are exactly what cargo would package at that commit.
    Match,
}

impl Verdict {
    /// Every verdict, in precedence order.
    pub const ALL: &'static [Verdict] = &[
        Verdict::NoRepository,
        Verdict::NoVcsInfo,
        Verdict::RepositoryNotFound,
        Verdict::RevisionNotFound,
        Verdict::PathNotFound,
        Verdict::PackageError,
        Verdict::SubmoduleUnavailable,
        Verdict::Mismatch,
        Verdict::MatchButSymlinks,
        Verdict::Match,
    ];

    /// The stable snake_case name, e.g. `"match"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::NoRepository => "no_repository",
            Verdict::NoVcsInfo => "no_vcs_info",
            Verdict::RepositoryNotFound => "repository_not_found",
            Verdict::RevisionNotFound => "revision_not_found",
            Verdict::PathNotFound => "path_not_found",
            Verdict::PackageError => "package_error",
            Verdict::SubmoduleUnavailable => "submodule_unavailable",
            Verdict::Mismatch => "mismatch",
            Verdict::MatchButSymlinks => "match_but_symlinks",
            Verdict::Match => "match",
        }
    }

    /// The CLI exit status for this verdict: 0 for `match`, 1 otherwise.
    pub fn exit_code(self) -> u8 {
        u8::from(self != Verdict::Match)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a finding or difference matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational; explains something, changes nothing.
    Info,
    /// Worth knowing, rarely a problem.
    Low,
    /// Worth a look.
    Medium,
    /// Likely a problem, or a place where parsers can be made to disagree.
    High,
}

impl Severity {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// What kind of change a difference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Category {
    /// Only whitespace differs (including trailing whitespace).
    WhitespaceOnly,
    /// Only line endings differ (CRLF vs LF).
    LineEndings,
    /// `Cargo.toml.orig` differs only in `package.version`.
    VersionBumpOnly,
    /// A generated file (generator header, `pregenerated/`, `OUT_DIR` copy).
    GeneratedFile,
    /// Inside a submodule or a vendored copy of another project.
    VendoredUpstream,
    /// CI, editor and lint configuration.
    CiOrMeta,
    /// The build script (runs at build time).
    BuildScript,
    /// Source of a proc-macro crate (runs at compile time).
    ProcMacro,
    /// Binary content (object files, libraries, executables, other non-text data).
    Binary,
    /// Anything else.
    Other,
}

impl Category {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::WhitespaceOnly => "whitespace_only",
            Category::LineEndings => "line_endings",
            Category::VersionBumpOnly => "version_bump_only",
            Category::GeneratedFile => "generated_file",
            Category::VendoredUpstream => "vendored_upstream",
            Category::CiOrMeta => "ci_or_meta",
            Category::BuildScript => "build_script",
            Category::ProcMacro => "proc_macro",
            Category::Binary => "binary",
            Category::Other => "other",
        }
    }
}

/// The kind of a [`Difference`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DifferenceKind {
    /// The file is in the `.crate` but cargo would not have packaged it from the repository.
    OnlyInPublished,
    /// Cargo would have packaged the file, but the `.crate` does not have it.
    OnlyInRepo,
    /// Both have the file, with different bytes (or the published entry is not a regular file).
    ContentDiffers,
    /// git stores a symlink but the crate holds the link text (or the reverse).
    SymlinkText,
    /// The file lies inside a git submodule whose commit is not available.
    InSubmodule,
}

impl DifferenceKind {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            DifferenceKind::OnlyInPublished => "only_in_published",
            DifferenceKind::OnlyInRepo => "only_in_repo",
            DifferenceKind::ContentDiffers => "content_differs",
            DifferenceKind::SymlinkText => "symlink_text",
            DifferenceKind::InSubmodule => "in_submodule",
        }
    }
}

/// Size and SHA-256 of one side of a difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
}

/// One file that differs between the `.crate` and what cargo would package from the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// Path relative to the package root, `/`-separated.
    pub path: String,
    /// What kind of difference.
    pub kind: DifferenceKind,
    /// A unified diff (`a/` = repository, `b/` = published) for text files, capped in size;
    /// for binary files a one-line description. `None` when there is nothing to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The published side, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<FileDigest>,
    /// The repository side, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<FileDigest>,
    /// The path in the repository the expected file comes from, when it is not simply
    /// `path_in_vcs/path` (readme copied from outside the package, symlink target, submodule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_path: Option<String>,
    /// What kind of change this is (see [`Category`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// How much it matters: `info` (line endings, whitespace, version bump), `low` (CI and meta
    /// files, docs, generated or vendored files), `high` (build scripts, proc-macro code,
    /// binaries, other source code and the manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
}

/// An observation that does not by itself decide the verdict.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Finding {
    /// A stable snake_case identifier, e.g. `older_cargo_rule`, `commit_not_on_any_ref`.
    pub kind: String,
    /// How much it matters.
    pub severity: Severity,
    /// A lowercase, human-readable explanation.
    pub message: String,
    /// The package-relative path concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Finding {
    /// Create a finding.
    pub fn new(kind: &str, severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            kind: kind.to_owned(),
            severity,
            message: message.into(),
            path: None,
        }
    }

    /// Attach a package-relative path.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Whether this finding marks a place where archive readers could disagree or content is
    /// ambiguous; such findings never allow a `match` verdict (shared/SECURITY.md §5 promise 7).
    ///
    /// A blocking kind noted at `low` or `info` severity (identical duplicate entries written by
    /// cargo before 1.7) does not block.
    pub fn blocks_match(&self) -> bool {
        self.severity > Severity::Low && BLOCKING_FINDINGS.contains(&self.kind.as_str())
    }
}

/// Finding kinds that never allow a `match` verdict: places where archive readers can disagree
/// (shared/SECURITY.md §5 promise 7), published content cargo read from outside the repository
/// (which cannot be verified), a laundered normalized manifest or lock file, and a commit that no
/// advertised branch or tag reaches (promise 9: anyone can inject such a commit into a fork
/// network).
///
/// ### Deviation from VERDICTS.md
/// With such a finding the verdict is `mismatch` even when no file-level difference remains.
pub const BLOCKING_FINDINGS: &[&str] = &[
    "duplicate_path",
    "trailing_data",
    "unsupported_entry_type",
    "symlink_escapes_repository",
    "outside_repository",
    "normalized_manifest_diverges",
    "lockfile_inconsistent",
    "commit_not_on_any_ref",
    "dot_git_like",
    "invalid_tree_entry",
];

/// The crate that was verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrateId {
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Lowercase hex SHA-256 of the `.crate` file.
    pub sha256: String,
}

/// How the commit and package path were determined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SourceHow {
    /// `git.sha1` and `path_in_vcs` as recorded in `.cargo_vcs_info.json`.
    Recorded,
    /// `git.sha1` recorded, but no `path_in_vcs`: the package directory was found by name.
    DiscoveredPath,
    /// Assisted: a version tag was used.
    Tag,
}

impl SourceHow {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceHow::Recorded => "recorded",
            SourceHow::DiscoveredPath => "discovered_path",
            SourceHow::Tag => "tag",
        }
    }
}

/// Where the expected files come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The repository: the URL or path that was used (`--repo`), else `package.repository`.
    pub repository: Option<String>,
    /// The commit (40 lowercase hex), when known.
    pub commit: Option<String>,
    /// The package directory inside the repository (`""` = root), when known.
    pub path_in_vcs: Option<String>,
    /// `.cargo_vcs_info.json` said `"dirty": true`.
    pub dirty: bool,
    /// How `commit` and `path_in_vcs` were determined.
    pub how: SourceHow,
    /// Where the repository was fetched from, when a mirror (`--mirror`, `[[mirror]]`)
    /// replaced `repository`: the mirror's normalized URL or path. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_from: Option<String>,
}

/// File counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    /// Regular-file entries in the `.crate` (including the generated ones).
    pub published: u64,
    /// Published files compared with the repository (all but the generated ones).
    pub compared: u64,
    /// Compared files that are byte-equal.
    pub equal: u64,
}

/// The result of the assisted search (version tags, commits whose manifest has the version,
/// closest commits) for `no_vcs_info` / `revision_not_found`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assisted {
    /// `"tag"`, `"version_commit"` or `"closest_commit"`.
    pub how: String,
    /// The full ref name that was used, e.g. `refs/tags/v1.0.6`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The commit the ref peels to.
    pub commit: String,
    /// The verdict the comparison at that commit gives.
    pub verdict: Verdict,
    /// The package directory used at that commit.
    pub path_in_vcs: String,
    /// File counts at that commit.
    pub files: FileCounts,
    /// The differences at that commit.
    pub differences: Vec<Difference>,
    /// One line: how many files differ, by category, and the highest severity.
    #[serde(default)]
    pub summary: String,
    /// Findings of the search and of that commit's evaluation: `older_cargo_rule` (a
    /// difference explained by the rules of an older cargo), `crlf_published` (the crate was
    /// packaged from a CRLF checkout), `assisted_tag_skipped` (a version tag that describes
    /// another package or version), `assisted_incomplete` (a budget ran out).
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Why this candidate won, one sentence (`"exact match"`, …).
    #[serde(default)]
    pub reason: String,
    /// How many candidates were evaluated.
    #[serde(default)]
    pub tried: u64,
    /// How many commits the history walk looked at.
    #[serde(default)]
    pub commits_walked: u64,
    /// Whether the search finished within its budgets (`false`: see `assisted_incomplete`).
    #[serde(default = "yes")]
    pub complete: bool,
    /// The cargo versions that could have made the crate, as inferred from the crate and used
    /// for the older-cargo rules, e.g. `"cargo 1.19–1.56 (`Cargo.toml.orig` is present …)"`.
    #[serde(default)]
    pub era: String,
}

fn yes() -> bool {
    true
}

/// The full verification report (see the module docs for the JSON format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The crate.
    #[serde(rename = "crate")]
    pub krate: CrateId,
    /// Where the expected files come from.
    pub source: Source,
    /// The verdict.
    pub verdict: Verdict,
    /// File counts.
    pub files: FileCounts,
    /// Differences, sorted by path then kind.
    pub differences: Vec<Difference>,
    /// One line: how many files differ, by category, and the highest severity, e.g.
    /// `"3 files differ: 2 ci_or_meta, 1 build_script (high)"`.
    #[serde(default)]
    pub summary: String,
    /// Findings, sorted.
    pub findings: Vec<Finding>,
    /// The assisted attempt, if one was made.
    pub assisted: Option<Assisted>,
    /// What the fetch stage downloaded or reused (absent for local files and repositories).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch: Option<FetchInfo>,
}

impl Report {
    /// The report as pretty JSON (the exact bytes the CLI prints with `--format json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serialization cannot fail")
    }

    /// Whether the verdict is `match`.
    pub fn is_match(&self) -> bool {
        self.verdict == Verdict::Match
    }
}

/// What the fetch stage did, carried in the report (`fetch`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchInfo {
    /// The `.crate` download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download: Option<DownloadInfo>,
    /// The repository fetch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<RepoFetchInfo>,
}

/// The `.crate` download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadInfo {
    /// Where it came from (URL, or the cached file).
    pub url: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Taken from the cache, no download. Not serialized: reports do not depend on the cache.
    #[serde(skip)]
    pub from_cache: bool,
    /// Yanked in the registry.
    pub yanked: bool,
}

/// The repository fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoFetchInfo {
    /// The normalized URL fetched from.
    pub url: String,
    /// Everything came from the cache, no network. Not serialized: reports do not depend on
    /// the cache (the figures below are those of the fetch that filled it).
    #[serde(skip)]
    pub from_cache: bool,
    /// How: `want_by_id` (the commit by id), `all_refs` (the server refused; every branch and
    /// tag was fetched), `tags` (version tags only), `local` (a local repository), `cache`,
    /// `prefetch` (fetched by id, depth 1, with the other commits of a scan in one negotiation:
    /// `objects` and `bytes` then count only this commit's submodule fetches).
    pub strategy: String,
    /// The depth of the commit fetch (`1`), or `None` for full history.
    pub depth: Option<u32>,
    /// Objects received (all fetches of this run).
    pub objects: u64,
    /// Pack bytes received (all fetches of this run).
    pub bytes: u64,
    /// Objects of the commit fetch alone.
    pub commit_objects: u64,
    /// The branch or tag the commit was found reachable from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reachable_from: Option<String>,
    /// Submodules whose gitlink commits were fetched (or could not be).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub submodules: Vec<SubmoduleInfo>,
}

/// One submodule commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmoduleInfo {
    /// The gitlink path in the repository.
    pub path: String,
    /// The resolved URL.
    pub url: String,
    /// The gitlink commit.
    pub commit: String,
    /// Whether the commit is now available.
    pub available: bool,
    /// The normalized URL the commit was fetched from, when a mirror replaced `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_from: Option<String>,
}
