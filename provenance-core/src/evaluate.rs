//! One commit, from tree to verdict: locate the package, rebuild cargo's selection under today's
//! rules and under the older rules the crate's era allows, compare each selection with the
//! archive, categorize the differences, let the era rules explain what they can, classify.
//!
//! [`verify`](crate::verify) evaluates the recorded commit; [`assisted`](crate::assisted)
//! evaluates candidate commits when there is none.

use crate::archive::CrateArchive;
use crate::classify::{self, categorize_all, era};
use crate::compare::{self, Comparison};
use crate::progress::{Stage, timing};
use crate::rebuild::{self, PackageLocation, Rules, Selection};
use crate::repo::{CommitInfo, Repo};
use crate::report::{Difference, FileCounts, Finding, Severity, Verdict};
use crate::request::{Error, Run};

/// The crate under verification, as every evaluation needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Published<'a> {
    /// The parsed `.crate`.
    pub(crate) archive: &'a CrateArchive,
    /// Its name and version (from the normalized manifest).
    pub(crate) name: &'a str,
    pub(crate) version: &'a str,
    /// The cargo versions that could have made it.
    pub(crate) era: era::Era,
    /// The clues the era was inferred from, one sentence each.
    pub(crate) era_evidence: &'a [String],
}

impl Published<'_> {
    /// The era as one sentence for reports: `cargo 1.19–1.56 (clue; clue)`.
    pub(crate) fn era_statement(&self) -> String {
        let range = format!("cargo 1.{}–1.{}", self.era.min, self.era.max);
        if self.era_evidence.is_empty() {
            range
        } else {
            format!("{range} ({})", self.era_evidence.join("; "))
        }
    }
}

/// One evaluation of a commit: the verdict and what it is based on.
#[derive(Debug)]
pub(crate) struct Evaluation {
    pub(crate) verdict: Verdict,
    pub(crate) path: Option<String>,
    pub(crate) files: FileCounts,
    pub(crate) differences: Vec<Difference>,
    pub(crate) findings: Vec<Finding>,
    /// How many cargo rule sets were rebuilt and compared.
    pub(crate) rule_sets: u32,
}

impl Evaluation {
    /// A verdict reached before anything was compared.
    fn published_only(
        krate: &Published<'_>,
        path: Option<String>,
        verdict: Verdict,
        findings: Vec<Finding>,
    ) -> Evaluation {
        Evaluation {
            verdict,
            path,
            files: FileCounts {
                published: krate.archive.files.len() as u64,
                compared: 0,
                equal: 0,
            },
            differences: Vec::new(),
            findings,
            rule_sets: 0,
        }
    }
}

/// Evaluate `commit` for the package at `path` (`None`: discover it by name).
pub(crate) fn evaluate(
    run: &mut Run<'_>,
    krate: &Published<'_>,
    repo: &Repo,
    commit: &CommitInfo,
    path: Option<&str>,
) -> Result<Evaluation, Error> {
    evaluate_with(run, krate, repo, commit, path, Detail::Full)
}

/// How much an evaluation says about each difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    /// Diffs and digests, for a report.
    Full,
    /// Kinds and categories only (no diff rendered): enough to rank candidates.
    Rank,
}

/// [`evaluate`] with the given detail. Comparisons under older rules never render diffs
/// (they only explain which differences an older cargo would not have), unless today's cargo
/// refuses the package and an older cargo's comparison may become the reported one.
pub(crate) fn evaluate_with(
    run: &mut Run<'_>,
    krate: &Published<'_>,
    repo: &Repo,
    commit: &CommitInfo,
    path: Option<&str>,
    detail: Detail,
) -> Result<Evaluation, Error> {
    run.progress.stage(Stage::Rebuild, None);
    let located = {
        let _span = timing::span("rebuild");
        locate(run, krate, repo, commit, path)?
    };
    let location = match located {
        Ok(location) => location,
        Err(verdict) => return Ok(verdict),
    };
    run.check()?;
    let rule_sets = era::rule_sets(krate.era, run.options.older_rules);
    let mut results = rebuild_and_compare(run, krate, repo, commit, &location, rule_sets, detail)?;
    let rule_sets = results.len() as u32;
    let (primary_rules, primary) = results.remove(0);
    let older: Vec<(Rules, Selection, Comparison)> = results
        .into_iter()
        .filter_map(|(r, res)| res.ok().map(|(s, c)| (r, s, c)))
        .collect();
    Ok(
        match era::explain(primary_rules, primary, older, krate.era) {
            era::Explained::Compared {
                selection,
                comparison,
                findings: mut extra,
            } => {
                let mut findings = selection.findings.clone();
                findings.append(&mut extra);
                findings.extend(comparison.findings.iter().cloned());
                let verdict = classify::classify(&comparison.differences, &findings);
                Evaluation {
                    verdict,
                    path: Some(location.path),
                    files: comparison.files,
                    differences: comparison.differences,
                    findings,
                    rule_sets,
                }
            }
            era::Explained::Refused(message) => Evaluation::published_only(
                krate,
                Some(location.path),
                Verdict::PackageError,
                vec![Finding::new("package_error", Severity::High, message)],
            ),
        },
    )
}

