//! Copying a commit out of a local bare repository (a local mirror), never through a `git`
//! process: the commit, its tree and the blobs under it, bounded like a fetch.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use gix::ObjectId;
use gix::objs::Write as _;

use super::error::Error;
use super::options::Options;
use crate::error::LimitError;

/// Copy `commit`, its tree and every blob under it from the local repository at `src` into
/// `dst` (nested submodules are not followed). Bounded by `max_pack_objects` objects and
/// `max_fetch_bytes` bytes. Returns the number of objects written.
pub(super) fn commit(
    src: &Path,
    dst: &gix::Repository,
    commit: ObjectId,
    options: &Options,
    should_interrupt: &AtomicBool,
) -> Result<u64, Error> {
    let git_err = |message: String| Error::Git {
        url: src.display().to_string(),
        message,
    };
    let opts = gix::open::Options::isolated()
        .config_overrides([format!(
            "gitoxide.objects.allocLimit={}",
            options.limits.git_alloc_limit
        )])
        .strict_config(false);
    let src_repo = gix::open_opts(src, opts)
        .map_err(|e| git_err(format!("cannot open the local mirror: {e}")))?;
    let mut queue = vec![commit];
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let (mut objects, mut bytes) = (0u64, 0u64);
    while let Some(id) = queue.pop() {
        if !seen.insert(id) {
            continue;
        }
        if should_interrupt.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        let obj = src_repo
            .find_object(id)
            .map_err(|e| git_err(format!("object `{id}`: {e}")))?;
        objects += 1;
        bytes += obj.data.len() as u64;
        if objects > options.max_pack_objects {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_pack_objects",
                max: options.max_pack_objects,
                value: objects,
            }));
        }
        if bytes > options.max_fetch_bytes {
            return Err(Error::LimitExceeded(LimitError {
                limit: "max_fetch_bytes",
                max: options.max_fetch_bytes,
                value: bytes,
            }));
        }
        match obj.kind {
            gix::object::Kind::Commit if id == commit => {
                let c = obj
                    .try_to_commit_ref()
                    .map_err(|e| git_err(format!("commit `{id}`: {e}")))?;
                queue.push(c.tree());
            }
            gix::object::Kind::Tree => {
                let t = gix::objs::TreeRef::from_bytes(&obj.data, src_repo.object_hash())
                    .map_err(|e| git_err(format!("tree `{id}`: {e}")))?;
                for e in &t.entries {
                    if !e.mode.is_commit() && !dst.has_object(e.oid) {
                        queue.push(e.oid.to_owned());
                    }
                }
            }
            _ => {}
        }
        dst.objects
            .write_buf(obj.kind, &obj.data)
            .map_err(|e| git_err(format!("cannot write object `{id}`: {e}")))?;
    }
    Ok(objects)
}
