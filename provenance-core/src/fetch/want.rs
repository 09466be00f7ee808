//! What a repository fetch is asked for ([`Want`]) and what it produces ([`Fetched`]).

use std::path::{Path, PathBuf};

use gix::ObjectId;

use super::error::Error;
use super::url::RepoUrl;

use crate::report::{Finding, RepoFetchInfo};

/// What [`repository`](super::repository()) produced.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The repository to open (the cache's bare repository, or the local path).
    pub path: PathBuf,
    /// `None` when the repository is usable; `Some(message)` when it could not be fetched
    /// (does not exist, not git, access denied, refused by policy): verdict `repository_not_found`.
    pub not_found: Option<String>,
    /// What was fetched.
    pub info: RepoFetchInfo,
    /// Findings (`commit_not_on_any_ref`, `repository_url_normalized`, `submodule_unavailable`, …).
    pub findings: Vec<Finding>,
    /// The normalized URL it was fetched from when a mirror replaced the declared one.
    pub fetched_from: Option<String>,
    /// The refs verification may consult (`(full ref name, target)`): for a repository in the
    /// shared cache, only those this fetch wrote (or replayed from its record) for this
    /// version, so that a version's findings never depend on what other versions fetched;
    /// `None` for a local repository opened in place (all its refs).
    pub refs: Option<Vec<(String, ObjectId)>>,
}

/// What to fetch from a repository.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Want {
    /// The commit (40 hex), when known.
    pub commit: Option<String>,
    /// Tag names (`refs/tags/…`) to fetch with depth 1 when the commit is unknown or missing.
    pub tags: Vec<String>,
    /// The package directory; only submodules under it are fetched (`None` = all).
    pub path_in_vcs: Option<String>,
}

impl Want {
    /// Want `commit`.
    pub fn commit(commit: impl Into<String>) -> Want {
        Want {
            commit: Some(commit.into()),
            ..Want::default()
        }
    }
}

impl Fetched {
    /// A URL refused by policy: a verdict (`repository_not_found`) for a URL from the crate.
    pub(super) fn refused(url: String, why: &impl ToString, findings: Vec<Finding>) -> Fetched {
        Fetched {
            path: PathBuf::new(),
            not_found: Some(why.to_string()),
            info: RepoFetchInfo {
                url,
                strategy: "refused".into(),
                ..RepoFetchInfo::default()
            },
            findings,
            fetched_from: None,
            refs: Some(Vec::new()),
        }
    }
}

impl Fetched {
    /// A local repository, opened in place.
    pub(super) fn local(path: &Path, url: &RepoUrl) -> Fetched {
        Fetched {
            path: path.to_path_buf(),
            not_found: None,
            info: RepoFetchInfo {
                url: url.fetch_url.clone(),
                from_cache: true,
                strategy: "local".into(),
                ..RepoFetchInfo::default()
            },
            findings: url.findings.clone(),
            fetched_from: None,
            refs: None,
        }
    }
}

impl Want {
    /// The wanted commit as an object id.
    pub(super) fn commit_id(&self) -> Result<Option<ObjectId>, Error> {
        match &self.commit {
            Some(c) => Ok(Some(ObjectId::from_hex(c.as_bytes()).map_err(|_| {
                Error::InvalidInput {
                    message: format!(
                        "`{}` is not a full commit id",
                        crate::text::escape(c.as_bytes())
                    ),
                }
            })?)),
            None => Ok(None),
        }
    }
}
