//! Progress reporting: the stages a verification goes through, and the [`Progress`] trait a
//! front-end implements to show them. A leaf module: it uses nothing of the crate.

/// The stages reported through [`Progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Reading and decompressing the `.crate`.
    ReadCrate,
    /// Downloading the `.crate`.
    Download,
    /// Fetching the repository.
    Fetch,
    /// Opening the repository.
    OpenRepository,
    /// Selecting files from the tree.
    Rebuild,
    /// Comparing.
    Compare,
    /// Trying version tags.
    Assisted,
}

impl Stage {
    /// A stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::ReadCrate => "read_crate",
            Stage::Download => "download",
            Stage::Fetch => "fetch",
            Stage::OpenRepository => "open_repository",
            Stage::Rebuild => "rebuild",
            Stage::Compare => "compare",
            Stage::Assisted => "assisted",
        }
    }
}

/// Receives progress: a stage with an optional total (bytes or items), then increments.
pub trait Progress {
    /// A new stage begins.
    fn stage(&mut self, stage: Stage, total: Option<u64>);
    /// `n` more units of the current stage are done.
    fn inc(&mut self, n: u64);
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl Progress for Discard {
    fn stage(&mut self, _: Stage, _: Option<u64>) {}
    fn inc(&mut self, _: u64) {}
}
