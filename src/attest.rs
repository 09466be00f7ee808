//! SLSA verification summary attestations (`verify --attest FILE`, `scan --attest-dir DIR`,
//! `cargo provenance --attest-dir DIR`), optionally signed (`--signing-key`), and
//! `crate-provenance attest verify`.
//!
//! # Format
//!
//! An [in-toto Statement v1] with the [SLSA VSA v1] predicate, one per crate version:
//!
//! * `subject`: one entry, `name` = the `.crate` file name (`NAME-VERSION.crate`), `uri` = the
//!   package URL `pkg:cargo/NAME@VERSION`, `digest.sha256` = the SHA-256 of the `.crate` file;
//! * `predicate.verifier.id` = this tool's repository URL, `verifier.version` =
//!   `{"crate-provenance": VERSION}`;
//! * `predicate.timeVerified` = when the attestation was made (UTC, RFC 3339; the
//!   `SOURCE_DATE_EPOCH` environment variable fixes it for reproducible output);
//! * `predicate.resourceUri` = the package URL;
//! * `predicate.policy`: `uri` names the gate's semantics (a crate version passes unless its
//!   verdict is denied and not exempt), `annotations` holds the effective policy — `deny` (sorted)
//!   and `exemptions` (`NAME@VERSION` → reason) — and `digest.sha256` is the SHA-256 of exactly
//!   that `annotations` object serialized compactly with sorted keys. `verify` uses the policy
//!   that denies every verdict except `match`, and `error`;
//! * `predicate.verificationResult`: `PASSED` when the gate passes for the crate version, else
//!   `FAILED`;
//! * `predicate.verifiedLevels`: `["CRATE_PROVENANCE_VERDICT_<VERDICT>"]` (e.g.
//!   `CRATE_PROVENANCE_VERDICT_MATCH`) when `PASSED`, `["FAILED"]` otherwise (custom values are
//!   allowed and must not start with `SLSA_`; no SLSA build level is claimed);
//! * the extension field [`REPORT_FIELD`] (extension fields are named by URIs): the report as a
//!   resource descriptor: `digest.sha256` = [`report_sha256`], the SHA-256 of the report's compact
//!   JSON — exactly the line `scan --out` writes for it — and `annotations` with the verdict,
//!   repository, commit and `path_in_vcs`.
//!
//! Signed, the statement is the payload (compact JSON) of a [DSSE] envelope with `payloadType`
//! `application/vnd.in-toto+json` and one Ed25519 signature over `PAE(payloadType, payload)`;
//! `keyid` is the SHA-256 (hex) of the public key's DER `SubjectPublicKeyInfo`.
//!
//! [in-toto Statement v1]: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
//! [SLSA VSA v1]: https://slsa.dev/spec/v1.0/verification_summary
//! [DSSE]: https://github.com/secure-systems-lab/dsse/blob/master/envelope.md

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use provenance_core::{Report, Verdict};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::scan::policy::{self, Policy};
use crate::scan::results::{Entry, Outcome};

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// `predicateType` of an SLSA verification summary v1.
pub const VSA_TYPE: &str = "https://slsa.dev/verification_summary/v1";
/// DSSE `payloadType` of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// `predicate.verifier.id`: this tool's repository.
pub const VERIFIER_ID: &str = env!("CARGO_PKG_REPOSITORY");
/// `predicate.policy.uri`: the semantics of the gate the policy digest pins.
pub const POLICY_URI: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/policy/gate/v1");
/// The predicate's extension field holding the report's digest.
pub const REPORT_FIELD: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/attestation/report/v1");

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub use provenance_core::sbom::report_sha256;

/// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian; H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // Both are small and positive: 1..=31 and 1..=12.
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).expect("a day of the month");
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).expect("a month");
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `secs` since the epoch as `YYYY-MM-DDThh:mm:ssZ`.
pub fn rfc3339(secs: i64) -> String {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Now, or `SOURCE_DATE_EPOCH` when set (reproducible builds' convention), as RFC 3339 UTC.
pub fn now() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs().try_into().unwrap_or(i64::MAX))
        });
    rfc3339(secs)
}

/// Percent-encode a purl component (unreserved characters stay).
fn purl_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            use std::fmt::Write as _;
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `pkg:cargo/NAME@VERSION`.
pub fn purl(name: &str, version: &str) -> String {
    format!("pkg:cargo/{}@{}", purl_part(name), purl_part(version))
}