/// Find the package in the commit's tree. A package that is not there, or that cargo cannot
/// read, is a verdict (`Ok(Err(evaluation))`), not an error.
fn locate(
    run: &Run<'_>,
    krate: &Published<'_>,
    repo: &Repo,
    commit: &CommitInfo,
    path: Option<&str>,
) -> Result<Result<PackageLocation, Evaluation>, Error> {
    let archive = krate.archive;
    let orig = archive
        .files
        .get("Cargo.toml.orig")
        .or_else(|| archive.files.get("Cargo.toml"))
        .map(|f| f.data.as_slice());
    match rebuild::locate_package(
        repo,
        commit.id,
        commit.tree,
        Some(krate.name),
        krate.version,
        path,
        orig,
        &run.options.limits,
    ) {
        Ok(l) => Ok(Ok(l)),
        Err(e @ rebuild::Error::PackageNotFound { .. }) => Ok(Err(Evaluation::published_only(
            krate,
            path.map(str::to_owned),
            Verdict::PathNotFound,
            vec![Finding::new(
                "path_not_found",
                Severity::High,
                e.to_string(),
            )],
        ))),
        Err(rebuild::Error::Package { path: p, message }) => Ok(Err(Evaluation::published_only(
            krate,
            Some(p),
            Verdict::PackageError,
            vec![Finding::new("package_error", Severity::High, message)],
        ))),
        Err(e) => Err(e.into()),
    }
}

/// A selection compared (and its differences categorized), or cargo's refusal of the package.
type Outcome = Result<(Selection, Comparison), String>;

/// Rebuild and compare under each rule set in turn, today's first; older rules are needed only
/// to explain differences (or a refusal) under today's, so a clean first comparison ends it.
fn rebuild_and_compare(
    run: &mut Run<'_>,
    krate: &Published<'_>,
    repo: &Repo,
    commit: &CommitInfo,
    location: &PackageLocation,
    rule_sets: Vec<Rules>,
    detail: Detail,
) -> Result<Vec<(Rules, Outcome)>, Error> {
    let archive = krate.archive;
    let limits = &run.options.limits;
    let mut results: Vec<(Rules, Outcome)> = Vec::new();
    for rules in rule_sets {
        // Today's comparison is the reported one; an older one only when today's cargo
        // refuses the package.
        let reported = results.first().is_none_or(|(_, first)| first.is_err());
        let copts = compare::Options {
            limits: limits.clone(),
            all_diffs: run.options.all_diffs,
            ids_only: !(reported && detail == Detail::Full),
        };
        run.check()?;
        if let Some((_, Ok((_, cmp)))) = results.first()
            && cmp.differences.is_empty()
        {
            break;
        }
        let ropts = rebuild::Options {
            rules,
            limits: limits.clone(),
        };
        let rebuilt = {
            let _span = timing::span("rebuild");
            rebuild::rebuild(repo, commit, location, &ropts)
        };
        match rebuilt {
            Ok(sel) => {
                run.progress
                    .stage(Stage::Compare, Some(archive.files.len() as u64));
                let mut cmp = {
                    let _span = timing::span("compare");
                    compare::compare(archive, &sel, repo, &copts)?
                };
                if reported {
                    let _span = timing::span("classify");
                    categorize_all(&mut cmp.differences, archive, &sel, repo, limits)?;
                }
                run.progress.inc(archive.files.len() as u64);
                results.push((rules, Ok((sel, cmp))));
            }
            Err(rebuild::Error::Package { message, .. }) => results.push((rules, Err(message))),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(results)
}
