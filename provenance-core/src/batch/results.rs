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
//!   `worker_crashed` when the crate's worker process died (see [`super::isolate`]); the one
//!   mapping from a verification's outcome to a line is [`super::outcome`].
//!
//! Lines are only ever appended. A later line for the same `NAME@VERSION` supersedes an earlier
//! one (`scan --retry-errors` appends the new result). A last line without its newline (the
//! process was killed while writing it) is ignored.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::report::{Report, SCHEMA_VERSION};
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
    pub fn verdict(&self) -> Option<crate::report::Verdict> {
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

/// The complete lines of a results file, as written (a torn last line, without its newline, is
/// left out; blank lines too). A missing file has none.
pub fn lines(path: &Path) -> Result<Vec<String>, String> {
    let text = match std::fs::read(path) {
        Ok(b) => String::from_utf8(b).map_err(|_| format!("`{}` is not UTF-8", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
    };
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    Ok(complete
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect())
}

/// `NAME@VERSION` of a line (its `crate` object), without reading the rest of it; `None` when
/// the line is not a JSON object with `crate.name` and `crate.version`.
pub fn line_key(line: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Krate {
        name: String,
        version: String,
    }
    #[derive(serde::Deserialize)]
    struct Line {
        #[serde(rename = "crate")]
        krate: Krate,
    }
    let l: Line = serde_json::from_str(line).ok()?;
    Some(format!("{}@{}", l.krate.name, l.krate.version))
}

/// Write `lines` (each without its newline) to `path` atomically: a temporary file beside it,
/// synced, then renamed over it.
pub fn write_atomic(path: &Path, lines: &[String]) -> Result<(), String> {
    let name = path
        .file_name()
        .ok_or_else(|| format!("`{}` is not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut data = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in lines {
        data.push_str(l);
        data.push('\n');
    }
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(data.as_bytes())?;
        f.sync_all()
    });
    written
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write `{}`: {e}", path.display())
        })
}

/// Merge results files into `dest`: one line per crate version (a line of a later file in
/// `sources` supersedes one of an earlier file, and a later line an earlier one), sorted by
/// `NAME@VERSION`, written atomically. Lines are copied byte for byte; lines without a crate
/// are left out. Returns the number of lines.
pub fn merge(sources: &[PathBuf], dest: &Path) -> Result<usize, String> {
    let mut by_key: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for source in sources {
        for line in lines(source)? {
            if let Some(k) = line_key(&line) {
                by_key.insert(k, line);
            }
        }
    }
    let merged: Vec<String> = by_key.into_values().collect();
    write_atomic(dest, &merged)?;
    Ok(merged.len())
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

    #[test]
    fn lines_keys_and_merge() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
        let first = error("x", "network").to_line();
        let second = error("x", "invalid_archive").to_line();
        std::fs::write(
            &a,
            format!("{first}\n{}\n", error("b", "network").to_line()),
        )
        .unwrap();
        std::fs::write(&b, format!("{second}\n{{\"torn")).unwrap();
        assert_eq!(lines(&b).unwrap(), vec![second.clone()]);
        assert_eq!(line_key(&first).as_deref(), Some("x@1.0.0"));
        assert_eq!(line_key("[]"), None);
        let dest = dir.path().join("merged.jsonl");
        assert_eq!(merge(&[a, b], &dest).unwrap(), 2);
        let got = std::fs::read_to_string(&dest).unwrap();
        assert_eq!(
            got,
            format!("{}\n{second}\n", error("b", "network").to_line())
        );
    }
}
