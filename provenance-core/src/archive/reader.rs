//! Reading a `.crate`: gzip, then the tar stream header by header into a [`CrateArchive`].

use std::collections::BTreeMap;
use std::io::Read;

use super::anomaly::{Anomaly, EntryType, path_suspicion};
use super::error::Error;
use super::files::{CrateArchive, File};
use super::header::{
    Pax, check_record_size, classify_type, parse_pax, validate_path, verify_checksum,
};
use super::stream::{BLOCK, Fill, Stream};
use crate::error::LimitError;
use crate::limits::Limits;
use crate::text::escape;

/// Read a `.crate` file from disk (bounded by [`Limits::max_crate_bytes`]) and parse it.
/// Returns the archive and the raw bytes (for hashing).
pub fn read_file(
    path: &std::path::Path,
    limits: &Limits,
) -> Result<(CrateArchive, Vec<u8>), Error> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    f.take(limits.max_crate_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limits.max_crate_bytes {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_crate_bytes",
            max: limits.max_crate_bytes,
            value: bytes.len() as u64,
        }));
    }
    let archive = parse(&bytes, limits)?;
    Ok((archive, bytes))
}

/// Parse `.crate` bytes (gzip-compressed tar) into memory.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<CrateArchive, Error> {
    // Test-only fault injection (SECURITY.md B1): lets the binding suites check their panic
    // boundaries. Never enabled by default.
    #[cfg(feature = "fault-injection")]
    assert!(
        !bytes.starts_with(b"PROVENANCE-FAULT-INJECTION:panic"),
        "fault injection: parser panic"
    );
    if bytes.len() as u64 > limits.max_crate_bytes {
        return Err(Error::LimitExceeded(LimitError {
            limit: "max_crate_bytes",
            max: limits.max_crate_bytes,
            value: bytes.len() as u64,
        }));
    }
    if bytes.len() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b {
        return Err(Error::Gzip {
            message: if bytes.is_empty() {
                "the file is empty".into()
            } else {
                "not a gzip stream (bad magic bytes)".into()
            },
        });
    }
    let cap = limits.decompressed_cap(bytes.len() as u64);
    let mut reader = Reader {
        stream: Stream::new(bytes, cap),
        limits,
        archive: CrateArchive::default(),
        pending_gnu_name: None,
        pending_gnu_link: None,
        pending_pax: None,
        raw_paths: Vec::new(),
        retained: 0,
    };
    let saw_end = reader.headers()?;
    reader.finish(saw_end)
}

/// The state of one [`parse`].
struct Reader<'a> {
    stream: Stream<'a>,
    limits: &'a Limits,
    archive: CrateArchive,
    /// Metadata records (GNU long name / long link, PAX) waiting for the entry they describe.
    pending_gnu_name: Option<Vec<u8>>,
    pending_gnu_link: Option<Vec<u8>>,
    pending_pax: Option<Pax>,
    /// Every package path seen (regular or not), for the case-fold and suspicion checks.
    raw_paths: Vec<String>,
    /// Bytes kept in memory so far.
    retained: u64,
}

