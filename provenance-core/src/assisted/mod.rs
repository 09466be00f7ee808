//! Assisted matching, for crates without a usable recorded commit (`no_vcs_info`,
//! `revision_not_found`): the candidates are the version tags that describe this package, every
//! commit of the history whose manifest at the package path has this crate's name and version,
//! and the commits whose package tree holds the most published files ([`scan`]). Candidates
//! are [evaluated](crate::evaluate) like the recorded commit would be (older cargo rules
//! included), best pre-score first, within a budget of compared files, and ranked (see
//! [`rank`]). The search never fails a verification: when a budget runs out or the repository
//! cannot be read further, it stops and reports what it tried.

mod rank;
mod scan;

use crate::classify::categorize;
use crate::classify::checks::version_tags;
use crate::evaluate::{Detail, Evaluation, Published, evaluate_with};
use crate::progress::Stage;
use crate::rebuild;
use crate::repo::{CommitInfo, CommitLookup, Repo};
use crate::report::{
    Assisted, Category, DifferenceKind, Finding, Severity, SubmoduleInfo, Verdict,
};
use crate::request::{Error, Run};

use rank::Rank;

/// Tree entries the history scan may examine (over the whole walk). With memoized subtrees a
/// commit costs only the trees it changed, so this allows thousands of commits of a large
/// repository; a git bomb or a huge flat history stops here.
const SCAN_ENTRY_BUDGET: u64 = 4_000_000;
/// Published files the evaluations may compare in total (each candidate costs its file count
/// once per cargo rule set tried), and at least this many candidates are evaluated whatever
/// their size.
const COMPARE_BUDGET: u64 = 15_000;
const MIN_EVALUATIONS: u64 = 2;
/// The best-scoring commits of the walk kept as `closest_commit` candidates.
const CLOSEST: usize = 3;

/// One candidate to evaluate.
struct Candidate {
    how: &'static str,
    reference: String,
    commit: CommitInfo,
    /// Where the package is (`None`: discover by name).
    path: Option<String>,
    /// Published files found at the commit by blob id, line-ending aware (`None`: not scored).
    score: Option<u32>,
}

/// The search state: the best candidate so far and what was tried.
struct Search {
    best: Option<(Rank, Option<u32>, Candidate, Assisted)>,
    tried: u64,
    spent: u64,
    /// Why the search stopped early (budget, unreadable objects).
    notes: Vec<String>,
    /// Version tags that describe another package or version.
    skipped: Vec<String>,
}

impl Search {
    /// Evaluate one candidate (ids and categories only); `Ok(true)` when nothing can beat it.
    fn evaluate(
        &mut self,
        run: &mut Run<'_>,
        krate: &Published<'_>,
        repo: &Repo,
        c: Candidate,
    ) -> Result<bool, Error> {
        let ev = evaluate_with(run, krate, repo, &c.commit, c.path.as_deref(), Detail::Rank)?;
        self.tried += 1;
        self.spent += krate.archive.files.len() as u64 * u64::from(ev.rule_sets.max(1));
        let rank = Rank::of(&ev, self.tried);
        let best = rank.is_best();
        if self.best.as_ref().is_none_or(|(r, ..)| rank < *r) {
            let score = c.score;
            let assisted = assisted_of(&c, ev);
            self.best = Some((rank, score, c, assisted));
        }
        Ok(best)
    }

    fn over_budget(&self) -> bool {
        self.tried >= MIN_EVALUATIONS && self.spent >= COMPARE_BUDGET
    }

    /// Whether a scored candidate is worth evaluating: its blob-id score is not below the
    /// current best's (fewer published files found there means more differences).
    fn promising(&self, score: u32) -> bool {
        self.best
            .as_ref()
            .and_then(|(_, s, ..)| *s)
            .is_none_or(|best| score >= best)
    }
}

fn assisted_of(c: &Candidate, ev: Evaluation) -> Assisted {
    Assisted {
        how: c.how.into(),
        reference: c.reference.clone(),
        commit: c.commit.id.to_string(),
        verdict: ev.verdict,
        path_in_vcs: ev.path.unwrap_or_default(),
        files: ev.files,
        summary: categorize::summary(&ev.differences),
        differences: ev.differences,
        findings: ev
            .findings
            .into_iter()
            .filter(|f| f.kind == "older_cargo_rule")
            .collect(),
        reason: String::new(),
        tried: 0,
        commits_walked: 0,
        complete: true,
        era: String::new(),
    }
}

