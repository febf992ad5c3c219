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
    /// The workspace at `root`, however it is spelled (relative, absolute, through `..` or a
    /// symbolic link): one folder is one workspace, with one journal per plan and one run lock.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let absolute = std::path::absolute(&root).unwrap_or_else(|_| root.clone());
        Workspace {
            root: std::fs::canonicalize(&absolute).unwrap_or(absolute),
        }
    }

    /// Where the workspace of a command started in `cwd` is: `--root` when given, else `cwd` or
    /// the nearest folder above it that is a workspace, as git finds its repository. The flag says
    /// whether it was found above `cwd` (plan paths are then taken relative to `cwd`).
    pub fn locate(explicit: Option<&Path>, cwd: &Path) -> (PathBuf, bool) {
        if let Some(root) = explicit {
            return (root.to_path_buf(), false);
        }
        if cwd.join("knowledge").is_dir() {
            return (cwd.to_path_buf(), false);
        }
        // Above, a folder counts only with knowledge/ and one more sign of a workspace, so an
        // unrelated `knowledge` folder in a home directory is not taken for one.
        let above = cwd.ancestors().skip(1).find(|d| {
            d.join("knowledge").is_dir()
                && (d.join("plans").is_dir()
                    || d.join(".expanse").is_dir()
                    || d.join(crate::config::FILE_NAME).is_file())
        });
        match above {
            Some(d) => (d.to_path_buf(), true),
            None => (cwd.to_path_buf(), false),
        }
    }

    /// `knowledge/`.
    pub fn knowledge(&self) -> PathBuf {
        self.root.join("knowledge")
    }

    /// `.expanse/`.
    pub fn state(&self) -> PathBuf {
        self.root.join(".expanse")
    }

    /// The default corpus: the demo corpus embedded in the binary, written to
    /// `.expanse/corpus/demo-<hash>/` when a search first opens it (so it works in any folder).
    pub fn default_corpus(&self) -> PathBuf {
        crate::research::local::embedded::dir_in(&self.state())
    }

    /// A plan path as given, resolved against the root when relative.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        }
    }

    /// The state folder of a plan, keyed by its path relative to the root however it is
    /// spelled (`plans/p.md`, `./plans/p.md`, `plans//p.md` or absolute): one plan, one journal.
    pub fn journal_dir(&self, plan: &Path) -> PathBuf {
        Journal::dir_for(&self.state(), &self.plan_key(plan))
    }

    /// A plan's path relative to the root, `.` and repeated separators gone. Its folder is
    /// resolved (links and `..` included), its file name kept: a plan that is a link is keyed
    /// by the link, as it always was.
    fn plan_key(&self, plan: &Path) -> PathBuf {
        let full = self.resolve(plan);
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let real = match (full.parent(), full.file_name()) {
            (Some(dir), Some(name)) if !dir.as_os_str().is_empty() => canon(dir).join(name),
            _ => full.clone(),
        };
        let rel = real
            .strip_prefix(canon(&self.root))
            .map(Path::to_path_buf)
            .unwrap_or(real);
        rel.components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect()
    }
}

/// Why a folder cannot be used as a workspace.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// The folder has no `knowledge/`: commands that write refuse to create one unasked.
    #[error(
        "{shown} is not an expanse workspace (it has no knowledge/ folder); nothing was created. \
         Run `expanse init{init_arg}` to make one, or pass --root DIR to use another folder"
    )]
    NotAWorkspace {
        /// The folder as the user would recognise it.
        shown: String,
        /// What to pass to `expanse init` (empty for the current folder).
        init_arg: String,
    },
    /// `expanse init` would overwrite these files.
    #[error(
        "{} already exist{}; `expanse init` never overwrites a file (move {} away, or init another folder)",
        names(.0),
        if .0.len() == 1 { "s" } else { "" },
        if .0.len() == 1 { "it" } else { "them" }
    )]
    Exists(Vec<PathBuf>),
    /// A file or folder could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// What was being written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn names(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Workspace {
    /// Refuse a root without `knowledge/`: run, status and review would otherwise create state
    /// and knowledge folders wherever they happen to be started.
    pub fn require(&self) -> Result<(), WorkspaceError> {
        if self.knowledge().is_dir() {
            return Ok(());
        }
        let here = std::env::current_dir()
            .ok()
            .and_then(|d| std::fs::canonicalize(d).ok())
            .is_some_and(|d| d == self.root);
        let shown = if here {
            match std::env::current_dir() {
                Ok(d) => format!("the current folder ({})", d.display()),
                Err(_) => "the current folder".to_string(),
            }
        } else {
            self.root.display().to_string()
        };
        Err(WorkspaceError::NotAWorkspace {
            shown,
            init_arg: if here {
                String::new()
            } else {
                format!(" {}", self.root.display())
            },
        })
    }
}

