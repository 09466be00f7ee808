//! Cargo eras: which cargo versions the crate itself shows could have made it ([`CargoEra`]),
//! and which of cargo's older file-selection rules are therefore worth trying when today's rules
//! leave differences ([`rule_sets`], [`explain`]).

use serde::{Deserialize, Serialize};

use crate::archive::CrateArchive;
use crate::compare::Comparison;
use crate::metadata::{self, VcsInfo};
use crate::rebuild::{Rules, Selection};
use crate::report::{Difference, Finding, Severity};

/// The newest cargo minor version whose rules this library knows (Rust 1.N).
pub const CURRENT_CARGO_MINOR: u32 = Rules::CURRENT.cargo_minor;

/// The range of cargo versions (Rust `1.min` – `1.max`) that could have made the crate, with the
/// evidence, inferred from the crate alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoEra {
    /// Oldest possible cargo minor version.
    pub min: u32,
    /// Newest possible cargo minor version.
    pub max: u32,
    /// One lowercase sentence per clue, in the order applied.
    pub evidence: Vec<String>,
}

impl CargoEra {
    fn new() -> CargoEra {
        CargoEra {
            min: 0,
            max: CURRENT_CARGO_MINOR,
            evidence: Vec::new(),
        }
    }

    fn at_least(&mut self, minor: u32, why: &str) {
        self.min = self.min.max(minor);
        self.evidence.push(format!("{why} (cargo ≥ 1.{minor})"));
    }

    fn at_most(&mut self, minor: u32, why: &str) {
        self.max = self.max.min(minor);
        self.evidence.push(format!("{why} (cargo ≤ 1.{minor})"));
    }

    /// Infer the era from the crate: `Cargo.toml.orig` (1.19+), `.cargo_vcs_info.json` and its
    /// shape (1.30+, `path_in_vcs` 1.57+, `dirty` 1.81+), what the normalized manifest shows
    /// (explicit targets and `build = false`, 1.80+), the lock-file format (v3 1.47+, v4 1.78+).
    pub fn of(archive: &CrateArchive, vcs: Option<&VcsInfo>) -> CargoEra {
        let mut e = CargoEra::new();
        let orig = archive.files.get("Cargo.toml.orig");
        if orig.is_some() {
            e.at_least(19, "`Cargo.toml.orig` is present");
        } else {
            e.at_most(18, "no `Cargo.toml.orig`");
        }
        if let Some(v) = vcs {
            e.at_least(30, "`.cargo_vcs_info.json` is present");
            if v.path_in_vcs.is_some() {
                e.at_least(57, "`.cargo_vcs_info.json` has `path_in_vcs`");
            } else {
                e.at_most(56, "`.cargo_vcs_info.json` has no `path_in_vcs`");
            }
            if v.dirty {
                e.at_least(81, "`.cargo_vcs_info.json` has `dirty`");
            }
        }
        let parse = |name: &str| {
            archive
                .files
                .get(name)
                .and_then(|f| metadata::parse_toml_table(&f.data))
        };
        if let (Some(n), Some(o)) = (
            parse("Cargo.toml"),
            orig.and_then(|f| metadata::parse_toml_table(&f.data)),
        ) {
            let key = |t: &toml::Table, k: &str| {
                super::manifest_check::pkg(t)
                    .and_then(|p| p.get(k))
                    .cloned()
            };
            let autos = ["autobins", "autoexamples", "autotests", "autobenches"];
            if autos
                .iter()
                .all(|k| key(&n, k).and_then(|v| v.as_bool()) == Some(false))
                && autos.iter().any(|k| key(&o, k).is_none())
            {
                e.at_least(80, "the normalized manifest lists its targets explicitly");
            } else if key(&n, "build").and_then(|v| v.as_bool()) == Some(false)
                && key(&o, "build").is_none()
            {
                e.at_least(80, "the normalized manifest says `build = false`");
            }
        }
        if let Some(lock) = parse("Cargo.lock") {
            match lock.get("version").and_then(toml::Value::as_integer) {
                Some(4) => e.at_least(78, "`Cargo.lock` is version 4"),
                Some(3) => e.at_least(47, "`Cargo.lock` is version 3"),
                _ => {}
            }
        }
        e
    }