/// Where the submodules of the winning candidate can be fetched from: the repository was
/// fetched from (or through a mirror to) `declared`, so its submodule URLs resolve against it
/// and the mirrors apply to them, as for a recorded commit.
#[derive(Debug, Clone)]
pub(crate) struct SubmoduleSource {
    /// The superproject's declared URL (`--repo URL` or the crate's `package.repository`).
    pub(crate) declared: String,
}

/// What the assisted search found: the best candidate (`None`: none was evaluated), findings
/// for the report when there is none, and the submodules fetched for the winner.
pub(crate) type Found = (Option<Assisted>, Vec<Finding>, Vec<SubmoduleInfo>);

/// Assisted matching for `no_vcs_info` / `revision_not_found` (see the module docs): the best
/// candidate, or `None` and findings that say why the search found none when it stopped early.
/// Only [`Error::Interrupted`] ends it with an error; anything else stops the search with a note.
/// When the winner differs inside submodules and `submodules` says where the repository came
/// from, the winner's submodule commits are fetched (through the mirrors) and it is evaluated
/// again with them.
pub(crate) fn assisted(
    run: &mut Run<'_>,
    krate: &Published<'_>,
    repo: &Repo,
    path_hint: Option<&str>,
    submodules: Option<&SubmoduleSource>,
) -> Result<Found, Error> {
    run.progress.stage(Stage::Assisted, None);
    let mut search = Search {
        best: None,
        tried: 0,
        spent: 0,
        notes: Vec::new(),
        skipped: Vec::new(),
    };
    let mut walked = 0;
    match search_all(run, krate, repo, path_hint, &mut search, &mut walked) {
        Ok(()) => {}
        Err(Error::Interrupted) => return Err(Error::Interrupted),
        Err(e) => search.notes.push(format!("the search stopped early: {e}")),
    }
    let Some((rank, _, winner, quick)) = search.best else {
        // Nothing to report as `assisted`: why the search stopped goes into the report's
        // findings.
        let findings = search
            .skipped
            .into_iter()
            .map(|n| Finding::new("assisted_tag_skipped", Severity::Info, n))
            .chain(
                search
                    .notes
                    .into_iter()
                    .map(|n| Finding::new("assisted_incomplete", Severity::Info, n)),
            )
            .collect();
        return Ok((None, findings, Vec::new()));
    };
    // The winner again, with diffs and digests for the report.
    // A finding of the evaluation that refuses `match` (unknown when it could not be re-read).
    let mut blocked = true;
    let mut best = match evaluate_with(
        run,
        krate,
        repo,
        &winner.commit,
        winner.path.as_deref(),
        Detail::Full,
    ) {
        Ok(ev) => {
            blocked = ev.findings.iter().any(Finding::blocks_match);
            assisted_of(&winner, ev)
        }
        Err(Error::Interrupted) => return Err(Error::Interrupted),
        Err(e) => {
            search
                .notes
                .push(format!("the winning candidate could not be re-read: {e}"));
            quick
        }
    };
    let mut rank = rank;
    let mut fetched = Vec::new();
    if let Some(src) = submodules
        && best
            .differences
            .iter()
            .any(|d| d.kind == DifferenceKind::InSubmodule)
    {
        match with_submodules(run, krate, repo, src, &winner)? {
            Ok(Some((ev, findings, infos))) => {
                rank = Rank::of(&ev, rank.order());
                blocked = ev.findings.iter().any(Finding::blocks_match);
                best = assisted_of(&winner, ev);
                best.findings.extend(findings);
                fetched = infos;
            }
            Ok(None) => {}
            Err(note) => search.notes.push(note),
        }
    }
    best.reason = rank.reason(&best);
    let crlf = scan::crlf_published(krate.archive);
    if !blocked {
        after_line_endings(&mut best, crlf.is_some());
    }
    best.tried = search.tried;
    best.commits_walked = walked;
    best.complete = search.notes.is_empty();
    best.era = krate.era_statement();
    if let Some(n) = crlf {
        best.findings.push(Finding::new(
            "crlf_published",
            Severity::Info,
            format!(
                "all {n} text files of the crate have CRLF line endings: it was packaged from a checkout that converts line endings (Windows `core.autocrlf`); differences in line endings alone are ignored when ranking candidates"
            ),
        ));
    }
    for note in search.skipped {
        best.findings
            .push(Finding::new("assisted_tag_skipped", Severity::Info, note));
    }
    for note in search.notes {
        best.findings
            .push(Finding::new("assisted_incomplete", Severity::Info, note));
    }
    best.findings.sort();
    Ok((Some(best), Vec::new(), fetched))
}

