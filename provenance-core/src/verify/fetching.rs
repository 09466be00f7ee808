//! The fetch stage as one verification uses it: the `.crate` download and the repository fetch,
//! with what they add to the report (`fetch`) and its findings.

use crate::fetch::{self, DownloadInfo, FetchInfo, Want, crate_archive, yanked_finding};
use crate::progress::Stage;
use crate::repo::{self, Repo};
use crate::report::Finding;
use crate::request::Run;
use crate::text::escape;

/// What the fetch stage contributes to one verification: report data and findings.
#[derive(Debug, Default)]
pub(crate) struct Context {
    info: FetchInfo,
    findings: Vec<Finding>,
    /// The index's publish time of the downloaded version (RFC 3339), for cross-checks.
    pub(crate) pubtime: Option<String>,
    /// Where the repository was fetched from, when a mirror applied (`source.fetched_from`).
    pub(crate) fetched_from: Option<String>,
    /// The URL the repository was fetched from (declared, before mirrors), when the assisted
    /// search's winner may have its submodules fetched as a recorded commit's would be: a
    /// repository fetched into the cache, or a local one reached through a mirror.
    pub(crate) submodule_source: Option<String>,
}

impl Context {
    /// Download the `.crate` of `name@version`.
    pub(crate) fn download(
        &mut self,
        name: &str,
        version: &str,
        run: &mut Run<'_>,
    ) -> Result<Vec<u8>, fetch::Error> {
        run.progress.stage(Stage::Download, None);
        let d = crate_archive(
            name,
            version,
            &fetch::Options::from_verify(run.options),
            run.progress,
            run.should_interrupt,
        )?;
        if d.entry.yanked {
            self.findings.push(yanked_finding(name, version));
        }
        self.pubtime.clone_from(&d.entry.pubtime);
        self.info.download = Some(DownloadInfo {
            url: d.url.clone(),
            bytes: d.bytes.len() as u64,
            from_cache: d.from_cache,
            yanked: d.entry.yanked,
        });
        Ok(d.bytes)
    }

    /// Fetch what `want` needs from the repository at `url` and open it; a repository that
    /// cannot be fetched (or is refused by policy, for a URL from the crate) becomes
    /// `Err(repo::Error)`, i.e. the verdict `repository_not_found`.
    pub(crate) fn repository(
        &mut self,
        url: &str,
        from_crate: bool,
        want: &Want,
        run: &mut Run<'_>,
    ) -> Result<Result<Repo, repo::Error>, fetch::Error> {
        let f = fetch::repository(
            url,
            from_crate,
            want,
            &fetch::Options::from_verify(run.options),
            run.progress,
            run.should_interrupt,
        )?;
        self.findings.extend(f.findings);
        if f.info.strategy != "local" || !run.options.mirrors.is_empty() {
            self.submodule_source = Some(url.to_owned());
        }
        self.info.repository = Some(f.info);
        self.fetched_from = f.fetched_from;
        if let Some(message) = f.not_found {
            return Ok(Err(repo::Error::NotARepository {
                path: escape(url.as_bytes()),
                message,
            }));
        }
        run.progress.stage(Stage::OpenRepository, None);
        let opened = Repo::open(&f.path, &run.options.limits);
        // A repository in the shared cache: only the refs this version's fetch wrote.
        Ok(match f.refs {
            Some(refs) => opened.map(|r| r.with_ref_view(refs)),
            None => opened,
        })
    }

    /// Move the findings collected so far into `findings`.
    pub(crate) fn take_findings(&mut self, findings: &mut Vec<Finding>) {
        findings.append(&mut self.findings);
    }

    /// The report's `fetch` object (`None` when nothing was fetched).
    pub(crate) fn report(&self) -> Option<FetchInfo> {
        (self.info != FetchInfo::default()).then(|| self.info.clone())
    }
}
