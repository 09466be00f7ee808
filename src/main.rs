//! `crate-provenance`: verify that a published `.crate` matches its upstream git repository.
//!
//! Thin: parse arguments → `provenance_core` → render → exit code (0 = `match`, 1 = any other
//! verdict, 2 = error).
#![forbid(unsafe_code)]

mod attest;
#[allow(dead_code)] // Here only `generate` uses it (its clap definition).
mod cargo_cli;
mod generate;
mod render;
mod report_html;
mod sarif;
mod sbom_annotate;
mod scan;
mod watch;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use provenance_core::{CrateSource, Options, RepoSource, Request};

/// Verify that a published `.crate` contains exactly what its upstream git repository holds at
/// the commit it claims.
#[derive(Debug, Parser)]
#[command(name = "crate-provenance", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A summary line, then every difference with its diff.
    Human,
    /// The JSON report of docs/VERDICTS.md (`schema_version` 1).
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify one crate version against its repository.
    ///
    /// Exit status: 0 = match, 1 = any other verdict, 2 = error.
    Verify {
        /// `NAME@VERSION` to download from the registry (needs the fetch stage).
        spec: Option<String>,
        /// A local `.crate` file.
        #[arg(long, value_name = "PATH")]
        crate_file: Option<PathBuf>,
        /// The repository: a URL or a local repository path (bare or not). Overrides
        /// `package.repository`.
        #[arg(long, value_name = "URL_OR_PATH")]
        repo: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Sparse index URL of the registry.
        #[arg(long, value_name = "URL")]
        index_url: Option<String>,
        /// Use the crates.io source replacement of this cargo config file (`[source.crates-io]
        /// replace-with` → a `sparse+` registry or a `local-registry`), as an air-gapped cargo
        /// set-up does. Conflicts with `--index-url`.
        #[arg(long, value_name = "FILE", conflicts_with = "index_url")]
        cargo_config: Option<PathBuf>,
        /// Cache directory for downloads and fetched repositories.
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
        /// Use only what is cached; no network access.
        #[arg(long)]
        offline: bool,
        /// Allow `http://`, `git://` and `file://` repository URLs.
        #[arg(long)]
        allow_insecure_transport: bool,
        /// Do not try version tags for `no_vcs_info` / `revision_not_found`.
        #[arg(long)]
        no_assisted: bool,
        /// Fetch repositories under FROM from TO instead (git `url.<base>.insteadOf`, on the
        /// normalized URL, longest FROM wins; also for submodules and tag lookups). TO may be a
        /// URL or a local directory. Repeatable.
        #[arg(long = "mirror", value_name = "FROM=TO")]
        mirror: Vec<String>,
        /// Give a unified diff for every differing text file (default: the first 20; the
        /// others are summarised with sizes and SHA-256).
        #[arg(long)]
        all_diffs: bool,
        /// Write an SLSA verification summary attestation (in-toto Statement v1) of the result
        /// to this file (`PASSED` only for `match`).
        #[arg(long, value_name = "FILE")]
        attest: Option<PathBuf>,
        /// Sign the attestation with this Ed25519 private key (PKCS#8 PEM): the file is then a
        /// DSSE envelope.
        #[arg(long, value_name = "FILE", requires = "attest")]
        signing_key: Option<PathBuf>,
    },
    /// Inspect one crate alone, without its repository: findings, cargo era, inventory.
    ///
    /// Crate-intrinsic findings (archive anomalies, `.cargo_vcs_info.json`, normalized manifest
    /// and lock file checks, suspicious code points), the cargo era the crate shows, and an
    /// inventory (build script, proc-macro, native and binary files, sizes).
    ///
    /// Exit status: 0 = no `high` finding, 1 = a `high` finding, 2 = error.
    Inspect {
        /// A local `FILE.crate`, or `NAME@VERSION` to download from the registry.
        target: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Sparse index URL of the registry.
        #[arg(long, value_name = "URL")]
        index_url: Option<String>,
        /// Use the crates.io source replacement of this cargo config file (`[source.crates-io]
        /// replace-with` → a `sparse+` registry or a `local-registry`), as an air-gapped cargo
        /// set-up does. Conflicts with `--index-url`.
        #[arg(long, value_name = "FILE", conflicts_with = "index_url")]
        cargo_config: Option<PathBuf>,
        /// Cache directory for downloads.
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
        /// Use only what is cached; no network access.
        #[arg(long)]
        offline: bool,
        /// Accepted for uniformity with `verify` and `scan` (inspect fetches no repository).
        /// Fetch repositories under FROM from TO instead (git `url.<base>.insteadOf`, on the
        /// normalized URL, longest FROM wins; also for submodules and tag lookups). TO may be a
        /// URL or a local directory. Repeatable.
        #[arg(long = "mirror", value_name = "FROM=TO")]
        mirror: Vec<String>,
    },
    /// List the files `cargo package` would put into the archive for a package at a commit
    /// (like `cargo package --list`, read from the git tree).
    ListFiles {
        /// A local repository (bare or not).
        #[arg(long, value_name = "DIR")]
        repo: PathBuf,
        /// The full commit id.
        #[arg(long, value_name = "SHA")]
        commit: String,
        /// The package directory inside the repository (default: the root).
        #[arg(long, value_name = "P", default_value = "")]
        path: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Verify many crate versions (a `Cargo.lock`, a list, an SBOM, or every version of a
    /// crate) in parallel, appending one result per line to `--out` (resumable).
    ///
    /// Exit status: 0 = done (and the gate passed), 1 = a crate has a denied verdict
    /// (`--deny` / `provenance.toml`), 2 = error of the tool itself, 130 = interrupted.
    Scan(scan::ScanArgs),
    /// Summarize a results file written by `scan --out` (or a watch database, `--db`),
    /// optionally as a static HTML site.
    ///
    /// Exit status: 0, or 1 when the gate (`--deny` / `provenance.toml`) fails, 2 = error.
    Report(scan::ReportArgs),
    /// Follow crates in the registry: verify every new version (as `scan` does), keep the
    /// history in a SQLite database, alert on verdicts the policy denies.
    ///
    /// Sources: `--lockfile` (its versions, then every newer one), `--list` (`NAME` or
    /// `NAME@VERSION` per line), `--crates a,b,c` (from their newest version), `--feed URL`.
    /// Every `scan` flag applies to the verifications.
    ///
    /// Exit status with `--once`: 0, 1 = an alert was raised, 2 = error (or a crate could not
    /// be polled), 130 = interrupted.
    Watch(Box<watch::WatchArgs>),
    /// The watch database: `db import results.jsonl` loads `scan` / Dask results into it.
    Db(watch::DbArgs),
    /// Internal: verify one crate version for `scan` in an isolated worker process (request
    /// JSON on stdin, one results line on stdout).
    #[command(name = "__verify-worker", hide = true)]
    VerifyWorker,
    /// Verify a signed verification summary attestation (`attest verify --key PUB FILE`).
    Attest(attest::AttestArgs),
    /// Generate shell completions or man pages.
    Generate(generate::GenerateArgs),
}

fn main() -> ExitCode {
    // Benchmarks: `CRATE_PROVENANCE_TIMINGS=1` prints the stage timings to stderr at exit
    // (`timing NAME MS` lines; benches/cli_calls.sh reads them).
    let timings = std::env::var_os("CRATE_PROVENANCE_TIMINGS").is_some_and(|v| v == "1");
    if !timings {
        return run();
    }
    let start = std::time::Instant::now();
    provenance_core::timing::enable();
    let code = run();
    provenance_core::timing::add("main", start.elapsed());
    let mut err = std::io::stderr().lock();
    for (name, d) in provenance_core::timing::take() {
        let _ = writeln!(err, "timing {name} {:.3}", d.as_secs_f64() * 1e3);
    }
    code
}

fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Verify {
            spec,
            crate_file,
            repo,
            format,
            index_url,
            cargo_config,
            cache_dir,
            offline,
            allow_insecure_transport,
            no_assisted,
            mirror,
            all_diffs,
            attest,
            signing_key,
        } => {
            let krate = match (spec, crate_file) {
                (None, Some(path)) => CrateSource::File(path),
                (Some(spec), None) => match spec.split_once('@') {
                    Some((name, version)) if !name.is_empty() && !version.is_empty() => {
                        CrateSource::Registry {
                            name: name.to_owned(),
                            version: version.to_owned(),
                        }
                    }
                    _ => {
                        return usage_error(
                            format,
                            &format!("expected `NAME@VERSION`, got `{spec}`"),
                        );
                    }
                },
                (Some(_), Some(_)) => {
                    return usage_error(
                        format,
                        "give either `NAME@VERSION` or `--crate-file`, not both",
                    );
                }
                (None, None) => {
                    return usage_error(format, "give `NAME@VERSION` or `--crate-file PATH`");
                }
            };
            let mut options = Options::default();
            options.index_url = match index_arg(index_url, cargo_config.as_deref()) {
                Ok(i) => i,
                Err(e) => return usage_error(format, &e),
            };
            options.cache_dir = cache_dir;
            options.offline = offline;
            options.allow_insecure_transport = allow_insecure_transport;
            options.assisted = !no_assisted;
            options.mirrors = match mirrors(&mirror, &[], allow_insecure_transport) {
                Ok(m) => m,
                Err(e) => return usage_error(format, &e),
            };
            options.all_diffs = all_diffs;
            let signer = match signing_key.as_deref().map(attest::Signer::load).transpose() {
                Ok(s) => s,
                Err(e) => return usage_error(format, &e),
            };
            let mut request = Request::new(krate).with_options(options);
            if let Some(r) = repo {
                request = request.with_repo(RepoSource::parse(&r));
            }
            let verified = {
                let _span = provenance_core::timing::span("verify");
                provenance_core::verify(&request)
            };
            match verified {
                Ok(report) => {
                    if let Some(path) = &attest
                        && let Err(e) = attest::write_verify(path, &report, signer.as_ref())
                    {
                        return error_exit(format, provenance_core::ErrorKind::Io, &e);
                    }
                    let span = provenance_core::timing::span("json");
                    let text = match format {
                        Format::Json => report.to_json() + "\n",
                        Format::Human => render::human(&report, std::io::stdout().is_terminal()),
                    };
                    emit(&text);
                    drop(span);
                    ExitCode::from(report.verdict.exit_code())
                }
                Err(e) => error_exit(format, e.kind(), &render::error_chain(&e)),
            }
        }
        Command::Inspect {
            target,
            format,
            index_url,
            cargo_config,
            cache_dir,
            offline,
            mirror,
        } => {
            let path = std::path::Path::new(&target);
            let krate = if path.exists()
                || std::path::Path::new(&target)
                    .extension()
                    .is_some_and(|e| e == "crate")
            {
                CrateSource::File(path.to_path_buf())
            } else {
                match target.split_once('@') {
                    Some((name, version)) if !name.is_empty() && !version.is_empty() => {
                        CrateSource::Registry {
                            name: name.to_owned(),
                            version: version.to_owned(),
                        }
                    }
                    _ => {
                        return usage_error(
                            format,
                            &format!("expected `FILE.crate` or `NAME@VERSION`, got `{target}`"),
                        );
                    }
                }
            };
            let mut options = Options::default();
            options.index_url = match index_arg(index_url, cargo_config.as_deref()) {
                Ok(i) => i,
                Err(e) => return usage_error(format, &e),
            };
            options.cache_dir = cache_dir;
            options.offline = offline;
            options.mirrors = match mirrors(&mirror, &[], false) {
                Ok(m) => m,
                Err(e) => return usage_error(format, &e),
            };
            match provenance_core::inspect(&krate, &options) {
                Ok(inspection) => {
                    let text = match format {
                        Format::Json => inspection.to_json() + "\n",
                        Format::Human => render::inspection(&inspection),
                    };
                    emit(&text);
                    ExitCode::from(u8::from(inspection.has_high()))
                }
                Err(e) => error_exit(format, e.kind(), &render::error_chain(&e)),
            }
        }
        Command::ListFiles {
            repo,
            commit,
            path,
            format,
        } => match provenance_core::list_files(
            &repo,
            &commit,
            &path,
            &provenance_core::Limits::default(),
        ) {
            Ok(files) => {
                let text = match format {
                    Format::Json => {
                        let doc = serde_json::json!({
                            "schema_version": provenance_core::SCHEMA_VERSION,
                            "commit": commit.to_ascii_lowercase(),
                            "path_in_vcs": path.trim_end_matches('/'),
                            "files": files,
                        });
                        serde_json::to_string_pretty(&doc).expect("json") + "\n"
                    }
                    Format::Human => files
                        .iter()
                        .map(|f| provenance_core::archive::escape(f.path.as_bytes()) + "\n")
                        .collect(),
                };
                emit(&text);
                ExitCode::SUCCESS
            }
            Err(e) => error_exit(format, e.kind(), &render::error_chain(&e)),
        },
        Command::Scan(args) => scan::run(&args),
        Command::Report(args) => scan::report(&args),
        Command::Watch(args) => watch::run(&args),
        Command::Db(args) => watch::db_command(&args),
        Command::VerifyWorker => scan::isolate::worker_main(),
        Command::Attest(args) => attest::run(&args),
        Command::Generate(args) => generate::run(&args),
    }
}

