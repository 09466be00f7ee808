//! The results file of `scan`: JSON Lines, append-only, one line per crate version.
//!
//! # Format
//!
//! Every line is one compact JSON object (no line breaks inside), either
//!
//! * the exact JSON report of shared/VERDICTS.md (`schema_version` 1, `crate`, `source`,
//!   `verdict`, …), serialized compactly, for a verification that ended in a verdict; or
//! * an error object for a crate whose verification failed:
//!   `{"schema_version":1,"crate":{"name":"…","version":"…"},"error":{"kind":"…","message":"…"}}`
//!   where `kind` is a stable `ErrorKind` name (`network`, `invalid_archive`, `crate_not_found`,
//!   `checksum_mismatch`, `limit_exceeded` for the per-crate `--timeout`, …), or the scan-level
//!   `worker_crashed` when the crate's worker process died (see [`super::isolate`]).
//!
//! Lines are only ever appended. A later line for the same `NAME@VERSION` supersedes an earlier
//! one (`scan --retry-errors` appends the new result). A last line without its newline (the
//! process was killed while writing it) is ignored.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use provenance_core::{Report, SCHEMA_VERSION};
use serde::Serialize;

/// What one line holds.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A verification that ended in a verdict.
    Report(Box<Report>),
    /// A verification that failed.
    Error {
        /// The stable `ErrorKind` name.
        kind: String,
        /// The error chain.
        message: String,
    },
}

/// One line of the results file.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Crate name.
    pub name: String,
    /// Crate version.
    pub version: String,
    /// The result.
    pub outcome: Outcome,
}

impl Entry {
    /// `NAME@VERSION`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// The verdict, or `None` for an error.
    pub fn verdict(&self) -> Option<provenance_core::Verdict> {
        match &self.outcome {
            Outcome::Report(r) => Some(r.verdict),
            Outcome::Error { .. } => None,
        }
    }

    /// The line, without its newline.
    pub fn to_line(&self) -> String {
        match &self.outcome {
            Outcome::Report(r) => serde_json::to_string(r).expect("report serializes"),
            Outcome::Error { kind, message } => {
                #[derive(Serialize)]
                struct Krate<'a> {
                    name: &'a str,
                    version: &'a str,
                }
                #[derive(Serialize)]
                struct Err<'a> {
                    kind: &'a str,
                    message: &'a str,
                }
                #[derive(Serialize)]
                struct Line<'a> {
                    schema_version: u32,
                    #[serde(rename = "crate")]
                    krate: Krate<'a>,
                    error: Err<'a>,
                }
                serde_json::to_string(&Line {
                    schema_version: SCHEMA_VERSION,
                    krate: Krate {
                        name: &self.name,
                        version: &self.version,
                    },
                    error: Err { kind, message },
                })
                .expect("error line serializes")
            }
        }
    }

    /// Parse one line.
    pub fn parse(line: &str) -> Result<Entry, String> {
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let version = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(SCHEMA_VERSION)) {
            return Err(format!(
                "unsupported `schema_version` {}",
                version.map_or_else(|| "(missing)".to_owned(), |v| v.to_string())
            ));
        }
        let text = |v: &serde_json::Value, k: &str| -> Result<String, String> {
            v.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("no string `{k}`"))
        };
        if let Some(error) = value.get("error") {
            let krate = value.get("crate").ok_or("no `crate`")?;
            return Ok(Entry {
                name: text(krate, "name")?,
                version: text(krate, "version")?,
                outcome: Outcome::Error {
                    kind: text(error, "kind")?,
                    message: text(error, "message")?,
                },
            });
        }
        let report: Report = serde_json::from_value(value).map_err(|e| e.to_string())?;
        Ok(Entry {
            name: report.krate.name.clone(),
            version: report.krate.version.clone(),
            outcome: Outcome::Report(Box::new(report)),
        })
    }
}

/// Read a results file: every entry, a later line for the same crate version replacing the
/// earlier one (in the earlier one's position). A missing file is empty.
pub fn load(path: &Path) -> Result<Vec<Entry>, String> {
    let text = match std::fs::read(path) {
        Ok(b) => String::from_utf8(b).map_err(|_| format!("`{}` is not UTF-8", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
    };
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut entries: Vec<Entry> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry = match Entry::parse(line) {
            Ok(e) => e,
            // Killed while writing the last line: that crate is simply not done.
            Err(_) if i + 1 == lines.len() && !complete => break,
            Err(e) => {
                return Err(format!(
                    "line {} of `{}` is not a result: {e}",
                    i + 1,
                    path.display()
                ));
            }
        };
        if let Some(&at) = index.get(&entry.key()) {
            entries[at] = entry;
        } else {
            index.insert(entry.key(), entries.len());
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// Appends lines to a results file, one `write` per line.
#[derive(Debug)]
pub struct Appender {
    file: std::fs::File,
    path: PathBuf,
}

impl Appender {
    /// Open (create) `path` for appending; drops a torn last line (one without its newline).
    pub fn open(path: &Path) -> Result<Appender, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open `{}`: {e}", path.display()))?;
        // A last line without its newline was torn by a kill while it was written: drop it
        // (that crate version is not done), so the next line starts a line of its own.
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            file.set_len(keep as u64)
                .map_err(|e| format!("cannot truncate `{}`: {e}", path.display()))?;
        }
        Ok(Appender {
            file,
            path: path.to_owned(),
        })
    }

    /// Append one entry.
    pub fn append(&mut self, entry: &Entry) -> Result<(), String> {
        let mut line = entry.to_line();
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|e| format!("cannot write `{}`: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(name: &str, kind: &str) -> Entry {
        Entry {
            name: name.into(),
            version: "1.0.0".into(),
            outcome: Outcome::Error {
                kind: kind.into(),
                message: "m".into(),
            },
        }
    }

    #[test]
    fn append_load_supersede_and_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        assert!(load(&path).unwrap().is_empty());
        let mut a = Appender::open(&path).unwrap();
        a.append(&error("a", "network")).unwrap();
        a.append(&error("b", "network")).unwrap();
        a.append(&error("a", "invalid_archive")).unwrap();
        drop(a);
        let line = std::fs::read_to_string(&path).unwrap();
        assert!(line.starts_with(
            "{\"schema_version\":1,\"crate\":{\"name\":\"a\",\"version\":\"1.0.0\"},\"error\":{\"kind\":\"network\",\"message\":\"m\"}}\n"
        ));
        // Killed while writing a line: the torn line is ignored, and the next append starts
        // on a line of its own.
        std::fs::write(&path, line.clone() + "{\"schema_version\":1,\"cra").unwrap();
        let got = load(&path).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].key(), "a@1.0.0");
        assert!(
            matches!(&got[0].outcome, Outcome::Error { kind, .. } if kind == "invalid_archive")
        );
        let mut a = Appender::open(&path).unwrap();
        a.append(&error("c", "network")).unwrap();
        assert_eq!(load(&path).unwrap().len(), 3);
        // A damaged line in the middle is an error, not silently skipped.
        std::fs::write(&path, "garbage\n".to_owned() + &line).unwrap();
        assert!(load(&path).unwrap_err().contains("line 1"));
    }
}
