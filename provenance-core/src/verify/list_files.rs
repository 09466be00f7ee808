//! `list_files`: what `cargo package --list` would print for a package at a commit, from the
//! rebuild stage alone.

use crate::compare;
use crate::error::ErrorKind;
use crate::limits::Limits;
use crate::metadata;
use crate::rebuild::{self, Rules};
use crate::repo::{CommitLookup, Repo};
use crate::request::Error;
use crate::text::escape;

/// One file `cargo package` would put into the archive, as listed by [`list_files`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ListedFile {
    /// Path inside the archive (relative to `NAME-VERSION/`).
    pub path: String,
    /// `listed`, `manifest`, `readme`, `license_file`, or `generated`.
    pub origin: String,
    /// The repository path the bytes come from (`None` for generated files).
    pub repo_path: Option<String>,
}

/// The files `cargo package` (current rules) would put into the archive for the package at
/// `path` in `commit` — like `cargo package --list`, but read from a commit. Generated files
/// (`Cargo.toml`, `Cargo.lock`, `.cargo_vcs_info.json`) are included, as cargo lists them.
pub fn list_files(
    repo_path: &std::path::Path,
    commit: &str,
    path: &str,
    limits: &Limits,
) -> Result<Vec<ListedFile>, Error> {
    let repo = Repo::open(repo_path, limits)?;
    let path = metadata::validate_repo_path(path).map_err(|m| Error::Request {
        kind: ErrorKind::InvalidInput,
        message: format!("`--path` {m}"),
    })?;
    let hex_ok = commit.len() == repo.hex_len() && commit.bytes().all(|b| b.is_ascii_hexdigit());
    let commit_info = if hex_ok {
        match repo.lookup_commit(&commit.to_ascii_lowercase())? {
            CommitLookup::Found(c) => c,
            _ => {
                return Err(Error::Request {
                    kind: ErrorKind::NotFound,
                    message: format!("commit `{commit}` not found in `{}`", repo_path.display()),
                });
            }
        }
    } else {
        return Err(Error::Request {
            kind: ErrorKind::InvalidInput,
            message: format!("`{}` is not a full commit id", escape(commit.as_bytes())),
        });
    };
    let location = rebuild::locate_package(
        &repo,
        commit_info.id,
        commit_info.tree,
        None,
        "",
        Some(&path),
        None,
        limits,
    )?;
    let sel = rebuild::rebuild(
        &repo,
        &commit_info,
        &location,
        &rebuild::Options {
            rules: Rules::CURRENT,
            limits: limits.clone(),
        },
    )?;
    let mut out: Vec<ListedFile> = sel
        .files
        .iter()
        .map(|(k, e)| ListedFile {
            path: k.clone(),
            origin: match e.origin {
                rebuild::Origin::Listed => "listed",
                rebuild::Origin::Manifest => "manifest",
                rebuild::Origin::Readme => "readme",
                rebuild::Origin::LicenseFile => "license_file",
            }
            .to_owned(),
            repo_path: match &e.content {
                rebuild::Content::Blob { repo_path, .. } => Some(repo_path.clone()),
                rebuild::Content::External { .. } => None,
            },
        })
        .collect();
    for g in compare::GENERATED {
        out.push(ListedFile {
            path: (*g).to_owned(),
            origin: "generated".into(),
            repo_path: None,
        });
    }
    // Cargo's archive order: `Path` order, component by component (`src/a.rs` < `src-x/b.rs`).
    out.sort_by(|a, b| std::path::Path::new(&a.path).cmp(std::path::Path::new(&b.path)));
    Ok(out)
}
