//! The fetch stage: the registry's sparse index and `.crate` download ([`crate_archive`]), and
//! one-revision fetches of the upstream repository with gix ([`repository`]), both kept in a
//! cache directory safe for concurrent processes ([`cache`]).
//!
//! Policy (shared/SECURITY.md §3, §4.4, §5): only `https` unless
//! [`Options::allow_insecure_transport`]; no `ssh`, no `ext::`, no `git` or `ssh` processes
//! (local `file://` repositories are opened in place, never through `git-upload-pack`); no
//! credentials are sent and nothing prompts; redirects to another host are refused; downloads are
//! bounded ([`Limits::max_crate_bytes`](crate::Limits)) and verified against the index `cksum`
//! before anything parses them; fetches are bounded in refs, bytes and wall-clock time.
//!
//! Repository hosts are resolved once by our resolver, which refuses names resolving to
//! loopback, private, link-local or unspecified addresses (SSRF; literal addresses are refused
//! when the URL is parsed), and connections go to exactly the checked addresses. Every byte a git
//! server sends passes a counter: the ref advertisement may take `256 × max_refs` bytes
//! (`max_ref_advertisement_bytes`), the pack [`Options::max_fetch_bytes`], and a pack whose
//! header declares more than [`Options::max_pack_objects`] objects is refused before gix reads
//! it. gix's `allocLimit` ([`Limits::git_alloc_limit`](crate::Limits)) refuses single objects
//! larger than it while indexing. Deviation from git: none of these limits exist in git.
//!
//! Layout: `registry.rs` (index and downloads), `poll.rs` (conditional index polls for `watch`), `repository.rs` (a repository fetch: policy,
//! cache record, preflight), `prefetch.rs` (many commits of one repository in one negotiation, for scans) over `transfer.rs` (what is asked of the server) and `git.rs` (one
//! gix fetch), `net.rs` (resolver, byte budgets), `url.rs` (URL policy), `mirror.rs` (URL rewriting), `cache.rs`,
//! `options.rs`, `error.rs`, `thread.rs`; this file only gathers them.

pub mod cache;
pub mod cargo_config;
mod copy;
mod error;
pub(crate) mod git;
mod links;
mod local;
pub mod mirror;
pub(crate) mod net;
mod options;
pub mod poll;
mod prefetch;
pub mod registry;
mod repository;
mod thread;
mod transfer;
pub mod url;
mod want;

use std::sync::atomic::AtomicBool;

use crate::progress::Progress;
use crate::report::{Finding, Severity};

pub use crate::report::{DownloadInfo, FetchInfo, RepoFetchInfo, SubmoduleInfo};
pub use cache::Cache;
pub use error::Error;
pub use local::submodules_at;
pub use mirror::{Mirror, rewrite as mirror_rewrite};
pub use options::Options;
pub use poll::{Polled, Validators};
pub use prefetch::{Prefetched, prefetch};
pub use registry::{Downloaded, Registry};
pub use repository::repository;
pub use url::{RepoUrl, Transport};
pub use want::{Fetched, Want};

/// Download `name@version` from the registry (or take it from the cache), verified against the
/// index `cksum` before it is returned.
pub fn crate_archive(
    name: &str,
    version: &str,
    options: &Options,
    progress: &mut dyn Progress,
    should_interrupt: &AtomicBool,
) -> Result<Downloaded, Error> {
    let cache = options.cache()?;
    let registry = Registry::new(options.index_url.as_deref(), options)?;
    registry.download(&cache, name, version, progress, should_interrupt)
}

/// The finding for a yanked version.
pub fn yanked_finding(name: &str, version: &str) -> Finding {
    Finding::new(
        "yanked",
        Severity::Medium,
        format!("`{name}@{version}` is yanked in the registry"),
    )
}
