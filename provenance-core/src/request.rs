//! What a verification is asked to do ([`Request`], [`Options`], [`CrateSource`],
//! [`RepoSource`]), how it fails ([`Error`], wrapping every stage's error), and [`Run`], the
//! request's options, progress sink and interrupt flag that travel with it through the stages.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::archive;
use crate::compare;
use crate::error::ErrorKind;
use crate::fetch;
use crate::limits::Limits;
use crate::metadata;
use crate::progress::Progress;
use crate::rebuild;
use crate::repo;

/// Where the `.crate` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrateSource {
    /// A local `.crate` file.
    File(PathBuf),
    /// `.crate` bytes already in memory.
    Bytes(Vec<u8>),
    /// A crate version in the registry (needs the fetch stage).
    Registry {
        /// Crate name.
        name: String,
        /// Exact version.
        version: String,
    },
}

/// Where the repository comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RepoSource {
    /// A local repository (bare, or a work tree).
    Path(PathBuf),
    /// A URL to fetch.
    Url(String),
}

impl RepoSource {
    /// Interpret a user-supplied string: anything with a `scheme://` (or `file:` prefix) is a URL,
    /// the rest a local path.
    pub fn parse(s: &str) -> RepoSource {
        if let Some(p) = s.strip_prefix("file://") {
            return RepoSource::Path(PathBuf::from(p));
        }
        if s.contains("://") || s.starts_with("git@") || s.contains("::") {
            RepoSource::Url(s.to_owned())
        } else {
            RepoSource::Path(PathBuf::from(s))
        }
    }

    pub(crate) fn display(&self) -> String {
        match self {
            RepoSource::Path(p) => p.display().to_string(),
            RepoSource::Url(u) => u.clone(),
        }
    }
}

/// Options for [`verify_opts`](crate::verify_opts).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Resource limits. Default: [`Limits::default`].
    pub limits: Limits,
    /// Assisted matching when the verdict is `no_vcs_info` / `revision_not_found`: version tags,
    /// then commits with this version, then the closest commits of a bounded history walk.
    /// Default `true`.
    pub assisted: bool,
    /// At most this many commits are walked by the assisted search (0 = tags only). Default 1000.
    pub assisted_max_commits: u64,
    /// Explain differences with the rules of the older cargo the crate shows made it
    /// (finding `older_cargo_rule`). Default `true`.
    pub older_rules: bool,
    /// Cache directory for downloads and fetched repositories (fetch stage). Default: none.
    pub cache_dir: Option<PathBuf>,
    /// Use only what is cached; never touch the network. Default `false`.
    pub offline: bool,
    /// Sparse index URL (fetch stage). Default: crates.io.
    pub index_url: Option<String>,
    /// Allow `http://`, `git://` and `file://` transports (tests on loopback). Default `false`.
    pub allow_insecure_transport: bool,
    /// Kept for compatibility; no longer changes anything. Whether an unreachable repository
    /// is a verdict or an error is decided once in the library for every front-end: the crate's
    /// own `package.repository` unreachable is the verdict `repository_not_found` with a
    /// `repository_unreachable` finding; a repository the user named (`--repo`, a mirror) is a
    /// `network` error. Default `false`.
    pub unreachable_is_not_found: bool,
    /// Repository mirrors (`--mirror FROM=TO`, `[[mirror]]`): git `url.<base>.insteadOf`
    /// rewriting of the crate's repository, tag lookups and submodule URLs
    /// ([`fetch::mirror`]). Default: none.
    pub mirrors: Vec<fetch::Mirror>,
    /// A unified diff for every differing text file. Default `false`: the first
    /// [`FULL_DIFFS`](crate::compare::FULL_DIFFS) in path order get one, the others are
    /// summarised (sizes + SHA-256) with a `diffs_omitted` finding; files that differ only in
    /// line endings never get a line diff.
    pub all_diffs: bool,
    /// Set by the batch engine ([`batch::run`](crate::batch::run)): the id of the scan this
    /// verification belongs to. Its prefetch's answers that hold for this run only (a commit
    /// the server does not have, a repository that does not exist) are replayed from the cache
    /// when the id matches, so each repository is asked once per scan; another run asks again.
    /// Default: none.
    pub batch_run: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            assisted: true,
            assisted_max_commits: 1000,
            older_rules: true,
            cache_dir: None,
            offline: false,
            index_url: None,
            allow_insecure_transport: false,
            unreachable_is_not_found: false,
            mirrors: Vec::new(),
            all_diffs: false,
            batch_run: None,
        }
    }
}