/// The `policy` resource descriptor of `deny` + `exemptions`.
fn policy_descriptor(deny: &[String], exemptions: &BTreeMap<String, String>) -> Value {
    let mut deny = deny.to_vec();
    deny.sort();
    let annotations = json!({ "deny": deny, "exemptions": exemptions });
    let digest = sha256_hex(
        serde_json::to_string(&annotations)
            .expect("policy serializes")
            .as_bytes(),
    );
    json!({
        "uri": POLICY_URI,
        "digest": { "sha256": digest },
        "mediaType": "application/json",
        "annotations": annotations,
    })
}

/// The policy of `scan`: its deny list and exemptions.
pub fn scan_policy(policy: &Policy) -> Value {
    policy_descriptor(&policy.deny, &policy.exemptions)
}

/// The policy of `verify`: every verdict but `match` fails, and so does an error.
pub fn verify_policy() -> Value {
    let deny: Vec<String> = Verdict::ALL
        .iter()
        .filter(|v| **v != Verdict::Match)
        .map(|v| v.as_str().to_owned())
        .chain([policy::ERROR.to_owned()])
        .collect();
    policy_descriptor(&deny, &BTreeMap::new())
}

/// The VSA statement for one report.
pub fn statement(report: &Report, policy: &Value, passed: bool, time: &str) -> Value {
    let (name, version) = (&report.krate.name, &report.krate.version);
    let purl = purl(name, version);
    let levels = if passed {
        vec![format!(
            "CRATE_PROVENANCE_VERDICT_{}",
            report.verdict.as_str().to_ascii_uppercase()
        )]
    } else {
        vec!["FAILED".to_owned()]
    };
    let mut report_annotations = json!({ "verdict": report.verdict.as_str() });
    for (k, v) in [
        ("repository", &report.source.repository),
        ("commit", &report.source.commit),
        ("path_in_vcs", &report.source.path_in_vcs),
    ] {
        if let Some(v) = v {
            report_annotations[k] = Value::from(v.as_str());
        }
    }
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{
            "name": format!("{name}-{version}.crate"),
            "uri": purl,
            "digest": { "sha256": report.krate.sha256 },
        }],
        "predicateType": VSA_TYPE,
        "predicate": {
            "verifier": {
                "id": VERIFIER_ID,
                "version": { "crate-provenance": env!("CARGO_PKG_VERSION") },
            },
            "timeVerified": time,
            "resourceUri": purl,
            "policy": policy,
            "verificationResult": if passed { "PASSED" } else { "FAILED" },
            "verifiedLevels": levels,
            REPORT_FIELD: {
                "name": format!("{name}-{version}.report.json"),
                "digest": { "sha256": report_sha256(report) },
                "mediaType": "application/json",
                "annotations": report_annotations,
            },
        },
    })
}

/// DSSE's pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

fn keyid(key: &VerifyingKey) -> String {
    sha256_hex(
        key.to_public_key_der()
            .expect("an Ed25519 public key encodes")
            .as_bytes(),
    )
}

/// An Ed25519 signing key.
#[derive(Debug)]
pub struct Signer {
    key: SigningKey,
    keyid: String,
}

impl Signer {
    /// Read a PKCS#8 PEM private key (`openssl genpkey -algorithm ed25519`).
    pub fn load(path: &Path) -> Result<Signer, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let key = SigningKey::from_pkcs8_pem(&text).map_err(|e| {
            format!(
                "`{}` is not an Ed25519 private key in PKCS#8 PEM: {e}",
                path.display()
            )
        })?;
        let keyid = keyid(&key.verifying_key());
        Ok(Signer { key, keyid })
    }

    /// The DSSE envelope of a statement.
    pub fn envelope(&self, statement: &Value) -> Value {
        let payload = serde_json::to_vec(statement).expect("statement serializes");
        let sig = self.key.sign(&pae(PAYLOAD_TYPE, &payload));
        let b64 = base64::engine::general_purpose::STANDARD;
        json!({
            "payloadType": PAYLOAD_TYPE,
            "payload": b64.encode(&payload),
            "signatures": [{ "keyid": self.keyid, "sig": b64.encode(sig.to_bytes()) }],
        })
    }
}

