//! Offline verification of the tests/data/realworld crates (crate file + local repository →
//! report), and the floor: gunzip + untar into memory + hashing every file as a git blob.
//!
//! `scan_throughput`: a batch of 100 verifications (the realworld crates, repeated) with warm
//! caches on 1 and 2 threads, reported by criterion as elements (crate versions) per second.
//!
//! Run: `cargo bench --bench verify` (downloads the crates once into target/realworld-cache), or
//! `benches/report.sh` for the table with the reference method and peak RSS.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use provenance_core::{CrateSource, Limits, RepoSource, Request, verify};

fn floor(bytes: &[u8]) -> usize {
    let a = provenance_core::archive::parse(bytes, &Limits::default()).unwrap();
    a.files
        .values()
        .filter_map(|f| provenance_core::compare::sha1_blob_id(&f.data))
        .count()
}

fn bench(c: &mut Criterion) {
    let ids = support::all_ids();
    let entries: Vec<_> = ids.iter().map(|id| support::entry(id)).collect();
    let mut g = c.benchmark_group("verify_offline");
    for e in &entries {
        let bytes = std::fs::read(&e.crate_file).unwrap();
        let req =
            Request::new(CrateSource::Bytes(bytes)).with_repo(RepoSource::Path(e.repo.clone()));
        g.bench_function(e.id(), |b| b.iter(|| verify(&req).unwrap()));
    }
    g.finish();
    let batch: Vec<Request> = entries
        .iter()
        .cycle()
        .take(100)
        .map(|e| {
            Request::new(CrateSource::Bytes(std::fs::read(&e.crate_file).unwrap()))
                .with_repo(RepoSource::Path(e.repo.clone()))
        })
        .collect();
    let mut g = c.benchmark_group("scan_throughput");
    g.throughput(Throughput::Elements(batch.len() as u64));
    for jobs in [1usize, 2] {
        g.bench_function(format!("jobs{jobs}"), |b| {
            b.iter(|| {
                std::thread::scope(|s| {
                    for chunk in batch.chunks(batch.len().div_ceil(jobs)) {
                        s.spawn(move || {
                            for r in chunk {
                                verify(r).unwrap();
                            }
                        });
                    }
                });
            });
        });
    }
    g.finish();
    let mut g = c.benchmark_group("floor");
    for e in &entries {
        let bytes = std::fs::read(&e.crate_file).unwrap();
        g.bench_function(e.id(), |b| b.iter(|| floor(&bytes)));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = bench
}
criterion_main!(benches);