/// A verification request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Request {
    /// The crate.
    pub krate: CrateSource,
    /// The repository; `None` = `package.repository` from the crate.
    pub repo: Option<RepoSource>,
    /// Options.
    pub options: Options,
}

impl Request {
    /// A request with default options and no repository override.
    pub fn new(krate: CrateSource) -> Request {
        Request {
            krate,
            repo: None,
            options: Options::default(),
        }
    }

    /// Set the repository.
    #[must_use]
    pub fn with_repo(mut self, repo: RepoSource) -> Request {
        self.repo = Some(repo);
        self
    }

    /// Set the options.
    #[must_use]
    pub fn with_options(mut self, options: Options) -> Request {
        self.options = options;
        self
    }
}

/// Errors of [`verify`](crate::verify). A mismatch is never an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `.crate` is unusable.
    #[error(transparent)]
    Archive(#[from] archive::Error),
    /// The crate's metadata is unusable.
    #[error(transparent)]
    Metadata(#[from] metadata::Error),
    /// Reading the repository failed.
    #[error(transparent)]
    Repo(#[from] repo::Error),
    /// The rebuild failed for a reason that is not a verdict.
    #[error(transparent)]
    Rebuild(#[from] rebuild::Error),
    /// The comparison failed.
    #[error(transparent)]
    Compare(#[from] compare::Error),
    /// Downloading the crate or fetching the repository failed.
    #[error(transparent)]
    Fetch(#[from] fetch::Error),
    /// The request is inconsistent or needs something unavailable.
    #[error("{message}")]
    Request {
        /// The classification.
        kind: ErrorKind,
        /// What is wrong.
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
            Error::Archive(e) => e.kind(),
            Error::Metadata(e) => e.kind(),
            Error::Repo(e) => e.kind(),
            Error::Rebuild(e) => e.kind(),
            Error::Compare(e) => e.kind(),
            Error::Fetch(e) => e.kind(),
            Error::Request { kind, .. } => *kind,
            Error::Interrupted => ErrorKind::Interrupted,
        }
    }
}

// An inherent impl of the fetch stage's options, here because it reads the verification
// options: the fetch stage knows nothing of the layers above it.
impl fetch::Options {
    /// The fetch options implied by verification options.
    pub fn from_verify(o: &Options) -> fetch::Options {
        fetch::Options {
            cache_dir: o.cache_dir.clone(),
            offline: o.offline,
            index_url: o.index_url.clone(),
            allow_insecure_transport: o.allow_insecure_transport,
            limits: o.limits.clone(),
            mirrors: o.mirrors.clone(),
            batch_run: o.batch_run.clone(),
            ..fetch::Options::default()
        }
    }
}

/// One verification (or inspection) in progress: what travels with it through the stages.
pub(crate) struct Run<'a> {
    /// The request's options.
    pub(crate) options: &'a Options,
    /// Where progress goes.
    pub(crate) progress: &'a mut dyn Progress,
    /// Set by the caller to stop the run ([`Error::Interrupted`]).
    pub(crate) should_interrupt: &'a AtomicBool,
}

impl Run<'_> {
    /// `Err(Interrupted)` once `should_interrupt` is set.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.should_interrupt.load(Ordering::Relaxed) {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }
}
