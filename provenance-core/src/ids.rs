//! Object ids and digests: git blob ids (SHA-1 with collision detection, or SHA-256) and
//! lowercase hex. A leaf module: it uses nothing of the crate.

use gix::ObjectId;

/// The git blob id of `data` in a repository using `kind`.
pub fn blob_id(kind: gix::hash::Kind, data: &[u8]) -> Option<ObjectId> {
    gix::objs::compute_hash(kind, gix::object::Kind::Blob, data).ok()
}

/// The SHA-1 git blob id (hex) of `data`, as `git hash-object` computes it, with SHA-1
/// collision detection (`None` if a collision attack is detected).
pub fn sha1_blob_id(data: &[u8]) -> Option<String> {
    blob_id(gix::hash::Kind::Sha1, data).map(|id| id.to_string())
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
