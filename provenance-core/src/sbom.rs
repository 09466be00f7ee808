//! Annotate a software bill of materials with verification results: every `pkg:cargo/` component
//! of a CycloneDX JSON document gets `properties`, every `pkg:cargo/` package of an SPDX 2.3 JSON
//! document gets an entry in its `annotations`.
//!
//! # Format
//!
//! CycloneDX (components at any depth, and `metadata.component`): the properties
//! [`PROPERTY_VERDICT`] (a verdict name, or `error`), [`PROPERTY_COMMIT`] (the commit compared,
//! when there is one) and [`PROPERTY_REPORT_SHA256`] (the SHA-256 of the report's compact JSON,
//! when there is a report) are appended to the component's `properties`, after removing earlier
//! ones of the same names (annotating twice gives the same document).
//!
//! SPDX: one annotation `{"annotationDate", "annotationType": "OTHER", "annotator": "Tool: …",
//! "comment"}` per package, whose comment holds the same three facts as `NAME=VALUE` lines; an
//! earlier annotation of ours (a comment starting with `crate-provenance:verdict=`) is replaced.
//!
//! Everything else is kept: members keep their order, strings and numbers their values (an
//! integer beyond 64 bits, which SBOMs do not use, is kept as the nearest `f64`). The output is
//! pretty-printed JSON with a final newline.

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ErrorKind;

/// CycloneDX property (and SPDX comment line) holding the verdict name, or `error`.
pub const PROPERTY_VERDICT: &str = "crate-provenance:verdict";
/// CycloneDX property (and SPDX comment line) holding the commit that was compared.
pub const PROPERTY_COMMIT: &str = "crate-provenance:commit";
/// CycloneDX property (and SPDX comment line) holding the SHA-256 of the report's compact JSON.
pub const PROPERTY_REPORT_SHA256: &str = "crate-provenance:report-sha256";

/// What is recorded for one crate version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// The verdict name, or `error` when verification failed.
    pub verdict: String,
    /// The commit compared, if any.
    pub commit: Option<String>,
    /// The SHA-256 (hex) of the report's compact JSON, if there is a report.
    pub report_sha256: Option<String>,
}

impl Annotation {
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut out = vec![(PROPERTY_VERDICT, self.verdict.as_str())];
        if let Some(c) = &self.commit {
            out.push((PROPERTY_COMMIT, c));
        }
        if let Some(d) = &self.report_sha256 {
            out.push((PROPERTY_REPORT_SHA256, d));
        }
        out
    }
}

/// The SHA-256 (lowercase hex) of the report's compact JSON: exactly the line `scan --out`
/// writes for it (without the newline).
pub fn report_sha256(report: &crate::report::Report) -> String {
    use sha2::Digest;
    let json = serde_json::to_string(report).expect("report serializes");
    sha2::Sha256::digest(json.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl Annotation {
    /// The annotation of a report: its verdict, commit and digest.
    pub fn of_report(report: &crate::report::Report) -> Annotation {
        Annotation {
            verdict: report.verdict.as_str().to_owned(),
            commit: report.source.commit.clone(),
            report_sha256: Some(report_sha256(report)),
        }
    }
}

/// The kind of SBOM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// CycloneDX JSON (`"bomFormat": "CycloneDX"`).
    CycloneDx,
    /// SPDX JSON (`spdxVersion`).
    Spdx,
}

/// Why an SBOM cannot be annotated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not JSON.
    #[error("the SBOM is not JSON: {0}")]
    Json(String),
    /// JSON, but neither CycloneDX nor SPDX.
    #[error(
        "the SBOM is neither a CycloneDX JSON (`bomFormat`) nor an SPDX JSON (`spdxVersion`) document"
    )]
    UnknownFormat,
}

impl Error {
    /// The stable error kind.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidInput
    }
}

/// An annotated document.
#[derive(Debug, Clone)]
pub struct Annotated {
    /// The document (pretty JSON, final newline).
    pub bytes: Vec<u8>,
    /// The kind of SBOM.
    pub format: Format,
    /// How many components (packages) were annotated.
    pub annotated: usize,
}

