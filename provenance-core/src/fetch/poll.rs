//! Conditional polls of a crate's sparse index file, for `crate-provenance watch`.
//!
//! As cargo's sparse protocol does (`src/cargo/sources/registry/http_remote.rs`), a poll sends
//! the validators the previous answer carried — `If-None-Match` with its `ETag`,
//! `If-Modified-Since` with its `Last-Modified` — so that an unchanged index file costs a
//! `304 Not Modified` without a body. Deviation from cargo: cargo sends only one of the two
//! (the `ETag` when there is one); we send both, which HTTP defines to mean the same thing
//! (a server that knows the `ETag` ignores `If-Modified-Since`, RFC 9110 §13.2.2).
//!
//! The validators are the caller's to keep (watch keeps them in its database, next to the
//! versions they describe); a changed index file is also written to the download cache, as
//! [`Registry::versions`] does, so that verifying a new version does not ask for it again.

use std::io::Read as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::error::{Error, chain, describe_reqwest};
use super::registry::{
    IndexLine, MAX_INDEX_BYTES, Registry, index_path, valid_name, valid_version,
};

/// The validators of an index file's last answer (both optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` header.
    pub etag: Option<String>,
    /// The `Last-Modified` header.
    pub last_modified: Option<String>,
}

/// What a poll found.
#[derive(Debug, Clone)]
pub enum Polled {
    /// `304 Not Modified`: nothing changed since the validators' answer.
    NotModified,
    /// The index file (every version line, yanked ones included, in index order) and its new
    /// validators.
    Modified {
        /// The version lines.
        lines: Vec<IndexLine>,
        /// The answer's validators.
        validators: Validators,
    },
    /// The index has no such crate (404 / 410).
    NotFound,
}

/// The version lines of an index file (lines that do not parse, name another crate or carry an
/// invalid version are left out, as [`Registry::versions`] does).
pub fn parse_lines(data: &[u8], name: &str) -> Vec<IndexLine> {
    String::from_utf8_lossy(data)
        .lines()
        .filter_map(|l| serde_json::from_str::<IndexLine>(l).ok())
        .filter(|e| e.name.eq_ignore_ascii_case(name) && valid_version(&e.vers))
        .map(|e| IndexLine {
            cksum: e.cksum.to_ascii_lowercase(),
            ..e
        })
        .collect()
}

impl Registry {
    /// Poll the index file of `name` with the validators of its last answer (a local
    /// `file://` index has none: it is read every time). Transient network failures are
    /// retried with backoff like every registry request; `Err` once they are exhausted.
    pub fn poll(
        &self,
        name: &str,
        previous: &Validators,
        should_interrupt: &AtomicBool,
    ) -> Result<Polled, Error> {
        if !valid_name(name) {
            return Err(Error::InvalidInput {
                message: format!(
                    "`{}` is not a valid crate name",
                    crate::text::escape(name.as_bytes())
                ),
            });
        }
        if self.options.offline {
            return Err(Error::Offline {
                what: format!("the index entry of `{name}`"),
            });
        }
        let rel = index_path(name);
        if let Some(dir) = self.index_dir() {
            let p = dir.join(&rel);
            return match super::cache::read_limited(&p, MAX_INDEX_BYTES) {
                Ok(Some(data)) => Ok(Polled::Modified {
                    lines: parse_lines(&data, name),
                    validators: Validators::default(),
                }),
                Ok(None) => Ok(Polled::NotFound),
                Err(e) => Err(Error::Cache {
                    path: p.display().to_string(),
                    message: format!("cannot read: {e}"),
                }),
            };
        }
        let mut attempt = 0;
        loop {
            if should_interrupt.load(Ordering::Relaxed) {
                return Err(Error::Interrupted);
            }
            match self.poll_once(&rel, name, previous) {
                Err(Error::Network {
                    transient: true, ..
                }) if attempt < self.options.retries => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(250 << attempt.min(4)));
                }
                other => return other,
            }
        }
    }

    fn poll_once(&self, rel: &str, name: &str, previous: &Validators) -> Result<Polled, Error> {
        let (client, base) = self.http_parts()?.expect("an HTTP index");
        let url = base.join(rel).map_err(|e| Error::UrlPolicy {
            url: base.to_string(),
            reason: e.to_string(),
        })?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let net = |message: String, transient: bool| Error::Network {
            host: host.clone(),
            what: format!("polling `{rel}` in the registry index"),
            message,
            transient,
        };
        let mut req = client.get(url.as_str());
        if let Some(etag) = &previous.etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &previous.last_modified {
            req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
        }
        let resp = req.send().map_err(|e| {
            net(
                describe_reqwest(&e, &host),
                e.is_timeout() || e.is_connect(),
            )
        })?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Polled::NotModified);
        }
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Ok(Polled::NotFound);
        }
        if !status.is_success() {
            return Err(net(
                format!("HTTP status {status}"),
                status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS,
            ));
        }
        let header = |h: reqwest::header::HeaderName| {
            resp.headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let validators = Validators {
            etag: header(reqwest::header::ETAG),
            last_modified: header(reqwest::header::LAST_MODIFIED),
        };
        let mut data = Vec::new();
        resp.take(MAX_INDEX_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(|e| net(format!("the transfer broke off: {}", chain(&e)), true))?;
        if data.len() as u64 > MAX_INDEX_BYTES {
            return Err(Error::LimitExceeded(crate::error::LimitError {
                limit: "max_index_bytes",
                max: MAX_INDEX_BYTES,
                value: data.len() as u64,
            }));
        }
        // As `Registry::versions` does: the verification of a new version then reads the
        // index entry from the cache instead of asking again.
        let cache = self.options.cache()?;
        cache.write_atomic(
            &cache
                .index_dir(&self.index_key)?
                .join(name.to_ascii_lowercase()),
            &data,
        )?;
        Ok(Polled::Modified {
            lines: parse_lines(&data, name),
            validators,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_other_crates_and_bad_versions_are_left_out() {
        let data = concat!(
            "{\"name\":\"Foo\",\"vers\":\"1.0.0\",\"cksum\":\"AB\",\"yanked\":false}\n",
            "{\"name\":\"bar\",\"vers\":\"1.0.0\",\"cksum\":\"ab\"}\n",
            "{\"name\":\"foo\",\"vers\":\"1 0\",\"cksum\":\"ab\"}\n",
            "not json\n",
            "{\"name\":\"foo\",\"vers\":\"1.1.0\",\"cksum\":\"cd\",\"yanked\":true}\n",
        );
        let lines = parse_lines(data.as_bytes(), "foo");
        let got: Vec<(&str, &str, bool)> = lines
            .iter()
            .map(|l| (l.vers.as_str(), l.cksum.as_str(), l.yanked))
            .collect();
        assert_eq!(got, [("1.0.0", "ab", false), ("1.1.0", "cd", true)]);
    }
}
