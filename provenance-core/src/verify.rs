//! The top-level operation: read → locate → rebuild → compare → classify.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::Digest;

use crate::archive::{self, CrateArchive};
use crate::compare::{self, Comparison};
use crate::error::ErrorKind;
use crate::limits::Limits;
use crate::metadata::{self, VcsInfo};
pub use crate::progress::{Discard, Progress, Stage};
use crate::rebuild::{self, Rules, Selection};
use crate::repo::{self, CommitInfo, CommitLookup, Repo};
use crate::report::{
    Assisted, CrateId, Difference, DifferenceKind, FileCounts, Finding, Report, SCHEMA_VERSION,
    Severity, Source, SourceHow, Verdict,
};

/// Where the `.crate` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrateSource {
    /// A local `.crate` file.
    File(PathBuf),
    /// `.crate` bytes already in memory.
    Bytes(Vec<u8>),
    /// A crate version in the registry (needs the fetch stage).
    Registry {
        /// Crate name.
        name: String,
        /// Exact version.
        version: String,
    },
}

/// Where the repository comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RepoSource {
    /// A local repository (bare, or a work tree).
    Path(PathBuf),
    /// A URL to fetch.
    Url(String),
}

impl RepoSource {
    /// Interpret a user-supplied string: anything with a `scheme://` (or `file:` prefix) is a URL,
    /// the rest a local path.
    pub fn parse(s: &str) -> RepoSource {
        if let Some(p) = s.strip_prefix("file://") {
            return RepoSource::Path(PathBuf::from(p));
        }
        if s.contains("://") || s.starts_with("git@") || s.contains("::") {
            RepoSource::Url(s.to_owned())
        } else {
            RepoSource::Path(PathBuf::from(s))
        }
    }

    fn display(&self) -> String {
        match self {
            RepoSource::Path(p) => p.display().to_string(),
            RepoSource::Url(u) => u.clone(),
        }
    }
}

/// Options for [`verify_opts`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Resource limits. Default: [`Limits::default`].
    pub limits: Limits,
    /// Assisted matching when the verdict is `no_vcs_info` / `revision_not_found`: version tags,
    /// then commits with this version, then the closest commits of a bounded history walk.
    /// Default `true`.
    pub assisted: bool,
    /// At most this many commits are walked by the assisted search (0 = tags only). Default 1000.
    pub assisted_max_commits: u64,
    /// Explain differences with the rules of the older cargo the crate shows made it
    /// (finding `older_cargo_rule`). Default `true`.
    pub older_rules: bool,
    /// Cache directory for downloads and fetched repositories (fetch stage). Default: none.
    pub cache_dir: Option<PathBuf>,
    /// Use only what is cached; never touch the network. Default `false`.
    pub offline: bool,
    /// Sparse index URL (fetch stage). Default: crates.io.
    pub index_url: Option<String>,
    /// Allow `http://`, `git://` and `file://` transports (tests on loopback). Default `false`.
    pub allow_insecure_transport: bool,
    /// When the crate's repository cannot be reached (DNS failure, refused connection, timeout),
    /// report the verdict `repository_not_found` with a `repository_unreachable` finding instead
    /// of returning a `network` error. Default `false` (a network failure may be transient);
    /// batch scans set it so that one unreachable host is a result, not a failure.
    pub unreachable_is_not_found: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            assisted: true,
            assisted_max_commits: 1000,
            older_rules: true,
            cache_dir: None,
            offline: false,
            index_url: None,
            allow_insecure_transport: false,
            unreachable_is_not_found: false,
        }
    }
}

/// A verification request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Request {
    /// The crate.
    pub krate: CrateSource,
    /// The repository; `None` = `package.repository` from the crate.
    pub repo: Option<RepoSource>,
    /// Options.
    pub options: Options,
}

impl Request {
    /// A request with default options and no repository override.
    pub fn new(krate: CrateSource) -> Request {
        Request {
            krate,
            repo: None,
            options: Options::default(),
        }
    }

    /// Set the repository.
    #[must_use]
    pub fn with_repo(mut self, repo: RepoSource) -> Request {
        self.repo = Some(repo);
        self
    }

    /// Set the options.
    #[must_use]
    pub fn with_options(mut self, options: Options) -> Request {
        self.options = options;
        self
    }
}

