//! A registry's feed of recent publishes: RSS 2.0 as crates.io serves `/rss/updates.xml` (the
//! latest 100 published versions), one `<item>` each with `<title>NAME vVERSION</title>`,
//! `<link>`/`<guid>` `https://crates.io/crates/NAME/VERSION` and an RFC 2822 `<pubDate>`.
//!
//! Parsed with `quick-xml` (events, no DTD, no external entities). The feed is fetched with a
//! conditional GET like the index. An item whose crate name or version is not valid is left
//! out; an item without a parseable `pubDate` is kept (it takes part in no gap check).

use std::io::Read as _;
use std::time::Duration;

use provenance_core::fetch::Validators;
use quick_xml::events::Event;

/// Maximum size of a feed document.
const MAX_FEED_BYTES: u64 = 8 << 20;

/// One item of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Crate name.
    pub name: String,
    /// Version.
    pub version: String,
    /// `pubDate` as Unix seconds.
    pub published: Option<i64>,
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 150
        && v.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
}

/// `NAME vVERSION` (the title) or `…/crates/NAME/VERSION` (the link or guid).
fn name_version(title: &str, link: &str) -> Option<(String, String)> {
    let from_title = title
        .trim()
        .rsplit_once(' ')
        .and_then(|(n, v)| Some((n.trim(), v.strip_prefix('v')?)));
    let from_link = || {
        let rest = link.trim().split("/crates/").nth(1)?;
        let mut parts = rest.trim_end_matches('/').split('/');
        Some((parts.next()?, parts.next()?))
    };
    let (n, v) = from_title
        .filter(|(n, v)| valid_name(n) && valid_version(v))
        .or_else(from_link)?;
    (valid_name(n) && valid_version(v)).then(|| (n.to_owned(), v.to_owned()))
}

/// The items of an RSS 2.0 document, in document order. `Err` when it is not well-formed XML
/// or has no `<rss>`/`<channel>`.
pub fn parse(xml: &[u8]) -> Result<Vec<Item>, String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut items = Vec::new();
    let mut fields: [String; 4] = Default::default(); // title, link, guid, pubDate
    let mut saw_channel = false;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("not a valid feed: {e}"))?;
        let field = |path: &[Vec<u8>]| -> Option<usize> {
            let n = path.len();
            if n < 2 || path[n - 2] != b"item" {
                return None;
            }
            match path[n - 1].as_slice() {
                b"title" => Some(0),
                b"link" => Some(1),
                b"guid" => Some(2),
                b"pubDate" => Some(3),
                _ => None,
            }
        };
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().as_bytes().to_vec();
                if name == b"channel" && path.last().is_some_and(|p| p == b"rss") {
                    saw_channel = true;
                }
                if name == b"item" {
                    fields = Default::default();
                }
                path.push(name);
                if path.len() > 64 {
                    return Err("not a valid feed: elements nested more than 64 deep".into());
                }
            }
            Event::End(_) => {
                let ended = path.pop();
                if ended.as_deref() == Some(b"item".as_slice()) {
                    let link = if fields[1].trim().is_empty() {
                        &fields[2]
                    } else {
                        &fields[1]
                    };
                    if let Some((name, version)) = name_version(&fields[0], link) {
                        items.push(Item {
                            name,
                            version,
                            published: jiff::fmt::rfc2822::parse(fields[3].trim())
                                .ok()
                                .map(|z| z.timestamp().as_second()),
                        });
                    }
                }
            }
            Event::Text(t) => {
                if let Some(i) = field(&path) {
                    fields[i].push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(i) = field(&path) {
                    fields[i].push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(i) = field(&path) {
                    let text = r.xml10_content();
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        _ => quick_xml::escape::resolve_predefined_entity(&text).map(str::to_owned),
                    };
                    fields[i].push_str(&resolved.unwrap_or_default());
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_channel {
        return Err("not an RSS 2.0 feed: no `<rss><channel>`".into());
    }
    Ok(items)
}

/// What a feed poll found.
#[derive(Debug)]
pub enum Fetched {
    /// `304 Not Modified`.
    NotModified,
    /// The items and the answer's validators.
    Items(Vec<Item>, Validators),
}

/// Fetch the feed with a conditional GET (`https://`, or `http://` with `insecure`).
pub fn fetch(url: &str, previous: &Validators, insecure: bool) -> Result<Fetched, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("`--feed`: invalid URL: {e}"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if insecure => {}
        _ => {
            return Err(format!(
                "`--feed`: `{}` is refused (only `https://`, or `http://` with `--allow-insecure-transport`)",
                parsed.scheme()
            ));
        }
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .no_proxy()
        .user_agent(format!("crate-provenance/{}", super::db::TOOL_VERSION))
        .build()
        .map_err(|e| format!("cannot create the HTTP client: {e}"))?;
    let mut req = client.get(parsed);
    if let Some(e) = &previous.etag {
        req = req.header(reqwest::header::IF_NONE_MATCH, e);
    }
    if let Some(lm) = &previous.last_modified {
        req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
    }
    let resp = req
        .send()
        .map_err(|e| format!("cannot fetch the feed `{url}`: {e}"))?;
    if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if !resp.status().is_success() {
        return Err(format!(
            "cannot fetch the feed `{url}`: HTTP status {}",
            resp.status()
        ));
    }
    let header = |h| {
        resp.headers()
            .get(h)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let validators = Validators {
        etag: header(reqwest::header::ETAG),
        last_modified: header(reqwest::header::LAST_MODIFIED),
    };
    let mut data = Vec::new();
    resp.take(MAX_FEED_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("cannot read the feed `{url}`: {e}"))?;
    if data.len() as u64 > MAX_FEED_BYTES {
        return Err(format!(
            "the feed `{url}` is larger than {MAX_FEED_BYTES} bytes"
        ));
    }
    let items = parse(&data).map_err(|e| format!("`{url}`: {e}"))?;
    Ok(Fetched::Items(items, validators))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crates_io_shape() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>crates.io: recent updates</title><link>https://crates.io/</link>
<item><title>serde v1.0.300</title><link>https://crates.io/crates/serde/1.0.300</link>
<guid>https://crates.io/crates/serde/1.0.300</guid><pubDate>Tue, 02 Dec 2025 10:00:00 +0000</pubDate></item>
<item><title><![CDATA[a-b_c v0.1.0-rc.1+x]]></title><link>https://crates.io/crates/a-b_c/0.1.0-rc.1+x</link><pubDate>bad</pubDate></item>
<item><title>&lt;script&gt; v1</title><link>https://crates.io/crates/x</link></item>
</channel></rss>"#;
        let items = parse(xml).unwrap();
        assert_eq!(
            items,
            [
                Item {
                    name: "serde".into(),
                    version: "1.0.300".into(),
                    published: Some(1_764_669_600),
                },
                Item {
                    name: "a-b_c".into(),
                    version: "0.1.0-rc.1+x".into(),
                    published: None,
                },
            ]
        );
        assert!(parse(b"<html><item/></html>").is_err());
        assert!(parse(b"<rss><channel><item></rss>").is_err());
    }
}
