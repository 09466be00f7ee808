//! What `cargo package` would put into the archive, read straight from a git tree.
//!
//! Mirrors cargo's `src/cargo/sources/path.rs` (`_list_files`, `list_files_gix`,
//! `list_files_walk`) and `src/cargo/ops/cargo_package/mod.rs` (`build_ar_list`,
//! `check_filename`), as specified in shared/spec/cargo-package.md. The repository at the commit
//! is treated as a clean checkout: every file is tracked, nothing is untracked or ignored.
//!
//! ### Deviations from cargo
//! * Only the git tree is read: files a publisher had untracked in their work tree cannot be
//!   reproduced (they show up as `only_in_published`, explained only by `dirty`).
//! * Symlinks are resolved inside the tree; a link that leaves the repository is expected
//!   content we cannot know ([`Content::External`]), never read from our file system.
//! * Submodules are expanded only when the gitlink commit is available in the repository
//!   (offline); otherwise they are reported in [`Selection::missing_submodules`].
//! * Checkout filters (`eol`, `ident`, LFS smudge) are not applied.

mod patterns;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use gix::ObjectId;

pub use patterns::Filter;

use crate::error::{ErrorKind, LimitError};
use crate::limits::Limits;
use crate::metadata::{self, Field, Manifest, Readme};
use crate::repo::{self, NodeKind, Repo};
use crate::report::{Finding, Severity};

/// Errors of the rebuild stage. `PackageNotFound` and `Package` are verdicts
/// (`path_not_found`, `package_error`) when reached through [`crate::verify`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No `Cargo.toml` with this package name at the path (or anywhere, when discovering).
    #[error("no package `{name}` at `{path}` in commit `{commit}`{found}")]
    PackageNotFound {
        /// The package name.
        name: String,
        /// The path looked at (`<discovery>` when searching).
        path: String,
        /// The commit.
        commit: String,
        /// What was found instead, formatted (`""` or `; found ...`).
        found: String,
    },
    /// Cargo's rules cannot package this commit (the message says which rule fails).
    #[error("cargo cannot package `{path}`: {message}")]
    Package {
        /// The package path.
        path: String,
        /// What fails.
        message: String,
    },
    /// Reading the repository failed.
    #[error(transparent)]
    Repo(#[from] repo::Error),
    /// A limit was exceeded.
    #[error("{0}")]
    LimitExceeded(LimitError),
}

impl Error {
    /// The stable classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::PackageNotFound { .. } | Error::Package { .. } => ErrorKind::InvalidInput,
            Error::Repo(e) => e.kind(),
            Error::LimitExceeded(_) => ErrorKind::LimitExceeded,
        }
    }
}

/// The cargo rules in force, identified by the cargo minor version (`95` = Rust 1.95).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rules {
    /// Rust/cargo minor version, e.g. 95 for 1.95.
    pub cargo_minor: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules::CURRENT
    }
}

impl Rules {
    /// The rules of the cargo this crate was verified against (1.95).
    pub const CURRENT: Rules = Rules { cargo_minor: 95 };
    /// Versions at which a rule this crate models changed (spec §12); evaluating one version per
    /// interval covers every era.
    pub const BREAKPOINTS: &'static [u32] = &[30, 36, 38, 42, 43, 45, 46, 56, 62, 71, 76, 80, 95];

    fn gitignore_patterns(self) -> bool {
        self.cargo_minor >= 36
    }
    fn force_license(self) -> bool {
        self.cargo_minor >= 43
    }
    fn force_readme(self) -> bool {
        self.cargo_minor >= 62
    }
    fn default_readme(self) -> bool {
        self.cargo_minor >= 46
    }
    fn outside_conflict_root_only(self) -> bool {
        self.cargo_minor >= 71
    }
    fn missing_forced_is_error(self) -> bool {
        self.cargo_minor >= 81
    }
    fn target_file_anywhere_dropped(self) -> bool {
        self.cargo_minor <= 75
    }
    fn symlinked_dirs_walked(self) -> bool {
        self.cargo_minor >= 38
    }
    fn case_insensitive_manifest(self) -> bool {
        self.cargo_minor >= 73
    }
    fn orig_reserved(self) -> bool {
        self.cargo_minor >= 62
    }
    fn build_outside_is_error(self) -> bool {
        self.cargo_minor >= 76
    }
    fn walk_target_file_pruned(self) -> bool {
        self.cargo_minor <= 58
    }
    /// Spec §4.5: since 1.84 the generated `Cargo.lock` is always in the archive list.
    fn lockfile_always(self) -> bool {
        self.cargo_minor >= 84
    }
}

