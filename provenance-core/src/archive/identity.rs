//! The crate's identity: name and version from the normalized `Cargo.toml`, checked against the
//! archive's `NAME-VERSION/` prefix.

use super::files::CrateArchive;
use crate::error::LimitError;
use crate::limits::Limits;
use crate::metadata::{self, Field};

/// Identity from the normalized manifest, checked against the archive prefix.
pub(crate) fn identity(
    archive: &CrateArchive,
    limits: &Limits,
) -> Result<(String, String, Option<String>), metadata::Error> {
    let manifests: Vec<&String> = archive
        .files
        .keys()
        .filter(|k| k.eq_ignore_ascii_case("Cargo.toml"))
        .collect();
    let Some(file) = archive.files.get("Cargo.toml") else {
        if manifests.is_empty() {
            return Err(metadata::Error::MissingManifest);
        }
        return Err(metadata::Error::AmbiguousManifest {
            paths: manifests
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    if manifests.len() > 1 {
        return Err(metadata::Error::AmbiguousManifest {
            paths: manifests
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if !file.retained() || file.size > limits.max_manifest_bytes {
        return Err(metadata::Error::LimitExceeded(LimitError {
            limit: "max_manifest_bytes",
            max: limits.max_manifest_bytes,
            value: file.size,
        }));
    }
    let m = metadata::parse_manifest(&file.data, "Cargo.toml", limits)?;
    let name = m
        .name
        .clone()
        .ok_or_else(|| metadata::Error::ManifestParse {
            file: "Cargo.toml".into(),
            message: "no `package.name`".into(),
        })?;
    let version = m
        .version
        .value()
        .cloned()
        .ok_or_else(|| metadata::Error::ManifestParse {
            file: "Cargo.toml".into(),
            message: "no literal `package.version`".into(),
        })?;
    let expected = format!("{name}-{version}");
    if archive.prefix != expected {
        let field = if archive.prefix.starts_with(&format!("{name}-")) {
            "version"
        } else {
            "name"
        };
        return Err(metadata::Error::IdentityMismatch {
            field,
            found: expected,
            expected: archive.prefix.clone(),
        });
    }
    let repository = match m.repository {
        Field::Value(r) => Some(r),
        _ => None,
    };
    Ok((name, version, repository))
}
