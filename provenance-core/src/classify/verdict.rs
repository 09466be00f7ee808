//! Verdict precedence: what the differences and findings of one evaluation amount to
//! ([`classify`]), and the last step of every report ([`finish`]): the summary line, findings
//! that block `match`, findings sorted and deduplicated.

use super::categorize;
use crate::report::{Difference, DifferenceKind, Finding, Report, SourceHow, Verdict};

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

/// The last step of every report, whatever the verdict: the summary line, a finding that blocks
/// `match` turns a match into a mismatch, the findings sorted, deduplicated and (for
/// `suspicious_codepoints`) one per path.
pub(crate) fn finish(mut report: Report, mut findings: Vec<Finding>) -> Report {
    report.summary = categorize::summary(&report.differences);
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
}
