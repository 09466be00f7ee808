//! The decompressed tar stream: bounded by the decompressed-size cap, read block by block.

use std::io::Read;

use super::error::Error;
use super::files::Streamed;
use crate::error::LimitError;
use crate::text::escape;

/// The tar block size.
pub(super) const BLOCK: usize = 512;

/// A reader that fails once more than `cap` bytes went through it.
pub(super) struct Capped<R> {
    pub(super) inner: R,
    pub(super) seen: u64,
    pub(super) cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen += n as u64;
        if self.seen > self.cap {
            return Err(std::io::Error::other(CapHit));
        }
        Ok(n)
    }
}

#[derive(Debug)]
struct CapHit;
impl std::fmt::Display for CapHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("decompressed size cap reached")
    }
}
impl std::error::Error for CapHit {}

pub(super) struct Stream<'a> {
    pub(super) r: Capped<flate2::bufread::GzDecoder<&'a [u8]>>,
    pub(super) offset: u64,
}

pub(super) enum Fill {
    Full,
    Eof(usize),
}

impl Stream<'_> {
    /// The tar stream inside the gzip stream `bytes`, failing after `cap` decompressed bytes.
    pub(super) fn new(bytes: &[u8], cap: u64) -> Stream<'_> {
        Stream {
            r: Capped {
                inner: flate2::bufread::GzDecoder::new(bytes),
                seen: 0,
                cap,
            },
            offset: 0,
        }
    }

    pub(super) fn map_err(&self, e: &std::io::Error) -> Error {
        if e.get_ref()
            .is_some_and(<dyn std::error::Error + Send + Sync>::is::<CapHit>)
        {
            return Error::LimitExceeded(LimitError {
                limit: "max_decompressed_bytes",
                max: self.r.cap,
                value: self.r.seen,
            });
        }
        Error::Gzip {
            message: e.to_string(),
        }
    }

    /// Fill `buf` completely, or report how much was read before EOF.
    pub(super) fn fill(&mut self, buf: &mut [u8]) -> Result<Fill, Error> {
        let mut got = 0;
        while got < buf.len() {
            match self.r.read(&mut buf[got..]) {
                Ok(0) => return Ok(Fill::Eof(got)),
                Ok(n) => {
                    got += n;
                    self.offset += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.map_err(&e)),
            }
        }
        Ok(Fill::Full)
    }

    /// Read exactly `len` bytes of entry data plus padding to the next block.
    pub(super) fn read_data(&mut self, len: u64, path: &str) -> Result<Vec<u8>, Error> {
        // Never pre-allocate from the declared size: grow as bytes arrive (C19).
        let mut out = Vec::with_capacity(len.min(1 << 20) as usize);
        self.read_with(len, path, &mut |c| out.extend_from_slice(c))?;
        // Growing doubled the capacity: the contents are kept for the whole verification, so
        // give the slack back (up to half of a large file).
        out.shrink_to_fit();
        Ok(out)
    }

    /// Read `len` bytes of entry data, hashing instead of keeping them: the git blob id (SHA-1,
    /// collision-detecting) and the SHA-256.
    pub(super) fn read_hashed(&mut self, len: u64, path: &str) -> Result<Streamed, Error> {
        let mut git = gix::hash::hasher(gix::hash::Kind::Sha1);
        git.update(&gix::objs::encode::loose_header(
            gix::object::Kind::Blob,
            len,
        ));
        let mut sha = <sha2::Sha256 as sha2::Digest>::new();
        self.read_with(len, path, &mut |c| {
            git.update(c);
            sha2::Digest::update(&mut sha, c);
        })?;
        Ok(Streamed {
            blob_sha1: git.try_finalize().ok(),
            sha256: crate::ids::hex(&sha2::Digest::finalize(sha)),
        })
    }

    /// Read exactly `len` bytes plus padding, handing each chunk to `sink`.
    pub(super) fn read_with(
        &mut self,
        len: u64,
        path: &str,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Error> {
        let mut chunk = [0u8; 8192];
        let mut remaining = len;
        while remaining > 0 {
            let want = remaining.min(chunk.len() as u64) as usize;
            match self.fill(&mut chunk[..want])? {
                Fill::Full => {}
                Fill::Eof(_) => {
                    return Err(Error::Truncated {
                        offset: self.offset,
                        path: escape(path.as_bytes()),
                        declared: len,
                    });
                }
            }
            sink(&chunk[..want]);
            remaining -= want as u64;
        }
        let pad = (BLOCK as u64 - len % BLOCK as u64) % BLOCK as u64;
        if pad > 0 {
            let mut p = [0u8; BLOCK];
            if let Fill::Eof(_) = self.fill(&mut p[..pad as usize])? {
                return Err(Error::Truncated {
                    offset: self.offset,
                    path: escape(path.as_bytes()),
                    declared: len,
                });
            }
        }
        Ok(())
    }
}
