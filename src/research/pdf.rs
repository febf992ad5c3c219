//! PDF -> markdown for fetched papers and corpus documents, through pdf_oxide: reading order
//! across columns (its XY-cut for untagged files, the structure tree for tagged ones), headings
//! from font sizes, a rule between pages. Bounded: a byte cap, a page cap, and a clear one-line
//! reason for encrypted, corrupt and image-only files. Call it through
//! [`crate::research::extract`], which runs it on the extraction thread with panics caught.

/// Largest PDF read, in bytes.
pub const MAX_PDF_BYTES: usize = 64 * 1024 * 1024;

/// Pages read at most; the rest of a longer PDF is left out, and the text says so.
pub const MAX_PDF_PAGES: usize = 300;

/// Below this many letters and digits in the whole text a PDF is taken as scanned images.
const MIN_TEXT_CHARS: usize = 20;

/// A PDF's text as markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfText {
    /// The document's first heading, if it has one.
    pub title: Option<String>,
    /// The text as markdown, pages separated by a rule.
    pub markdown: String,
    /// Pages in the file.
    pub pages: usize,
    /// Pages read (fewer than `pages` when the page cap cut it short).
    pub pages_read: usize,
}

/// Why a PDF gave no text.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PdfError {
    /// Needs a password to open.
    #[error("encrypted (a password is needed to read it)")]
    Encrypted,
    /// Not a PDF, cut short, or damaged beyond reading.
    #[error("corrupt or truncated file ({0})")]
    Corrupt(String),
    /// Pages, but no text on them (a scan without a text layer).
    #[error("no text layer ({0} page(s) of images only; expanse does not OCR)")]
    ImageOnly(usize),
    /// Larger than [`MAX_PDF_BYTES`].
    #[error("{0} bytes is over the {MAX_PDF_BYTES}-byte limit")]
    TooLarge(usize),
}

/// Whether `body` starts like a PDF: `%PDF-` within the first 1024 bytes (readers allow a
/// little junk first, and some servers prepend a byte-order mark or whitespace), after nothing
/// that reads as text or markup: a page or note that mentions `%PDF-1.7` is not a PDF.
pub fn looks_like_pdf(body: &[u8]) -> bool {
    let head = &body[..body.len().min(1024)];
    head.windows(5)
        .position(|w| w == b"%PDF-")
        .is_some_and(|at| {
            !head[..at]
                .iter()
                .any(|c| c.is_ascii_alphanumeric() || *c == b'<')
        })
}

/// The text of a PDF as markdown, at most [`MAX_PDF_PAGES`] pages. Call it on the extraction
/// thread (see [`crate::research::extract::bounded`]).
pub fn extract(bytes: &[u8]) -> Result<PdfText, PdfError> {
    if bytes.len() > MAX_PDF_BYTES {
        return Err(PdfError::TooLarge(bytes.len()));
    }
    if !looks_like_pdf(bytes) {
        return Err(PdfError::Corrupt("no %PDF header".into()));
    }
    let doc = pdf_oxide::PdfDocument::from_bytes(bytes.to_vec()).map_err(|e| reason(&e))?;
    // A file encrypted for permissions only opens with the empty user password; one that
    // needs a real password cannot be read.
    if doc.is_encrypted() && !doc.authenticate(b"").unwrap_or(false) {
        return Err(PdfError::Encrypted);
    }
    let pages = doc.page_count().map_err(|e| reason(&e))?;
    let pages_read = pages.min(MAX_PDF_PAGES);
    let options = pdf_oxide::converters::ConversionOptions {
        detect_headings: true,
        include_images: false,
        ..pdf_oxide::converters::ConversionOptions::default()
    };
    let mut parts: Vec<String> = Vec::with_capacity(pages_read);
    let mut failed = 0usize;
    let mut first_error = None;
    for page in 0..pages_read {
        match doc.to_markdown(page, &options) {
            Ok(md) => parts.push(md.trim().to_string()),
            Err(e) => {
                // One bad page does not lose the others.
                failed += 1;
                first_error.get_or_insert_with(|| reason(&e));
            }
        }
    }
    if failed == pages_read && pages_read > 0 {
        return Err(
            first_error.unwrap_or_else(|| PdfError::Corrupt("no page could be read".into()))
        );
    }
    let mut markdown = parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n---\n\n");
    let letters = markdown.chars().filter(|c| c.is_alphanumeric()).count();
    if letters < MIN_TEXT_CHARS {
        return Err(match first_error {
            // What was read holds no text, and a page failed: the failure is the likelier cause.
            Some(e) => e,
            None if pages == 0 => PdfError::Corrupt("no pages".into()),
            None => PdfError::ImageOnly(pages_read),
        });
    }
    if let Some(e) = &first_error {
        markdown.push_str(&format!(
            "\n\n---\n\n(expanse could not read {failed} of the {pages_read} pages: {e})\n"
        ));
    }
    if pages_read < pages {
        markdown.push_str(&format!(
            "\n\n---\n\n(expanse read the first {pages_read} of {pages} pages)\n"
        ));
    }
    markdown = markdown.trim().to_string() + "\n";
    let title = crate::research::passages::title(&markdown);
    Ok(PdfText {
        title,
        markdown,
        pages,
        pages_read,
    })
}

/// A pdf_oxide error as one of ours, in one line.
fn reason(e: &pdf_oxide::Error) -> PdfError {
    if matches!(e, pdf_oxide::Error::EncryptedPdf) {
        return PdfError::Encrypted;
    }
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    PdfError::Corrupt(line.chars().take(160).collect())
}