/// Options for [`rebuild`].
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

/// The result of [`rebuild`]: the files cargo would copy into the archive (generated files —
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

/// Split a repository path into components (`""` → none).
fn comps(p: &str) -> Vec<String> {
    p.split('/')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else if b.is_empty() {
        a.to_owned()
    } else {
        format!("{a}/{b}")
    }
}

fn dirname(p: &str) -> &str {
    p.rfind('/').map_or("", |i| &p[..i])
}

fn basename(p: &str) -> &str {
    p.rfind('/').map_or(p, |i| &p[i + 1..])
}

/// Lexically normalize `base/value` (cargo's `normalize_path`). `None` if it climbs above the
/// repository root.
fn normalize(base: &str, value: &str) -> Option<String> {
    let mut out: Vec<&str> = base.split('/').filter(|c| !c.is_empty()).collect();
    for c in value.split(['/', '\\']) {
        match c {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            c => out.push(c),
        }
    }
    Some(out.join("/"))
}

/// `resolve_relative_path`: express `ws_root/value` relative to `pkg`.
fn relative_to(ws_root: &str, pkg: &str, value: &str) -> Option<String> {
    let target = normalize(ws_root, value)?;
    let t = comps(&target);
    let p = comps(pkg);
    let common = t.iter().zip(&p).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_owned(), p.len() - common).collect();
    parts.extend(t[common..].iter().cloned());
    Some(parts.join("/"))
}

