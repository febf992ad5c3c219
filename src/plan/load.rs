//! Reading a plan file from disk, with errors that name the file and line.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

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

/// The last plan parsed and the bytes it was parsed from. Approvals and checks load the plan
/// once per draft, and a large plan's parse is what made `--approve-all` quadratic; comparing
/// the bytes costs a fraction of parsing them.
static LAST_PARSED: Mutex<Option<(Vec<u8>, Plan)>> = Mutex::new(None);

/// [`Plan::from_bytes`], skipped when the bytes are those parsed last.
fn parse_remembered(bytes: &[u8]) -> Result<Plan, ParseError> {
    // A poisoned lock only means a parse panicked elsewhere; the memo is then just refilled.
    let mut last = LAST_PARSED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((seen, plan)) = last.as_ref()
        && seen.as_slice() == bytes
    {
        return Ok(plan.clone());
    }
    let plan = Plan::from_bytes(bytes)?;
    *last = Some((bytes.to_vec(), plan.clone()));
    Ok(plan)
}

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
    let plan = parse_remembered(&bytes).map_err(|source| LoadError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    // from_bytes succeeded, so the bytes are UTF-8.
    let text = String::from_utf8(bytes).unwrap_or_default();
    Ok((plan, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "# Plan\n\n### PART 1: Create a/one.md (~40 lines)\n\n- [ ] PART 1: Create a/one.md\n- [ ] Search: \"ZeRO\"\n";

    #[test]
    fn a_plan_changed_on_disk_is_parsed_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.md");
        std::fs::write(&path, PLAN).unwrap();
        let (first, _) = load(&path).unwrap();
        assert_eq!(load(&path).unwrap().0, first);
        // Same length, one letter different: the remembered parse must not be served.
        std::fs::write(&path, PLAN.replace("a/one.md", "b/one.md")).unwrap();
        let (second, text) = load(&path).unwrap();
        assert!(text.contains("b/one.md"));
        assert_eq!(second.parts[0].target, "b/one.md");
        assert_ne!(second, first);
    }
}