    /// Whether the clues contradict each other (no cargo version fits all of them).
    pub fn is_consistent(&self) -> bool {
        self.min <= self.max
    }

    /// The serializable form.
    pub fn to_report(&self) -> EraReport {
        EraReport {
            min: format!("1.{}", self.min.min(self.max)),
            max: format!("1.{}", self.max),
            evidence: self.evidence.clone(),
        }
    }
}

/// [`CargoEra`] as it appears in JSON: `{"min": "1.19", "max": "1.56", "evidence": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EraReport {
    /// Oldest possible cargo (`"1.N"`).
    pub min: String,
    /// Newest possible cargo (`"1.N"`).
    pub max: String,
    /// The clues, one sentence each.
    pub evidence: Vec<String>,
}

/// The era as a closed range of cargo minor versions (`min ≤ max` even when the clues
/// contradict each other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Era {
    pub(crate) min: u32,
    pub(crate) max: u32,
}

impl Era {
    pub(crate) fn of(era: &CargoEra) -> Era {
        Era {
            min: era.min.min(era.max),
            max: era.max,
        }
    }
}

/// The rules to try: today's cargo, then (with `older_rules`) one representative of every older
/// era the crate itself shows is possible.
pub(crate) fn rule_sets(era: Era, older_rules: bool) -> Vec<Rules> {
    let mut rule_sets = vec![Rules::CURRENT];
    if older_rules {
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
    rule_sets
}

/// What the era rules make of one commit's comparisons.
// One value per evaluated commit, moved straight out: boxing the large variant buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Explained {
    /// The comparison to report (today's, or an older cargo's when today's refuses the
    /// package), with `older_cargo_rule` findings for what older rules explain.
    Compared {
        selection: Selection,
        comparison: Comparison,
        findings: Vec<Finding>,
    },
    /// Today's cargo refuses the package (the message says why) and no older rule accepts it.
    Refused(String),
}

/// Explain differences under today's rules (`primary`: a comparison, or cargo's refusal) with
/// the older rules that were tried: differences an older cargo's selection does not have are
/// moved out of the comparison into `older_cargo_rule` findings; a refusal that an older cargo
/// would not make is replaced by that cargo's comparison.
pub(crate) fn explain(
    primary_rules: Rules,
    primary: Result<(Selection, Comparison), String>,
    older: Vec<(Rules, Selection, Comparison)>,
    era: Era,
) -> Explained {
    match primary {
        Ok((selection, comparison)) => {
            if comparison.differences.is_empty() {
                return Explained::Compared {
                    selection,
                    comparison,
                    findings: Vec::new(),
                };
            }
            // Can an older cargo rule explain some differences?
            let best = older
                .into_iter()
                .min_by_key(|(r, _, c)| (c.differences.len(), std::cmp::Reverse(r.cargo_minor)));
            if let Some((r, _, oc)) = best
                && oc.differences.len() < comparison.differences.len()
            {
                let mut explained = Vec::new();
                let mut remaining = Vec::new();
                for d in comparison.differences {
                    if oc.differences.iter().any(|o| o.path == d.path) {
                        remaining.push(d);
                    } else {
                        explained.push(d);
                    }
                }
                let findings: Vec<Finding> = explained
                    .iter()
                    .map(|d| older_rule_finding(d, primary_rules, r, era))
                    .collect();
                let comparison = Comparison {
                    differences: remaining,
                    ..comparison
                };
                return Explained::Compared {
                    selection,
                    comparison,
                    findings,
                };
            }
            Explained::Compared {
                selection,
                comparison,
                findings: Vec::new(),
            }
        }
        Err(message) => {
            // Today's cargo refuses the package; an older cargo may not have.
            if let Some((r, selection, comparison)) = older
                .into_iter()
                .min_by_key(|(_, _, c)| c.differences.len())
            {
                let findings = vec![Finding::new(
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
                return Explained::Compared {
                    selection,
                    comparison,
                    findings,
                };
            }
            Explained::Refused(message)
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
