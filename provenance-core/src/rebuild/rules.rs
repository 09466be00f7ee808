//! Cargo's file-selection rules by era: [`Rules`] names a cargo version, and each predicate says
//! whether a rule that changed over time (spec §12) holds for it. Add a rule that changed here,
//! with the version it changed in, and use the predicate where the rule applies.

/// The cargo rules in force, identified by the cargo minor version (`95` = Rust 1.95).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rules {
    /// Rust/cargo minor version, e.g. 95 for 1.95.
    pub cargo_minor: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules::CURRENT
    }
}

impl Rules {
    /// The rules of the cargo this crate was verified against (1.95).
    pub const CURRENT: Rules = Rules { cargo_minor: 95 };
    /// Versions at which a rule this crate models changed (spec §12); evaluating one version per
    /// interval covers every era.
    pub const BREAKPOINTS: &'static [u32] = &[30, 36, 38, 42, 43, 45, 46, 56, 62, 71, 76, 80, 95];

    pub(super) fn gitignore_patterns(self) -> bool {
        self.cargo_minor >= 36
    }
    pub(super) fn force_license(self) -> bool {
        self.cargo_minor >= 43
    }
    pub(super) fn force_readme(self) -> bool {
        self.cargo_minor >= 62
    }
    pub(super) fn default_readme(self) -> bool {
        self.cargo_minor >= 46
    }
    pub(super) fn outside_conflict_root_only(self) -> bool {
        self.cargo_minor >= 71
    }
    pub(super) fn missing_forced_is_error(self) -> bool {
        self.cargo_minor >= 81
    }
    pub(super) fn target_file_anywhere_dropped(self) -> bool {
        self.cargo_minor <= 75
    }
    /// Spec §2.4: cargo 1.4–1.41 skipped every entry whose name starts with `.` in every walk,
    /// even when `include` names it (PR #1959, undone by PR #7680 in 1.42).
    pub(super) fn walk_skips_dotfiles(self) -> bool {
        (4..=41).contains(&self.cargo_minor)
    }
    pub(super) fn symlinked_dirs_walked(self) -> bool {
        self.cargo_minor >= 38
    }
    pub(super) fn case_insensitive_manifest(self) -> bool {
        self.cargo_minor >= 73
    }
    pub(super) fn orig_reserved(self) -> bool {
        self.cargo_minor >= 62
    }
    pub(super) fn build_outside_is_error(self) -> bool {
        self.cargo_minor >= 76
    }
    pub(super) fn walk_target_file_pruned(self) -> bool {
        self.cargo_minor <= 58
    }
    /// Spec §4.5: since 1.84 the generated `Cargo.lock` is always in the archive list.
    pub(super) fn lockfile_always(self) -> bool {
        self.cargo_minor >= 84
    }
}
