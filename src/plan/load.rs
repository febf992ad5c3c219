//! Reading a plan file from disk, with errors that name the file and line.

use std::path::{Path, PathBuf};

use super::model::Plan;
use super::parse::ParseError;

/// Why a plan file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: cannot read the plan: {source}")]
    Io {
        /// The plan's path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a text plan.
    #[error("{path}:{line}: {source}", line = source.line())]
    Parse {
        /// The plan's path.
        path: PathBuf,
        /// The underlying error.
        source: ParseError,
    },
}

/// Plans larger than this are refused rather than parsed: no real plan comes close.
pub const MAX_PLAN_BYTES: u64 = 64 * 1024 * 1024;

/// Read and parse the plan at `path`.
pub fn load(path: &Path) -> Result<(Plan, String), LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(io(std::io::Error::other(
            "it is a directory; give the path of a plan's .md file",
        )));
    }
    if meta.len() > MAX_PLAN_BYTES {
        return Err(io(std::io::Error::other(format!(
            "it is {} bytes, larger than the {MAX_PLAN_BYTES}-byte limit for a plan",
            meta.len()
        ))));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let plan = Plan::from_bytes(&bytes).map_err(|source| LoadError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    // from_bytes succeeded, so the bytes are UTF-8.
    let text = String::from_utf8(bytes).unwrap_or_default();
    Ok((plan, text))
}
