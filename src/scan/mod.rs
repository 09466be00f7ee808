//! `crate-provenance scan`: the command line of the batch engine [`provenance_core::batch`],
//! which verifies many crate versions in parallel over a shared cache, appending one result per
//! line to a JSONL file (see [`results`]) so that an interrupted scan resumes where it stopped.
//! Here: arguments, signals, progress on stderr, the summary on stdout, the gate's exit status,
//! and the SARIF / attestation / SBOM outputs.
//! `crate-provenance report`: summarize a results file, optionally as a static HTML site.

pub mod isolate;
pub mod progress;

// The engine's modules, under the paths the CLI has always used.
pub use provenance_core::batch::{inputs, policy, results, summary};

use std::io::Write;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::ValueEnum;
use provenance_core::Options;
use provenance_core::batch::{self, Observer, Planned};

use inputs::Inputs;
use policy::Policy;
use results::{Entry, Outcome};

/// Exit status of a scan stopped by Ctrl-C (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

/// How the summary is printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// A table of verdict counts, then the crates that are not `match`.
    Human,
    /// One JSON document (`schema_version` 1).
    Json,
    /// Markdown, for CI job summaries and pull-request comments.
    Markdown,
    /// SARIF 2.1.0 (for code scanning dashboards): one result per crate version whose verdict
    /// the gate denies or that has a high finding.
    Sarif,
}

/// Arguments of `scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// A `Cargo.lock`: its registry packages (git and path packages are listed as skipped).
    #[arg(long, value_name = "PATH")]
    lockfile: Vec<PathBuf>,
    /// A file with one `NAME@VERSION` per line (`#` comments allowed).
    #[arg(long, value_name = "FILE")]
    list: Vec<PathBuf>,
    /// A CycloneDX JSON or SPDX JSON SBOM: its `pkg:cargo/` purls.
    #[arg(long, value_name = "FILE")]
    sbom: Vec<PathBuf>,
    /// Every version of this crate in the registry index (yanked ones too).
    #[arg(long, value_name = "NAME")]
    all_versions: Vec<String>,
    /// Append results to this JSONL file (one report or error object per line); crate versions
    /// already in it are not verified again, so a rerun resumes an interrupted scan.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Verify crate versions whose line in `--out` is an error again.
    #[arg(long)]
    retry_errors: bool,
    /// Parallel verifications [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<NonZeroUsize>,
    /// Exit 1 when a crate has one of these verdicts (comma-separated; `error` = verification
    /// failed). Replaces the policy file's `gate.deny`.
    #[arg(long, value_name = "VERDICT[,VERDICT...]", value_delimiter = ',')]
    deny: Vec<String>,
    /// Policy file with `gate.deny` and `[[exemptions.NAME]]` [default: `./provenance.toml` if
    /// present].
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Human)]
    format: SummaryFormat,
    /// Give up on one crate version after this many seconds (recorded as a `limit_exceeded`
    /// error).
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    timeout: u64,
    /// Seconds between progress lines when stderr is not a terminal.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    progress_interval: u64,
    /// Sparse index URL of the registry (also used for crates.io packages, as a mirror).
    #[arg(long, value_name = "URL")]
    index_url: Option<String>,
    /// Use the crates.io source replacement of this cargo config file (`[source.crates-io]
    /// replace-with` → a `sparse+` registry or a `local-registry`). Conflicts with `--index-url`.
    #[arg(long, value_name = "FILE", conflicts_with = "index_url")]
    cargo_config: Option<PathBuf>,
    /// Cache directory for downloads and fetched repositories (shared by all jobs).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Use only what is cached; no network access.
    #[arg(long)]
    offline: bool,
    /// Allow `http://`, `git://` and `file://` URLs and loopback hosts.
    #[arg(long)]
    allow_insecure_transport: bool,
    /// Do not try version tags for `no_vcs_info` / `revision_not_found`.
    #[arg(long)]
    no_assisted: bool,
    /// Fetch repositories under FROM from TO instead (git `url.<base>.insteadOf`, on the
    /// normalized URL, longest FROM wins; also for submodules and tag lookups), in addition to
    /// the policy file's `[[mirror]]` entries (these win on equal FROMs). TO may be a URL or a
    /// local directory. Repeatable.
    #[arg(long = "mirror", value_name = "FROM=TO")]
    mirror: Vec<String>,
    /// Give a unified diff for every differing text file (default: the first 20 per crate
    /// version; the others are summarised with sizes and SHA-256).
    #[arg(long)]
    all_diffs: bool,
    /// Verify in this process instead of one worker process per crate version (a crash then
    /// ends the whole scan; default: isolated workers, a crash is a `worker_crashed` error).
    #[arg(long)]
    no_isolation: bool,
    /// Address-space limit (`RLIMIT_AS`) of each worker process, in MiB (0 = none).
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    worker_memory: u64,
    /// Also write the results as SARIF 2.1.0 to this file: one result per crate version whose
    /// verdict the gate denies or that has a high finding, located at its `Cargo.lock` entry.
    #[arg(long, value_name = "FILE")]
    sarif: Option<PathBuf>,
    /// Write an SLSA verification summary attestation (in-toto Statement v1) for every crate
    /// version with a verdict into this directory: `NAME-VERSION.vsa.json`, or with
    /// `--signing-key` the DSSE envelope `NAME-VERSION.vsa.dsse.json`.
    #[arg(long, value_name = "DIR")]
    attest_dir: Option<PathBuf>,
    /// Sign the attestations with this Ed25519 private key (PKCS#8 PEM, e.g. from `openssl
    /// genpkey -algorithm ed25519`).
    #[arg(long, value_name = "FILE", requires = "attest_dir")]
    signing_key: Option<PathBuf>,
    /// Write the `--sbom` document annotated with each component's verdict, commit and report
    /// digest to this file (once per `--sbom`, in the same order).
    #[arg(long, value_name = "FILE", requires = "sbom")]
    annotate: Vec<PathBuf>,
}

