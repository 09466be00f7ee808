//! The options of the fetch stage.

use std::path::PathBuf;
use std::time::Duration;

use super::cache::{self, Cache};
use super::error::Error;
use super::mirror::Mirror;
use crate::limits::Limits;

/// Options of the fetch stage.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The cache directory. Default: [`cache::default_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Use only what is cached. Default `false`.
    pub offline: bool,
    /// The sparse index URL. Default: crates.io.
    pub index_url: Option<String>,
    /// Allow `http://`, `git://`, `file://` and private/loopback hosts. Default `false`.
    pub allow_insecure_transport: bool,
    /// Resource limits (`max_crate_bytes`, `git_alloc_limit`).
    pub limits: Limits,
    /// Per-request HTTP timeout (also the low-speed window for git over HTTP). Default 30 s.
    pub http_timeout: Duration,
    /// How long a cached index file is used without asking the registry again (yanked status
    /// may be that old). Default 10 minutes.
    pub index_ttl: Duration,
    /// Retries of transient registry failures (5xx, 429, timeouts, resets). Default 2.
    pub retries: u32,
    /// Wall-clock limit of one git fetch. Default 300 s.
    pub fetch_timeout: Duration,
    /// Maximum pack bytes received by one git fetch. Default 2 GiB.
    pub max_fetch_bytes: u64,
    /// Maximum refs a git server may advertise. Default 100,000. The advertisement itself may
    /// take at most 256 bytes per permitted ref (`max_ref_advertisement_bytes`), so an endless
    /// advertisement stops long before it costs memory.
    pub max_refs: u64,
    /// Maximum objects a received pack may declare in its header. Default 3,000,000 (gix keeps
    /// about 65 bytes per object while indexing, so this bounds that to about 200 MiB; a
    /// depth-1 fetch of the largest crates' repositories is far below it). Checked before gix
    /// reads the header.
    pub max_pack_objects: u64,
    /// Fetch the gitlink commits of submodules named in `.gitmodules`. Default `true`.
    pub submodules: bool,
    /// The User-Agent sent to registries and git servers.
    pub user_agent: String,
    /// Repository mirrors (`url.<base>.insteadOf`), applied to the crate's repository, tag
    /// lookups and submodule URLs. Default: none.
    pub mirrors: Vec<Mirror>,
    /// The batch run (scan) this fetch belongs to: cache records its prefetch wrote for this
    /// run only are replayed when the id matches ([`crate::request::Options::batch_run`]).
    pub batch_run: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache_dir: None,
            offline: false,
            index_url: None,
            allow_insecure_transport: false,
            limits: Limits::default(),
            http_timeout: Duration::from_secs(30),
            index_ttl: Duration::from_secs(600),
            retries: 2,
            fetch_timeout: Duration::from_secs(300),
            max_fetch_bytes: 2 << 30,
            max_refs: 100_000,
            max_pack_objects: 3_000_000,
            submodules: true,
            user_agent: format!(
                "crate-provenance/{} (+https://example.invalid/crate-provenance)",
                env!("CARGO_PKG_VERSION")
            ),
            mirrors: Vec::new(),
            batch_run: None,
        }
    }
}

impl Options {
    /// Open the configured (or default) cache.
    pub fn cache(&self) -> Result<Cache, Error> {
        let dir = self
            .cache_dir
            .clone()
            .or_else(cache::default_dir)
            .ok_or_else(|| Error::Cache {
                path: String::new(),
                message: "no cache directory: set `--cache-dir`, `XDG_CACHE_HOME` or `HOME`".into(),
            })?;
        Cache::open(&dir)
    }
}