/// The file's text: the statement, or its signed envelope.
fn document(statement: &Value, signer: Option<&Signer>) -> String {
    let doc = match signer {
        Some(s) => s.envelope(statement),
        None => statement.clone(),
    };
    serde_json::to_string_pretty(&doc).expect("json serializes") + "\n"
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

/// `verify --attest FILE`: `PASSED` only for `match`.
pub fn write_verify(path: &Path, report: &Report, signer: Option<&Signer>) -> Result<(), String> {
    let st = statement(report, &verify_policy(), report.is_match(), &now());
    write_file(path, &document(&st, signer))
}

/// Whether a name or version can be part of a file name as it is.
fn file_safe(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.+".contains(&b))
}

/// The attestation file name of a crate version.
pub fn file_name(name: &str, version: &str, signed: bool) -> String {
    let ext = if signed { "vsa.dsse.json" } else { "vsa.json" };
    format!("{name}-{version}.{ext}")
}

/// `scan --attest-dir DIR`: one attestation per crate version with a verdict; `PASSED` when the
/// gate passes for it. Crate versions whose verification failed have no `.crate` digest to
/// attest and get none.
pub fn write_dir(
    dir: &Path,
    entries: &[&Entry],
    policy: &Policy,
    signer: Option<&Signer>,
) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let descriptor = scan_policy(policy);
    let time = now();
    let mut written = 0;
    for e in entries {
        let Outcome::Report(report) = &e.outcome else {
            continue;
        };
        let (name, version) = (&report.krate.name, &report.krate.version);
        if !file_safe(name) || !file_safe(version) {
            let _ = writeln!(
                std::io::stderr(),
                "warning: no attestation for `{}`: not a file name",
                crate::scan::summary::clean(&e.key())
            );
            continue;
        }
        let verdict = report.verdict.as_str();
        let passed = !policy.denies(verdict) || policy.exemption(&e.key()).is_some();
        let st = statement(report, &descriptor, passed, &time);
        write_file(
            &dir.join(file_name(name, version, signer.is_some())),
            &document(&st, signer),
        )?;
        written += 1;
    }
    let _ = writeln!(
        std::io::stderr(),
        "attest: wrote {written} attestations to `{}`",
        dir.display()
    );
    Ok(written)
}

/// Read a public key (SPKI PEM), or a PKCS#8 private key's public half.
fn load_public(path: &Path) -> Result<VerifyingKey, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    VerifyingKey::from_public_key_pem(&text)
        .or_else(|_| SigningKey::from_pkcs8_pem(&text).map(|k| k.verifying_key()))
        .map_err(|e| {
            format!(
                "`{}` is not an Ed25519 public key (SPKI PEM) or private key (PKCS#8 PEM): {e}",
                path.display()
            )
        })
}

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    // DSSE allows standard and URL-safe base64.
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    STANDARD
        .decode(s)
        .or_else(|_| URL_SAFE.decode(s))
        .or_else(|_| URL_SAFE_NO_PAD.decode(s))
        .ok()
}

/// Why an attestation does not verify.
#[derive(Debug)]
pub enum Invalid {
    /// The attestation is not what it claims to be (exit 1).
    Rejected(String),
    /// It could not be read (exit 2).
    Error(String),
}

/// Verify a DSSE envelope with `key`: the statement when a signature verifies and the payload is
/// an in-toto statement of a verification summary.
pub fn verify_envelope(text: &str, key: &VerifyingKey) -> Result<Value, Invalid> {
    let rejected = |m: String| Invalid::Rejected(m);
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| Invalid::Error(format!("the attestation is not JSON: {e}")))?;
    if doc.get("_type").is_some() {
        return Err(rejected(
            "the attestation is an unsigned statement: there is no signature to verify".into(),
        ));
    }
    let field = |k: &str| doc.get(k).and_then(Value::as_str);
    let (Some(payload_type), Some(payload)) = (field("payloadType"), field("payload")) else {
        return Err(rejected(
            "not a DSSE envelope: `payloadType` or `payload` is missing".into(),
        ));
    };
    if payload_type != PAYLOAD_TYPE {
        return Err(rejected(format!(
            "`payloadType` is `{}`, not `{PAYLOAD_TYPE}`",
            payload_type.escape_debug()
        )));
    }
    let payload = b64_decode(payload).ok_or_else(|| rejected("`payload` is not base64".into()))?;
    let message = pae(payload_type, &payload);
    let signatures = doc
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| rejected("not a DSSE envelope: `signatures` is missing".into()))?;
    let verified = signatures.iter().any(|s| {
        s.get("sig")
            .and_then(Value::as_str)
            .and_then(b64_decode)
            .and_then(|b| ed25519_dalek::Signature::from_slice(&b).ok())
            .is_some_and(|sig| key.verify_strict(&message, &sig).is_ok())
    });
    if !verified {
        return Err(rejected(format!(
            "no signature of the envelope ({}) verifies with the key",
            signatures.len()
        )));
    }
    let statement: Value = serde_json::from_slice(&payload)
        .map_err(|e| rejected(format!("the signed payload is not JSON: {e}")))?;
    if statement.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(rejected(format!(
            "the signed payload is not an in-toto Statement v1 (`_type` is not `{STATEMENT_TYPE}`)"
        )));
    }
    if statement.get("predicateType").and_then(Value::as_str) != Some(VSA_TYPE) {
        return Err(rejected(format!(
            "the statement's `predicateType` is not `{VSA_TYPE}`"
        )));
    }
    let has_digest = statement["subject"]
        .as_array()
        .is_some_and(|s| !s.is_empty() && s.iter().all(|s| s["digest"].is_object()));
    if !has_digest {
        return Err(rejected(
            "the statement has no `subject` with a `digest`".into(),
        ));
    }
    if !matches!(
        statement["predicate"]["verificationResult"].as_str(),
        Some("PASSED" | "FAILED")
    ) {
        return Err(rejected(
            "the statement's `verificationResult` is neither `PASSED` nor `FAILED`".into(),
        ));
    }
    Ok(statement)
}

