//! One tar header: checksum, entry type, path validation, PAX records.

use super::anomaly::EntryType;
use super::error::{Error, PathProblem};
use super::stream::BLOCK;
use crate::error::LimitError;
use crate::limits::Limits;
use crate::text::escape;

pub(super) fn check_record_size(size: u64, limits: &Limits) -> Result<(), Error> {
    if size > limits.max_metadata_record_bytes {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_metadata_record_bytes",
            max: limits.max_metadata_record_bytes,
            value: size,
        }));
    }
    Ok(())
}

pub(super) fn verify_checksum(block: &[u8; BLOCK], offset: u64) -> Result<(), Error> {
    let sum: u32 = block[..148]
        .iter()
        .chain(&block[156..])
        .map(|b| u32::from(*b))
        .sum::<u32>()
        + 8 * 32;
    let field = &block[148..156];
    let text: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| *b as char)
        .collect();
    let text = text.trim();
    let stored = u32::from_str_radix(text, 8).map_err(|_| Error::TarHeader {
        offset,
        message: format!("unparsable checksum field `{}`", escape(field)),
    })?;
    if stored != sum {
        return Err(Error::TarHeader {
            offset,
            message: format!("checksum mismatch (stored {stored}, computed {sum})"),
        });
    }
    Ok(())
}

pub(super) fn classify_type(t: tar::EntryType) -> EntryType {
    match t.as_byte() {
        b'0' | 0 => EntryType::Regular,
        b'1' => EntryType::HardLink,
        b'2' => EntryType::Symlink,
        b'3' | b'4' => EntryType::Device,
        b'6' => EntryType::Fifo,
        b'S' => EntryType::Sparse,
        other => EntryType::Other(other),
    }
}

/// Validate an archive path and strip the `NAME-VERSION/` prefix. The first entry fixes the
/// prefix. Returns `None` for the prefix directory itself.
pub(super) fn validate_path(
    name: &[u8],
    is_dir: bool,
    prefix: &mut String,
    limits: &Limits,
) -> Result<Option<String>, Error> {
    let err = |problem| Error::InvalidPath {
        path: escape(name),
        problem,
    };
    if name.is_empty() {
        return Err(err(PathProblem::Empty));
    }
    if name.len() as u64 > limits.max_path_bytes {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_path_bytes",
            max: limits.max_path_bytes,
            value: name.len() as u64,
        }));
    }
    if name.contains(&0) {
        return Err(err(PathProblem::Nul));
    }
    let Ok(text) = std::str::from_utf8(name) else {
        return Err(err(PathProblem::NonUtf8));
    };
    if text.starts_with('/') {
        return Err(err(PathProblem::Absolute));
    }
    if text.starts_with("\\\\") || (text.len() >= 2 && text.as_bytes()[1] == b':') {
        return Err(err(PathProblem::WindowsPrefix));
    }
    if text.contains('\\') {
        return Err(err(PathProblem::Backslash));
    }
    let mut trimmed = text;
    if let Some(t) = trimmed.strip_suffix('/') {
        if !is_dir {
            return Err(Error::InvalidEntry {
                path: escape(name),
                message: "a file name ends with `/`".into(),
            });
        }
        trimmed = t;
    }
    let components: Vec<&str> = trimmed.split('/').collect();
    if components.len() as u64 > limits.max_path_depth {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_path_depth",
            max: limits.max_path_depth,
            value: components.len() as u64,
        }));
    }
    for c in &components {
        match *c {
            ".." => return Err(err(PathProblem::ParentDir)),
            "." | "" => return Err(err(PathProblem::CurDirOrEmpty)),
            _ => {}
        }
        if c.len() as u64 > limits.max_component_bytes {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_component_bytes",
                max: limits.max_component_bytes,
                value: c.len() as u64,
            }));
        }
    }
    if prefix.is_empty() {
        components[0].clone_into(prefix);
    } else if components[0] != prefix {
        return Err(err(PathProblem::OutsidePrefix));
    }
    if components.len() == 1 {
        if !is_dir {
            return Err(err(PathProblem::OutsidePrefix));
        }
        return Ok(None);
    }
    Ok(Some(components[1..].join("/")))
}

#[derive(Debug, Default)]
pub(super) struct Pax {
    pub(super) path: Option<Vec<u8>>,
    pub(super) linkpath: Option<Vec<u8>>,
    pub(super) size: Option<u64>,
}

pub(super) fn parse_pax(data: &[u8]) -> Result<Pax, Error> {
    let bad = |m: String| Error::MalformedPax { message: m };
    let mut pax = Pax::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut rest = data;
    while !rest.is_empty() {
        // Trailing NUL padding after the last record is tolerated.
        if rest.iter().all(|b| *b == 0) {
            break;
        }
        let sp = rest
            .iter()
            .position(|b| *b == b' ')
            .ok_or_else(|| bad("record without a length".into()))?;
        let len_text =
            std::str::from_utf8(&rest[..sp]).map_err(|_| bad("non-ascii record length".into()))?;
        if len_text.is_empty() || !len_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(format!(
                "invalid record length `{}`",
                escape(len_text.as_bytes())
            )));
        }
        let len: usize = len_text
            .parse()
            .map_err(|_| bad("record length out of range".into()))?;
        if len <= sp + 1 || len > rest.len() {
            return Err(bad(format!("record length {len} does not fit the header")));
        }
        let record = &rest[sp + 1..len];
        let Some((&b'\n', body)) = record.split_last() else {
            return Err(bad("record does not end with a newline".into()));
        };
        let eq = body
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(|| bad("record without `=`".into()))?;
        let (key, value) = (&body[..eq], &body[eq + 1..]);
        if !seen.insert(key.to_vec()) {
            return Err(bad(format!("duplicate key `{}`", escape(key))));
        }
        match key {
            b"path" => pax.path = Some(value.to_vec()),
            b"linkpath" => pax.linkpath = Some(value.to_vec()),
            b"size" => {
                let text =
                    std::str::from_utf8(value).map_err(|_| bad("non-ascii `size`".into()))?;
                if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(format!("invalid `size` value `{}`", escape(value))));
                }
                pax.size = Some(
                    text.parse()
                        .map_err(|_| bad("`size` out of range".into()))?,
                );
            }
            k if k.starts_with(b"GNU.sparse") => {
                return Err(bad("gnu sparse pax records are not supported".into()));
            }
            _ => {}
        }
        rest = &rest[len..];
    }
    Ok(pax)
}
