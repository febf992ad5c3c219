//! One module per subcommand; each turns parsed arguments into library calls and output.

pub mod check;

use std::path::{Path, PathBuf};

/// A plan path as given, resolved against the workspace root when relative.
pub fn resolve(root: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    }
}