/// Arguments of `attest`.
#[derive(Debug, clap::Args)]
pub struct AttestArgs {
    #[command(subcommand)]
    command: AttestCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AttestCommand {
    /// Verify a signed attestation (a DSSE envelope written with `--signing-key`).
    ///
    /// Exit status: 0 = a signature verifies with the key and the payload is a verification
    /// summary statement (whether it says PASSED or FAILED: both are printed), 1 = it does not
    /// (or the `--crate-file` is not its subject), 2 = error.
    Verify {
        /// The Ed25519 public key (SPKI PEM, `openssl pkey -pubout`); a PKCS#8 private key is
        /// accepted too.
        #[arg(long, value_name = "PUB")]
        key: PathBuf,
        /// The attestation file.
        file: PathBuf,
        /// Also require that this `.crate` file (its SHA-256) is the statement's subject.
        #[arg(long, value_name = "PATH")]
        crate_file: Option<PathBuf>,
    },
}

/// `crate-provenance attest`.
pub fn run(args: &AttestArgs) -> ExitCode {
    let AttestCommand::Verify {
        key,
        file,
        crate_file,
    } = &args.command;
    let error = |m: &str| {
        let _ = writeln!(std::io::stderr(), "error: {m}");
        ExitCode::from(2)
    };
    let rejected = |m: &str| {
        let _ = writeln!(std::io::stderr(), "invalid: `{}`: {m}", file.display());
        ExitCode::from(1)
    };
    let key = match load_public(key) {
        Ok(k) => k,
        Err(e) => return error(&e),
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => return error(&format!("cannot read `{}`: {e}", file.display())),
    };
    let statement = match verify_envelope(&text, &key) {
        Ok(s) => s,
        Err(Invalid::Rejected(m)) => return rejected(&m),
        Err(Invalid::Error(m)) => return error(&m),
    };
    let subject = &statement["subject"][0];
    if let Some(path) = crate_file {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return error(&format!("cannot read `{}`: {e}", path.display())),
        };
        let digest = sha256_hex(&bytes);
        let matches = statement["subject"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["digest"]["sha256"].as_str() == Some(digest.as_str()));
        if !matches {
            return rejected(&format!(
                "`{}` (sha256 {digest}) is not the statement's subject",
                path.display()
            ));
        }
    }
    let p = &statement["predicate"];
    let text = |v: &Value| crate::scan::summary::clean(v.as_str().unwrap_or("?"));
    let _ = writeln!(
        std::io::stdout(),
        "verified: `{}` (sha256 {}) {}: {} by {} at {}, signed by key {}",
        text(&subject["name"]),
        text(&subject["digest"]["sha256"]),
        text(&p["verificationResult"]),
        p["verifiedLevels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect::<Vec<_>>()
            .join(", "),
        text(&p["verifier"]["id"]),
        text(&p["timeVerified"]),
        keyid(&key),
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn pae_is_dsse_v1() {
        // The example of the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn purls_encode_build_metadata() {
        assert_eq!(purl("ryu", "1.0.23"), "pkg:cargo/ryu@1.0.23");
        assert_eq!(purl("x", "1.0.0+meta"), "pkg:cargo/x@1.0.0%2Bmeta");
    }
}
