//! File helpers: atomic writes, and walking a folder for documents of given types.

use std::io::Write as _;
use std::path::Path;

/// Write `bytes` to `path` so that a crash leaves either the old file or the new one, never a
/// mix, and the new one survives a power loss once this returns.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_replacing(path, bytes, true)
}

/// Like [`write_atomic`] without the fsyncs: a kill of the process still leaves the old file or
/// the new one, but a power loss may lose the write. For data that can be fetched again.
pub fn write_replacing(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    if durable {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    if durable && let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Regular files under `dir` whose extension (case-insensitive) is one of `extensions`, sorted by
/// path, skipping hidden files and folders. Unreadable entries are skipped.
pub fn documents(dir: &Path, extensions: &[&str]) -> Vec<ignore::DirEntry> {
    let mut files: Vec<ignore::DirEntry> = ignore::WalkBuilder::new(dir)
        .hidden(true)
        .git_ignore(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| {
            e.path()
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| extensions.contains(&x.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort_by(|a, b| a.path().cmp(b.path()));
    files
}

/// `path` relative to `base`, `/`-separated.
pub fn relative(path: &Path, base: &Path) -> Option<String> {
    path.strip_prefix(base)
        .ok()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
}
