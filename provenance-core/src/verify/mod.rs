//! The orchestrator: [`verify_opts`] runs the stages in order, each once, and never returns to an
//! earlier one:
//!
//! 1. **fetch + archive** — read (or download) and parse the `.crate` ([`read`]);
//! 2. **classify, crate-intrinsic** — the findings that hold whatever the repository says
//!    ([`intrinsic::check`]), the cargo era;
//! 3. **fetch** — the repository: opened in place, or fetched at the recorded commit
//!    ([`fetching`]); no repository, or none that can be reached, is a verdict;
//! 4. **rebuild → compare → classify** at the recorded commit ([`evaluate`]), or the
//!    [`assisted`] search when there is none;
//! 5. **classify, cross-checks** against the repository ([`checks`]), then the verdict's last
//!    word ([`classify::finish`]).
//!
//! `inspect` ([`inspect`](mod@inspect)) runs steps 1–2 only; `list_files` ([`list_files`]) the
//! rebuild stage only.

mod fetching;
mod inspect;
mod list_files;
mod read;

use std::sync::atomic::AtomicBool;

pub use inspect::{inspect, inspect_archive, inspect_opts};
pub use list_files::{ListedFile, list_files};

use crate::archive;
use crate::assisted::{SubmoduleSource, assisted};
use crate::classify::era::Era;
use crate::classify::{self, CargoEra, checks, intrinsic};
use crate::error::ErrorKind;
use crate::evaluate::{Evaluation, Published, evaluate};
use crate::fetch::Want;
use crate::metadata::VcsInfo;
use crate::progress::{Discard, Progress, Stage, timing};
use crate::repo::{self, CommitInfo, CommitLookup, Repo};
use crate::report::{
    CrateId, FileCounts, Finding, Report, SCHEMA_VERSION, Severity, Source, SourceHow, Verdict,
};
use crate::request::{Error, RepoSource, Request, Run};

/// Verify with default progress (none) and no interruption.
pub fn verify(request: &Request) -> Result<Report, Error> {
    verify_opts(request, &mut Discard, &AtomicBool::new(false))
}

/// Verify a crate against its repository.
pub fn verify_opts(
    request: &Request,
    progress: &mut dyn Progress,
    should_interrupt: &AtomicBool,
) -> Result<Report, Error> {
    let options = &request.options;
    let mut run = Run {
        options,
        progress,
        should_interrupt,
    };
    let mut fetched = fetching::Context::default();
    // 1. fetch + archive: the crate. A local repository is opened right away; a URL is fetched
    //    in step 3, once the recorded commit is known.
    let (archive, sha256) = read::read_crate(&request.krate, &mut run, &mut fetched)?;
    let repo_source = request.repo.as_ref();
    let opened = match repo_source {
        Some(RepoSource::Path(p)) => {
            run.progress.stage(Stage::OpenRepository, None);
            let _span = timing::span("open_repository");
            Some(Repo::open(p, &options.limits))
        }
        Some(RepoSource::Url(_)) | None => None,
    };

    // 2. classify, crate-intrinsic: what holds whatever the repository says.
    let (name, version, declared_repo) = archive::identity(&archive, &options.limits)?;
    let (vcs, vcs_findings) = intrinsic::read_vcs_info(&archive, &options.limits);
    let cargo_era = CargoEra::of(&archive, vcs.as_ref());
    let findings = intrinsic::check(&archive, &name, &version, &cargo_era, vcs_findings);
    let krate = Published {
        archive: &archive,
        name: &name,
        version: &version,
        era: Era::of(&cargo_era),
        era_evidence: &cargo_era.evidence,
    };
    let report = new_report(
        &krate,
        sha256,
        repo_source,
        declared_repo.as_ref(),
        vcs.as_ref(),
    );
    let mut draft = Draft { report, findings };
    draft.report.fetch = fetched.report();
    fetched.take_findings(&mut draft.findings);

    // 3. fetch: the repository.
    let from = RepoFrom {
        opened,
        repo_source,
        declared_repo: declared_repo.as_deref(),
        vcs: vcs.as_ref(),
    };
    let Some(repo) = repository(&mut run, &krate, from, &mut fetched, &mut draft)? else {
        return Ok(draft.finish());
    };
    run.check()?;
    let pubtime = fetched.pubtime.as_deref();
    let refs_span = timing::span("refs");
    let tag_times = checks::tag_time_findings(&repo, &name, &version, pubtime);
    drop(refs_span);
    draft.findings.extend(tag_times);

    // 4. rebuild → compare → classify at the recorded commit (or the assisted search),
    // 5. classify: cross-checks against the repository.
    let subs = fetched
        .submodule_source
        .take()
        .map(|declared| SubmoduleSource { declared });
    let at = At {
        repo: &repo,
        submodules: subs.as_ref(),
    };
    match vcs {
        Some(vcs) => at_commit(&mut run, &krate, &at, &vcs, draft),
        None => without_commit(&mut run, &krate, &at, None, Verdict::NoVcsInfo, draft),
    }
}