impl ScanArgs {
    /// `cargo provenance`: scan `lockfile` (the workspace's) first, and use `policy` (the
    /// workspace's `provenance.toml`) unless `--policy` was given.
    pub fn for_workspace(&mut self, lockfile: PathBuf, policy: Option<PathBuf>) {
        self.lockfile.insert(0, lockfile);
        if self.policy.is_none() {
            self.policy = policy;
        }
    }
}

/// Arguments of `report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A results file written by `scan --out`.
    #[arg(required_unless_present = "db", conflicts_with = "db")]
    results: Option<PathBuf>,
    /// A watch database instead of a results file: each version's latest verification; the
    /// HTML site adds per-crate timelines and charts by publication year and difference
    /// category.
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Write a static HTML site (index + one page per crate version) into this directory.
    #[arg(long, value_name = "DIR")]
    html: Option<PathBuf>,
    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Human)]
    format: SummaryFormat,
    /// Exit 1 when a crate has one of these verdicts (as for `scan`).
    #[arg(long, value_name = "VERDICT[,VERDICT...]", value_delimiter = ',')]
    deny: Vec<String>,
    /// Policy file (as for `scan`).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Where the `.crate` files are cached (`scan` / `watch` `--cache-dir`): crate pages show the
    /// content of files that exist only in the published crate [default: the cache directory].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// With `--format sarif`: the `Cargo.lock` the results came from, so that each SARIF
    /// result points at the package's entry in it.
    #[arg(long, value_name = "PATH")]
    lockfile: Vec<PathBuf>,
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {message}");
    ExitCode::from(2)
}