/// The winner evaluated again in a repository that holds its submodule commits (fetched
/// through the mirrors into a cache repository that borrows `repo`'s objects). `Ok(Ok(None))`:
/// nothing to add; `Ok(Err(note))`: the fetch or the evaluation failed (the first evaluation
/// stands).
#[allow(clippy::type_complexity)]
fn with_submodules(
    run: &mut Run<'_>,
    krate: &Published<'_>,
    repo: &Repo,
    src: &SubmoduleSource,
    winner: &Candidate,
) -> Result<Result<Option<(Evaluation, Vec<Finding>, Vec<SubmoduleInfo>)>, String>, Error> {
    let options = crate::fetch::Options::from_verify(run.options);
    let fetched = match crate::fetch::submodules_at(
        &src.declared,
        repo.path(),
        winner.commit.id,
        winner.path.as_deref().unwrap_or_default(),
        &options,
        run.should_interrupt,
    ) {
        Ok(f) => f,
        Err(crate::fetch::Error::Interrupted) => return Err(Error::Interrupted),
        Err(e) => {
            return Ok(Err(format!(
                "the winning candidate's submodules could not be fetched: {e}"
            )));
        }
    };
    if fetched.path == repo.path() {
        return Ok(Ok(None));
    }
    let with = match Repo::open(&fetched.path, &run.options.limits) {
        Ok(r) => r,
        Err(e) => return Ok(Err(format!("the repository with submodules: {e}"))),
    };
    match evaluate_with(
        run,
        krate,
        &with,
        &winner.commit,
        winner.path.as_deref(),
        Detail::Full,
    ) {
        Ok(ev) => Ok(Ok(Some((ev, fetched.findings, fetched.info.submodules)))),
        Err(Error::Interrupted) => Err(Error::Interrupted),
        Err(e) => Ok(Err(format!(
            "the winning candidate could not be read with its submodules: {e}"
        ))),
    }
}

/// An assisted `mismatch` whose every difference is in line endings only (category
/// `line_endings`: equal once CRLF is read as LF) becomes `match`, with `reason` "match after
/// line endings"; the differences stay listed. (Not when a finding of the evaluation refuses
/// `match`, as it would without the differences.) Only the assisted result does this: a crate
/// without a recorded commit was most often packaged from a checkout that converted line
/// endings (Windows `core.autocrlf`), and no commit can hold its bytes. The primary verdict
/// keeps cargo's byte-for-byte rule.
fn after_line_endings(best: &mut Assisted, crlf_published: bool) {
    if best.verdict != Verdict::Mismatch
        || best.differences.is_empty()
        || best
            .differences
            .iter()
            .any(|d| d.category != Some(Category::LineEndings))
    {
        return;
    }
    best.verdict = Verdict::Match;
    best.reason = format!(
        "match after line endings: {} published files equal the commit's once CRLF is read as LF{}",
        best.differences.len(),
        if crlf_published {
            " (the crate was packaged from a CRLF checkout: `crlf_published`)"
        } else {
            ""
        }
    );
}

