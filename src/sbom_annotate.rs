//! `scan --sbom IN --annotate OUT`: the SBOM written back with each `pkg:cargo/` component's
//! verdict, commit and report digest (see `provenance_core::sbom` for the format).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;

use provenance_core::sbom::{self, Annotation};

use crate::scan::results::{Entry, Outcome};

/// The annotation of one result: `error` (and nothing else) for a failed verification.
pub fn annotation(entry: &Entry) -> Annotation {
    match &entry.outcome {
        Outcome::Report(r) => Annotation::of_report(r),
        Outcome::Error { .. } => Annotation {
            verdict: crate::scan::policy::ERROR.to_owned(),
            commit: None,
            report_sha256: None,
        },
    }
}

/// Annotate `sbom` with `entries` and write it to `out`.
pub fn write(sbom: &Path, out: &Path, entries: &[&Entry]) -> Result<(), String> {
    let bytes =
        std::fs::read(sbom).map_err(|e| format!("cannot read `{}`: {e}", sbom.display()))?;
    let by_key: HashMap<String, &Entry> = entries
        .iter()
        .map(|e| (e.key().to_ascii_lowercase(), *e))
        .collect();
    let annotated = sbom::annotate(
        &bytes,
        concat!("crate-provenance-", env!("CARGO_PKG_VERSION")),
        &crate::attest::now(),
        &mut |name, version| {
            by_key
                .get(&format!("{name}@{version}").to_ascii_lowercase())
                .map(|e| annotation(e))
        },
    )
    .map_err(|e| format!("cannot annotate `{}`: {e}", sbom.display()))?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    std::fs::write(out, &annotated.bytes)
        .map_err(|e| format!("cannot write `{}`: {e}", out.display()))?;
    let _ = writeln!(
        std::io::stderr(),
        "annotate: wrote `{}` ({} components annotated)",
        out.display(),
        annotated.annotated
    );
    Ok(())
}
