//! The gate: which verdicts fail a scan, and which crate versions are exempt.
//!
//! A `provenance.toml` policy file (cargo-vet's `[[exemptions.NAME]]` shape):
//!
//! ```toml
//! [gate]
//! deny = ["mismatch", "revision_not_found"]   # verdict names, or `error`
//!
//! [[exemptions.foo]]
//! version = "1.2.3"
//! reason = "published from a fork; reviewed the diff by hand (PROJ-12)"
//! ```
//!
//! `--deny` on the command line replaces the file's `gate.deny`. Every exemption needs a
//! non-empty `reason`.
//!
//! The file may also name repository mirrors (`--mirror FROM=TO` adds to them; see
//! [`crate::fetch::mirror`]):
//!
//! ```toml
//! [[mirror]]
//! from = "https://github.com/"
//! to = "https://git.internal.example/github/"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use crate::report::Verdict;
use serde::Deserialize;

/// The pseudo-verdict of a crate whose verification failed.
pub const ERROR: &str = "error";

/// One exemption.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exemption {
    /// The exact version.
    pub version: String,
    /// Why this version may have a denied verdict.
    pub reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Gate {
    #[serde(default)]
    deny: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    gate: Gate,
    #[serde(default)]
    exemptions: BTreeMap<String, Vec<Exemption>>,
    #[serde(default)]
    mirror: Vec<MirrorEntry>,
}

/// One `[[mirror]]` of the policy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MirrorEntry {
    from: String,
    to: String,
}

/// The effective policy.
#[derive(Debug, Default, Clone)]
pub struct Policy {
    /// Denied verdict names (and possibly `error`), validated.
    pub deny: Vec<String>,
    /// Exemptions by `NAME@VERSION`.
    pub exemptions: BTreeMap<String, String>,
    /// The file's `[[mirror]]` entries, `(from, to)`, in file order (checked when they are
    /// turned into [`crate::fetch::Mirror`]s, which needs `allow_insecure_transport`).
    pub mirrors: Vec<(String, String)>,
}

fn check_names(names: &[String], origin: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for n in names {
        let n = n.trim();
        if n.is_empty() {
            continue;
        }
        if n != ERROR && !Verdict::ALL.iter().any(|v| v.as_str() == n) {
            let valid: Vec<&str> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
            return Err(format!(
                "{origin}: unknown verdict `{}` (expected one of {}, `{ERROR}`)",
                n.escape_debug(),
                valid
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !out.iter().any(|o| o == n) {
            out.push(n.to_owned());
        }
    }
    Ok(out)
}

impl Policy {
    /// Load the policy: `path` if given (it must exist), else `provenance.toml` in the current
    /// directory if there is one; `deny` from the command line replaces the file's list.
    pub fn load(path: Option<&Path>, deny: Option<&[String]>) -> Result<Policy, String> {
        let default = Path::new("provenance.toml");
        let file = match path {
            Some(p) => Some(p),
            None if default.is_file() => Some(default),
            None => None,
        };
        Policy::from_file(file, deny)
    }

    /// The policy of the file `file` (none: no exemptions, no deny list); `deny` replaces the
    /// file's list. Unlike [`Policy::load`], no default file is looked for.
    pub fn from_file(file: Option<&Path>, deny: Option<&[String]>) -> Result<Policy, String> {
        let mut policy = Policy::default();
        if let Some(p) = file {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
            let f: File = toml::from_str(&text)
                .map_err(|e| format!("`{}` is not a valid policy: {e}", p.display()))?;
            policy.deny = check_names(&f.gate.deny, &format!("`{}`", p.display()))?;
            policy.mirrors = f.mirror.into_iter().map(|m| (m.from, m.to)).collect();
            for (name, list) in f.exemptions {
                for e in list {
                    if e.reason.trim().is_empty() {
                        return Err(format!(
                            "`{}`: the exemption of `{name}@{}` has no `reason`",
                            p.display(),
                            e.version
                        ));
                    }
                    policy
                        .exemptions
                        .insert(format!("{name}@{}", e.version), e.reason.trim().to_owned());
                }
            }
        }
        if let Some(d) = deny {
            policy.deny = check_names(d, "`--deny`")?;
        }
        Ok(policy)
    }

    /// Whether a verdict name (or `error`) is denied.
    pub fn denies(&self, verdict: &str) -> bool {
        self.deny.iter().any(|d| d == verdict)
    }

    /// The exemption reason of `NAME@VERSION`, if any.
    pub fn exemption(&self, key: &str) -> Option<&str> {
        self.exemptions.get(key).map(String::as_str)
    }
}