/// JSON that keeps the order (and duplicates) of object members.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        match self {
            Json::Object(m) => m.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The array under `key`, created (as the last member) when absent; `None` when the member
    /// exists but is not an array, or `self` is not an object.
    fn array_member(&mut self, key: &str) -> Option<&mut Vec<Json>> {
        let Json::Object(m) = self else { return None };
        let at = if let Some(i) = m.iter().position(|(k, _)| k == key) {
            i
        } else {
            m.push((key.to_owned(), Json::Array(Vec::new())));
            m.len() - 1
        };
        match &mut m[at].1 {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    fn object(members: Vec<(&str, Json)>) -> Json {
        Json::Object(
            members
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json, E> {
                serde_json::Number::from_f64(v)
                    .map(Json::Number)
                    .ok_or_else(|| E::custom("a number that is not finite"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(Json::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    out.push((k, v));
                }
                Ok(Json::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::String(v) => s.serialize_str(v),
            Json::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Json::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `(name, version)` of a `pkg:cargo/NAME@VERSION` package URL (qualifiers and subpath
/// ignored, percent-encoding decoded); `None` for other purls or one without a version.
pub fn cargo_purl(purl: &str) -> Option<(String, String)> {
    let rest = purl.strip_prefix("pkg:")?.trim_start_matches('/');
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (kind, path) = rest.split_once('/')?;
    if !kind.eq_ignore_ascii_case("cargo") {
        return None;
    }
    let (path, version) = path.rsplit_once('@')?;
    let name = path.trim_end_matches('/').rsplit('/').next()?;
    let (name, version) = (percent_decode(name), percent_decode(version));
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

type Lookup<'a> = dyn FnMut(&str, &str) -> Option<Annotation> + 'a;

fn annotation_for(purl: Option<&Json>, lookup: &mut Lookup<'_>) -> Option<Annotation> {
    let (name, version) = cargo_purl(purl?.as_str()?)?;
    lookup(&name, &version)
}

fn cyclonedx_component(c: &mut Json, lookup: &mut Lookup<'_>) -> usize {
    let mut n = 0;
    if let Some(a) = annotation_for(c.get("purl"), lookup)
        && let Some(props) = c.array_member("properties")
    {
        props.retain(|p| {
            !p.get("name")
                .and_then(Json::as_str)
                .is_some_and(|name| name.starts_with("crate-provenance:"))
        });
        for (name, value) in a.pairs() {
            props.push(Json::object(vec![
                ("name", Json::String(name.to_owned())),
                ("value", Json::String(value.to_owned())),
            ]));
        }
        n += 1;
    }
    if let Some(Json::Array(children)) = c.get_mut("components") {
        for child in children {
            n += cyclonedx_component(child, lookup);
        }
    }
    n
}

fn spdx_package(p: &mut Json, annotator: &str, date: &str, lookup: &mut Lookup<'_>) -> usize {
    let purl = p
        .get("externalRefs")
        .and_then(|r| match r {
            Json::Array(a) => a
                .iter()
                .find(|r| r.get("referenceType").and_then(Json::as_str) == Some("purl")),
            _ => None,
        })
        .and_then(|r| r.get("referenceLocator"))
        .cloned();
    let Some(a) = annotation_for(purl.as_ref(), lookup) else {
        return 0;
    };
    let Some(list) = p.array_member("annotations") else {
        return 0;
    };
    let ours = format!("{PROPERTY_VERDICT}=");
    list.retain(|x| {
        !x.get("comment")
            .and_then(Json::as_str)
            .is_some_and(|c| c.starts_with(&ours))
    });
    let comment = a
        .pairs()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n");
    list.push(Json::object(vec![
        ("annotationDate", Json::String(date.to_owned())),
        ("annotationType", Json::String("OTHER".to_owned())),
        ("annotator", Json::String(format!("Tool: {annotator}"))),
        ("comment", Json::String(comment)),
    ]));
    1
}

/// Annotate a CycloneDX JSON or SPDX JSON document. `lookup(name, version)` gives the
/// annotation of a `pkg:cargo/` component, or `None` to leave it alone. `annotator` names the
/// tool (`crate-provenance-0.1.0`) and `date` (`YYYY-MM-DDThh:mm:ssZ`) dates SPDX annotations.
pub fn annotate(
    sbom: &[u8],
    annotator: &str,
    date: &str,
    lookup: &mut dyn FnMut(&str, &str) -> Option<Annotation>,
) -> Result<Annotated, Error> {
    let mut doc: Json = serde_json::from_slice(sbom).map_err(|e| Error::Json(e.to_string()))?;
    let (format, annotated) = if doc.get("bomFormat").and_then(Json::as_str) == Some("CycloneDX") {
        let mut n = 0;
        if let Some(root) = doc.get_mut("metadata").and_then(|m| m.get_mut("component")) {
            n += cyclonedx_component(root, lookup);
        }
        if let Some(Json::Array(cs)) = doc.get_mut("components") {
            for c in cs {
                n += cyclonedx_component(c, lookup);
            }
        }
        (Format::CycloneDx, n)
    } else if doc.get("spdxVersion").is_some() {
        let mut n = 0;
        if let Some(Json::Array(ps)) = doc.get_mut("packages") {
            for p in ps {
                n += spdx_package(p, annotator, date, lookup);
            }
        }
        (Format::Spdx, n)
    } else {
        return Err(Error::UnknownFormat);
    };
    let mut bytes = serde_json::to_vec_pretty(&doc).expect("json serializes");
    bytes.push(b'\n');
    Ok(Annotated {
        bytes,
        format,
        annotated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str, version: &str) -> Option<Annotation> {
        (name == "serde" && version == "1.0.0+x").then(|| Annotation {
            verdict: "match".into(),
            commit: Some("ab".repeat(20)),
            report_sha256: Some("cd".repeat(32)),
        })
    }

    #[test]
    fn purls() {
        assert_eq!(
            cargo_purl("pkg:cargo/serde@1.0.0%2Bx?repository_url=y#sub"),
            Some(("serde".into(), "1.0.0+x".into()))
        );
        assert_eq!(cargo_purl("pkg:npm/serde@1"), None);
        assert_eq!(cargo_purl("pkg:cargo/serde"), None);
    }

    #[test]
    fn cyclonedx_keeps_order_and_is_idempotent() {
        let doc = br#"{"bomFormat":"CycloneDX","zeta":1.5e3,"specVersion":"1.5","components":[{"name":"serde","purl":"pkg:cargo/serde@1.0.0%2Bx","properties":[{"name":"other","value":"v"},{"name":"crate-provenance:verdict","value":"old"}],"components":[{"name":"serde","purl":"pkg:cargo/serde@1.0.0%2Bx"}]},{"name":"left","purl":"pkg:cargo/left@1"}],"big":18446744073709551615}"#;
        let a = annotate(
            doc,
            "crate-provenance-0",
            "2000-01-01T00:00:00Z",
            &mut lookup,
        )
        .unwrap();
        assert_eq!(a.format, Format::CycloneDx);
        assert_eq!(a.annotated, 2);
        let text = String::from_utf8(a.bytes.clone()).unwrap();
        let order: Vec<usize> = ["bomFormat", "zeta", "specVersion", "components", "big"]
            .iter()
            .map(|k| text.find(&format!("\"{k}\"")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
        let v: serde_json::Value = serde_json::from_slice(&a.bytes).unwrap();
        assert_eq!(v["zeta"], serde_json::json!(1500.0));
        assert_eq!(v["big"], serde_json::json!(u64::MAX));
        let props = v["components"][0]["properties"].as_array().unwrap();
        assert_eq!(props.len(), 4, "{props:?}");
        assert_eq!(props[0]["name"], "other");
        assert_eq!(props[1]["value"], "match");
        assert_eq!(
            v["components"][0]["components"][0]["properties"][0]["value"],
            "match"
        );
        assert!(v["components"][1].get("properties").is_none());
        let again = annotate(&a.bytes, "crate-provenance-0", "x", &mut lookup).unwrap();
        assert_eq!(again.bytes, a.bytes);
    }

    #[test]
    fn spdx_annotations_and_errors() {
        let doc = br#"{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:cargo/serde@1.0.0%2Bx"}]}]}"#;
        let a = annotate(
            doc,
            "crate-provenance-0",
            "2000-01-01T00:00:00Z",
            &mut lookup,
        )
        .unwrap();
        assert_eq!((a.format, a.annotated), (Format::Spdx, 1));
        let v: serde_json::Value = serde_json::from_slice(&a.bytes).unwrap();
        let ann = &v["packages"][0]["annotations"][0];
        assert_eq!(ann["annotationType"], "OTHER");
        assert_eq!(ann["annotator"], "Tool: crate-provenance-0");
        assert!(
            ann["comment"]
                .as_str()
                .unwrap()
                .starts_with("crate-provenance:verdict=match\ncrate-provenance:commit=abab")
        );
        let again = annotate(
            &a.bytes,
            "crate-provenance-0",
            "2000-01-01T00:00:00Z",
            &mut lookup,
        )
        .unwrap();
        assert_eq!(again.bytes, a.bytes);
        assert!(matches!(
            annotate(b"{}", "t", "d", &mut lookup),
            Err(Error::UnknownFormat)
        ));
        assert!(matches!(
            annotate(b"{", "t", "d", &mut lookup),
            Err(Error::Json(_))
        ));
    }
}