/// The result of resolving a path inside a tree.
#[derive(Debug, Clone)]
enum Resolved {
    File {
        id: ObjectId,
        exec: bool,
        path: String,
    },
    Dir {
        id: ObjectId,
        path: String,
    },
    Gitlink {
        commit: ObjectId,
        path: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResolveError {
    Escapes,
    Dangling,
    Loop,
}

impl ResolveError {
    fn describe(self) -> &'static str {
        match self {
            ResolveError::Escapes => "points outside the repository",
            ResolveError::Dangling => "is dangling",
            ResolveError::Loop => "is part of a symlink loop",
        }
    }
}

/// Resolve `path` (repository components) inside the tree `root`, following symlinks.
fn resolve(
    repo: &Repo,
    root: ObjectId,
    path: &[String],
    limits: &Limits,
) -> Result<Result<Resolved, ResolveError>, Error> {
    let mut stack: Vec<(String, ObjectId)> = Vec::new();
    let mut queue: VecDeque<String> = path.iter().cloned().collect();
    let mut hops = 0u64;
    while let Some(c) = queue.pop_front() {
        if c.is_empty() || c == "." {
            continue;
        }
        if c == ".." {
            if stack.pop().is_none() {
                return Ok(Err(ResolveError::Escapes));
            }
            continue;
        }
        let cur = stack.last().map_or(root, |s| s.1);
        let entries = repo.tree(cur)?;
        let Some(e) = entries.iter().find(|e| e.name == c) else {
            return Ok(Err(ResolveError::Dangling));
        };
        let last = queue.iter().all(|q| q.is_empty() || q == ".");
        let here = || {
            let mut p: Vec<&str> = stack.iter().map(|s| s.0.as_str()).collect();
            p.push(&c);
            p.join("/")
        };
        match e.kind {
            NodeKind::Tree => {
                if last {
                    let path = here();
                    return Ok(Ok(Resolved::Dir { id: e.id, path }));
                }
                stack.push((c.clone(), e.id));
            }
            NodeKind::Blob | NodeKind::Executable => {
                if last {
                    return Ok(Ok(Resolved::File {
                        id: e.id,
                        exec: e.kind == NodeKind::Executable,
                        path: here(),
                    }));
                }
                return Ok(Err(ResolveError::Dangling));
            }
            NodeKind::Gitlink => {
                if last {
                    return Ok(Ok(Resolved::Gitlink {
                        commit: e.id,
                        path: here(),
                    }));
                }
                // Content inside a submodule is not in this tree.
                return Ok(Err(ResolveError::Dangling));
            }
            NodeKind::Link => {
                hops += 1;
                if hops > limits.max_symlink_hops {
                    return Ok(Err(ResolveError::Loop));
                }
                let text = repo.blob(e.id, 4096).map_err(|err| match err {
                    repo::Error::LimitExceeded(l) => Error::LimitExceeded(l),
                    other => Error::Repo(other),
                })?;
                let text = String::from_utf8_lossy(&text).into_owned();
                if text.starts_with('/') {
                    return Ok(Err(ResolveError::Escapes));
                }
                let mut new: VecDeque<String> = text.split('/').map(str::to_owned).collect();
                new.extend(queue.drain(..));
                queue = new;
            }
        }
    }
    // The empty path: the root itself.
    Ok(Ok(match stack.last() {
        Some((_, id)) => Resolved::Dir {
            id: *id,
            path: stack
                .iter()
                .map(|s| s.0.as_str())
                .collect::<Vec<_>>()
                .join("/"),
        },
        None => Resolved::Dir {
            id: root,
            path: String::new(),
        },
    }))
}

/// Read and parse the manifest at `dir/Cargo.toml` in `tree` (no symlink following for the file
/// itself beyond what cargo does: the manifest may be a symlink).
fn read_manifest(
    repo: &Repo,
    root: ObjectId,
    dir: &str,
    limits: &Limits,
) -> Result<Option<(Manifest, ObjectId, Vec<u8>)>, Error> {
    let mut p = comps(dir);
    p.push("Cargo.toml".into());
    match resolve(repo, root, &p, limits)? {
        Ok(Resolved::File { id, .. }) => {
            let size = repo.blob_size(id)?;
            if size > limits.max_manifest_bytes {
                return Err(Error::LimitExceeded(LimitError {
                    limit: "max_manifest_bytes",
                    max: limits.max_manifest_bytes,
                    value: size,
                }));
            }
            let bytes = repo.blob(id, limits.max_manifest_bytes)?;
            let m = metadata::parse_manifest(&bytes, &join(dir, "Cargo.toml"), limits).map_err(
                |e| Error::Package {
                    path: dir.to_owned(),
                    message: e.to_string(),
                },
            )?;
            Ok(Some((m, id, bytes)))
        }
        _ => Ok(None),
    }
}

/// Locate the package `name` (`None`: any package, only with `path`) at `path` (when given) or
/// anywhere in the tree (discovery, for
/// crates published before cargo 1.57 wrote `path_in_vcs`). With several candidates, prefer
/// the one whose manifest bytes equal `orig` (the published `Cargo.toml.orig`), then the one
/// whose version equals `version`, then the shortest path.
#[allow(clippy::too_many_arguments)]
pub fn locate_package(
    repo: &Repo,
    commit: ObjectId,
    tree: ObjectId,
    name: Option<&str>,
    version: &str,
    path: Option<&str>,
    orig: Option<&[u8]>,
    limits: &Limits,
) -> Result<PackageLocation, Error> {
    repo.reset_walk_budget();
    let not_found = |path: &str, found: String| Error::PackageNotFound {
        name: name.unwrap_or("*").to_owned(),
        path: path.to_owned(),
        commit: commit.to_string(),
        found,
    };
    let score = |c: &(String, Manifest, ObjectId, Vec<u8>)| {
        let exact = orig.is_some_and(|o| o == c.3.as_slice());
        let ver = c.1.version.value().is_some_and(|v| v == version);
        (
            std::cmp::Reverse(exact),
            std::cmp::Reverse(ver),
            c.0.matches('/').count(),
            c.0.clone(),
        )
    };
    let name_ok = |m: &Manifest| m.name.is_some() && (name.is_none() || m.name.as_deref() == name);
    if let Some(p) = path {
        let direct = read_manifest(repo, tree, p, limits)?;
        if let Some((m, id, _)) = &direct
            && name_ok(m)
        {
            return Ok(PackageLocation {
                path: p.to_owned(),
                manifest: m.clone(),
                manifest_id: *id,
            });
        }
        // A symlinked manifest: cargo ≥ 1.79 records the canonical directory of the manifest
        // (the link target's) as `path_in_vcs`, while the package root is the link's directory.
        let mut linked: Vec<(String, Manifest, ObjectId, Vec<u8>)> = Vec::new();
        for (dir, kind) in manifest_entries(repo, tree, limits)? {
            if kind != NodeKind::Link {
                continue;
            }
            let mut mp = comps(&dir);
            mp.push("Cargo.toml".into());
            if let Ok(Resolved::File { path: target, .. }) = resolve(repo, tree, &mp, limits)?
                && dirname(&target) == p
                && let Ok(Some((m, id, bytes))) = read_manifest(repo, tree, &dir, limits)
                && name_ok(&m)
            {
                linked.push((dir, m, id, bytes));
            }
        }
        linked.sort_by_key(score);
        if let Some((d, m, id, _)) = linked.into_iter().next() {
            return Ok(PackageLocation {
                path: d,
                manifest: m,
                manifest_id: id,
            });
        }
        return Err(not_found(
            p,
            match direct.map(|d| d.0.name) {
                Some(Some(n)) => format!("; found package `{n}`"),
                Some(None) => "; found a manifest without `[package]`".to_owned(),
                None => "; no `Cargo.toml` there".to_owned(),
            },
        ));
    }
    // Discovery: every directory holding a `Cargo.toml` file (symlinks and submodules are not
    // followed), breadth-first so shallower candidates come first.
    let mut candidates: Vec<(String, Manifest, ObjectId, Vec<u8>)> = Vec::new();
    for (dir, kind) in manifest_entries(repo, tree, limits)? {
        if matches!(kind, NodeKind::Blob | NodeKind::Executable)
            && let Ok(Some((m, mid, bytes))) = read_manifest(repo, tree, &dir, limits)
            && m.name.is_some()
            && m.name.as_deref() == name
        {
            candidates.push((dir, m, mid, bytes));
        }
    }
    candidates.sort_by_key(score);
    match candidates.into_iter().next() {
        Some((p, m, id, _)) => Ok(PackageLocation {
            path: p,
            manifest: m,
            manifest_id: id,
        }),
        None => Err(not_found("<discovery>", String::new())),
    }
}

/// Every directory of the tree with an entry named `Cargo.toml`, with that entry's kind,
/// breadth-first (bounded by the tree limits).
fn manifest_entries(
    repo: &Repo,
    tree: ObjectId,
    limits: &Limits,
) -> Result<Vec<(String, NodeKind)>, Error> {
    let mut out = Vec::new();
    let mut queue: VecDeque<(String, ObjectId, u64)> = VecDeque::from([(String::new(), tree, 0)]);
    while let Some((dir, id, depth)) = queue.pop_front() {
        if depth > limits.max_tree_depth {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_tree_depth",
                max: limits.max_tree_depth,
                value: depth,
            }));
        }
        for e in repo.tree(id)?.iter() {
            if e.kind == NodeKind::Tree {
                queue.push_back((join(&dir, &e.name), e.id, depth + 1));
            } else if e.name == "Cargo.toml" {
                out.push((dir.clone(), e.kind));
            }
        }
    }
    Ok(out)
}

