//! Resource limits (shared/SECURITY.md §3). Every limit is enforced with a typed error naming it.

/// Resource limits applied to untrusted input. [`Limits::default`] gives the documented safe defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum size of a `.crate` file read from disk or downloaded. Default 64 MiB.
    pub max_crate_bytes: u64,
    /// Minimum cap on decompressed bytes; the effective cap is
    /// `max(max_decompressed_bytes, decompressed_ratio × compressed size)` (cargo's rule), unless
    /// `max_decompressed_bytes_hard` is lower. Default 512 MiB.
    pub max_decompressed_bytes: u64,
    /// The ratio used for the cargo-compatible decompressed cap. Default 20.
    pub decompressed_ratio: u64,
    /// An absolute cap on decompressed bytes that wins over the ratio rule. Default 1 GiB.
    pub max_decompressed_bytes_hard: u64,
    /// Maximum number of tar entries (including metadata entries). Default 100,000.
    pub max_entries: u64,
    /// Maximum path length in bytes. Default 4,096.
    pub max_path_bytes: u64,
    /// Maximum length of one path component in bytes. Default 255.
    pub max_component_bytes: u64,
    /// Maximum number of path components. Default 64.
    pub max_path_depth: u64,
    /// Maximum size of one PAX or GNU long-name record. Default 64 KiB.
    pub max_metadata_record_bytes: u64,
    /// Maximum size of `Cargo.toml` / `Cargo.toml.orig`. Default 10 MiB.
    pub max_manifest_bytes: u64,
    /// Maximum size of `.cargo_vcs_info.json`. Default 64 KiB.
    pub max_vcs_info_bytes: u64,
    /// Files larger than this are compared by hash only, never diffed as text. Default 16 MiB.
    pub max_text_diff_bytes: u64,
    /// Total bytes of file contents kept in memory; further files are hashed while streaming
    /// (compared by id, never diffed as text). Default 128 MiB.
    pub max_in_memory_bytes: u64,
    /// Maximum size of one unified diff kept in a report (larger diffs are truncated). Default 64 KiB.
    pub max_diff_output_bytes: u64,
    /// Maximum tree entries visited in one repository walk. Default 1,000,000.
    pub max_tree_entries: u64,
    /// Maximum tree depth. Default 256.
    pub max_tree_depth: u64,
    /// Maximum symlink hops when resolving links inside a tree. Default 40.
    pub max_symlink_hops: u64,
    /// Maximum number of `include` / `exclude` patterns. Default 10,000.
    pub max_patterns: u64,
    /// Maximum blob size read from the repository for a text diff. Default 16 MiB.
    pub max_blob_bytes: u64,
    /// gix's single-allocation limit for objects read from untrusted repositories. Default 256 MiB.
    pub git_alloc_limit: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_crate_bytes: 64 << 20,
            max_decompressed_bytes: 512 << 20,
            decompressed_ratio: 20,
            max_decompressed_bytes_hard: 1 << 30,
            max_entries: 100_000,
            max_path_bytes: 4096,
            max_component_bytes: 255,
            max_path_depth: 64,
            max_metadata_record_bytes: 64 << 10,
            max_manifest_bytes: 10 << 20,
            max_vcs_info_bytes: 64 << 10,
            max_text_diff_bytes: 16 << 20,
            max_in_memory_bytes: 128 << 20,
            max_diff_output_bytes: 64 << 10,
            max_tree_entries: 1_000_000,
            max_tree_depth: 256,
            max_symlink_hops: 40,
            max_patterns: 10_000,
            max_blob_bytes: 16 << 20,
            git_alloc_limit: 256 << 20,
        }
    }
}

impl Limits {
    /// The effective decompressed-size cap for a `.crate` of `compressed` bytes.
    pub fn decompressed_cap(&self, compressed: u64) -> u64 {
        self.max_decompressed_bytes
            .max(compressed.saturating_mul(self.decompressed_ratio))
            .min(self.max_decompressed_bytes_hard)
    }
}
