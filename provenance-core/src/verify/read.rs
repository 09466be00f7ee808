//! The crate's bytes: a local file, bytes in memory, or a registry download (fetch stage),
//! parsed by the archive stage.

use sha2::Digest;

use super::fetching;
use crate::archive::{self, CrateArchive};
use crate::limits::Limits;
use crate::metadata;
use crate::progress::{Stage, timing};
use crate::request::{CrateSource, Error, Run};

/// Read (or download) and parse the `.crate`; a registry download must be the crate asked for.
/// Returns the archive and the hex SHA-256 of its bytes.
pub(super) fn read_crate(
    krate: &CrateSource,
    run: &mut Run<'_>,
    fetched: &mut fetching::Context,
) -> Result<(CrateArchive, String), Error> {
    let options = run.options;
    let limits = &options.limits;
    run.progress.stage(Stage::ReadCrate, None);
    let read_span = timing::span("read_crate");
    let bytes = match krate {
        CrateSource::File(p) => read_limited(p, limits)?,
        CrateSource::Bytes(b) => b.clone(),
        CrateSource::Registry { name, version } => fetched.download(name, version, run)?,
    };
    drop(read_span);
    run.progress.inc(bytes.len() as u64);
    // The SHA-256 of the crate's bytes on a second thread while this one inflates them.
    let (archive, sha256) = std::thread::scope(|s| {
        let sha256 = (bytes.len() >= PARALLEL_SHA256_BYTES).then(|| s.spawn(|| sha256_hex(&bytes)));
        let archive = {
            let _span = timing::span("inflate");
            archive::parse(&bytes, limits)
        };
        let sha256 = match sha256 {
            Some(h) => h
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => sha256_hex(&bytes),
        };
        (archive, sha256)
    });
    let archive = archive?;
    run.check()?;
    if let CrateSource::Registry { name, version } = krate {
        // The registry must have served the crate that was asked for (M6).
        let (found_name, found_version, _) = archive::identity(&archive, limits)?;
        for (field, found, expected) in [
            ("name", &found_name, name),
            ("version", &found_version, version),
        ] {
            if found != expected {
                return Err(metadata::Error::IdentityMismatch {
                    field,
                    found: found.clone(),
                    expected: expected.clone(),
                }
                .into());
            }
        }
    }
    Ok((archive, sha256))
}

/// From this size on, the crate's SHA-256 is computed beside the inflating (a thread costs
/// tens of microseconds).
const PARALLEL_SHA256_BYTES: usize = 128 << 10;

fn sha256_hex(bytes: &[u8]) -> String {
    let _span = timing::span("hash");
    crate::ids::hex(&sha2::Sha256::digest(bytes))
}

fn read_limited(path: &std::path::Path, limits: &Limits) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let io = |source| {
        Error::Archive(archive::Error::Io {
            path: path.display().to_string(),
            source,
        })
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    f.take(limits.max_crate_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(bytes)
}