/// `--index-url`, else the crates.io replacement of `--cargo-config`.
fn index_arg(
    index_url: Option<String>,
    cargo_config: Option<&std::path::Path>,
) -> Result<Option<String>, String> {
    match cargo_config {
        Some(f) => {
            provenance_core::fetch::cargo_config::crates_io_index(f).map_err(|e| e.to_string())
        }
        None => Ok(index_url),
    }
}

/// The mirrors of `--mirror FROM=TO` (before those of a policy file), checked.
fn mirrors(
    specs: &[String],
    file: &[(String, String)],
    allow_insecure: bool,
) -> Result<Vec<provenance_core::fetch::Mirror>, String> {
    provenance_core::fetch::mirror::collect(specs, file, allow_insecure).map_err(|e| e.to_string())
}

/// Write to stdout; a closed pipe is not an error (ripgrep).
fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn usage_error(format: Format, message: &str) -> ExitCode {
    error_exit(format, provenance_core::ErrorKind::InvalidInput, message)
}

fn error_exit(format: Format, kind: provenance_core::ErrorKind, message: &str) -> ExitCode {
    match format {
        Format::Json => {
            let doc = serde_json::json!({
                "schema_version": provenance_core::SCHEMA_VERSION,
                "error": { "kind": kind.as_str(), "message": message },
            });
            emit(&(serde_json::to_string_pretty(&doc).expect("json") + "\n"));
        }
        Format::Human => {
            let _ = writeln!(std::io::stderr(), "error: {message}");
        }
    }
    ExitCode::from(2)
}
