//! # provenance-core
//!
//! Does the `.crate` published on crates.io contain exactly what its upstream git repository
//! holds at the commit it claims? This crate answers that without running `git` or `cargo`:
//! it reads the archive into memory ([`archive`]), reads `.cargo_vcs_info.json` and the
//! manifests ([`metadata`]), opens the repository with gitoxide ([`repo`]), re-derives what
//! `cargo package` would have selected straight from the git tree at that commit ([`rebuild`]),
//! compares git blob ids ([`compare`]) and classifies the outcome into one of the verdicts of
//! shared/VERDICTS.md ([`classify`], [`Verdict`]).
//!
//! A mismatch is data: [`verify`] returns `Ok(Report)` for every verdict, and `Err` only when
//! the inputs are unusable (bad archive, unreadable files, limits exceeded, interrupted).
//!
//! ```no_run
//! use provenance_core::{verify, CrateSource, RepoSource, Request, Verdict};
//!
//! let request = Request::new(CrateSource::File("serde-1.0.210.crate".into()))
//!     .with_repo(RepoSource::Path("serde.git".into()));
//! let report = verify(&request)?;
//! println!("{}", report.verdict);
//! if report.verdict != Verdict::Match {
//!     for d in &report.differences {
//!         println!("{} {}", d.kind.as_str(), d.path);
//!     }
//! }
//! # Ok::<(), provenance_core::Error>(())
//! ```
//!
//! Many crate versions at once — a `Cargo.lock`, a list, an SBOM, all versions of crates — go
//! through the batch engine [`batch`]: inputs, planning by repository, worker-process isolation,
//! the append-only resumable results file, the gate and the summary. `crate-provenance scan`,
//! the Python package's `scan` and its Dask module all use it, so they write the same lines.
//!
//! The stages are public too: [`archive::parse`] → [`rebuild::locate_package`] +
//! [`rebuild::rebuild`] → [`compare::compare`] → [`classify`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod archive;
pub mod batch;
pub mod categorize;
pub mod compare;
mod error;
pub mod fetch;
pub mod intrinsic;
mod limits;
pub mod lockfile_check;
pub mod manifest_check;
pub mod metadata;
pub mod rebuild;
pub mod repo;
pub mod report;
pub mod sbom;
mod verify;

pub use error::{ErrorKind, LimitError, error_message};
pub use intrinsic::{CargoEra, Inspection, Inventory};
pub use limits::Limits;
pub use report::{
    Assisted, Category, CrateId, Difference, DifferenceKind, FileCounts, FileDigest, Finding,
    Report, SCHEMA_VERSION, Severity, Source, SourceHow, Verdict,
};
pub use verify::{
    CrateSource, Discard, Error, ListedFile, Options, Progress, RepoSource, Request, Stage,
    classify, inspect, inspect_opts, list_files, verify, verify_opts,
};

pub(crate) fn rebuild_join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}/{b}")
    }
}