/// The report as the stages fill it in, and the findings gathered so far.
struct Draft {
    report: Report,
    findings: Vec<Finding>,
}

impl Draft {
    /// The verdict's last word ([`classify::finish`]).
    fn finish(self) -> Report {
        classify::finish(self.report, self.findings)
    }
}

/// The report before the repository is looked at: the crate, where it says it comes from, and
/// the verdict `match` until a stage says otherwise.
fn new_report(
    krate: &Published<'_>,
    sha256: String,
    repo_source: Option<&RepoSource>,
    declared_repo: Option<&String>,
    vcs: Option<&VcsInfo>,
) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        krate: CrateId {
            name: krate.name.to_owned(),
            version: krate.version.to_owned(),
            sha256,
        },
        source: Source {
            repository: repo_source
                .map(RepoSource::display)
                .or(declared_repo.cloned()),
            commit: vcs.map(|v| v.sha1.clone()),
            path_in_vcs: vcs.and_then(|v| v.path_in_vcs.clone()),
            dirty: vcs.is_some_and(|v| v.dirty),
            how: if vcs.is_some_and(|v| v.path_in_vcs.is_none()) {
                SourceHow::DiscoveredPath
            } else {
                SourceHow::Recorded
            },
            fetched_from: None,
        },
        verdict: Verdict::Match,
        files: FileCounts {
            published: krate.archive.files.len() as u64,
            compared: 0,
            equal: 0,
        },
        differences: Vec::new(),
        summary: String::new(),
        findings: Vec::new(),
        assisted: None,
        fetch: None,
    }
}

/// Where the repository comes from: opened already (a local path), a URL (given, or the crate's
/// `package.repository`), or nowhere.
struct RepoFrom<'a> {
    opened: Option<Result<Repo, repo::Error>>,
    repo_source: Option<&'a RepoSource>,
    declared_repo: Option<&'a str>,
    vcs: Option<&'a VcsInfo>,
}

/// Step 3: the repository, or `None` with the verdict set (`no_repository`,
/// `repository_not_found`).
fn repository(
    run: &mut Run<'_>,
    krate: &Published<'_>,
    source: RepoFrom<'_>,
    fetched: &mut fetching::Context,
    draft: &mut Draft,
) -> Result<Option<Repo>, Error> {
    let Draft { report, findings } = draft;
    let url = match (source.repo_source, source.declared_repo) {
        (Some(RepoSource::Url(url)), _) => Some(url.as_str()),
        (None, Some(url)) => Some(url),
        _ => None,
    };
    let opened = match (source.opened, url) {
        (Some(opened), _) => opened,
        (None, Some(url)) => {
            let want = Want {
                commit: source.vcs.map(|v| v.sha1.clone()),
                tags: checks::version_tags(krate.name, krate.version),
                path_in_vcs: source.vcs.and_then(|v| v.path_in_vcs.clone()),
            };
            let from_crate = source.repo_source.is_none();
            let opened = match fetched.repository(url, from_crate, &want, run) {
                Ok(opened) => opened,
                Err(e) if unreachable_is_a_verdict(from_crate, url, &e, run) => {
                    report.verdict = Verdict::RepositoryNotFound;
                    findings.push(Finding::new(
                        "repository_unreachable",
                        Severity::High,
                        format!("the repository could not be reached (the verdict may change when it can): {e}"),
                    ));
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            };
            report.fetch = fetched.report();
            report.source.fetched_from.clone_from(&fetched.fetched_from);
            fetched.take_findings(findings);
            opened
        }
        (None, None) => {
            report.verdict = Verdict::NoRepository;
            return Ok(None);
        }
    };
    match opened {
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            report.verdict = Verdict::RepositoryNotFound;
            findings.push(Finding::new(
                "repository_not_found",
                Severity::High,
                e.to_string(),
            ));
            Ok(None)
        }
    }
}

