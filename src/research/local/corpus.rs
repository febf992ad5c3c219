//! The corpus folder: which files it holds and how each is read (markdown, text, HTML, PDF).

use std::path::{Path, PathBuf};

use crate::research::extract::{self, Kind};
use crate::research::passages;

/// Corpus documents larger than this are skipped with a log line (PDFs: [`MAX_PDF_DOC_BYTES`]).
pub const MAX_DOC_BYTES: u64 = 2 * 1024 * 1024;

/// Corpus PDFs larger than this are skipped (a PDF's bytes are mostly fonts and images).
pub const MAX_PDF_DOC_BYTES: u64 = 32 * 1024 * 1024;

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
    /// Larger than the cap for its type ([`MAX_DOC_BYTES`], or [`MAX_PDF_DOC_BYTES`] for a PDF).
    #[error("skipped: {len} bytes is over the {cap}-byte limit for a corpus document")]
    TooLarge {
        /// The file's size.
        len: u64,
        /// The cap it is over.
        cap: u64,
    },
    /// Contains NUL bytes.
    #[error("skipped: binary file")]
    Binary,
    /// Not a type expanse reads, or content extraction failed (the reason says which).
    #[error("skipped: {0}")]
    Unreadable(String),
    /// Could not be read.
    #[error("skipped: {0}")]
    Io(String),
}

/// The extensions of the files a corpus reads.
pub const EXTENSIONS: &[&str] = &[
    "md", "markdown", "txt", "text", "html", "htm", "xhtml", "pdf",
];

/// Every file of a corpus folder: the ones of supported types, and the others with the reason
/// they are skipped.
#[derive(Debug, Clone, Default)]
pub struct CorpusListing {
    /// Files of supported types, sorted by path.
    pub files: Vec<CorpusFile>,
    /// Files of other types, `(relative path, reason)`, sorted by path.
    pub unsupported: Vec<(String, String)>,
}

/// The corpus's files: supported ones to read, the others listed with why they are skipped.
pub fn scan_corpus(dir: &Path) -> CorpusListing {
    // One walk: the files of supported types are read, the others listed.
    let walk = crate::fsutil::all_files(dir);
    let (supported, others): (Vec<_>, Vec<_>) = walk
        .files
        .into_iter()
        .partition(|e| crate::fsutil::has_extension(e.path(), EXTENSIONS));
    let mut files: Vec<CorpusFile> = supported
        .iter()
        .filter_map(|e| corpus_file(e, dir))
        .collect();
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    let mut unsupported: Vec<(String, String)> = others
        .iter()
        .filter_map(|e| {
            let rel = crate::fsutil::relative(e.path(), dir)?;
            let why = match e.path().extension() {
                Some(x) => format!("unsupported type .{}", x.to_string_lossy()),
                None => "unsupported type (no extension)".to_string(),
            };
            Some((rel, why))
        })
        .chain(walk.skipped.into_iter().map(|(path, why)| {
            let rel = crate::fsutil::relative(&path, dir)
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| path.display().to_string());
            (rel, why)
        }))
        .collect();
    unsupported.sort();
    CorpusListing { files, unsupported }
}

/// The line a run starts with: `6 files: 5 read, 1 skipped: notes.docx (unsupported type .docx)`.
pub fn summary(read: usize, skipped: &[(String, String)]) -> String {
    let total = read + skipped.len();
    let files = if total == 1 { "file" } else { "files" };
    if skipped.is_empty() {
        return format!("{total} {files}: {read} read");
    }
    let list: Vec<String> = skipped
        .iter()
        .map(|(f, why)| format!("{f} ({})", why.trim_start_matches("skipped: ")))
        .collect();
    format!(
        "{total} {files}: {read} read, {} skipped: {}",
        skipped.len(),
        list.join(", ")
    )
}

/// The corpus's documents of supported types, sorted by path.
pub fn list_corpus(dir: &Path) -> Vec<CorpusFile> {
    scan_corpus(dir).files
}

/// A corpus file as listed: its path, size and modification time (which say when to re-index).
fn corpus_file(e: &ignore::DirEntry, dir: &Path) -> Option<CorpusFile> {
    let meta = e.metadata().ok()?;
    Some(CorpusFile {
        rel: crate::fsutil::relative(e.path(), dir)?,
        path: e.path().to_path_buf(),
        len: meta.len(),
        mtime: crate::fsutil::modified_nanos(&meta),
    })
}

/// Read one corpus document: HTML reduced to its main content, PDF to its text, text and
/// markdown as they are. Extraction is bounded ([`extract::extract_document`]): a hostile file
/// is skipped with the reason, never a crash.
pub fn load_doc(path: &Path) -> Result<CorpusDoc, Skip> {
    let meta = std::fs::metadata(path).map_err(|e| Skip::Io(e.to_string()))?;
    let is_pdf_name = path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("pdf"));
    let cap = if is_pdf_name {
        MAX_PDF_DOC_BYTES
    } else {
        MAX_DOC_BYTES
    };
    if meta.len() > cap {
        return Err(Skip::TooLarge {
            len: meta.len(),
            cap,
        });
    }
    let bytes = std::fs::read(path).map_err(|e| Skip::Io(e.to_string()))?;
    let kind = Kind::of_file(path, &bytes).map_err(|e| Skip::Unreadable(e.to_string()))?;
    // Bytes that are not UTF-8 are decoded, not refused (`extract::decode_text`: a `<meta>`
    // charset, else Windows-1252), as `expanse extract` and fetched pages are; NULs are not text.
    // UTF-16 text is full of NULs but opens with its byte-order mark (decode_text reads it).
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    if kind != Kind::Pdf && !utf16 && bytes.contains(&0) {
        return Err(Skip::Binary);
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let page =
        extract::extract_document(&bytes, kind, "").map_err(|e| Skip::Unreadable(e.to_string()))?;
    let title = passages::title(&page.content)
        .or(Some(page.title).filter(|t| !t.is_empty()))
        .unwrap_or(stem);
    Ok(CorpusDoc {
        title,
        text: page.content,
    })
}
