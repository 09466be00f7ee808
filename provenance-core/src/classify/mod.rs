//! The classify stage: what the comparisons and the crate itself amount to. Nothing here can
//! fail; everything here is data in, data out (the repository is read only for blobs of
//! differing files and for cross-checks).
//!
//! * `verdict.rs`: verdict precedence over differences and findings ([`classify()`]), and the
//!   last step of every report (summary line, findings that block `match`);
//! * [`categorize`]: difference categories and severities ([`categorize_all`]);
//! * `era.rs`: the cargo versions the crate shows could have made it ([`CargoEra`]), the older
//!   cargo rules worth trying, and what they explain (`older_cargo_rule`);
//! * `intrinsic.rs`: crate-intrinsic checks (archive anomalies, `.cargo_vcs_info.json`, the
//!   generated files via [`manifest_check`] and [`lockfile_check`], suspicious code points);
//!   `inventory.rs`: what a reviewer wants first ([`Inventory`]);
//! * `checks.rs`: cross-checks against the repository (version tags, `dirty`, symlinked
//!   manifests, `[workspace.dependencies]` at the commit).
//!
//! This module only gathers its files; they use each other in the order
//! `verdict → categorize`, `checks → intrinsic → {era, inventory, lockfile_check} →
//! manifest_check`.

pub mod categorize;
pub(crate) mod checks;
pub(crate) mod era;
pub(crate) mod intrinsic;
pub(crate) mod inventory;
pub mod lockfile_check;
pub mod manifest_check;
mod verdict;

pub use categorize::categorize_all;
pub use era::{CURRENT_CARGO_MINOR, CargoEra, EraReport};
pub use intrinsic::{Declared, Inspection};
pub use inventory::{DirectorySize, Inventory, InventoryFile};
pub use verdict::classify;
pub(crate) use verdict::finish;
