//! Resolving a plan's target inside `knowledge/`, refusing anything that would escape it.

use std::path::{Component, Path, PathBuf};

use crate::plan::target_problem;

/// Why a target cannot be written inside the knowledge base.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// The target is malformed (absolute, `..`, not `.md`).
    #[error("target \"{target}\" {problem}")]
    Invalid {
        /// The target as the plan gives it.
        target: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A folder on the way (a symlink) leads outside the knowledge base.
    #[error("target \"{target}\" resolves to {resolved}, outside the knowledge base {root}")]
    Escapes {
        /// The target as the plan gives it.
        target: String,
        /// Where it really leads.
        resolved: PathBuf,
        /// The knowledge base root.
        root: PathBuf,
    },
    /// The file system could not be asked.
    #[error("cannot resolve target \"{target}\": {source}")]
    Io {
        /// The target as the plan gives it.
        target: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The absolute path of `target` inside `knowledge_root`, following symlinks of existing parts.
pub fn resolve_target(knowledge_root: &Path, target: &str) -> Result<PathBuf, PathError> {
    if let Some(problem) = target_problem(target) {
        return Err(PathError::Invalid {
            target: target.to_string(),
            problem,
        });
    }
    let io = |source| PathError::Io {
        target: target.to_string(),
        source,
    };
    let root = knowledge_root.canonicalize().map_err(io)?;
    let mut path = root.clone();
    for component in Path::new(target).components() {
        match component {
            Component::Normal(c) => path.push(c),
            Component::CurDir => {}
            _ => {
                return Err(PathError::Invalid {
                    target: target.to_string(),
                    problem: "is not a plain relative path",
                });
            }
        }
    }
    // The deepest part of the path that exists is where a symlink could lead elsewhere.
    let mut existing = path.as_path();
    while !existing.exists() {
        match existing.parent() {
            Some(parent) => existing = parent,
            None => break,
        }
    }
    let real = existing.canonicalize().map_err(io)?;
    let rest = path.strip_prefix(existing).unwrap_or(Path::new(""));
    // `join("")` would append a slash and turn an existing file into a "directory".
    let resolved = if rest.as_os_str().is_empty() {
        real
    } else {
        real.join(rest)
    };
    if !resolved.starts_with(&root) {
        return Err(PathError::Escapes {
            target: target.to_string(),
            resolved,
            root,
        });
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_outside_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let kb = dir.path().join("knowledge");
        std::fs::create_dir_all(kb.join("a")).unwrap();
        let ok = resolve_target(&kb, "a/new/file.md").unwrap();
        assert!(ok.starts_with(kb.canonicalize().unwrap()));
        std::fs::write(kb.join("a/there.md"), "x").unwrap();
        let existing = resolve_target(&kb, "a/there.md").unwrap();
        assert_eq!(std::fs::read_to_string(existing).unwrap(), "x");
        assert!(matches!(
            resolve_target(&kb, "../x.md"),
            Err(PathError::Invalid { .. })
        ));
        assert!(matches!(
            resolve_target(&kb, "/x.md"),
            Err(PathError::Invalid { .. })
        ));
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&outside, kb.join("link")).unwrap();
            let err = resolve_target(&kb, "link/x.md").unwrap_err();
            assert!(matches!(err, PathError::Escapes { .. }), "{err}");
            assert!(err.to_string().contains("outside the knowledge base"));
        }
    }
}
