//! What the rebuild stage takes and produces: [`Options`], the [`PackageLocation`] found by
//! [`locate_package`](super::locate_package), and the [`Selection`] of files cargo would package.

use std::collections::BTreeMap;

use gix::ObjectId;

use super::rules::Rules;
use crate::limits::Limits;
use crate::metadata::Manifest;
use crate::report::Finding;

/// Options for [`rebuild`](super::rebuild).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Options {
    /// The cargo rules to apply. Default: [`Rules::CURRENT`].
    pub rules: Rules,
    /// Resource limits.
    pub limits: Limits,
}

/// How cargo listed files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Tracked files from git (`include` empty).
    Git,
    /// A file-system walk filtered by `include`.
    WalkInclude,
    /// A file-system walk without git (old cargo and no manifest at the repository root).
    WalkNoInclude,
}

/// Where an expected file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A blob in the repository.
    Blob {
        /// The blob id.
        id: ObjectId,
        /// The path of the blob in the repository (after following symlinks).
        repo_path: String,
        /// Whether the tree entry is executable.
        executable: bool,
    },
    /// Cargo would read something we cannot see (a symlink or readme outside the repository).
    External {
        /// Why.
        reason: String,
    },
}

/// Why a file is in the selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Listed by git / the walk and kept by the filter.
    Listed,
    /// `Cargo.toml.orig`: the package manifest.
    Manifest,
    /// Force-added `readme`.
    Readme,
    /// Force-added `license-file`.
    LicenseFile,
}

/// The symlink an expected file was reached through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Package-relative path of the symlink itself.
    pub link_path: String,
    /// The link text.
    pub text: Vec<u8>,
    /// Whether the link points to a directory (the file is part of its expansion).
    pub directory: bool,
}

/// One file cargo would package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Its content.
    pub content: Content,
    /// Why it is there.
    pub origin: Origin,
    /// The symlink it was reached through, if any.
    pub link: Option<Link>,
}

/// A submodule whose commit is not available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingSubmodule {
    /// Package-relative path of the gitlink.
    pub path: String,
    /// The gitlink commit.
    pub commit: String,
}

/// The result of [`rebuild`](super::rebuild): the files cargo would copy into the archive (generated files —
/// `Cargo.toml`, `Cargo.lock`, `.cargo_vcs_info.json` — are not part of it).
#[derive(Debug, Clone)]
pub struct Selection {
    /// The commit.
    pub commit: ObjectId,
    /// The package directory (`""` = repository root).
    pub path_in_vcs: String,
    /// How files were listed.
    pub mode: Mode,
    /// The rules applied.
    pub rules: Rules,
    /// Package-relative path → expected file, sorted.
    pub files: BTreeMap<String, Expected>,
    /// Submodules whose contents could not be read.
    pub missing_submodules: Vec<MissingSubmodule>,
    /// Observations made while selecting.
    pub findings: Vec<Finding>,
    /// The package manifest read from the tree.
    pub manifest: Manifest,
}

/// A resolved package location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageLocation {
    /// Directory of the package in the repository.
    pub path: String,
    /// The manifest.
    pub manifest: Manifest,
    /// The manifest blob id.
    pub manifest_id: ObjectId,
}
