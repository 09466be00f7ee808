//! `inspect`: a crate examined alone, without its repository: read it (fetch, archive), then the
//! crate-intrinsic part of the classify stage.

use std::sync::atomic::AtomicBool;

use super::fetching;
use super::read::read_crate;
use crate::archive::{self, CrateArchive};
use crate::classify::CargoEra;
use crate::classify::intrinsic::{Declared, Inspection, check, read_vcs_info};
use crate::classify::inventory::inventory;
use crate::limits::Limits;
use crate::progress::{Discard, Progress};
use crate::report::{CrateId, SCHEMA_VERSION};
use crate::request::{CrateSource, Error, Options, Run};

/// Inspect a crate alone, without its repository: the crate-intrinsic findings (archive
/// anomalies, `.cargo_vcs_info.json` sanity, normalized manifest and lock file, suspicious code
/// points), the cargo era the crate shows, and an inventory. See [`intrinsic`](crate::intrinsic).
///
/// ```no_run
/// use provenance_core::{inspect, CrateSource, Options};
///
/// let inspection = inspect(&CrateSource::File("serde-1.0.210.crate".into()), &Options::default())?;
/// for f in &inspection.findings {
///     println!("{} {}: {}", f.severity.as_str(), f.kind, f.message);
/// }
/// # Ok::<(), provenance_core::Error>(())
/// ```
pub fn inspect(krate: &CrateSource, options: &Options) -> Result<Inspection, Error> {
    inspect_opts(krate, options, &mut Discard, &AtomicBool::new(false))
}

/// [`inspect`] with progress reporting and an interrupt flag.
pub fn inspect_opts(
    krate: &CrateSource,
    options: &Options,
    progress: &mut dyn Progress,
    should_interrupt: &AtomicBool,
) -> Result<Inspection, Error> {
    let mut run = Run {
        options,
        progress,
        should_interrupt,
    };
    let mut fetched = fetching::Context::default();
    let (archive, sha256) = read_crate(krate, &mut run, &mut fetched)?;
    inspect_archive(&archive, sha256, &options.limits)
}

/// Inspect a parsed crate. `sha256` is the hex digest of the `.crate` bytes.
pub fn inspect_archive(
    archive: &CrateArchive,
    sha256: String,
    limits: &Limits,
) -> Result<Inspection, Error> {
    let (name, version, repository) = archive::identity(archive, limits)?;
    let (vcs, vcs_findings) = read_vcs_info(archive, limits);
    let era = CargoEra::of(archive, vcs.as_ref());
    let findings = check(archive, &name, &version, &era, vcs_findings);
    Ok(Inspection {
        schema_version: SCHEMA_VERSION,
        kind: "inspect".to_owned(),
        krate: CrateId {
            name,
            version,
            sha256,
        },
        declared: Declared {
            repository,
            commit: vcs.as_ref().map(|v| v.sha1.clone()),
            path_in_vcs: vcs.as_ref().and_then(|v| v.path_in_vcs.clone()),
            dirty: vcs.as_ref().is_some_and(|v| v.dirty),
            vcs_info: archive.files.contains_key(".cargo_vcs_info.json"),
        },
        era: era.to_report(),
        inventory: inventory(archive),
        findings,
    })
}
