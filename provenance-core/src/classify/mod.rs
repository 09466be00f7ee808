//! The classify stage: what the comparison and the crate itself amount to.
//!
//! * [`verdict`](self::classify): verdict precedence over differences and findings;
//! * [`categorize`]: difference categories and severities;
//! * `era`: the cargo versions the crate shows could have made it, and the older cargo rules
//!   that may explain differences;
//! * [`intrinsic`]: crate-intrinsic checks (archive anomalies, `.cargo_vcs_info.json`, the
//!   generated files via [`manifest_check`] and [`lockfile_check`], suspicious code points), and
//!   the inventory of [`inspect`](crate::inspect);
//! * `checks`: cross-checks against the repository (version tags, `dirty`, symlinked manifests,
//!   `[workspace.dependencies]`).
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