/// The manifest values that decide selection, after workspace inheritance.
#[derive(Debug, Clone, Default)]
struct Resolved2 {
    include: Vec<String>,
    exclude: Vec<String>,
    /// Readme path relative to the package (None = no readme or default detection off).
    readme: ReadmeChoice,
    license_file: Option<String>,
}

#[derive(Debug, Clone, Default)]
enum ReadmeChoice {
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
    Ok(crate::metadata::parse_toml_table(&bytes)
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

fn resolve_manifest(
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

struct Walker<'a> {
    repo: &'a Repo,
    limits: &'a Limits,
    rules: Rules,
    filter: Filter,
    pkg: String,
    out: BTreeMap<String, Expected>,
    missing: Vec<MissingSubmodule>,
    findings: Vec<Finding>,
    package_error: Option<String>,
    /// Repository paths of directories currently being walked (loop detection).
    walking: Vec<(ObjectId, String)>,
}

impl Walker<'_> {
    fn fail(&mut self, msg: String) {
        if self.package_error.is_none() {
            self.package_error = Some(msg);
        }
    }

    fn add(&mut self, rel: String, content: Content, link: Option<Link>) {
        if !self.filter.keep(&rel, false) {
            return;
        }
        if self.rules.target_file_anywhere_dropped()
            && self.filter.include_is_empty()
            && basename(&rel) == "target"
        {
            return;
        }
        self.out.entry(rel).or_insert(Expected {
            content,
            origin: Origin::Listed,
            link,
        });
    }

    /// Handle a symlink entry at package path `rel`, repository path `repo_path`.
    fn link(
        &mut self,
        root: ObjectId,
        rel: &str,
        repo_path: &str,
        id: ObjectId,
        inherited: Option<&Link>,
        depth: u64,
    ) -> Result<(), Error> {
        let text = self.repo.blob(id, 4096).map_err(|e| match e {
            repo::Error::LimitExceeded(l) => Error::LimitExceeded(l),
            other => Error::Repo(other),
        })?;
        let mut target = comps(dirname(repo_path));
        target.extend(String::from_utf8_lossy(&text).split('/').map(str::to_owned));
        if text.starts_with(b"/") {
            target = vec!["..".into(); comps(repo_path).len() + 1];
        }
        let own = |directory| Link {
            link_path: rel.to_owned(),
            text: text.clone(),
            directory,
        };
        match resolve(self.repo, root, &target, self.limits)? {
            Ok(Resolved::File { id, exec, path }) => {
                let link = inherited.cloned().unwrap_or_else(|| own(false));
                self.add(
                    rel.to_owned(),
                    Content::Blob {
                        id,
                        repo_path: path,
                        executable: exec,
                    },
                    Some(link),
                );
            }
            Ok(Resolved::Dir { id, path }) => {
                if !self.rules.symlinked_dirs_walked() {
                    if self.filter.keep(rel, false) {
                        self.fail(format!(
                            "symlink `{rel}` points to a directory (cargo < 1.38 cannot package it)"
                        ));
                    }
                    return Ok(());
                }
                let link = inherited.cloned().unwrap_or_else(|| own(true));
                self.walk(root, id, rel, &path, false, Some(&link), depth + 1)?;
            }
            Ok(Resolved::Gitlink { commit, path }) => {
                self.gitlink(rel, commit, &path)?;
            }
            Err(ResolveError::Escapes) => {
                if self.filter.keep(rel, false) {
                    self.findings.push(
                        Finding::new(
                            "symlink_escapes_repository",
                            Severity::High,
                            format!(
                                "symlink `{rel}` -> `{}` points outside the repository; cargo would have read a file from the publisher's disk",
                                crate::text::escape(&text)
                            ),
                        )
                        .with_path(rel),
                    );
                    self.out.entry(rel.to_owned()).or_insert(Expected {
                        content: Content::External {
                            reason: "symlink points outside the repository".into(),
                        },
                        origin: Origin::Listed,
                        link: Some(own(false)),
                    });
                }
            }
            Err(e) => {
                if self.filter.keep(rel, false) {
                    self.fail(format!(
                        "symlink `{rel}` -> `{}` {} (cargo fails to open it for archiving)",
                        crate::text::escape(&text),
                        e.describe()
                    ));
                }
            }
        }
        Ok(())
    }

    fn gitlink(&mut self, rel: &str, commit: ObjectId, repo_path: &str) -> Result<(), Error> {
        let _ = repo_path;
        if let Ok(repo::CommitLookup::Found(c)) = self.repo.lookup_commit(&commit.to_string()) {
            // The submodule's commit is in this object store: list it like cargo lists an
            // initialized submodule (git semantics, its own root for symlinks).
            self.git_list(c.tree, c.tree, rel, "")?;
            return Ok(());
        }
        self.missing.push(MissingSubmodule {
            path: rel.to_owned(),
            commit: commit.to_string(),
        });
        Ok(())
    }

    /// GIT mode: every tracked entry under `tree` (at package path `rel_prefix`, repository path
    /// `repo_prefix` inside `root`), nested packages removed.
    fn git_list(
        &mut self,
        root: ObjectId,
        tree: ObjectId,
        rel_prefix: &str,
        repo_prefix: &str,
    ) -> Result<(), Error> {
        let mut entries: Vec<(String, String, repo::TreeEntry)> = Vec::new();
        let mut stack = vec![(tree, rel_prefix.to_owned(), repo_prefix.to_owned(), 0u64)];
        while let Some((t, rel, rp, depth)) = stack.pop() {
            if depth > self.limits.max_tree_depth {
                return Err(Error::LimitExceeded(LimitError {
                    limit: "max_tree_depth",
                    max: self.limits.max_tree_depth,
                    value: depth,
                }));
            }
            for e in self.repo.tree(t)?.iter() {
                let r = join(&rel, &e.name);
                let p = join(&rp, &e.name);
                if e.kind == NodeKind::Tree {
                    stack.push((e.id, r, p, depth + 1));
                } else {
                    entries.push((r, p, e.clone()));
                }
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        // Nested packages: any listed `D/Cargo.toml` with D != package root.
        let nested: BTreeSet<String> = entries
            .iter()
            .filter(|(r, _, e)| e.name == "Cargo.toml" && !dirname(r).is_empty())
            .map(|(r, _, _)| dirname(r).to_owned())
            .collect();
        let under_nested = |r: &str| {
            nested
                .iter()
                .any(|d| r.starts_with(d.as_str()) && r.as_bytes().get(d.len()) == Some(&b'/'))
        };
        for (rel, rp, e) in entries {
            if under_nested(&rel) {
                continue;
            }
            if !e.utf8 && self.filter.keep(&rel, false) {
                self.fail(format!(
                    "non-utf8 path in source directory: `{}`",
                    crate::text::escape(rel.as_bytes())
                ));
                continue;
            }
            match e.kind {
                NodeKind::Blob | NodeKind::Executable => self.add(
                    rel,
                    Content::Blob {
                        id: e.id,
                        repo_path: rp,
                        executable: e.kind == NodeKind::Executable,
                    },
                    None,
                ),
                NodeKind::Link => self.link(root, &rel, &rp, e.id, None, 0)?,
                NodeKind::Gitlink => self.gitlink(&rel, e.id, &rp)?,
                NodeKind::Tree => {}
            }
        }
        Ok(())
    }

    /// WALK semantics (`list_files_walk`): used for `include`, old no-git packaging and
    /// directories reached through symlinks.
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        root: ObjectId,
        tree: ObjectId,
        rel: &str,
        repo_path: &str,
        is_root: bool,
        link: Option<&Link>,
        depth: u64,
    ) -> Result<(), Error> {
        if depth > self.limits.max_tree_depth {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_tree_depth",
                max: self.limits.max_tree_depth,
                value: depth,
            }));
        }
        let entries = self.repo.tree(tree)?;
        if !is_root {
            if !self.filter.keep(rel, true) {
                return Ok(());
            }
            // A sub-directory with a `Cargo.toml` (following symlinks) is another package.
            let mut p = comps(repo_path);
            p.push("Cargo.toml".into());
            if entries.iter().any(|e| e.name == "Cargo.toml")
                && resolve(self.repo, root, &p, self.limits)?.is_ok()
            {
                return Ok(());
            }
        }
        if self.walking.iter().any(|(id, p)| {
            *id == tree
                && (repo_path == p || repo_path.starts_with(&format!("{p}/")) || p.is_empty())
        }) && !is_root
        {
            self.findings.push(
                Finding::new(
                    "symlink_loop",
                    Severity::Low,
                    format!("file system loop found at `{rel}`; cargo skips it"),
                )
                .with_path(rel),
            );
            return Ok(());
        }
        self.walking.push((tree, repo_path.to_owned()));
        for e in entries.iter() {
            let child = join(rel, &e.name);
            let child_repo = join(repo_path, &e.name);
            let at_pkg_root = is_root && rel.is_empty();
            if !e.utf8 && self.filter.keep(&child, false) {
                self.fail(format!(
                    "non-utf8 path in source directory: `{}`",
                    crate::text::escape(child.as_bytes())
                ));
                continue;
            }
            match e.kind {
                NodeKind::Tree => {
                    if at_pkg_root && e.name == "target" {
                        continue;
                    }
                    self.walk(root, e.id, &child, &child_repo, false, link, depth + 1)?;
                }
                NodeKind::Blob | NodeKind::Executable => {
                    if at_pkg_root && e.name == "target" && self.rules.walk_target_file_pruned() {
                        continue;
                    }
                    self.add(
                        child,
                        Content::Blob {
                            id: e.id,
                            repo_path: child_repo,
                            executable: e.kind == NodeKind::Executable,
                        },
                        link.cloned(),
                    );
                }
                NodeKind::Link => {
                    if at_pkg_root && e.name == "target" {
                        let mut p = comps(dirname(&child_repo));
                        p.push(e.name.clone());
                        if matches!(
                            resolve(self.repo, root, &p, self.limits)?,
                            Ok(Resolved::Dir { .. })
                        ) {
                            continue;
                        }
                    }
                    self.link(root, &child, &child_repo, e.id, link, depth)?;
                }
                NodeKind::Gitlink => {
                    if !self.filter.keep(&child, true) {
                        continue;
                    }
                    self.gitlink(&child, e.id, &child_repo)?;
                }
            }
        }
        self.walking.pop();
        Ok(())
    }

    /// Force-add `readme` / `license-file` (`build_ar_list`, spec §4.6).
    fn force(&mut self, root: ObjectId, value: &str, origin: Origin) -> Result<(), Error> {
        let what = if origin == Origin::Readme {
            "readme"
        } else {
            "license-file"
        };
        // cargo's `check_for_file_and_add` runs after the generated `Cargo.toml` (and, since
        // 1.84, `Cargo.lock`) are in the archive list: a readme/license-file resolving to one of
        // them is never added (found by fuzz/fuzz_targets/file_selection.rs).
        let rules = self.rules;
        let generated =
            |k: &str| k == "Cargo.toml" || (k == "Cargo.lock" && rules.lockfile_always());
        let Some(abs) = normalize(&self.pkg, value) else {
            let name = basename(value).to_owned();
            if !generated(&name) && !self.out.contains_key(&name) {
                self.findings.push(
                    Finding::new(
                        "outside_repository",
                        Severity::High,
                        format!("{what} `{value}` lies outside the repository; cargo read it from the publisher's disk"),
                    )
                    .with_path(name.clone()),
                );
                self.out.insert(
                    name,
                    Expected {
                        content: Content::External {
                            reason: format!("{what} outside the repository"),
                        },
                        origin,
                        link: None,
                    },
                );
            }
            return Ok(());
        };
        let inside = self.pkg.is_empty() || abs.starts_with(&format!("{}/", self.pkg));
        let key = if inside {
            abs[if self.pkg.is_empty() {
                0
            } else {
                self.pkg.len() + 1
            }..]
                .to_owned()
        } else {
            let name = basename(value.trim_end_matches('/')).to_owned();
            let conflict = generated(&name)
                || if self.rules.outside_conflict_root_only() {
                    self.out.contains_key(&name)
                } else {
                    self.out.keys().any(|k| basename(k) == name)
                };
            if conflict {
                return Ok(());
            }
            name
        };
        if inside && (generated(&key) || self.out.contains_key(&key)) {
            return Ok(());
        }
        match resolve(self.repo, root, &comps(&abs), self.limits)? {
            Ok(Resolved::File { id, exec, path }) => {
                self.out.insert(
                    key,
                    Expected {
                        content: Content::Blob {
                            id,
                            repo_path: path,
                            executable: exec,
                        },
                        origin,
                        link: None,
                    },
                );
            }
            _ => {
                if self.rules.missing_forced_is_error() {
                    self.fail(format!(
                        "{what} `{value}` does not appear to exist (relative to `{}`)",
                        self.pkg
                    ));
                } else {
                    self.findings.push(Finding::new(
                        "missing_forced_file",
                        Severity::Low,
                        format!(
                            "{what} `{value}` does not exist; the cargo of that time only warned"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Compute what cargo's rules select from `commit` for the package at `location`.
pub fn rebuild(
    repo: &Repo,
    commit: &repo::CommitInfo,
    location: &PackageLocation,
    options: &Options,
) -> Result<Selection, Error> {
    let limits = &options.limits;
    let rules = options.rules;
    let pkg = location.path.clone();
    repo.reset_walk_budget();
    let root = commit.tree;
    let m = &location.manifest;
    let pkg_err = |message: String| Error::Package {
        path: pkg.clone(),
        message,
    };
    let r = resolve_manifest(repo, root, &pkg, m, limits)?;
    let patterns = (r.include.len() + r.exclude.len()) as u64;
    if patterns > limits.max_patterns {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_patterns",
            max: limits.max_patterns,
            value: patterns,
        }));
    }
    // Mode selection (spec §2.1).
    let mode = if !r.include.is_empty() && rules.cargo_minor >= 20 {
        Mode::WalkInclude
    } else if (9..=44).contains(&rules.cargo_minor)
        && !pkg.is_empty()
        && read_manifest(repo, root, "", limits)
            .ok()
            .flatten()
            .is_none()
    {
        Mode::WalkNoInclude
    } else {
        Mode::Git
    };
    let filter = Filter::new(
        &r.include,
        if r.include.is_empty() {
            &r.exclude
        } else {
            &[]
        },
        rules.gitignore_patterns(),
        mode == Mode::WalkNoInclude,
    )
    .map_err(pkg_err)?;
    let Ok(Resolved::Dir { id: pkg_tree, .. }) = resolve(repo, root, &comps(&pkg), limits)? else {
        return Err(pkg_err("the package directory is not a directory".into()));
    };
    let mut w = Walker {
        repo,
        limits,
        rules,
        filter,
        pkg: pkg.clone(),
        out: BTreeMap::new(),
        missing: Vec::new(),
        findings: Vec::new(),
        package_error: None,
        walking: Vec::new(),
    };
    match mode {
        Mode::Git => w.git_list(root, pkg_tree, "", &pkg)?,
        Mode::WalkInclude | Mode::WalkNoInclude => {
            w.walk(root, pkg_tree, "", &pkg, true, None, 0)?;
        }
    }

    // build_ar_list: reserved names, the manifest, the lock file.
    if w.out.contains_key(".cargo_vcs_info.json") {
        w.fail(
            "invalid inclusion of reserved file name `.cargo_vcs_info.json` in package source"
                .into(),
        );
    }
    if rules.orig_reserved() && w.out.contains_key("Cargo.toml.orig") {
        w.fail(
            "invalid inclusion of reserved file name `Cargo.toml.orig` in package source".into(),
        );
    }
    w.out.remove("Cargo.lock");
    let manifest_keys: Vec<String> = w
        .out
        .keys()
        .filter(|k| {
            if rules.case_insensitive_manifest() {
                k.eq_ignore_ascii_case("Cargo.toml")
            } else {
                k.as_str() == "Cargo.toml"
            }
        })
        .cloned()
        .collect();
    for k in manifest_keys {
        w.out.remove(&k);
    }
    let mut mp = comps(&pkg);
    mp.push("Cargo.toml".into());
    if let Ok(Resolved::File { id, exec, path }) = resolve(repo, root, &mp, limits)? {
        w.out.insert(
            "Cargo.toml.orig".into(),
            Expected {
                content: Content::Blob {
                    id,
                    repo_path: path,
                    executable: exec,
                },
                origin: Origin::Manifest,
                link: None,
            },
        );
    }
    // Forced files: license-file first, then readme.
    if rules.force_license()
        && let Some(l) = &r.license_file
    {
        w.force(root, l, Origin::LicenseFile)?;
    }
    if rules.force_readme() {
        match &r.readme {
            ReadmeChoice::Path(p) => w.force(root, p, Origin::Readme)?,
            ReadmeChoice::Default(dir) if rules.default_readme() => {
                for name in ["README.md", "README.txt", "README"] {
                    let value = join(dir, name);
                    let Some(abs) = normalize(&pkg, &value) else {
                        break;
                    };
                    if matches!(
                        resolve(repo, root, &comps(&abs), limits)?,
                        Ok(Resolved::File { .. })
                    ) {
                        w.force(root, &value, Origin::Readme)?;
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    // A custom build script must be a file inside the package (1.76+).
    if rules.build_outside_is_error()
        && let Some(Some(b)) = &m.build
    {
        let inside = normalize(&pkg, b)
            .is_some_and(|abs| pkg.is_empty() || abs.starts_with(&format!("{pkg}/")));
        if !inside {
            w.fail(format!("the source file of build script `{b}` doesn't appear to be a path inside of the package"));
        }
    }
    // check_filename.
    for k in w.out.keys() {
        let name = basename(k);
        if let Some(c) = name
            .chars()
            .find(|c| matches!(c, '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        {
            let msg = format!(
                "cannot package a filename with a special character `{c}`: `{}`",
                crate::text::escape(k.as_bytes())
            );
            w.package_error.get_or_insert(msg);
            break;
        }
    }
    if let Some(msg) = w.package_error {
        return Err(pkg_err(msg));
    }
    for (entries, kind, severity, what) in [
        (
            repo.invalid_entries(),
            "invalid_tree_entry",
            Severity::High,
            "git refuses to check out",
        ),
        (
            repo.tree_warnings(),
            "tree_fsck_warning",
            Severity::Low,
            "git accepts only with a warning",
        ),
    ] {
        if !entries.is_empty() {
            w.findings.push(Finding::new(
                kind,
                severity,
                format!(
                    "the repository has tree entries {what}: {}",
                    entries.join(", ")
                ),
            ));
        }
    }
    Ok(Selection {
        commit: commit.id,
        path_in_vcs: pkg,
        mode,
        rules,
        files: w.out,
        missing_submodules: w.missing,
        findings: w.findings,
        manifest: m.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_helpers() {
        assert_eq!(
            normalize("a/b", "../README.md").as_deref(),
            Some("a/README.md")
        );
        assert_eq!(normalize("a", "../../x"), None);
        assert_eq!(
            relative_to("", "phf", "README.md").as_deref(),
            Some("../README.md")
        );
        assert_eq!(
            relative_to("ws", "ws/crates/a", "LICENSE").as_deref(),
            Some("../../LICENSE")
        );
        assert_eq!(basename("a/b/c"), "c");
        assert_eq!(dirname("a/b/c"), "a/b");
    }
}