impl Reader<'_> {
    /// Read headers until the end-of-archive marker (`true`) or the end of the stream (`false`).
    fn headers(&mut self) -> Result<bool, Error> {
        let mut header_buf = [0u8; BLOCK];
        loop {
            let header_offset = self.stream.offset;
            match self.stream.fill(&mut header_buf)? {
                Fill::Full => {}
                Fill::Eof(0) => return Ok(false),
                Fill::Eof(_) => {
                    return Err(Error::Truncated {
                        offset: self.stream.offset,
                        path: String::new(),
                        declared: BLOCK as u64,
                    });
                }
            }
            if header_buf.iter().all(|b| *b == 0) {
                // End of archive: one or two zero blocks. Read the rest and look for hidden data.
                return Ok(true);
            }
            self.entry(&header_buf, header_offset)?;
        }
    }

    /// One tar entry: a metadata record for the next entry, or an entry of the package.
    fn entry(&mut self, header_buf: &[u8; BLOCK], header_offset: u64) -> Result<(), Error> {
        let limits = self.limits;
        self.archive.entry_count += 1;
        if self.archive.entry_count > limits.max_entries {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_entries",
                max: limits.max_entries,
                value: self.archive.entry_count,
            }));
        }
        let header = tar::Header::from_byte_slice(header_buf);
        verify_checksum(header_buf, header_offset)?;
        // The size field as stored: the number of data bytes that follow in the stream.
        // (`Header::size` returns a GNU sparse file's `realsize` instead, which would let the
        // data of an `S` entry be read as headers: C7.)
        let header_size = header.entry_size().map_err(|e| Error::TarHeader {
            offset: header_offset,
            message: format!("unparsable size: {e}"),
        })?;
        // A declared size that cannot fit the decompressed cap is refused before anything is
        // buffered (C17: one entry declaring 1 GiB of zeros never grows a 512 MiB buffer).
        let remaining = self.stream.r.cap.saturating_sub(self.stream.offset);
        if header_size > remaining {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_decompressed_bytes",
                max: self.stream.r.cap,
                value: self.stream.offset.saturating_add(header_size),
            }));
        }
        if self.metadata_record(header, header_size)? {
            return Ok(());
        }
        let (name, link) = self.effective_name(header, header_size)?;
        let entry_type = header.entry_type();
        let is_dir = entry_type.is_dir();
        let rel = validate_path(&name, is_dir, &mut self.archive.prefix, limits)?;
        let kind = classify_type(entry_type);

        if is_dir {
            if header_size != 0 {
                return Err(Error::InvalidEntry {
                    path: escape(&name),
                    message: format!("directory entry with {header_size} bytes of data"),
                });
            }
            return Ok(());
        }
        let Some(rel) = rel else {
            return Err(Error::InvalidEntry {
                path: escape(&name),
                message: "a file entry names the top-level directory itself".into(),
            });
        };
        if matches!(kind, EntryType::Regular) {
            self.regular(rel, header.mode().unwrap_or(0), header_size)
        } else {
            self.non_regular(rel, kind, header_size, link)
        }
    }

    /// GNU long names and links and PAX records describe the next entry: keep them for it.
    /// Returns whether the header was such a record.
    fn metadata_record(&mut self, header: &tar::Header, header_size: u64) -> Result<bool, Error> {
        let limits = self.limits;
        let entry_type = header.entry_type();
        if entry_type.is_gnu_longname() || entry_type.is_gnu_longlink() {
            check_record_size(header_size, limits)?;
            let mut data = self.stream.read_data(header_size, "././@LongLink")?;
            while data.last() == Some(&0) {
                data.pop();
            }
            if entry_type.is_gnu_longname() {
                self.pending_gnu_name = Some(data);
            } else {
                self.pending_gnu_link = Some(data);
            }
            return Ok(true);
        }
        if entry_type.is_pax_local_extensions() {
            check_record_size(header_size, limits)?;
            let data = self.stream.read_data(header_size, "pax header")?;
            if self.pending_pax.is_some() {
                return Err(Error::MalformedPax {
                    message: "two pax extended headers for one entry".into(),
                });
            }
            self.pending_pax = Some(parse_pax(&data)?);
            return Ok(true);
        }
        if entry_type.is_pax_global_extensions() {
            // Policy (C7): global headers change how every later entry is read; cargo never
            // writes one, so the archive is refused.
            return Err(Error::InvalidEntry {
                path: escape(&header.path_bytes()),
                message: "pax global extended header (`g`) is not supported".into(),
            });
        }
        Ok(false)
    }

    /// The effective name: PAX path, else GNU long name, else the header (with ustar prefix);
    /// and the link name, the same way.
    fn effective_name(
        &mut self,
        header: &tar::Header,
        header_size: u64,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), Error> {
        let pax = self.pending_pax.take();
        let gnu_name = self.pending_gnu_name.take();
        let gnu_link = self.pending_gnu_link.take();
        let name: Vec<u8> = match (&pax.as_ref().and_then(|p| p.path.clone()), &gnu_name) {
            (Some(p), Some(g)) if p != g => {
                return Err(Error::AmbiguousPath {
                    gnu: escape(g),
                    pax: escape(p),
                });
            }
            (Some(p), _) => p.clone(),
            (None, Some(g)) => g.clone(),
            (None, None) => header.path_bytes().into_owned(),
        };
        let link: Option<Vec<u8>> = pax
            .as_ref()
            .and_then(|p| p.linkpath.clone())
            .or(gnu_link)
            .or_else(|| header.link_name_bytes().map(std::borrow::Cow::into_owned));
        if let Some(pax_size) = pax.as_ref().and_then(|p| p.size)
            && pax_size != header_size
        {
            return Err(Error::PaxSizeMismatch {
                path: escape(&name),
                pax: pax_size,
                header: header_size,
            });
        }
        Ok((name, link))
    }

    /// A regular file: kept in memory or hashed while streaming; a second occurrence of a path
    /// is an anomaly.
    fn regular(&mut self, rel: String, mode: u32, header_size: u64) -> Result<(), Error> {
        let limits = self.limits;
        let archive = &mut self.archive;
        // Keep small files (and the metadata cargo generates) in memory; hash the rest while
        // streaming, so memory stays bounded whatever the archive holds (C17, E12).
        let metadata = matches!(
            rel.as_str(),
            "Cargo.toml" | "Cargo.toml.orig" | "Cargo.lock" | ".cargo_vcs_info.json"
        ) && header_size <= limits.max_manifest_bytes;
        let keep = metadata
            || (header_size <= limits.max_text_diff_bytes
                && self.retained + header_size <= limits.max_in_memory_bytes);
        let file = if keep {
            self.retained += header_size;
            File::new(self.stream.read_data(header_size, &rel)?, mode)
        } else {
            File {
                data: Vec::new(),
                mode,
                size: header_size,
                streamed: Some(self.stream.read_hashed(header_size, &rel)?),
                sha1: std::sync::OnceLock::new(),
            }
        };
        self.raw_paths.push(rel.clone());
        let after_non_regular = archive
            .anomalies
            .iter()
            .any(|a| matches!(a, Anomaly::NonRegular { path, .. } if *path == rel));
        if let Some(existing) = archive.files.get(&rel) {
            let differs = !existing.same_content(&file);
            archive
                .anomalies
                .push(Anomaly::Duplicate { path: rel, differs });
        } else {
            if after_non_regular {
                // A link (or device, …) and then a regular file under the same name:
                // unpackers disagree on which one wins (C5), never resolved silently.
                archive.anomalies.push(Anomaly::Duplicate {
                    path: rel.clone(),
                    differs: true,
                });
            }
            archive.files.insert(rel, file);
        }
        Ok(())
    }

    /// A symlink, hard link, device, …: recorded as an anomaly, its data skipped.
    fn non_regular(
        &mut self,
        rel: String,
        kind: EntryType,
        header_size: u64,
        link: Option<Vec<u8>>,
    ) -> Result<(), Error> {
        // Skip any data (sparse/contiguous files declare some); never interpret it.
        self.stream.read_with(header_size, &rel, &mut |_| {})?;
        self.raw_paths.push(rel.clone());
        let archive = &mut self.archive;
        let duplicate = archive.files.contains_key(&rel)
            || archive
                .anomalies
                .iter()
                .any(|a| matches!(a, Anomaly::NonRegular { path, .. } if *path == rel));
        if duplicate {
            archive.anomalies.push(Anomaly::Duplicate {
                path: rel.clone(),
                differs: true,
            });
        }
        archive.anomalies.push(Anomaly::NonRegular {
            path: rel,
            entry_type: kind,
            target: link.map(|l| String::from_utf8_lossy(&l).into_owned()),
        });
        Ok(())
    }

    /// After the last header: dangling records, an empty archive, data after the end-of-archive
    /// marker or after the gzip member, case-fold collisions and suspicious names.
    fn finish(mut self, saw_end: bool) -> Result<CrateArchive, Error> {
        if self.pending_pax.is_some()
            || self.pending_gnu_name.is_some()
            || self.pending_gnu_link.is_some()
        {
            return Err(Error::Truncated {
                offset: self.stream.offset,
                path: "(extended header without entry)".into(),
                declared: 0,
            });
        }
        let mut archive = self.archive;
        let mut stream = self.stream;
        if archive.entry_count == 0 {
            return Err(Error::Empty);
        }

        // Everything after the end-of-archive marker must be zeros.
        if saw_end {
            let mut nonzero = 0u64;
            let mut chunk = vec![0u8; 64 << 10];
            loop {
                match stream.r.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        stream.offset += n as u64;
                        nonzero += chunk[..n].iter().filter(|b| **b != 0).count() as u64;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(stream.map_err(&e)),
                }
            }
            if nonzero > 0 {
                archive
                    .anomalies
                    .push(Anomaly::TrailingTarData { bytes: nonzero });
            }
        } else {
            archive.anomalies.push(Anomaly::MissingEndOfArchive);
        }
        archive.decompressed_bytes = stream.offset;
        let rest = stream.r.inner.into_inner();
        if !rest.is_empty() {
            archive.anomalies.push(Anomaly::TrailingGzipData {
                bytes: rest.len() as u64,
                gzip_member: rest.starts_with(&[0x1f, 0x8b]),
            });
        }

        // Case-fold collisions among all paths (regular or not).
        let mut folded: BTreeMap<String, Vec<String>> = BTreeMap::new();
        self.raw_paths.sort();
        self.raw_paths.dedup();
        for p in self.raw_paths {
            if let Some(reason) = path_suspicion(&p) {
                archive.anomalies.push(Anomaly::SuspiciousPath {
                    path: p.clone(),
                    reason,
                });
            }
            folded.entry(p.to_lowercase()).or_default().push(p);
        }
        for (_, paths) in folded {
            if paths.len() > 1 {
                archive.anomalies.push(Anomaly::CaseCollision { paths });
            }
        }
        Ok(archive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::error::PathProblem;
    use crate::archive::header::parse_pax;

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (p, d) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(d.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, p, *d).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_plain_archive() {
        let bytes = gz(&tar_of(&[
            ("foo-1.0.0/Cargo.toml", b"x"),
            ("foo-1.0.0/src/lib.rs", b"y"),
        ]));
        let a = parse(&bytes, &Limits::default()).unwrap();
        assert_eq!(a.prefix, "foo-1.0.0");
        assert_eq!(a.files.len(), 2);
        assert!(a.anomalies.is_empty(), "{:?}", a.anomalies);
    }

    #[test]
    fn prefix_lookalike_is_outside() {
        let bytes = gz(&tar_of(&[
            ("foo-1.0.0/a", b"x"),
            ("foo-1.0.0-evil/x", b"y"),
        ]));
        let e = parse(&bytes, &Limits::default()).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidPath {
                    problem: PathProblem::OutsidePrefix,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn pax_parsing() {
        let p = parse_pax(b"13 path=abcd\n").unwrap();
        assert_eq!(p.path.as_deref(), Some(&b"abcd"[..]));
        assert!(parse_pax(b"12 size=abc\n").is_err());
        assert!(parse_pax(b"99 path=x\n").is_err());
    }
}
