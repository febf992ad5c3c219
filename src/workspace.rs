//! The workspace folder: where plans, the knowledge base, settings and run state live.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::journal::Journal;

/// A workspace rooted at a folder (the current directory, or `--root DIR`).
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The root folder.
    pub root: PathBuf,
}

impl Workspace {
    /// The workspace at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Workspace { root: root.into() }
    }

    /// `knowledge/`.
    pub fn knowledge(&self) -> PathBuf {
        self.root.join("knowledge")
    }

    /// `.expanse/`.
    pub fn state(&self) -> PathBuf {
        self.root.join(".expanse")
    }

    /// The default corpus, `assets/corpus/`.
    pub fn default_corpus(&self) -> PathBuf {
        self.root.join("assets").join("corpus")
    }

    /// A plan path as given, resolved against the root when relative.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        }
    }

    /// The state folder of a plan (keyed by its path as given, relative to the root).
    pub fn journal_dir(&self, plan: &Path) -> PathBuf {
        let key = plan
            .strip_prefix(&self.root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| plan.to_path_buf());
        Journal::dir_for(&self.state(), &key)
    }
}

/// `1,3-5` -> {1, 3, 4, 5}.
pub fn parse_only(spec: &str) -> Result<BTreeSet<u32>, String> {
    let mut out = BTreeSet::new();
    for piece in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("\"{piece}\" is not a PART number or range such as 3 or 3-5");
        match piece.split_once('-') {
            Some((a, b)) => {
                let a: u32 = a.trim().parse().map_err(|_| bad())?;
                let b: u32 = b.trim().parse().map_err(|_| bad())?;
                if a > b || b - a > 100_000 {
                    return Err(format!("\"{piece}\" is not an ascending range"));
                }
                out.extend(a..=b);
            }
            None => {
                out.insert(piece.parse().map_err(|_| bad())?);
            }
        }
    }
    if out.is_empty() {
        return Err("no PART numbers given".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ranges() {
        assert_eq!(
            parse_only("1,3-5").unwrap().into_iter().collect::<Vec<_>>(),
            [1, 3, 4, 5]
        );
        assert_eq!(parse_only(" 2 , 2 ").unwrap().len(), 1);
        assert!(parse_only("5-3").is_err());
        assert!(parse_only("x").unwrap_err().contains("\"x\""));
        assert!(parse_only("").is_err());
    }
}
