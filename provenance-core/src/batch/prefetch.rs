//! Before a batch verifies: one fetch per repository with every commit its versions need
//! ([`fetch::prefetch`](crate::fetch::prefetch())), so each verification finds its commit in
//! the cache and fetches nothing.
//!
//! The versions are grouped by their normalized `package.repository` (read from the
//! downloaded `.crate`, which verification then takes from the cache) and their commits by
//! `.cargo_vcs_info.json`. Nothing here decides a result: a crate that cannot be read, a
//! repository that cannot be prefetched, are left to verification, which then does what it
//! does without a prefetch, so the results are the same with and without it (except the
//! reports' transfer figures, `fetch.repository.strategy`/`objects`/`bytes`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::inputs::Target;
use crate::fetch::{self, Prefetched, Want};
use crate::request::Options;

/// Parallel `.crate` downloads of the prefetch (at least `jobs`).
pub const DOWNLOADS: usize = 8;

/// The repository (declared URL) and commit of `target`, when it has both.
fn wanted(target: &Target, options: &fetch::Options, stop: &AtomicBool) -> Option<(String, Want)> {
    let downloaded = fetch::crate_archive(
        &target.name,
        &target.version,
        options,
        &mut crate::progress::Discard,
        stop,
    )
    .ok()?;
    let limits = &options.limits;
    let archive = crate::archive::parse(&downloaded.bytes, limits).ok()?;
    let manifest = archive.files.get("Cargo.toml")?;
    let m = crate::metadata::parse_manifest(&manifest.data, "Cargo.toml", limits).ok()?;
    let crate::metadata::Field::Value(url) = m.repository else {
        return None;
    };
    let vcs = archive
        .files
        .get(".cargo_vcs_info.json")
        .filter(|f| f.retained())?;
    let vcs = crate::metadata::parse_vcs_info(&vcs.data, limits).ok()?;
    let want = Want {
        commit: Some(vcs.sha1),
        path_in_vcs: vcs.path_in_vcs,
        ..Want::default()
    };
    Some((url, want))
}

/// Run `f` on every item on up to `jobs` threads; results in item order. A panic in `f`
/// gives `None` for that item.
fn parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    stop: &AtomicBool,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<Option<R>> {
    let next = Mutex::new(0usize);
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(items.len()) {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().expect("queue lock");
                        *n += 1;
                        *n - 1
                    };
                    if i >= items.len() || stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&items[i])));
                    out.lock().expect("results lock")[i] = r.ok();
                }
            });
        }
    });
    out.into_inner().expect("results lock")
}

/// Prefetch the repositories of `targets` on up to `jobs` threads (downloading their crates
/// first, [`DOWNLOADS`] at a time, into the cache verification reads). Returns what each repository's prefetch did, in
/// repository key order.
pub fn repositories(
    targets: &[Target],
    options: &Options,
    jobs: usize,
    stop: &AtomicBool,
) -> Vec<Prefetched> {
    let fopts = fetch::Options::from_verify(options);
    // Downloads wait on the network, not the CPU: as many at once as cargo's default
    // (`http.multiplexing` aside) keeps modest, at least `jobs`.
    let located = parallel(targets, jobs.max(DOWNLOADS), stop, |t| {
        wanted(t, &fopts, stop)
    });
    // Key → `(declared URL, want)` in target order (the first spelling is fetched from).
    let mut groups: BTreeMap<String, Vec<(String, Want)>> = BTreeMap::new();
    for (url, want) in located.into_iter().flatten().flatten() {
        let Ok(key) = super::plan::repository_key(&url, options.allow_insecure_transport) else {
            continue;
        };
        groups.entry(key).or_default().push((url, want));
    }
    let groups: Vec<Vec<(String, Want)>> = groups.into_values().collect();
    let done = parallel(&groups, jobs, stop, |wants| {
        fetch::prefetch(wants, &fopts, stop)
    });
    done.into_iter()
        .zip(&groups)
        .map(|(r, wants)| match r {
            Some(Ok(p)) => p,
            Some(Err(e)) => skipped(&wants[0].0, wants.len(), e.to_string()),
            None => skipped(&wants[0].0, wants.len(), "not run".into()),
        })
        .collect()
}

fn skipped(url: &str, wanted: usize, why: String) -> Prefetched {
    Prefetched {
        url: url.to_owned(),
        wanted,
        skipped: Some(why),
        ..Prefetched::default()
    }
}
