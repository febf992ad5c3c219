//! Helpers shared by the integration tests: workspaces, the demo corpus, file listings.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

/// The runnable plan: the seed with every PART open.
pub const RUNNABLE: &str = include_str!("../../plans/expansion-18-21.md");

/// The demo corpus shipped in `assets/corpus/`.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/corpus")
}

/// A workspace holding `plan` as plans/p.md and a knowledge base with an empty INDEX.md.
pub fn workspace(plan: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("plans")).unwrap();
    std::fs::create_dir_all(dir.path().join("knowledge")).unwrap();
    std::fs::write(dir.path().join("plans/p.md"), plan).unwrap();
    std::fs::write(
        dir.path().join("knowledge/INDEX.md"),
        "# Index\n\n## Files\n\n",
    )
    .unwrap();
    dir
}

/// Every file under `dir` (none when it does not exist), sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
