//! PDF -> markdown for fetched papers and corpus documents, through pdf_oxide: reading order
//! across columns (its XY-cut for untagged files, the structure tree for tagged ones), headings
//! from font sizes, a rule between pages. Bounded: a byte cap, a page cap, and a clear one-line
//! reason for encrypted, corrupt and image-only files. Call it through
//! [`crate::research::extract`], which runs it on the extraction thread with panics caught.

/// Largest PDF read, in bytes.
pub const MAX_PDF_BYTES: usize = 64 * 1024 * 1024;

/// Pages read at most; the rest of a longer PDF is left out, and the text says so.
pub const MAX_PDF_PAGES: usize = 300;

/// Pages a PDF may have at all: the parser builds every page object, so a file of 100,000 tiny
/// pages took a gigabyte before the page cap could apply. Counted before parsing.
pub const MAX_PDF_PAGES_IN_FILE: usize = 5_000;

/// Bytes one compressed stream may inflate to (pdf_oxide's own limit is 256 MB a stream).
pub const MAX_STREAM_INFLATED: u64 = 16 * 1024 * 1024;

/// Bytes all compressed streams together may inflate to.
pub const MAX_PDF_INFLATED: u64 = 256 * 1024 * 1024;

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
    /// The file stops before its end marker (a download cut short).
    #[error("truncated: the file ends before its %%EOF marker (a download cut short?)")]
    Truncated,
    /// More pages than [`MAX_PDF_PAGES_IN_FILE`].
    #[error("{0} pages is over the {MAX_PDF_PAGES_IN_FILE} pages expanse opens")]
    TooManyPages(usize),
    /// Compressed streams that inflate past [`MAX_STREAM_INFLATED`] or, together,
    /// [`MAX_PDF_INFLATED`] (a decompression bomb).
    #[error(
        "its compressed streams inflate past {0} (a decompression bomb, or a PDF too large to read)"
    )]
    Inflates(&'static str),
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
    // Bounded before the parser sees it: the parser holds every page and every inflated
    // stream at once.
    let pages_in_file = count_pages(bytes);
    if pages_in_file > MAX_PDF_PAGES_IN_FILE {
        return Err(PdfError::TooManyPages(pages_in_file));
    }
    check_inflation(bytes)?;
    let truncated = !ends_with_eof(bytes);
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
            Ok(md) => parts.push(join_wrapped_lines(md.trim())),
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
            None if truncated => PdfError::Truncated,
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

/// `md` with paragraphs that are the visual lines of one paragraph joined again: with line
/// spacing over about one and a half, the converter takes every line for a paragraph ("takes
/// about 5" / "hours; at 20 C …"). A paragraph continues when the one before it ends mid-sentence
/// and it starts in lower case or with a digit, or the one before ends with a comma, a
/// semicolon or a hyphen. Headings, lists, tables, code and rules are left as they are.
pub fn join_wrapped_lines(md: &str) -> String {
    use crate::markdown::{Kind, blocks};
    let mut out: Vec<(Kind, String)> = Vec::new();
    for b in blocks(md) {
        let text = b.text.trim();
        if b.kind == Kind::Paragraph
            && let Some((Kind::Paragraph, prev)) = out.last_mut()
            && continues(prev, text)
        {
            prev.push(' ');
            prev.push_str(text);
            continue;
        }
        out.push((b.kind, text.to_string()));
    }
    out.into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Whether paragraph `next` is the continuation of `prev` (see [`join_wrapped_lines`]).
fn continues(prev: &str, next: &str) -> bool {
    let Some(last) = prev.chars().last() else {
        return false;
    };
    if matches!(last, ',' | ';' | '-' | '–') {
        return true;
    }
    let ended = matches!(last, '.' | '!' | '?' | ':' | '"' | '”' | ')' | ']');
    let first = next.chars().next().unwrap_or(' ');
    !ended && (first.is_lowercase() || first.is_ascii_digit())
}

/// Page objects in the raw file (`/Type /Page`, not `/Pages`): an upper bound a parse could
/// not beat, found without parsing (pages inside compressed object streams are not seen; the
/// inflation check bounds those files instead).
fn count_pages(bytes: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while let Some(at) = find(&bytes[i..], b"/Type") {
        let mut j = i + at + 5;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\r' | b'\n' | b'\t') {
            j += 1;
        }
        if bytes[j..].starts_with(b"/Page")
            && !bytes.get(j + 5).is_some_and(|c| c.is_ascii_alphanumeric())
        {
            n += 1;
        }
        i = j;
    }
    n
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Whether the file ends with `%%EOF` (a PDF cut short by a download does not).
fn ends_with_eof(bytes: &[u8]) -> bool {
    find(&bytes[bytes.len().saturating_sub(1024)..], b"%%EOF").is_some()
}

/// Inflate every `stream … endstream` that starts like zlib data into nothing, counting bytes,
/// and refuse the file when one stream or all of them inflate past the caps: memory stays
/// small whatever the file claims.
fn check_inflation(bytes: &[u8]) -> Result<(), PdfError> {
    use std::io::Read as _;
    let mut total: u64 = 0;
    let mut i = 0;
    while let Some(at) = find(&bytes[i..], b"stream") {
        let mut start = i + at + 6;
        // `endstream` also contains `stream`; only a keyword followed by an end of line opens one.
        let opens = !bytes[..i + at].ends_with(b"end");
        if bytes[start..].starts_with(b"\r\n") {
            start += 2;
        } else if bytes[start..].starts_with(b"\n") {
            start += 1;
        } else {
            i = start;
            continue;
        }
        if !opens {
            i = start;
            continue;
        }
        let end = find(&bytes[start..], b"endstream").map_or(bytes.len(), |e| start + e);
        let data = &bytes[start..end];
        // zlib streams start with 0x78 (deflate, 32K window); others are not ours to count.
        if data.first() == Some(&0x78) {
            let decoder = flate2::read::ZlibDecoder::new(data);
            let mut limited = decoder.take(MAX_STREAM_INFLATED + 1);
            let n = std::io::copy(&mut limited, &mut std::io::sink()).unwrap_or(0);
            if n > MAX_STREAM_INFLATED {
                return Err(PdfError::Inflates("16 MB in one stream"));
            }
            total += n;
            if total > MAX_PDF_INFLATED {
                return Err(PdfError::Inflates("256 MB in all"));
            }
        }
        i = end.max(start);
    }
    Ok(())
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