/// The version tags that describe this package (its name at the path, its version), each
/// evaluated; `Ok(true)` when one cannot be beaten. Sets `pkg` to the first one's package path
/// when it was unknown.
fn try_tags(
    run: &mut Run<'_>,
    krate: &Published<'_>,
    repo: &Repo,
    refs: &[(String, gix::ObjectId)],
    pkg: &mut Option<String>,
    search: &mut Search,
) -> Result<bool, Error> {
    let (name, version) = (krate.name, krate.version);
    for tag in version_tags(name, version) {
        let Some((_, id)) = refs.iter().find(|(r, _)| *r == tag) else {
            continue;
        };
        let CommitLookup::Found(commit) = repo.lookup_commit(&id.to_string())? else {
            continue;
        };
        // The tag must describe this package: this name (found by name), this version.
        let Ok(loc) = rebuild::locate_package(
            repo,
            commit.id,
            commit.tree,
            Some(name),
            version,
            pkg.as_deref(),
            None,
            &run.options.limits,
        ) else {
            continue;
        };
        if let Some(v) = loc.manifest.version.value()
            && v != version
        {
            search.skipped.push(format!(
                "`{tag}` was not tried: the package `{name}` at `{}` has version {v} there",
                if loc.path.is_empty() {
                    "."
                } else {
                    loc.path.as_str()
                }
            ));
            continue;
        }
        if pkg.is_none() {
            *pkg = Some(loc.path.clone());
        }
        let c = Candidate {
            how: "tag",
            reference: tag,
            commit,
            path: Some(loc.path),
            score: None,
        };
        if search.evaluate(run, krate, repo, c)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Tags, then the history scan's candidates, evaluated until one cannot be beaten or a budget
/// runs out.
fn search_all(
    run: &mut Run<'_>,
    krate: &Published<'_>,
    repo: &Repo,
    path_hint: Option<&str>,
    search: &mut Search,
    walked: &mut u64,
) -> Result<(), Error> {
    let (name, version) = (krate.name, krate.version);
    let refs = repo.refs()?;
    let mut pkg = path_hint.map(str::to_owned);
    if try_tags(run, krate, repo, &refs, &mut pkg, search)? {
        return Ok(());
    }
    if run.options.assisted_max_commits == 0 {
        return Ok(());
    }
    let pkg = match pkg {
        Some(p) => p,
        None => match locate_at_branches(run, krate, repo, &refs)? {
            Some(p) => p,
            None => return Ok(()),
        },
    };
    let target = scan::Target::new(krate.archive, repo.gix().object_hash());
    let tips: Vec<gix::ObjectId> = refs
        .iter()
        .filter(|(r, _)| {
            r.starts_with("refs/heads/")
                || r.starts_with("refs/tags/")
                || r.starts_with("refs/remotes/")
        })
        .map(|(_, id)| *id)
        .collect();
    let budget = scan::Budget {
        commits: run.options.assisted_max_commits,
        entries: SCAN_ENTRY_BUDGET,
    };
    let limits = run.options.limits.clone();
    let scanner = scan::Scanner::new(repo, &target, (name, version), &pkg, &limits, budget);
    let result = scanner.scan(tips, CLOSEST, || run.check())?;
    *walked = result.walked;
    if result.truncated {
        search.notes.push(format!(
            "the history walk stopped at its budget after {} commits ({} tree entries)",
            result.walked, result.entries
        ));
    }
    // Every version commit, best pre-score first (then the oldest: the commit that changed the
    // version to this one comes before later edits with the same score); then the closest.
    // Commits whose package tree was already evaluated are skipped (same files, same result).
    let mut version_commits = result.version_commits;
    version_commits.sort_by(|a, b| b.score.cmp(&a.score).then(b.order.cmp(&a.order)));
    let candidates = version_commits
        .into_iter()
        .map(|s| ("version_commit", s))
        .chain(result.closest.into_iter().map(|s| ("closest_commit", s)));
    let mut seen = std::collections::HashSet::new();
    if let Some((.., b)) = &search.best {
        seen.insert(b.commit.clone());
    }
    for (how, s) in candidates {
        if !seen.insert(s.package.to_string()) || !seen.insert(s.commit.id.to_string()) {
            continue;
        }
        if !search.promising(s.score) {
            continue;
        }
        if search.over_budget() {
            search.notes.push(format!(
                "candidates left unevaluated: the budget of {COMPARE_BUDGET} compared files was spent on {} candidates",
                search.tried
            ));
            break;
        }
        let c = Candidate {
            how,
            reference: s.commit.id.to_string(),
            commit: s.commit,
            path: Some(pkg.clone()),
            score: Some(s.score),
        };
        if search.evaluate(run, krate, repo, c)? {
            break;
        }
    }
    Ok(())
}

/// The package path discovered by name at a branch tip.
fn locate_at_branches(
    run: &Run<'_>,
    krate: &Published<'_>,
    repo: &Repo,
    refs: &[(String, gix::ObjectId)],
) -> Result<Option<String>, Error> {
    for (_, id) in refs.iter().filter(|(r, _)| r.starts_with("refs/heads/")) {
        if let CommitLookup::Found(c) = repo.lookup_commit(&id.to_string())?
            && let Ok(loc) = rebuild::locate_package(
                repo,
                c.id,
                c.tree,
                Some(krate.name),
                krate.version,
                None,
                None,
                &run.options.limits,
            )
        {
            return Ok(Some(loc.path));
        }
    }
    Ok(None)
}