/// When a repository cannot be reached (DNS failure, refused connection, timeout: a `network`
/// error of the fetch), the answer is decided here, once, for every front-end (CLI `verify`
/// and `scan`, Python, Dask, C): the crate's own `package.repository`, fetched where it says,
/// is a verdict (`repository_not_found` with a `repository_unreachable` finding): the crate
/// points at a repository nobody can fetch. A repository the user named (`--repo`, or a mirror
/// that replaced the declared URL) is a `network` error: the user's own set-up failed, and a
/// retry may succeed. ([`Options::unreachable_is_not_found`](crate::request::Options) no
/// longer changes this.)
fn unreachable_is_a_verdict(
    from_crate: bool,
    url: &str,
    e: &crate::fetch::Error,
    run: &Run<'_>,
) -> bool {
    from_crate
        && e.kind() == ErrorKind::Network
        && crate::fetch::mirror_rewrite(url, &run.options.mirrors).is_none()
}

/// The repository of steps 4 and 5, and where the assisted winner's submodules can come from.
struct At<'a> {
    repo: &'a Repo,
    submodules: Option<&'a SubmoduleSource>,
}

/// Steps 4 and 5 at the recorded commit: evaluated, then cross-checked; a commit that is not
/// in the repository is `revision_not_found`.
fn at_commit(
    run: &mut Run<'_>,
    krate: &Published<'_>,
    at: &At<'_>,
    vcs: &VcsInfo,
    mut draft: Draft,
) -> Result<Report, Error> {
    let repo = at.repo;
    let path = vcs.path_in_vcs.as_deref();
    let lookup = {
        let _span = timing::span("lookup_commit");
        repo.lookup_commit(&vcs.sha1)?
    };
    let commit = match lookup {
        CommitLookup::Found(c) => c,
        CommitLookup::Missing => {
            return without_commit(run, krate, at, path, Verdict::RevisionNotFound, draft);
        }
        CommitLookup::NotACommit { kind } => {
            draft.findings.push(Finding::new(
                "object_type_mismatch",
                Severity::High,
                format!("`{}` names a {kind}, not a commit", vcs.sha1),
            ));
            return without_commit(run, krate, at, path, Verdict::RevisionNotFound, draft);
        }
    };
    let ev = evaluate(run, krate, repo, &commit, path)?;
    cross_checks(run, krate, repo, &commit, vcs, ev, &mut draft);
    Ok(draft.finish())
}

/// No usable recorded commit (`no_vcs_info`, `revision_not_found`): the verdict, and the
/// assisted search when it is enabled.
fn without_commit(
    run: &mut Run<'_>,
    krate: &Published<'_>,
    at: &At<'_>,
    path_hint: Option<&str>,
    verdict: Verdict,
    mut draft: Draft,
) -> Result<Report, Error> {
    draft.report.verdict = verdict;
    if run.options.assisted {
        let (found, findings, submodules) =
            assisted(run, krate, at.repo, path_hint, at.submodules)?;
        draft.report.assisted = found;
        draft.findings.extend(findings);
        // The winner's submodules, fetched for it, are part of what was fetched.
        if !submodules.is_empty()
            && let Some(fetch) = draft.report.fetch.as_mut()
            && let Some(r) = fetch.repository.as_mut()
        {
            r.submodules.extend(submodules);
        }
    }
    Ok(draft.finish())
}

/// Step 5: the evaluation into the report, with the cross-checks that need the repository.
fn cross_checks(
    run: &Run<'_>,
    krate: &Published<'_>,
    repo: &Repo,
    commit: &CommitInfo,
    vcs: &VcsInfo,
    ev: Evaluation,
    draft: &mut Draft,
) {
    let _span = timing::span("cross_checks");
    let (name, version) = (krate.name, krate.version);
    let Draft { report, findings } = draft;
    report.verdict = ev.verdict;
    checks::generated_files_at_commit(
        repo,
        commit,
        krate.archive,
        name,
        version,
        ev.path.as_deref(),
        &run.options.limits,
        findings,
    );
    findings.extend(checks::manifest_symlink(
        vcs.path_in_vcs.as_deref(),
        ev.path.as_deref(),
    ));
    report.source.path_in_vcs = vcs.path_in_vcs.clone().or(ev.path);
    findings.extend(checks::cross_checks(
        repo,
        name,
        version,
        vcs,
        &ev.differences,
    ));
    report.files = ev.files;
    report.differences = ev.differences;
    findings.extend(ev.findings);
}
