//! The state of one selection: what is listed so far, under which rules and filter, and the
//! two rules every listed file passes (`include`/`exclude`, the `target` directory of old
//! cargo). The listing itself is split by rule family: `git_list.rs` (git mode, nested
//! packages), `walk.rs` (the `include` walk), `links.rs` (symlinks, submodules), `force.rs`
//! (readme and license files).

use std::collections::BTreeMap;

use gix::ObjectId;

use super::paths::basename;
use super::patterns::Filter;
use super::rules::Rules;
use super::selection::{Content, Expected, Link, MissingSubmodule, Origin};
use crate::limits::Limits;
use crate::repo::Repo;
use crate::report::Finding;

/// Lists the files of one package.
pub(super) struct Walker<'a> {
    pub(super) repo: &'a Repo,
    pub(super) limits: &'a Limits,
    pub(super) rules: Rules,
    pub(super) filter: Filter,
    pub(super) pkg: String,
    pub(super) out: BTreeMap<String, Expected>,
    pub(super) missing: Vec<MissingSubmodule>,
    pub(super) findings: Vec<Finding>,
    pub(super) package_error: Option<String>,
    /// Repository paths of directories currently being walked (loop detection).
    pub(super) walking: Vec<(ObjectId, String)>,
}

impl<'a> Walker<'a> {
    /// An empty listing of the package at `pkg`.
    pub(super) fn new(
        repo: &'a Repo,
        limits: &'a Limits,
        rules: Rules,
        filter: Filter,
        pkg: String,
    ) -> Walker<'a> {
        Walker {
            repo,
            limits,
            rules,
            filter,
            pkg,
            out: BTreeMap::new(),
            missing: Vec::new(),
            findings: Vec::new(),
            package_error: None,
            walking: Vec::new(),
        }
    }
}

impl Walker<'_> {
    pub(super) fn fail(&mut self, msg: String) {
        if self.package_error.is_none() {
            self.package_error = Some(msg);
        }
    }

    pub(super) fn add(&mut self, rel: String, content: Content, link: Option<Link>) {
        if !self.filter.keep(&rel, false) {
            return;
        }
        if self.rules.target_file_anywhere_dropped()
            && self.filter.include_is_empty()
            && basename(&rel) == "target"
        {
            return;
        }
        self.out.entry(rel).or_insert(Expected {
            content,
            origin: Origin::Listed,
            link,
        });
    }
}