/// The example plan `expanse init` writes (`{{DATE}}` becomes the day it is written).
pub const EXAMPLE_PLAN: &str = include_str!("../assets/templates/example-plan.md");
/// The commented `expanse.toml` `expanse init` writes: every setting with its default.
pub const CONFIG_TEMPLATE: &str = include_str!("../assets/templates/expanse.toml");
/// The `.gitignore` `expanse init` writes, keeping run state out of version control.
pub const GITIGNORE: &str = include_str!("../assets/templates/gitignore");
/// Where `expanse init` puts the example plan, relative to the workspace root.
pub const EXAMPLE_PLAN_PATH: &str = "plans/example.md";

/// What `expanse init` did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// A new file.
    File(PathBuf),
    /// `.expanse/` was added to an existing `.gitignore` (the rest of it kept).
    IgnoreAdded(PathBuf),
    /// An existing `.gitignore` already ignores `.expanse/`.
    IgnoreKept(PathBuf),
}

/// Make a workspace in `dir` (created if missing): `plans/example.md`, `knowledge/INDEX.md`,
/// a commented `expanse.toml` and a `.gitignore` for `.expanse/`. Refuses, writing nothing, when
/// any of the first three exists; an existing `.gitignore` only gains a `.expanse/` line.
pub fn init(dir: &Path, today: &str) -> Result<Vec<Created>, WorkspaceError> {
    let files: [(&str, String); 3] = [
        (EXAMPLE_PLAN_PATH, EXAMPLE_PLAN.replace("{{DATE}}", today)),
        (
            "knowledge/INDEX.md",
            crate::knowledge::index::EMPTY_INDEX.to_string(),
        ),
        (crate::config::FILE_NAME, CONFIG_TEMPLATE.to_string()),
    ];
    let existing: Vec<PathBuf> = files
        .iter()
        .map(|(rel, _)| dir.join(rel))
        .filter(|p| p.symlink_metadata().is_ok())
        .collect();
    if !existing.is_empty() {
        return Err(WorkspaceError::Exists(existing));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WorkspaceError::Io { path, source }
    };
    let mut done = Vec::new();
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        // create_new: a file that appeared since the check above is still never overwritten.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => WorkspaceError::Exists(vec![path.clone()]),
                _ => io(&path)(e),
            })?;
        std::io::Write::write_all(&mut f, text.as_bytes()).map_err(io(&path))?;
        done.push(Created::File(path));
    }
    let ignore = dir.join(".gitignore");
    match std::fs::read_to_string(&ignore) {
        Ok(text) => {
            let ignored = text
                .lines()
                .map(str::trim)
                .any(|l| matches!(l, ".expanse" | ".expanse/" | "/.expanse" | "/.expanse/"));
            if ignored {
                done.push(Created::IgnoreKept(ignore));
            } else {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&ignore)
                    .map_err(io(&ignore))?;
                let sep = if text.is_empty() || text.ends_with('\n') {
                    ""
                } else {
                    "\n"
                };
                std::io::Write::write_all(&mut f, format!("{sep}{GITIGNORE}").as_bytes())
                    .map_err(io(&ignore))?;
                done.push(Created::IgnoreAdded(ignore));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(&ignore, GITIGNORE).map_err(io(&ignore))?;
            done.push(Created::File(ignore));
        }
        Err(e) => return Err(io(&ignore)(e)),
    }
    Ok(done)
}

/// Why a list of numbers (`1,3-5`) cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumbersError {
    /// A piece that is neither a number nor a range.
    #[error("\"{piece}\" is not a {what} number or range such as 3 or 3-5")]
    NotANumber {
        /// The piece.
        piece: String,
        /// What the numbers are (`PART`, `hunk`).
        what: String,
    },
    /// A range that goes down (or is absurdly long).
    #[error("\"{0}\" is not an ascending range")]
    NotAscending(String),
    /// Nothing was given.
    #[error("no {0} numbers given")]
    Empty(String),
}

/// `1,3-5` -> {1, 3, 4, 5}: PART numbers.
pub fn parse_only(spec: &str) -> Result<BTreeSet<u32>, NumbersError> {
    parse_numbers(spec, "PART")
}

/// `1,3-5` -> {1, 3, 4, 5}; `what` names the numbers in errors (`PART`, `hunk`).
pub fn parse_numbers(spec: &str, what: &str) -> Result<BTreeSet<u32>, NumbersError> {
    let mut out = BTreeSet::new();
    for piece in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || NumbersError::NotANumber {
            piece: piece.to_string(),
            what: what.to_string(),
        };
        match piece.split_once('-') {
            Some((a, b)) => {
                let a: u32 = a.trim().parse().map_err(|_| bad())?;
                let b: u32 = b.trim().parse().map_err(|_| bad())?;
                if a > b || b - a > 100_000 {
                    return Err(NumbersError::NotAscending(piece.to_string()));
                }
                out.extend(a..=b);
            }
            None => {
                out.insert(piece.parse().map_err(|_| bad())?);
            }
        }
    }
    if out.is_empty() {
        return Err(NumbersError::Empty(what.to_string()));
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
        assert!(parse_only("x").unwrap_err().to_string().contains("\"x\""));
        assert!(parse_only("").is_err());
    }
}
