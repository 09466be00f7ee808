//! Ranking of assisted candidates (issue 21): an exact `match` first, then `match_but_symlinks`,
//! then differences all explained by older cargo rules, then differences only inside
//! unavailable submodules, then the fewest and least severe differences. A `line_endings`
//! difference (the published text equals the blob after CRLF → LF) counts as equal for
//! ranking; it is still reported.

use crate::evaluate::Evaluation;
use crate::report::{Assisted, Category, DifferenceKind, Severity, Verdict};

/// The rank of one evaluated candidate; lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Rank {
    tier: Tier,
    /// High-severity differences (line endings aside).
    high: usize,
    /// Differences (line endings aside).
    differences: usize,
    /// `line_endings` differences.
    line_endings: usize,
    /// Evaluation order (the earlier candidate wins a tie).
    order: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    /// No difference but line endings, nothing explained by an older cargo.
    Match,
    /// Only symlinks published as their target's text.
    Symlinks,
    /// Every difference explained by an older cargo's rules.
    OlderCargo,
    /// Differences only inside submodules that could not be read.
    Submodules,
    /// Anything else.
    Differences,
}

impl Rank {
    /// The rank of `ev`, evaluated `order`-th.
    pub(super) fn of(ev: &Evaluation, order: u64) -> Rank {
        let le = |d: &&crate::report::Difference| d.category == Some(Category::LineEndings);
        let line_endings = ev.differences.iter().filter(le).count();
        let rest: Vec<_> = ev.differences.iter().filter(|d| !le(d)).collect();
        let older = ev.findings.iter().any(|f| f.kind == "older_cargo_rule");
        // A comparison without differences can still be refused `match` by a finding.
        let blocked = ev.verdict != Verdict::Match && ev.differences.is_empty();
        let compared = !matches!(ev.verdict, Verdict::PathNotFound | Verdict::PackageError);
        let tier = if !compared || blocked {
            Tier::Differences
        } else if rest.is_empty() {
            if older { Tier::OlderCargo } else { Tier::Match }
        } else if rest.iter().all(|d| d.kind == DifferenceKind::SymlinkText) {
            Tier::Symlinks
        } else if rest.iter().all(|d| d.kind == DifferenceKind::InSubmodule) {
            Tier::Submodules
        } else {
            Tier::Differences
        };
        Rank {
            tier,
            high: rest
                .iter()
                .filter(|d| d.severity == Some(Severity::High))
                .count(),
            // A candidate where nothing was compared ranks below every comparison.
            differences: if compared { rest.len() } else { usize::MAX },
            line_endings,
            order,
        }
    }

    /// The evaluation order it was given.
    pub(super) fn order(&self) -> u64 {
        self.order
    }

    /// Nothing can rank better: an exact match.
    pub(super) fn is_best(&self) -> bool {
        self.tier == Tier::Match && self.line_endings == 0
    }

    /// Why this candidate won, one sentence.
    pub(super) fn reason(&self, a: &Assisted) -> String {
        match self.tier {
            Tier::Match if self.line_endings == 0 => "exact match".to_owned(),
            Tier::Match => format!(
                "every published file equals the commit's, {} of them after line endings (CRLF → LF)",
                self.line_endings
            ),
            Tier::Symlinks => {
                "only symlinks published as their target's text differ".to_owned()
            }
            Tier::OlderCargo => {
                "every difference is explained by the rules of an older cargo the crate's era allows"
                    .to_owned()
            }
            Tier::Submodules => {
                "differences only inside submodules that could not be read".to_owned()
            }
            Tier::Differences if a.files.compared == 0 => format!(
                "no candidate could be compared; this one gives `{}`",
                a.verdict.as_str()
            ),
            Tier::Differences => format!(
                "fewest and least severe differences: {} ({} high){}",
                self.differences,
                self.high,
                if self.line_endings > 0 {
                    format!(", besides {} in line endings only", self.line_endings)
                } else {
                    String::new()
                }
            ),
        }
    }
}
