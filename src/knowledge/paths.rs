//! Resolving paths inside `knowledge/`: a plan's target, refusing anything that would escape it,
//! and the files expanse maintains itself (INDEX.md, drops/), refusing symlinks.

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
    /// INDEX.md, `drops/` or a drop is a symlink (it could lead outside the base, or pull an
    /// outside file into it).
    #[error(
        "{path} is a symbolic link; expanse maintains it itself and follows no link there — replace the link with the real file or folder"
    )]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// INDEX.md or a drop is not a regular file, or `drops/` is not a folder.
    #[error("{path} is not a {expected}")]
    WrongType {
        /// The path.
        path: PathBuf,
        /// What it should be (`file`, `folder`).
        expected: &'static str,
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

/// A file of the knowledge base that expanse keeps itself, never a PART's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Managed<'a> {
    /// `INDEX.md` at the root of the base.
    Index,
    /// `drops/<name>`: a KNOWLEDGE DROP (a plain file name, no folders).
    Drop(&'a str),
}

/// The path of a managed file inside `knowledge_root`, refusing a symlink at INDEX.md, at
/// `drops/` or at the drop itself (the file may not exist yet; `drops/` may not either).
/// Writers replace the file by renaming a staged copy over it, which never follows a link.
pub fn resolve_managed(knowledge_root: &Path, what: Managed<'_>) -> Result<PathBuf, PathError> {
    let shown = match what {
        Managed::Index => "INDEX.md".to_string(),
        Managed::Drop(name) => format!("drops/{name}"),
    };
    let io = |source| PathError::Io {
        target: shown.clone(),
        source,
    };
    let root = knowledge_root.canonicalize().map_err(io)?;
    let path = match what {
        Managed::Index => root.join("INDEX.md"),
        Managed::Drop(name) => {
            let plain = !name.is_empty()
                && name != "."
                && name != ".."
                && !name.contains(['/', '\\', '\0']);
            if !plain {
                return Err(PathError::Invalid {
                    target: shown,
                    problem: "is not a plain file name inside drops/",
                });
            }
            let drops = root.join("drops");
            check_kind(&drops, "folder", &shown)?;
            drops.join(name)
        }
    };
    check_kind(&path, "file", &shown)?;
    Ok(path)
}

/// Open a managed file for reading without following a symlink: `None` when it does not exist.
/// (Reading INDEX.md through a link would copy an outside file into the base on the next write.)
pub fn open_managed(
    knowledge_root: &Path,
    what: Managed<'_>,
) -> Result<Option<std::fs::File>, PathError> {
    let path = resolve_managed(knowledge_root, what)?;
    let io = |source| PathError::Io {
        target: path.display().to_string(),
        source,
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    // A link swapped in between the check and the open: the opened file is then not the one
    // the path names without following links.
    let opened = file.metadata().map_err(io)?;
    let here = std::fs::symlink_metadata(&path).map_err(io)?;
    if here.file_type().is_symlink() {
        return Err(PathError::Symlink { path });
    }
    if !same_file(&opened, &here) {
        return Err(PathError::Io {
            target: path.display().to_string(),
            source: std::io::Error::other("the file changed while it was being opened"),
        });
    }
    if !opened.is_file() {
        return Err(PathError::WrongType {
            path,
            expected: "file",
        });
    }
    Ok(Some(file))
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

/// Refuse `path` when it is a symlink or not a `expected` (`file` / `folder`); absent is fine.
fn check_kind(path: &Path, expected: &'static str, shown: &str) -> Result<(), PathError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(PathError::Symlink {
            path: path.to_path_buf(),
        }),
        Ok(m) if (expected == "folder") != m.is_dir() => Err(PathError::WrongType {
            path: path.to_path_buf(),
            expected,
        }),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(PathError::Io {
            target: shown.to_string(),
            source,
        }),
    }
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

    #[test]
    fn managed_files_refuse_links() {
        let dir = tempfile::tempdir().unwrap();
        let kb = dir.path().join("knowledge");
        std::fs::create_dir_all(&kb).unwrap();
        // Absent is fine: the first approval creates them.
        let index = resolve_managed(&kb, Managed::Index).unwrap();
        assert!(index.ends_with("INDEX.md"));
        assert!(open_managed(&kb, Managed::Index).unwrap().is_none());
        assert!(resolve_managed(&kb, Managed::Drop("KNOWLEDGE-DROP-x.md")).is_ok());
        for bad in ["", "..", "a/b.md", "a\\b.md"] {
            assert!(
                matches!(
                    resolve_managed(&kb, Managed::Drop(bad)),
                    Err(PathError::Invalid { .. })
                ),
                "{bad}"
            );
        }
        std::fs::write(kb.join("INDEX.md"), "# Index\n").unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut open_managed(&kb, Managed::Index).unwrap().unwrap(),
            &mut text,
        )
        .unwrap();
        assert_eq!(text, "# Index\n");
        std::fs::create_dir(kb.join("drops")).unwrap();
        std::fs::create_dir(kb.join("drops/odd.md")).unwrap();
        assert!(matches!(
            resolve_managed(&kb, Managed::Drop("odd.md")),
            Err(PathError::WrongType { .. })
        ));
        #[cfg(unix)]
        {
            let outside = dir.path().join("secret.md");
            std::fs::write(&outside, "outside").unwrap();
            std::fs::remove_file(kb.join("INDEX.md")).unwrap();
            std::os::unix::fs::symlink(&outside, kb.join("INDEX.md")).unwrap();
            let err = resolve_managed(&kb, Managed::Index).unwrap_err();
            assert!(matches!(err, PathError::Symlink { .. }), "{err}");
            assert!(err.to_string().contains("symbolic link"), "{err}");
            assert!(matches!(
                open_managed(&kb, Managed::Index),
                Err(PathError::Symlink { .. })
            ));
            std::fs::remove_dir_all(kb.join("drops")).unwrap();
            std::os::unix::fs::symlink(dir.path(), kb.join("drops")).unwrap();
            assert!(matches!(
                resolve_managed(&kb, Managed::Drop("x.md")),
                Err(PathError::Symlink { .. })
            ));
        }
    }
}
