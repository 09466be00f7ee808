//! Workspace inheritance: the manifest values that decide selection (`include`, `exclude`,
//! `readme`, `license-file`), with `{ workspace = true }` resolved against the workspace root.

use gix::ObjectId;

use super::error::Error;
use super::paths::{dirname, normalize, relative_to};
use super::selection::PackageLocation;
use super::tree::read_manifest;
use crate::limits::Limits;
use crate::metadata::{self, Field, Manifest, Readme};
use crate::repo::Repo;

/// The manifest values that decide selection, after workspace inheritance.
#[derive(Debug, Clone, Default)]
pub(super) struct Resolved2 {
    pub(super) include: Vec<String>,
    pub(super) exclude: Vec<String>,
    /// Readme path relative to the package (None = no readme or default detection off).
    pub(super) readme: ReadmeChoice,
    pub(super) license_file: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub(super) enum ReadmeChoice {
    #[default]
    None,
    Path(String),
    /// Absent: cargo ≥ 1.46 looks for `README.md`, `README.txt`, `README` in this directory
    /// (the package, or for an inherited-but-undefined readme the workspace root, as a path
    /// relative to the package).
    Default(String),
}

/// The raw `[workspace.dependencies]` table of the workspace root that `location` belongs to at
/// this tree, if any (for checking inherited dependencies of the normalized manifest).
pub fn workspace_dependencies(
    repo: &Repo,
    tree: ObjectId,
    location: &PackageLocation,
    limits: &Limits,
) -> Result<Option<toml::Table>, Error> {
    let Some((root, _)) = find_workspace(repo, tree, &location.path, &location.manifest, limits)?
    else {
        return Ok(None);
    };
    let Some((_, _, bytes)) = read_manifest(repo, tree, &root, limits)? else {
        return Ok(None);
    };
    Ok(metadata::parse_toml_table(&bytes)
        .and_then(|t| t.get("workspace")?.get("dependencies")?.as_table().cloned()))
}

fn find_workspace(
    repo: &Repo,
    tree: ObjectId,
    pkg: &str,
    m: &Manifest,
    limits: &Limits,
) -> Result<Option<(String, Manifest)>, Error> {
    if m.is_workspace_root {
        return Ok(Some((pkg.to_owned(), m.clone())));
    }
    if let Some(ws) = &m.workspace_path {
        let Some(root) = normalize(pkg, ws) else {
            return Ok(None);
        };
        return Ok(read_manifest(repo, tree, &root, limits)?
            .filter(|(wm, _, _)| wm.is_workspace_root)
            .map(|(wm, _, _)| (root, wm)));
    }
    let mut dir = pkg.to_owned();
    while !dir.is_empty() {
        let parent = dirname(&dir).len();
        dir.truncate(parent);
        if let Ok(Some((wm, _, _))) = read_manifest(repo, tree, &dir, limits)
            && wm.is_workspace_root
        {
            return Ok(Some((dir, wm)));
        }
    }
    Ok(None)
}

pub(super) fn resolve_manifest(
    repo: &Repo,
    tree: ObjectId,
    pkg: &str,
    m: &Manifest,
    limits: &Limits,
) -> Result<Resolved2, Error> {
    let needs_ws = matches!(m.include, Field::Inherit)
        || matches!(m.exclude, Field::Inherit)
        || matches!(m.readme, Field::Inherit)
        || matches!(m.license_file, Field::Inherit);
    let ws = if needs_ws {
        find_workspace(repo, tree, pkg, m, limits)?
    } else {
        None
    };
    let inherit_err = |field: &str| Error::Package {
        path: pkg.to_owned(),
        message: format!(
            "`package.{field}` is inherited but no workspace root defines `workspace.package.{field}`"
        ),
    };
    let wsp = ws.as_ref().map(|(_, w)| w.workspace_package.clone());
    let list = |f: &Field<Vec<String>>,
                name: &str,
                get: fn(&metadata::WorkspacePackage) -> Option<Vec<String>>| {
        match f {
            Field::Value(v) => Ok(v.clone()),
            Field::Absent => Ok(Vec::new()),
            Field::Inherit => wsp.as_ref().and_then(get).ok_or_else(|| inherit_err(name)),
        }
    };
    let include = list(&m.include, "include", |w| w.include.clone())?;
    let exclude = list(&m.exclude, "exclude", |w| w.exclude.clone())?;
    let readme = match &m.readme {
        Field::Value(Readme::Path(p)) => ReadmeChoice::Path(p.clone()),
        Field::Value(Readme::Bool(true)) => ReadmeChoice::Path("README.md".into()),
        Field::Value(Readme::Bool(false)) => ReadmeChoice::None,
        Field::Absent => ReadmeChoice::Default(String::new()),
        Field::Inherit => {
            let (root, w) = ws.as_ref().ok_or_else(|| inherit_err("readme"))?;
            let rel = |v: &str| {
                relative_to(root, pkg, v).ok_or_else(|| Error::Package {
                    path: pkg.to_owned(),
                    message: format!("inherited readme `{v}` leaves the repository"),
                })
            };
            match &w.workspace_package.readme {
                Some(Readme::Path(p)) => ReadmeChoice::Path(rel(p)?),
                Some(Readme::Bool(true)) => ReadmeChoice::Path(rel("README.md")?),
                Some(Readme::Bool(false)) => ReadmeChoice::None,
                None => ReadmeChoice::Default(rel("")?),
            }
        }
    };
    let license_file = match &m.license_file {
        Field::Value(v) => Some(v.clone()),
        Field::Absent => None,
        Field::Inherit => {
            let (root, w) = ws.as_ref().ok_or_else(|| inherit_err("license-file"))?;
            let v = w
                .workspace_package
                .license_file
                .as_ref()
                .ok_or_else(|| inherit_err("license-file"))?;
            Some(relative_to(root, pkg, v).ok_or_else(|| Error::Package {
                path: pkg.to_owned(),
                message: format!("inherited license-file `{v}` leaves the repository"),
            })?)
        }
    };
    Ok(Resolved2 {
        include,
        exclude,
        readme,
        license_file,
    })
}
