//! File helpers: atomic writes, and walking a folder for documents of given types.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Prefix of the temp files expanse stages beside their targets; one left by a crash is stale.
pub const TEMP_PREFIX: &str = ".expanse-tmp-";

/// Suffix of those temp files: with the prefix and [`TEMP_RANDOM`] random characters between,
/// a name no file of the user's is likely to have.
pub const TEMP_SUFFIX: &str = ".partial";

/// Random characters in a temp file's name.
const TEMP_RANDOM: usize = 8;

/// Whether `name` is a temp file's name as [`stage`] makes them (and nothing else is).
pub fn is_temp_name(name: &str) -> bool {
    name.strip_prefix(TEMP_PREFIX)
        .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|r| r.len() == TEMP_RANDOM && r.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Write `bytes` to `path` so that a crash leaves either the old file or the new one, never a
/// mix, and the new one survives a power loss once this returns.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_replacing(path, bytes, true)
}

/// Like [`write_atomic`] without the fsyncs when `durable` is false: a kill of the process still
/// leaves the old file or the new one, but a power loss may lose the write. For data that can be
/// fetched again.
pub fn write_replacing(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    commit(stage(path, bytes, durable)?, path, durable)
}

/// A fully written temp file beside `path` (fsynced when `durable`), with the permissions the
/// file has now, or 0644 for a new one: a temp file's private 0600 must not replace them.
pub fn stage(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .rand_bytes(TEMP_RANDOM)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    let permissions = match std::fs::metadata(path) {
        Ok(m) => m.permissions(),
        Err(_) => {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::Permissions::from_mode(0o644)
        }
    };
    tmp.as_file().set_permissions(permissions)?;
    if durable {
        tmp.as_file().sync_all()?;
    }
    Ok(tmp)
}

/// Move a staged file into place (and, when `durable`, make the rename itself durable).
pub fn commit(tmp: tempfile::NamedTempFile, path: &Path, durable: bool) -> std::io::Result<()> {
    tmp.persist(path).map_err(|e| e.error)?;
    if durable
        && let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Whether process `pid` is alive (signal 0 reaches it, or it exists but is not ours).
pub fn process_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 sends nothing; it only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Remove temp files a crash left under `dir`, `depth` folders down (1: beside its files
/// only); returns how many. Only names [`is_temp_name`] accepts are touched. Call it only under
/// the workspace lock, on folders only approvals write to: a run writes its drafts and cache
/// without that lock, so its state folder must not be swept.
pub fn remove_stale_temps(dir: &Path, depth: usize) -> usize {
    let mut removed = 0;
    let walker = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .max_depth(Some(depth))
        .build();
    for e in walker.filter_map(Result::ok) {
        let stale = e.file_type().is_some_and(|t| t.is_file())
            && is_temp_name(&e.file_name().to_string_lossy());
        if stale && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Regular files under `dir` whose extension (case-insensitive) is one of `extensions`, sorted by
/// path, skipping hidden files and folders. Unreadable entries are skipped.
pub fn documents(dir: &Path, extensions: &[&str]) -> Vec<ignore::DirEntry> {
    let mut files = all_files(dir).files;
    files.retain(|e| has_extension(e.path(), extensions));
    files
}

/// What a walk of a folder found: its regular files, and what it could not take with why.
#[derive(Debug, Default)]
pub struct Walk {
    /// Regular files, sorted by path.
    pub files: Vec<ignore::DirEntry>,
    /// Symbolic links (not followed: they may lead out of the folder) and entries that could
    /// not be read, with the reason, sorted by path.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Every regular file under `dir`, skipping hidden files and folders (the walk [`documents`]
/// filters). No ignore file (`.ignore`, `.gitignore`, the global git excludes) hides anything:
/// a folder of documents is read as it is.
pub fn all_files(dir: &Path) -> Walk {
    let mut walk = Walk::default();
    let walker = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .hidden(true)
        .build();
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => walk.files.push(e),
            Ok(e) if e.path_is_symlink() => walk.skipped.push((
                e.path().to_path_buf(),
                "a symbolic link, not followed".into(),
            )),
            Ok(_) => {}
            Err(err) => {
                let path = walk_error_path(&err).unwrap_or_else(|| dir.to_path_buf());
                let why = match err.io_error() {
                    Some(io) => format!("unreadable: {io}"),
                    None => format!("unreadable: {err}"),
                };
                walk.skipped.push((path, why));
            }
        }
    }
    walk.files.sort_by(|a, b| a.path().cmp(b.path()));
    walk.skipped.sort();
    walk
}

/// The path a walk error names, if it names one.
fn walk_error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error_path(err)
        }
        _ => None,
    }
}

/// A file's modification time in nanoseconds since the epoch (0 when the system has none):
/// with its size, what says a file changed.
pub fn modified_nanos(meta: &std::fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// Whether `path`'s extension (case-insensitive) is one of `extensions`.
pub fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|x| x.to_str())
        .is_some_and(|x| extensions.contains(&x.to_ascii_lowercase().as_str()))
}

/// `path` relative to `base`, `/`-separated.
pub fn relative(path: &Path, base: &Path) -> Option<String> {
    path.strip_prefix(base)
        .ok()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_files_have_temp_names_and_nothing_else_does() {
        let dir = tempfile::tempdir().unwrap();
        let staged = stage(&dir.path().join("a.md"), b"x", false).unwrap();
        let name = staged
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        assert!(is_temp_name(&name), "{name}");
        for other in [
            ".expanse-ray.md",
            ".expanse-tmp-.partial",
            ".expanse-tmp-abc.partial",
            ".expanse-tmp-abcdefgh.md",
            ".expanse-tmp-abcd/fgh.partial",
        ] {
            assert!(!is_temp_name(other), "{other}");
        }
    }
}
