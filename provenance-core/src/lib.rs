//! # provenance-core
//!
//! Does the `.crate` published on crates.io contain exactly what its upstream git repository
//! holds at the commit it claims? This crate answers that without running `git` or `cargo`.
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
//! # The stages
//!
//! [`verify`] runs one-way stages, each a public module with its own input, output and error
//! types, each using only the stages before it (ARCHITECTURE.md at the repository root has the
//! module graph, generated from the code and checked by `tests/architecture.rs`):
//!
//! 1. [`fetch`] — the registry's sparse index and `.crate` download, one-revision git fetches of
//!    the upstream repository, a cache safe for concurrent processes
//!    ([`fetch::crate_archive`], [`fetch::repository`]);
//! 2. [`archive`] — the `.crate` read into memory, every tar ambiguity recorded
//!    ([`archive::parse`] → [`archive::CrateArchive`]); [`metadata`] reads
//!    `.cargo_vcs_info.json` and manifests;
//! 3. [`rebuild`] — what `cargo package` would have selected, read straight from the git tree at
//!    the commit ([`repo`] opens it with gitoxide): [`rebuild::locate_package`] +
//!    [`rebuild::rebuild`] → [`rebuild::Selection`];
//! 4. [`compare`] — git blob ids of the archive against the selection ([`compare::compare`] →
//!    [`compare::Comparison`]);
//! 5. [`classify`](mod@classify) — difference categories ([`classify::categorize_all`]), the verdict of
//!    shared/VERDICTS.md ([`classify()`], [`Verdict`]), cargo eras, crate-intrinsic checks and
//!    cross-checks.
//!
//! When the recorded commit is missing, an assisted search evaluates candidate commits (version
//! tags, a bounded history walk) through stages 3–5. [`inspect`] runs stages 1, 2 and the
//! crate-intrinsic part of 5; [`list_files`] runs stage 3 alone.
//!
//! Many crate versions at once — a `Cargo.lock`, a list, an SBOM, all versions of crates — go
//! through the batch engine [`batch`]: inputs, planning by repository, worker-process isolation,
//! the append-only resumable results file, the gate and the summary. `crate-provenance scan`,
//! the Python package's `scan` and its Dask module all use it, so they write the same lines.
//!
//! The modules `categorize`, `manifest_check`, `lockfile_check` and `intrinsic` of earlier
//! releases live in [`classify`](mod@classify) now; their old paths keep working (re-exports, not deprecated).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// Leaves: shared by every stage, using nothing of the crate (but each other, in this order).
mod error;
mod ids;
mod limits;
mod progress;
pub mod report;
mod text;

// The stages, in pipeline order.
pub mod archive;
pub mod classify;
pub mod compare;
pub mod fetch;
pub mod metadata;
pub mod rebuild;
pub mod repo;

// The operation: request types, one commit end to end, the assisted search, the orchestrator.
mod assisted;
mod evaluate;
mod request;
mod verify;

// Above the operation: what front-ends share.
pub mod batch;
pub mod sbom;

pub use classify::{
    CargoEra, Inspection, Inventory, categorize, classify, lockfile_check, manifest_check,
};
pub use error::{ErrorKind, LimitError, error_message};
pub use limits::Limits;
pub use progress::{Discard, Progress, Stage, timing};
pub use report::{
    Assisted, Category, CrateId, Difference, DifferenceKind, FileCounts, FileDigest, Finding,
    Report, SCHEMA_VERSION, Severity, Source, SourceHow, Verdict,
};
pub use request::{CrateSource, Error, Options, RepoSource, Request};
pub use verify::{ListedFile, inspect, inspect_opts, list_files, verify, verify_opts};

/// Crate-intrinsic checks: everything that can be said about a `.crate` without its repository
/// (see [`inspect`]).
///
/// This path of earlier releases is kept: the checks live in [`classify`](mod@classify)
/// (`intrinsic`, with
/// the cargo era and the inventory beside them) and [`intrinsic::inspect_archive`] is the
/// inspection's last step.
pub mod intrinsic {
    pub use crate::classify::era::{CURRENT_CARGO_MINOR, CargoEra, EraReport};
    pub use crate::classify::intrinsic::{
        Declared, GENERATED_FILE_KINDS, Inspection, check, generated_file_findings, read_vcs_info,
    };
    pub use crate::classify::inventory::{DirectorySize, Inventory, InventoryFile, inventory};
    pub use crate::verify::inspect_archive;
}