/// Errors of [`verify`]. A mismatch is never an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `.crate` is unusable.
    #[error(transparent)]
    Archive(#[from] archive::Error),
    /// The crate's metadata is unusable.
    #[error(transparent)]
    Metadata(#[from] metadata::Error),
    /// Reading the repository failed.
    #[error(transparent)]
    Repo(#[from] repo::Error),
    /// The rebuild failed for a reason that is not a verdict.
    #[error(transparent)]
    Rebuild(#[from] rebuild::Error),
    /// The comparison failed.
    #[error(transparent)]
    Compare(#[from] compare::Error),
    /// Downloading the crate or fetching the repository failed.
    #[error(transparent)]
    Fetch(#[from] crate::fetch::Error),
    /// The request is inconsistent or needs something unavailable.
    #[error("{message}")]
    Request {
        /// The classification.
        kind: ErrorKind,
        /// What is wrong.
        message: String,
    },
    /// `should_interrupt` was set.
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// The stable classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Archive(e) => e.kind(),
            Error::Metadata(e) => e.kind(),
            Error::Repo(e) => e.kind(),
            Error::Rebuild(e) => e.kind(),
            Error::Compare(e) => e.kind(),
            Error::Fetch(e) => e.kind(),
            Error::Request { kind, .. } => *kind,
            Error::Interrupted => ErrorKind::Interrupted,
        }
    }
}

/// Verify with default progress (none) and no interruption.
pub fn verify(request: &Request) -> Result<Report, Error> {
    verify_opts(request, &mut Discard, &AtomicBool::new(false))
}

fn check(flag: &AtomicBool) -> Result<(), Error> {
    if flag.load(Ordering::Relaxed) {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// The range of cargo minor versions the published crate itself shows could have made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Era {
    min: u32,
    max: u32,
}

/// Verify a crate against its repository.
pub fn verify_opts(
    request: &Request,
    progress: &mut dyn Progress,
    should_interrupt: &AtomicBool,
) -> Result<Report, Error> {
    let limits = &request.options.limits;
    let mut fetched = crate::fetch::Context::default();
    let (archive, sha256) = read_crate(
        &request.krate,
        &request.options,
        &mut fetched,
        progress,
        should_interrupt,
    )?;
    let repo_source = request.repo.clone();
    let opened = match &repo_source {
        Some(RepoSource::Path(p)) => {
            progress.stage(Stage::OpenRepository, None);
            Some(Repo::open(p, limits))
        }
        // Fetched in `verify_parsed`, once the recorded commit is known.
        Some(RepoSource::Url(_)) | None => None,
    };
    verify_parsed(
        &archive,
        sha256,
        repo_source.as_ref(),
        opened,
        fetched,
        &request.options,
        progress,
        should_interrupt,
    )
}

/// Read (or download) and parse the `.crate`; a registry download must be the crate asked for.
/// Returns the archive and the hex SHA-256 of its bytes.
fn read_crate(
    krate: &CrateSource,
    options: &Options,
    fetched: &mut crate::fetch::Context,
    progress: &mut dyn Progress,
    should_interrupt: &AtomicBool,
) -> Result<(CrateArchive, String), Error> {
    let limits = &options.limits;
    progress.stage(Stage::ReadCrate, None);
    let bytes = match krate {
        CrateSource::File(p) => read_limited(p, limits)?,
        CrateSource::Bytes(b) => b.clone(),
        CrateSource::Registry { name, version } => {
            fetched.download(name, version, options, progress, should_interrupt)?
        }
    };
    progress.inc(bytes.len() as u64);
    let archive = archive::parse(&bytes, limits)?;
    check(should_interrupt)?;
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
    let sha256 = crate::ids::hex(&sha2::Sha256::digest(&bytes));
    Ok((archive, sha256))
}

/// Inspect a crate alone, without its repository: the crate-intrinsic findings (archive
/// anomalies, `.cargo_vcs_info.json` sanity, normalized manifest and lock file, suspicious code
/// points), the cargo era the crate shows, and an inventory. See [`crate::intrinsic`].
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
pub fn inspect(krate: &CrateSource, options: &Options) -> Result<crate::Inspection, Error> {
    inspect_opts(krate, options, &mut Discard, &AtomicBool::new(false))
}

/// [`inspect`] with progress reporting and an interrupt flag.
pub fn inspect_opts(
    krate: &CrateSource,
    options: &Options,
    progress: &mut dyn Progress,
    should_interrupt: &AtomicBool,
) -> Result<crate::Inspection, Error> {
    let mut fetched = crate::fetch::Context::default();
    let (archive, sha256) = read_crate(krate, options, &mut fetched, progress, should_interrupt)?;
    crate::intrinsic::inspect_archive(&archive, sha256, &options.limits)
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

/// One evaluation of a commit: the verdict and what it is based on.
struct Evaluation {
    verdict: Verdict,
    path: Option<String>,
    files: FileCounts,
    differences: Vec<Difference>,
    findings: Vec<Finding>,
}

#[allow(clippy::too_many_arguments)]
fn evaluate(
    repo: &Repo,
    commit: &CommitInfo,
    archive: &CrateArchive,
    name: &str,
    version: &str,
    path: Option<&str>,
    era: Era,
    options: &Options,
    progress: &mut dyn Progress,
    should_interrupt: &AtomicBool,
) -> Result<Evaluation, Error> {
    let limits = &options.limits;
    let orig = archive
        .files
        .get("Cargo.toml.orig")
        .or_else(|| archive.files.get("Cargo.toml"))
        .map(|f| f.data.as_slice());
    progress.stage(Stage::Rebuild, None);
    let published_only = |verdict, findings| Evaluation {
        verdict,
        path: path.map(str::to_owned),
        files: FileCounts {
            published: archive.files.len() as u64,
            compared: 0,
            equal: 0,
        },
        differences: Vec::new(),
        findings,
    };
    let location = match rebuild::locate_package(
        repo,
        commit.id,
        commit.tree,
        Some(name),
        version,
        path,
        orig,
        limits,
    ) {
        Ok(l) => l,
        Err(e @ rebuild::Error::PackageNotFound { .. }) => {
            return Ok(published_only(
                Verdict::PathNotFound,
                vec![Finding::new(
                    "path_not_found",
                    Severity::High,
                    e.to_string(),
                )],
            ));
        }
        Err(rebuild::Error::Package { path: p, message }) => {
            return Ok(Evaluation {
                path: Some(p),
                ..published_only(
                    Verdict::PackageError,
                    vec![Finding::new("package_error", Severity::High, message)],
                )
            });
        }
        Err(e) => return Err(e.into()),
    };
    check(should_interrupt)?;

    // The rules to try: today's cargo, then one representative of every older era the crate
    // itself shows is possible.
    let mut rule_sets = vec![Rules::CURRENT];
    if options.older_rules {
        for &b in Rules::BREAKPOINTS {
            if b >= era.min && b <= era.max && b != Rules::CURRENT.cargo_minor {
                rule_sets.push(Rules { cargo_minor: b });
            }
        }
        if era.max < Rules::CURRENT.cargo_minor
            && !rule_sets.iter().any(|r| r.cargo_minor == era.max)
        {
            rule_sets.push(Rules {
                cargo_minor: era.max,
            });
        }
    }
    let copts = compare::Options {
        limits: limits.clone(),
    };
    type Outcome = Result<(Selection, Comparison), String>;
    let mut results: Vec<(Rules, Outcome)> = Vec::new();
    for rules in rule_sets {
        check(should_interrupt)?;
        // Older rules are needed only to explain differences (or a refusal) under today's rules.
        if let Some((_, Ok((_, cmp)))) = results.first()
            && cmp.differences.is_empty()
        {
            break;
        }
        let ropts = rebuild::Options {
            rules,
            limits: limits.clone(),
        };
        match rebuild::rebuild(repo, commit, &location, &ropts) {
            Ok(sel) => {
                progress.stage(Stage::Compare, Some(archive.files.len() as u64));
                let cmp = compare::compare(archive, &sel, repo, &copts)?;
                progress.inc(archive.files.len() as u64);
                results.push((rules, Ok((sel, cmp))));
            }
            Err(rebuild::Error::Package { message, .. }) => results.push((rules, Err(message))),
            Err(e) => return Err(e.into()),
        }
    }
    let loc_path = location.path.clone();
    let (primary_rules, primary) = results.remove(0);
    let older: Vec<(Rules, Selection, Comparison)> = results
        .into_iter()
        .filter_map(|(r, res)| res.ok().map(|(s, c)| (r, s, c)))
        .collect();
    let finish = |sel: &Selection, cmp: Comparison, mut extra: Vec<Finding>| {
        let mut findings = sel.findings.clone();
        findings.append(&mut extra);
        findings.extend(cmp.findings.iter().cloned());
        let verdict = classify(&cmp.differences, &findings);
        Evaluation {
            verdict,
            path: Some(loc_path.clone()),
            files: cmp.files,
            differences: cmp.differences,
            findings,
        }
    };
    match primary {
        Ok((sel, cmp)) => {
            if cmp.differences.is_empty() {
                return Ok(finish(&sel, cmp, Vec::new()));
            }
            // Can an older cargo rule explain some differences?
            let best = older
                .into_iter()
                .min_by_key(|(r, _, c)| (c.differences.len(), std::cmp::Reverse(r.cargo_minor)));
            if let Some((r, _, oc)) = best
                && oc.differences.len() < cmp.differences.len()
            {
                let mut explained = Vec::new();
                let mut remaining = Vec::new();
                for d in cmp.differences {
                    if oc.differences.iter().any(|o| o.path == d.path) {
                        remaining.push(d);
                    } else {
                        explained.push(d);
                    }
                }
                let extra: Vec<Finding> = explained
                    .iter()
                    .map(|d| older_rule_finding(d, primary_rules, r, era))
                    .collect();
                let cmp = Comparison {
                    differences: remaining,
                    ..cmp
                };
                return Ok(finish(&sel, cmp, extra));
            }
            Ok(finish(&sel, cmp, Vec::new()))
        }
        Err(message) => {
            // Today's cargo refuses the package; an older cargo may not have.
            if let Some((r, sel, cmp)) = older
                .into_iter()
                .min_by_key(|(_, _, c)| c.differences.len())
            {
                let extra = vec![Finding::new(
                    "older_cargo_rule",
                    Severity::Info,
                    format!(
                        "cargo 1.{} would refuse this package ({message}); the cargo 1.{} rules, possible for this crate (made by cargo 1.{}–1.{}), accept it",
                        Rules::CURRENT.cargo_minor,
                        r.cargo_minor,
                        era.min,
                        era.max
                    ),
                )];
                return Ok(finish(&sel, cmp, extra));
            }
            Ok(Evaluation {
                path: Some(loc_path.clone()),
                ..published_only(
                    Verdict::PackageError,
                    vec![Finding::new("package_error", Severity::High, message)],
                )
            })
        }
    }
}

fn older_rule_finding(d: &Difference, current: Rules, older: Rules, era: Era) -> Finding {
    Finding::new(
        "older_cargo_rule",
        Severity::Info,
        format!(
            "`{}` ({} under cargo 1.{} rules) is explained by the rules of cargo 1.{}; the crate shows it was made by cargo 1.{}–1.{}",
            d.path,
            d.kind.as_str(),
            current.cargo_minor,
            older.cargo_minor,
            era.min,
            era.max
        ),
    )
    .with_path(d.path.clone())
}

/// Classify differences and findings into a verdict (for a commit that exists and a package that
/// was found): `match` when nothing differs and no finding blocks it, `submodule_unavailable`
/// when every difference is inside unavailable submodules, `match_but_symlinks` when every
/// difference is a symlink published as its text, otherwise `mismatch`.
pub fn classify(differences: &[Difference], findings: &[Finding]) -> Verdict {
    if differences.is_empty() {
        return if findings.iter().any(Finding::blocks_match) {
            Verdict::Mismatch
        } else {
            Verdict::Match
        };
    }
    if differences
        .iter()
        .all(|d| d.kind == DifferenceKind::InSubmodule)
    {
        return Verdict::SubmoduleUnavailable;
    }
    if differences
        .iter()
        .all(|d| d.kind == DifferenceKind::SymlinkText)
        && !findings.iter().any(Finding::blocks_match)
    {
        return Verdict::MatchButSymlinks;
    }
    Verdict::Mismatch
}

const TAG_FORMS: &[&str] = &[
    "v{version}",
    "{version}",
    "{name}-v{version}",
    "{name}-{version}",
    "{name}@{version}",
];

/// One assisted candidate, evaluated.
fn assisted_candidate(
    how: &str,
    reference: String,
    commit: &CommitInfo,
    ev: Evaluation,
) -> Assisted {
    Assisted {
        how: how.into(),
        reference,
        commit: commit.id.to_string(),
        verdict: ev.verdict,
        path_in_vcs: ev.path.unwrap_or_default(),
        files: ev.files,
        summary: crate::categorize::summary(&ev.differences),
        differences: ev.differences,
    }
}

/// Candidates from a bounded walk over the history: commits whose package manifest has this
/// version (`version_commit`), and the commits whose package tree holds the most of the published
/// files' blob ids (`closest_commit`) — cheap, since only ids are compared.
#[allow(clippy::too_many_arguments)]
fn history_candidates(
    repo: &Repo,
    archive: &CrateArchive,
    refs: &[(String, gix::ObjectId)],
    pkg: &str,
    version: &str,
    options: &Options,
    should_interrupt: &AtomicBool,
) -> Result<Vec<(&'static str, String, CommitInfo)>, Error> {
    let kind = repo.gix().object_hash();
    let published: Vec<(Vec<String>, gix::ObjectId)> = archive
        .files
        .iter()
        .filter(|(p, _)| {
            !compare::GENERATED.contains(&p.as_str()) && p.as_str() != "Cargo.toml.orig"
        })
        .filter_map(|(p, f)| {
            let mut c: Vec<String> = pkg
                .split('/')
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect();
            c.extend(p.split('/').map(str::to_owned));
            f.blob_id(kind).map(|id| (c, id))
        })
        .collect();
    let blob_at = |tree: gix::ObjectId, path: &[String]| -> Result<Option<gix::ObjectId>, Error> {
        let mut cur = tree;
        for (i, c) in path.iter().enumerate() {
            let entries = repo.tree(cur)?;
            let Some(e) = entries.iter().find(|e| &e.name == c) else {
                return Ok(None);
            };
            if i + 1 == path.len() {
                return Ok(matches!(
                    e.kind,
                    crate::repo::NodeKind::Blob | crate::repo::NodeKind::Executable
                )
                .then_some(e.id));
            }
            if e.kind != crate::repo::NodeKind::Tree {
                return Ok(None);
            }
            cur = e.id;
        }
        Ok(None)
    };
    let mut manifest_path: Vec<String> = pkg
        .split('/')
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect();
    manifest_path.push("Cargo.toml".into());
    let tips: Vec<gix::ObjectId> = refs
        .iter()
        .filter(|(r, _)| {
            r.starts_with("refs/heads/")
                || r.starts_with("refs/tags/")
                || r.starts_with("refs/remotes/")
        })
        .map(|(_, id)| *id)
        .collect();
    if tips.is_empty() {
        return Ok(Vec::new());
    }
    let walk = repo
        .gix()
        .rev_walk(tips)
        .all()
        .map_err(|e| repo::Error::Object {
            id: "history".into(),
            message: e.to_string(),
        })?;
    let mut version_cache: std::collections::HashMap<gix::ObjectId, bool> =
        std::collections::HashMap::new();
    let mut version_commits: Vec<CommitInfo> = Vec::new();
    let mut scored: Vec<(usize, usize, CommitInfo)> = Vec::new();
    for (n, info) in walk.enumerate() {
        if n as u64 >= options.assisted_max_commits {
            break;
        }
        check(should_interrupt)?;
        let Ok(info) = info else { break };
        let CommitLookup::Found(commit) = repo.lookup_commit(&info.id.to_string())? else {
            continue;
        };
        repo.reset_walk_budget();
        let Some(manifest) = blob_at(commit.tree, &manifest_path)? else {
            continue;
        };
        let has_version = *version_cache.entry(manifest).or_insert_with(|| {
            repo.blob(manifest, options.limits.max_manifest_bytes)
                .ok()
                .and_then(|b| metadata::parse_manifest(&b, "Cargo.toml", &options.limits).ok())
                .is_some_and(|m| m.version.value().is_some_and(|v| v == version))
        });
        if has_version && version_commits.len() < 5 {
            version_commits.push(commit.clone());
        }
        let mut score = 0;
        for (path, id) in &published {
            if blob_at(commit.tree, path)? == Some(*id) {
                score += 1;
            }
        }
        scored.push((score, n, commit));
    }
    // Highest overlap first; among equals, the most recent in walk order.
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out: Vec<(&'static str, String, CommitInfo)> = version_commits
        .into_iter()
        .map(|c| ("version_commit", c.id.to_string(), c))
        .collect();
    for (_, _, c) in scored.into_iter().take(3) {
        if !out.iter().any(|(_, _, o)| o.id == c.id) {
            out.push(("closest_commit", c.id.to_string(), c));
        }
    }
    Ok(out)
}

/// Assisted matching for `no_vcs_info` / `revision_not_found`: version tags first, then commits
/// whose manifest has the version, then the closest commits of a bounded history walk. The first
/// candidate that matches wins; otherwise the one with the fewest differences.
#[allow(clippy::too_many_arguments)]
fn assisted(
    repo: &Repo,
    archive: &CrateArchive,
    name: &str,
    version: &str,
    path_hint: Option<&str>,
    era: Era,
    options: &Options,
    progress: &mut dyn Progress,
    should_interrupt: &AtomicBool,
) -> Result<Option<Assisted>, Error> {
    progress.stage(Stage::Assisted, None);
    let refs = repo.refs()?;
    let mut best: Option<Assisted> = None;
    let consider = |candidate: Assisted, best: &mut Option<Assisted>| -> bool {
        if candidate.verdict == Verdict::Match {
            *best = Some(candidate);
            return true;
        }
        let rank = |a: &Assisted| {
            (
                a.verdict != Verdict::Mismatch && a.verdict != Verdict::MatchButSymlinks,
                a.differences.len(),
            )
        };
        if best.as_ref().is_none_or(|b| rank(&candidate) < rank(b)) {
            *best = Some(candidate);
        }
        false
    };
    let mut pkg = path_hint.map(str::to_owned);
    for form in TAG_FORMS {
        let tag = format!(
            "refs/tags/{}",
            form.replace("{version}", version).replace("{name}", name)
        );
        let Some((_, id)) = refs.iter().find(|(r, _)| *r == tag) else {
            continue;
        };
        let CommitLookup::Found(commit) = repo.lookup_commit(&id.to_string())? else {
            continue;
        };
        let ev = evaluate(
            repo,
            &commit,
            archive,
            name,
            version,
            None,
            era,
            options,
            progress,
            should_interrupt,
        )?;
        if pkg.is_none() && ev.verdict != Verdict::PathNotFound {
            pkg.clone_from(&ev.path);
        }
        if consider(assisted_candidate("tag", tag, &commit, ev), &mut best) {
            return Ok(best);
        }
    }
    if options.assisted_max_commits == 0 {
        return Ok(best);
    }
    // Where is the package? The recorded path, the path at a tag, or discovery at a branch tip.
    if pkg.is_none() {
        for (_, id) in refs.iter().filter(|(r, _)| r.starts_with("refs/heads/")) {
            if let CommitLookup::Found(c) = repo.lookup_commit(&id.to_string())?
                && let Ok(loc) = rebuild::locate_package(
                    repo,
                    c.id,
                    c.tree,
                    Some(name),
                    version,
                    None,
                    None,
                    &options.limits,
                )
            {
                pkg = Some(loc.path);
                break;
            }
        }
    }
    let Some(pkg) = pkg else {
        return Ok(best);
    };
    for (how, reference, commit) in history_candidates(
        repo,
        archive,
        &refs,
        &pkg,
        version,
        options,
        should_interrupt,
    )? {
        if best
            .as_ref()
            .is_some_and(|b| commit.id == b.commit.as_str())
        {
            continue;
        }
        let ev = evaluate(
            repo,
            &commit,
            archive,
            name,
            version,
            Some(&pkg),
            era,
            options,
            progress,
            should_interrupt,
        )?;
        if consider(assisted_candidate(how, reference, &commit, ev), &mut best) {
            return Ok(best);
        }
    }
    Ok(best)
}

/// The core of [`verify_opts`] once the archive is parsed and the repository opened.
#[allow(clippy::too_many_arguments)]
fn verify_parsed(
    archive: &CrateArchive,
    sha256: String,
    repo_source: Option<&RepoSource>,
    opened: Option<Result<Repo, repo::Error>>,
    mut fetched: crate::fetch::Context,
    options: &Options,
    progress: &mut dyn Progress,
    should_interrupt: &AtomicBool,
) -> Result<Report, Error> {
    let limits = &options.limits;
    let (name, version, declared_repo) = archive::identity(archive, limits)?;
    let mut findings: Vec<Finding> = Vec::new();
    // Crate-intrinsic checks run first and appear in every report, whatever the verdict.
    let (vcs, vcs_findings) = crate::intrinsic::read_vcs_info(archive, limits);
    let cargo_era = crate::intrinsic::CargoEra::of(archive, vcs.as_ref());
    findings.extend(crate::intrinsic::check(
        archive,
        &name,
        &version,
        &cargo_era,
        vcs_findings,
    ));
    let era = Era {
        min: cargo_era.min.min(cargo_era.max),
        max: cargo_era.max,
    };
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        krate: CrateId {
            name: name.clone(),
            version: version.clone(),
            sha256,
        },
        source: Source {
            repository: repo_source
                .map(RepoSource::display)
                .or(declared_repo.clone()),
            commit: vcs.as_ref().map(|v| v.sha1.clone()),
            path_in_vcs: vcs.as_ref().and_then(|v| v.path_in_vcs.clone()),
            dirty: vcs.as_ref().is_some_and(|v| v.dirty),
            how: if vcs.as_ref().is_some_and(|v| v.path_in_vcs.is_none()) {
                SourceHow::DiscoveredPath
            } else {
                SourceHow::Recorded
            },
        },
        verdict: Verdict::Match,
        files: FileCounts {
            published: archive.files.len() as u64,
            compared: 0,
            equal: 0,
        },
        differences: Vec::new(),
        summary: String::new(),
        findings: Vec::new(),
        assisted: None,
        fetch: fetched.report(),
    };
    fetched.take_findings(&mut findings);
    let finish = |mut report: Report, mut findings: Vec<Finding>| {
        report.summary = crate::categorize::summary(&report.differences);
        // A finding that blocks `match` (a laundered normalized manifest, parser disagreements)
        // turns a match into a mismatch.
        if matches!(report.verdict, Verdict::Match | Verdict::MatchButSymlinks)
            && findings.iter().any(Finding::blocks_match)
        {
            report.verdict = Verdict::Mismatch;
        }
        if report.assisted.is_some() {
            // No usable vcs info: the assisted attempt used a version tag.
            report.source.how = SourceHow::Tag;
        }
        findings.sort();
        findings.dedup();
        // One `suspicious_codepoints` finding per path (the comparison and the intrinsic check
        // both look).
        let mut flagged = std::collections::BTreeSet::new();
        findings.retain(|f| f.kind != "suspicious_codepoints" || flagged.insert(f.path.clone()));
        report.findings = findings;
        report
    };

    let opened = match (opened, repo_source, &declared_repo) {
        (Some(opened), _, _) => opened,
        (None, Some(RepoSource::Url(url)), _) | (None, None, Some(url)) => {
            let opened = match fetched.repository(
                url,
                repo_source.is_none(),
                vcs.as_ref().map(|v| v.sha1.as_str()),
                vcs.as_ref().and_then(|v| v.path_in_vcs.as_deref()),
                TAG_FORMS,
                &name,
                &version,
                options,
                progress,
                should_interrupt,
            ) {
                Ok(opened) => opened,
                Err(e) if options.unreachable_is_not_found && e.kind() == ErrorKind::Network => {
                    report.verdict = Verdict::RepositoryNotFound;
                    findings.push(Finding::new(
                        "repository_unreachable",
                        Severity::High,
                        format!("the repository could not be reached (the verdict may change when it can): {e}"),
                    ));
                    return Ok(finish(report, findings));
                }
                Err(e) => return Err(e.into()),
            };
            report.fetch = fetched.report();
            fetched.take_findings(&mut findings);
            opened
        }
        (None, _, _) => {
            report.verdict = Verdict::NoRepository;
            return Ok(finish(report, findings));
        }
    };
    let repo = match opened {
        Ok(r) => r,
        Err(e) => {
            report.verdict = Verdict::RepositoryNotFound;
            findings.push(Finding::new(
                "repository_not_found",
                Severity::High,
                e.to_string(),
            ));
            return Ok(finish(report, findings));
        }
    };
    check(should_interrupt)?;
    findings.extend(tag_time_findings(
        &repo,
        &name,
        &version,
        fetched.pubtime.as_deref(),
    ));

    let Some(vcs) = vcs else {
        report.verdict = Verdict::NoVcsInfo;
        if options.assisted {
            report.assisted = assisted(
                &repo,
                archive,
                &name,
                &version,
                None,
                era,
                options,
                progress,
                should_interrupt,
            )?;
        }
        return Ok(finish(report, findings));
    };
    let commit = match repo.lookup_commit(&vcs.sha1)? {
        CommitLookup::Found(c) => c,
        CommitLookup::Missing => {
            report.verdict = Verdict::RevisionNotFound;
            if options.assisted {
                report.assisted = assisted(
                    &repo,
                    archive,
                    &name,
                    &version,
                    vcs.path_in_vcs.as_deref(),
                    era,
                    options,
                    progress,
                    should_interrupt,
                )?;
            }
            return Ok(finish(report, findings));
        }
        CommitLookup::NotACommit { kind } => {
            report.verdict = Verdict::RevisionNotFound;
            findings.push(Finding::new(
                "object_type_mismatch",
                Severity::High,
                format!("`{}` names a {kind}, not a commit", vcs.sha1),
            ));
            if options.assisted {
                report.assisted = assisted(
                    &repo,
                    archive,
                    &name,
                    &version,
                    vcs.path_in_vcs.as_deref(),
                    era,
                    options,
                    progress,
                    should_interrupt,
                )?;
            }
            return Ok(finish(report, findings));
        }
    };
    let ev = evaluate(
        &repo,
        &commit,
        archive,
        &name,
        &version,
        vcs.path_in_vcs.as_deref(),
        era,
        options,
        progress,
        should_interrupt,
    )?;
    report.verdict = ev.verdict;
    // The generated files, checked again with `[workspace.dependencies]` at the commit.
    if let Some(p) = &ev.path
        && let Ok(loc) = rebuild::locate_package(
            &repo,
            commit.id,
            commit.tree,
            Some(&name),
            &version,
            Some(p),
            None,
            limits,
        )
        && let Some(ws) = rebuild::workspace_dependencies(&repo, commit.tree, &loc, limits)
            .ok()
            .flatten()
    {
        findings.retain(|f| !crate::intrinsic::GENERATED_FILE_KINDS.contains(&f.kind.as_str()));
        findings.extend(crate::intrinsic::generated_file_findings(
            archive,
            &name,
            &version,
            Some(&ws),
        ));
    }
    if let (Some(recorded), Some(used)) = (&vcs.path_in_vcs, &ev.path)
        && recorded != used
    {
        findings.push(Finding::new(
            "manifest_symlink",
            Severity::Info,
            format!("`{used}/Cargo.toml` is a symlink into `{recorded}`; cargo records the manifest's canonical directory, the package root is `{used}`"),
        ));
    }
    report.source.path_in_vcs = vcs.path_in_vcs.clone().or(ev.path);
    findings.extend(cross_checks(&repo, &name, &version, &vcs, &ev.differences));
    report.files = ev.files;
    report.differences = ev.differences;
    findings.extend(ev.findings);
    Ok(finish(report, findings))
}

/// Independent cross-checks of the recorded commit: do version tags point at it, and which
/// files explain a `dirty` flag?
fn cross_checks(
    repo: &Repo,
    name: &str,
    version: &str,
    vcs: &VcsInfo,
    differences: &[Difference],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for form in TAG_FORMS {
        let tag = format!(
            "refs/tags/{}",
            form.replace("{version}", version).replace("{name}", name)
        );
        if let Some(id) = repo.peel_ref(&tag) {
            let short = tag.trim_start_matches("refs/tags/");
            out.push(if id == vcs.sha1.as_str() {
                Finding::new(
                    "tag_confirms_commit",
                    Severity::Info,
                    format!("the version tag `{short}` points at the recorded commit"),
                )
            } else {
                Finding::new(
                    "tag_commit_differs",
                    Severity::Low,
                    format!("the version tag `{short}` points at `{id}`, not at the recorded commit `{}`", vcs.sha1),
                )
            });
        }
    }
    if vcs.dirty {
        let message = if differences.is_empty() {
            "the publisher declared a dirty work tree, but no packaged file differs from the commit"
                .to_owned()
        } else {
            format!(
                "the publisher declared a dirty work tree; the files that explain it: {}",
                differences
                    .iter()
                    .map(|d| format!("`{}`", d.path))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push(Finding::new("dirty_files", Severity::Info, message));
    }
    out
}

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
            message: format!(
                "`{}` is not a full commit id",
                archive::escape(commit.as_bytes())
            ),
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

/// Version tags made well after the version was published (the index's `pubtime`) were not
/// what the publisher packaged.
fn tag_time_findings(
    repo: &Repo,
    name: &str,
    version: &str,
    pubtime: Option<&str>,
) -> Vec<Finding> {
    let Some(published) = pubtime.and_then(parse_rfc3339) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for form in TAG_FORMS {
        let tag = format!(
            "refs/tags/{}",
            form.replace("{version}", version).replace("{name}", name)
        );
        if let Some(tagged) = repo.ref_time(&tag)
            && tagged > published + 3600
        {
            out.push(Finding::new(
                "tag_after_publish",
                Severity::Low,
                format!(
                    "the version tag `{}` was made {} h after the version was published ({})",
                    tag.trim_start_matches("refs/tags/"),
                    (tagged - published) / 3600,
                    pubtime.unwrap_or_default()
                ),
            ));
        }
    }
    out
}

/// Seconds since the epoch of an RFC 3339 UTC time (`2019-09-17T16:50:29Z`, fractional seconds
/// and offsets accepted).
#[allow(clippy::many_single_char_names)]
fn parse_rfc3339(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    let rest = &t[19..];
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if let Some(off) = rest.strip_prefix('+').or_else(|| rest.strip_prefix('-')) {
        let sign = if rest.starts_with('+') { 1 } else { -1 };
        let oh: i64 = off.get(0..2)?.parse().ok()?;
        let om: i64 = off.get(3..5)?.parse().ok()?;
        secs -= sign * (oh * 3600 + om * 60);
    }
    Some(secs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339() {
        assert_eq!(super::parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            super::parse_rfc3339("2019-09-17T16:50:29Z"),
            Some(1_568_739_029)
        );
        assert_eq!(
            super::parse_rfc3339("2019-09-17T18:50:29+02:00"),
            Some(1_568_739_029)
        );
        assert_eq!(super::parse_rfc3339("nope"), None);
    }
}