fn print_summary(s: &summary::Summary, format: SummaryFormat, sarif: impl FnOnce() -> String) {
    let text = match format {
        SummaryFormat::Human => summary::human(s),
        SummaryFormat::Json => summary::json(s),
        SummaryFormat::Markdown => summary::markdown(s),
        SummaryFormat::Sarif => sarif(),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Progress on stderr: the plan, a warning per error line, the ticker.
struct Stderr {
    ticker: Option<progress::Ticker>,
    interval: Duration,
    skipped: usize,
}

impl Observer for Stderr {
    fn planned(&mut self, plan: &Planned) {
        let ticker = progress::Ticker::new(plan.pending as u64, self.interval);
        ticker.println(&format!(
            "scan: {} crate versions to verify ({} already in the results, {} skipped), {} jobs",
            plan.pending, plan.already, self.skipped, plan.jobs,
        ));
        self.ticker = Some(ticker);
    }

    fn in_flight(&mut self, keys: &[String]) {
        if let Some(t) = &mut self.ticker {
            t.set_current(keys);
        }
    }

    fn finished(&mut self, entry: &Entry) {
        if let Some(t) = &mut self.ticker {
            if let Outcome::Error { kind, message } = &entry.outcome {
                t.println(&format!(
                    "warning: `{}`: {kind}: {}",
                    summary::clean(&entry.key()),
                    summary::clean(message)
                ));
            }
            t.inc();
        }
    }

    fn idle(&mut self) {
        if let Some(t) = &mut self.ticker {
            t.tick(false);
        }
    }
}

impl ScanArgs {
    /// The gate: `--policy` (or `./provenance.toml`) with `--deny`.
    pub fn policy(&self) -> Result<Policy, String> {
        Policy::load(
            self.policy.as_deref(),
            (!self.deny.is_empty()).then_some(self.deny.as_slice()),
        )
    }

    /// The verification options of these flags and the policy's `[[mirror]]` entries: the
    /// index (`--index-url`, or `--cargo-config`'s source replacement), cache, transport, and
    /// mirrors (`--mirror` before the policy's).
    pub fn options(&self, policy: &Policy) -> Result<Options, String> {
        let mut options = Options::default();
        options.index_url = match &self.cargo_config {
            Some(f) => provenance_core::fetch::cargo_config::crates_io_index(f)
                .map_err(|e| e.to_string())?,
            None => self.index_url.clone(),
        };
        options.cache_dir.clone_from(&self.cache_dir);
        options.offline = self.offline;
        options.allow_insecure_transport = self.allow_insecure_transport;
        options.assisted = !self.no_assisted;
        options.all_diffs = self.all_diffs;
        options.mirrors = provenance_core::fetch::mirror::collect(
            &self.mirror,
            &policy.mirrors,
            self.allow_insecure_transport,
        )
        .map_err(|e| e.to_string())?;
        Ok(options)
    }

    /// The batch engine's configuration of these flags: `--jobs`, `--timeout`,
    /// `--retry-errors`, worker isolation and its limits.
    pub fn engine(&self, options: Options) -> Result<batch::Config, String> {
        let timeout = Duration::from_secs(self.timeout.max(1));
        let mut config = batch::Config::new(options);
        config.jobs = self
            .jobs
            .map(NonZeroUsize::get)
            .or_else(|| {
                std::thread::available_parallelism()
                    .ok()
                    .map(NonZeroUsize::get)
            })
            .unwrap_or(1);
        config.timeout = timeout;
        config.retry_errors = self.retry_errors;
        if !self.no_isolation {
            let limits = batch::WorkerLimits {
                address_space: self.worker_memory.saturating_mul(1 << 20),
                // CPU time of all threads; the wall-clock `--timeout` is enforced by the engine.
                cpu_secs: timeout.as_secs().saturating_mul(2).saturating_add(60),
            };
            config.isolation = Some(isolate::worker(limits)?);
        }
        Ok(config)
    }

    /// The inputs of `watch` (which follows the crates these name, starting at the versions
    /// they name): `--lockfile`, `--list`, `--sbom`, `--all-versions`.
    pub fn watch_inputs(&self) -> (&[PathBuf], &[PathBuf], &[PathBuf], &[String]) {
        (&self.lockfile, &self.list, &self.sbom, &self.all_versions)
    }

    /// `--index-url` and `--allow-insecure-transport`.
    pub fn index(&self) -> (Option<&str>, bool) {
        (self.index_url.as_deref(), self.allow_insecure_transport)
    }

    /// `--cache-dir`.
    pub fn cache_dir(&self) -> Option<&std::path::Path> {
        self.cache_dir.as_deref()
    }

    /// `--out`: a results file the verifications are also appended to.
    pub fn out(&self) -> Option<&std::path::Path> {
        self.out.as_deref()
    }

    /// The first given flag of `scan` that `watch` has no use for.
    pub fn not_for_watch(&self) -> Option<&'static str> {
        [
            (self.sarif.is_some(), "--sarif"),
            (self.attest_dir.is_some(), "--attest-dir"),
            (!self.annotate.is_empty(), "--annotate"),
            (self.retry_errors, "--retry-errors"),
            (self.format != SummaryFormat::Human, "--format"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

/// `crate-provenance scan`.
pub fn run(args: &ScanArgs) -> ExitCode {
    let policy = match args.policy() {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let options = match args.options(&policy) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };

    if args.lockfile.is_empty()
        && args.list.is_empty()
        && args.sbom.is_empty()
        && args.all_versions.is_empty()
    {
        return fail("nothing to scan: give `--lockfile`, `--list`, `--sbom` or `--all-versions`");
    }
    // Check the extra outputs' arguments before the (long) scan, not after it.
    if !args.annotate.is_empty() && args.annotate.len() != args.sbom.len() {
        return fail(&format!(
            "`--annotate` is given {} times for {} `--sbom`: give one output per SBOM, in the same order",
            args.annotate.len(),
            args.sbom.len()
        ));
    }
    let signer = match args
        .signing_key
        .as_deref()
        .map(crate::attest::Signer::load)
        .transpose()
    {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let mut inputs = Inputs::default();
    let index = options.index_url.clone();
    let index = index.as_deref();
    let gathered = args
        .lockfile
        .iter()
        .try_for_each(|p| inputs::lockfile(&mut inputs, p, index))
        .and_then(|()| {
            args.list
                .iter()
                .try_for_each(|p| inputs::list(&mut inputs, p))
        })
        .and_then(|()| {
            args.sbom
                .iter()
                .try_for_each(|p| inputs::sbom(&mut inputs, p, index))
        })
        .and_then(|()| {
            args.all_versions
                .iter()
                .try_for_each(|n| inputs::all_versions(&mut inputs, n, &options))
        });
    if let Err(e) = gathered {
        return fail(&e);
    }

    let interrupted = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while the first is being handled exits at once.
        let _ = signal_hook::flag::register_conditional_shutdown(
            sig,
            i32::from(EXIT_INTERRUPTED),
            interrupted.clone(),
        );
        let _ = signal_hook::flag::register(sig, interrupted.clone());
    }

    let config = match args.engine(options) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let mut observer = Stderr {
        ticker: None,
        interval: Duration::from_secs(args.progress_interval.max(1)),
        skipped: inputs.skipped.len(),
    };
    let outcome = batch::run(
        &config,
        &inputs.targets,
        args.out.as_deref(),
        &mut observer,
        &interrupted,
    );
    if let Some(t) = &mut observer.ticker {
        t.finish();
    }
    let run = match outcome {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if run.interrupted {
        let remaining = inputs.targets.len() - run.already - run.verified;
        let _ = writeln!(
            std::io::stderr(),
            "scan: interrupted after {} crate versions ({remaining} not verified){}",
            run.verified,
            match &args.out {
                Some(o) => format!(
                    "; run the same command again to resume from `{}`",
                    o.display()
                ),
                None => String::new(),
            }
        );
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    let _ = writeln!(
        std::io::stderr(),
        "scan: verified {} crate versions in {:.1}s",
        run.verified,
        run.elapsed.as_secs_f64()
    );
    let entries: Vec<&Entry> = run.entries.iter().collect();
    let s = summary::summarize(&entries, &inputs.skipped, &policy);
    let locations = || {
        let mut l = crate::sarif::Locations::default();
        l.add_inputs(&args.lockfile, &args.list, &args.sbom)?;
        Ok::<_, String>(l)
    };
    if let Some(path) = &args.sarif {
        let written = locations()
            .and_then(|l| crate::sarif::write(path, &crate::sarif::render(&entries, &policy, &l)));
        if let Err(e) = written {
            return fail(&e);
        }
    }
    if let Some(dir) = &args.attest_dir {
        if policy.deny.is_empty() {
            let _ = writeln!(
                std::io::stderr(),
                "warning: no deny list (`--deny` or `gate.deny`): every attestation says PASSED"
            );
        }
        if let Err(e) = crate::attest::write_dir(dir, &entries, &policy, signer.as_ref()) {
            return fail(&e);
        }
    }
    for (sbom, out) in args.sbom.iter().zip(&args.annotate) {
        if let Err(e) = crate::sbom_annotate::write(sbom, out, &entries) {
            return fail(&e);
        }
    }
    let sarif = || match locations() {
        Ok(l) => crate::sarif::render(&entries, &policy, &l),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "warning: no SARIF locations: {e}");
            crate::sarif::render(&entries, &policy, &crate::sarif::Locations::default())
        }
    };
    print_summary(&s, args.format, sarif);
    ExitCode::from(u8::from(s.gate_failed))
}

/// `crate-provenance report`.
pub fn report(args: &ReportArgs) -> ExitCode {
    let policy = match Policy::load(
        args.policy.as_deref(),
        (!args.deny.is_empty()).then_some(args.deny.as_slice()),
    ) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let (entries, db) = match (&args.results, &args.db) {
        (Some(path), _) | (None, Some(path)) if !path.is_file() => {
            return fail(&format!("`{}` is not a file", path.display()));
        }
        (_, Some(path)) => {
            match crate::watch::db::Db::open(path)
                .and_then(|db| Ok((crate::watch::site::entries(&db)?, Some(db))))
            {
                Ok(x) => x,
                Err(e) => return fail(&e),
            }
        }
        (Some(path), None) => match results::load(path) {
            Ok(e) => (e, None),
            Err(e) => return fail(&e),
        },
        (None, None) => return fail("give a results file or `--db`"),
    };
    let refs: Vec<&Entry> = entries.iter().collect();
    let s = summary::summarize(&refs, &[], &policy);
    if let Some(dir) = &args.html {
        let extra = match &db {
            Some(db) => match crate::watch::site::write_extras(db, &entries, dir) {
                Ok(x) => x,
                Err(e) => return fail(&e),
            },
            None => String::new(),
        };
        // Only an existing cache is read (a report creates no cache directory).
        let cache = args
            .cache_dir
            .clone()
            .or_else(provenance_core::fetch::cache::default_dir)
            .filter(|d| d.is_dir())
            .and_then(|d| provenance_core::fetch::Cache::open(&d).ok());
        match crate::report_html::write_site_with(dir, &entries, &s, &extra, cache.as_ref()) {
            Ok(pages) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "report: wrote `{}` and {pages} crate pages",
                    dir.join("index.html").display()
                );
            }
            Err(e) => return fail(&e),
        }
    }
    let mut locations = crate::sarif::Locations::default();
    if let Err(e) = locations.add_inputs(&args.lockfile, &[], &[]) {
        return fail(&e);
    }
    print_summary(&s, args.format, || {
        crate::sarif::render(&refs, &policy, &locations)
    });
    ExitCode::from(u8::from(s.gate_failed))
}
