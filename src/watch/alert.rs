//! Alerts: the JSON body, stdout, and the webhook (HMAC-SHA256 signed POST with retries).
//!
//! Delivery goes through the database's outbox (`deliveries`): the alert and one row per target
//! are written in the transaction that records the verification; a delivery happens after that
//! commit and is marked delivered once it succeeded. A process killed between the two delivers
//! again on restart (at least once); the `X-Provenance-Delivery` header (the alert's id) lets a
//! receiver drop a repeat.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use provenance_core::batch::{Entry, Outcome};

use super::db::Db;

/// The outbox target of alerts printed on stdout.
pub const STDOUT: &str = "stdout";

/// Header with the body's signature: `sha256=<hex HMAC-SHA256(secret, body)>`.
pub const SIGNATURE_HEADER: &str = "X-Provenance-Signature-256";
/// Header with the alert's id (the same on every retry and redelivery).
pub const DELIVERY_HEADER: &str = "X-Provenance-Delivery";

/// Attempts per delivery in one run (the next poll cycle tries again).
const ATTEMPTS: u32 = 5;

/// The alert's JSON document (one line): what was verified, the verdict the policy denies,
/// and enough to act on without opening the database.
pub fn body(id: i64, entry: &Entry, created_at: &str) -> String {
    let (verdict, sha256, summary, differences, error) = match &entry.outcome {
        Outcome::Report(r) => (
            r.verdict.as_str().to_owned(),
            Some(r.krate.sha256.clone()),
            Some(r.summary.clone()),
            r.differences.len(),
            serde_json::Value::Null,
        ),
        Outcome::Error { kind, message } => (
            provenance_core::batch::policy::ERROR.to_owned(),
            None,
            None,
            0,
            serde_json::json!({ "kind": kind, "message": message }),
        ),
    };
    let doc = serde_json::json!({
        "schema_version": 1,
        "type": "alert",
        "id": id,
        "crate": { "name": entry.name, "version": entry.version, "sha256": sha256 },
        "verdict": verdict,
        "summary": summary,
        "differences": differences,
        "error": error,
        "created_at": created_at,
        "tool_version": super::db::TOOL_VERSION,
    });
    serde_json::to_string(&doc).expect("alert serializes")
}

/// Print the undelivered stdout alerts, one line each, and mark them delivered.
pub fn deliver_stdout(db: &Db) -> Result<usize, String> {
    let pending = db.undelivered(STDOUT)?;
    for d in &pending {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", d.body);
        let _ = out.flush();
        drop(out);
        db.attempted(d.id, None, None)?;
    }
    Ok(pending.len())
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret)
        .expect("HMAC takes a key of any length");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let mut s = String::from("sha256=");
    for b in tag {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A webhook target.
#[derive(Debug)]
pub struct Webhook {
    url: String,
    secret: Option<Vec<u8>>,
    client: reqwest::blocking::Client,
    /// The first retry's delay (doubled for each next one).
    backoff: Duration,
}

impl Webhook {
    /// A webhook posting to `url` (`https://`, or `http://` with `insecure`), signing with the
    /// secret in `secret_file` (its content, trailing newline removed).
    pub fn new(
        url: &str,
        secret_file: Option<&std::path::Path>,
        insecure: bool,
    ) -> Result<Webhook, String> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| format!("`--webhook`: invalid URL `{url}`: {e}"))?;
        match parsed.scheme() {
            "https" => {}
            "http" if insecure => {}
            "http" => {
                return Err(
                    "`--webhook`: `http://` is refused (pass `--allow-insecure-transport` to allow it)"
                        .into(),
                );
            }
            other => return Err(format!("`--webhook`: the `{other}` scheme is not HTTP")),
        }
        let secret = secret_file
            .map(|p| {
                std::fs::read(p)
                    .map_err(|e| format!("cannot read `{}`: {e}", p.display()))
                    .map(|mut s| {
                        while s.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                            s.pop();
                        }
                        s
                    })
            })
            .transpose()?;
        if secret.as_ref().is_some_and(Vec::is_empty) {
            return Err("`--webhook-secret-file` is empty".into());
        }
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(format!("crate-provenance/{}", super::db::TOOL_VERSION))
            .build()
            .map_err(|e| format!("cannot create the HTTP client: {e}"))?;
        let backoff = std::env::var("CRATE_PROVENANCE_WEBHOOK_BACKOFF_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_millis(500), Duration::from_millis);
        Ok(Webhook {
            url: url.to_owned(),
            secret,
            client,
            backoff,
        })
    }

    /// The outbox target name.
    pub fn target(&self) -> &str {
        &self.url
    }

    /// Deliver the undelivered alerts, oldest first: each POSTed until a 2xx answer, up to
    /// [`ATTEMPTS`] times with exponential backoff; every attempt is recorded. When one alert
    /// exhausts its attempts the endpoint is taken to be down and the others wait for the next
    /// cycle. Returns (delivered, still pending).
    pub fn deliver(&self, db: &Db, stop: &AtomicBool) -> Result<(usize, usize), String> {
        let pending = db.undelivered(&self.url)?;
        let mut delivered = 0;
        'alerts: for d in &pending {
            for attempt in 0..ATTEMPTS {
                if stop.load(Ordering::Relaxed) {
                    return Ok((delivered, pending.len() - delivered));
                }
                if attempt > 0 {
                    std::thread::sleep(self.backoff * 2u32.pow(attempt - 1));
                }
                let mut req = self
                    .client
                    .post(&self.url)
                    .header("Content-Type", "application/json")
                    .header(DELIVERY_HEADER, d.alert_id.to_string())
                    .body(d.body.clone());
                if let Some(secret) = &self.secret {
                    req = req.header(SIGNATURE_HEADER, signature(secret, d.body.as_bytes()));
                }
                match req.send() {
                    Ok(r) if r.status().is_success() => {
                        db.attempted(d.id, Some(r.status().as_u16()), None)?;
                        delivered += 1;
                        break;
                    }
                    Ok(r) => db.attempted(
                        d.id,
                        Some(r.status().as_u16()),
                        Some(&format!("HTTP status {}", r.status())),
                    )?,
                    Err(e) => db.attempted(d.id, None, Some(&e.to_string()))?,
                }
                if attempt + 1 == ATTEMPTS {
                    break 'alerts;
                }
            }
        }
        Ok((delivered, pending.len() - delivered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
