//! The corpus folder: which files it holds and how each is read (markdown, text, HTML).

use std::path::{Path, PathBuf};

use crate::research::{extract, passages};

/// Corpus documents larger than this are skipped with a log line.
pub const MAX_DOC_BYTES: u64 = 2 * 1024 * 1024;

/// One file of the corpus, as listed.
#[derive(Debug, Clone)]
pub struct CorpusFile {
    /// Path relative to the corpus folder, `/`-separated.
    pub rel: String,
    /// Absolute path.
    pub path: PathBuf,
    /// Size in bytes.
    pub len: u64,
    /// Modification time in nanoseconds since the epoch (0 if unknown).
    pub mtime: u128,
}

/// A readable corpus document.
#[derive(Debug, Clone)]
pub struct CorpusDoc {
    /// Its title (first heading, HTML title, or file stem).
    pub title: String,
    /// Its content as markdown.
    pub text: String,
}

/// Why a corpus file was skipped.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Skip {
    /// Larger than [`MAX_DOC_BYTES`].
    #[error("skipped: {0} bytes is over the {MAX_DOC_BYTES}-byte limit for a corpus document")]
    TooLarge(u64),
    /// Contains NUL bytes.
    #[error("skipped: binary file")]
    Binary,
    /// Not UTF-8.
    #[error("skipped: not UTF-8 text")]
    NotUtf8,
    /// Could not be read.
    #[error("skipped: {0}")]
    Io(String),
}

const EXTENSIONS: &[&str] = &["md", "markdown", "txt", "html", "htm"];

/// The corpus's documents of supported types, sorted by path.
pub fn list_corpus(dir: &Path) -> Vec<CorpusFile> {
    let mut files: Vec<CorpusFile> = crate::fsutil::documents(dir, EXTENSIONS)
        .into_iter()
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some(CorpusFile {
                rel: crate::fsutil::relative(e.path(), dir)?,
                path: e.path().to_path_buf(),
                len: meta.len(),
                mtime: meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos()),
            })
        })
        .collect();
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    files
}

/// Read one corpus document: HTML reduced to its main content, text and markdown as they are.
pub fn load_doc(path: &Path) -> Result<CorpusDoc, Skip> {
    let meta = std::fs::metadata(path).map_err(|e| Skip::Io(e.to_string()))?;
    if meta.len() > MAX_DOC_BYTES {
        return Err(Skip::TooLarge(meta.len()));
    }
    let bytes = std::fs::read(path).map_err(|e| Skip::Io(e.to_string()))?;
    if bytes.contains(&0) {
        return Err(Skip::Binary);
    }
    let raw = String::from_utf8(bytes).map_err(|_| Skip::NotUtf8)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let is_html = path
        .extension()
        .and_then(|x| x.to_str())
        .is_some_and(|x| x.eq_ignore_ascii_case("html") || x.eq_ignore_ascii_case("htm"));
    let (html_title, text) = if is_html {
        extract::html_to_markdown(&raw)
    } else {
        (None, raw)
    };
    let title = passages::title(&text).or(html_title).unwrap_or(stem);
    Ok(CorpusDoc { title, text })
}
