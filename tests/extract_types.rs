//! Every type extraction reads, from files made here: markdown, text, HTML and PDF (a PDF
//! written by the test, an encrypted one, a truncated one, an image-only one); the corpus
//! listing of unsupported files; and `expanse extract` on files and an unreachable URL.

use std::path::Path;

use assert_cmd::Command;
use expanse::research::extract::{ExtractError, Kind, extract_document};
use expanse::research::local::{load_doc, scan_corpus, summary};
use expanse::research::pdf::PdfError;

/// One line of text on a page: x, y (points from the bottom left), font size, text.
type Line<'a> = (f32, f32, f32, &'a str);

/// A PDF with one page per entry of `pages`, Helvetica text placed where each line says, and
/// `trailer_extra` added to the trailer (an /Encrypt dictionary, for one test).
fn make_pdf(pages: &[Vec<Line<'_>>], trailer_extra: &str) -> Vec<u8> {
    let n = pages.len();
    // 1 catalog, 2 pages, 3 font, then a page object and its content stream per page.
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {n} >>",
            (0..n)
                .map(|i| format!("{} 0 R", 4 + 2 * i))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
    ];
    for (i, lines) in pages.iter().enumerate() {
        let stream: String = lines
            .iter()
            .map(|(x, y, size, text)| format!("BT /F1 {size} Tf {x} {y} Td ({text}) Tj ET\n"))
            .collect();
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{stream}endstream",
            stream.len()
        ));
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A two-page paper: a heading, then two columns on page one, one column on page two.
fn paper() -> Vec<u8> {
    let mut page1: Vec<Line<'_>> = vec![(72.0, 720.0, 20.0, "Sharded Optimizer States")];
    let left = [
        "Alpha column begins the argument here.",
        "Alpha column continues with the method.",
        "Alpha column ends the first half.",
    ];
    let right = [
        "Beta column opens the second half.",
        "Beta column reports the measurements.",
        "Beta column closes the page.",
    ];
    for (k, t) in left.iter().enumerate() {
        page1.push((72.0, 660.0 - 14.0 * k as f32, 10.0, t));
    }
    for (k, t) in right.iter().enumerate() {
        page1.push((320.0, 660.0 - 14.0 * k as f32, 10.0, t));
    }
    let page2: Vec<Line<'_>> = vec![
        (
            72.0,
            700.0,
            10.0,
            "Gamma page two holds the conclusion of the paper.",
        ),
        (
            72.0,
            686.0,
            10.0,
            "Gamma page two thanks the reviewers for their time.",
        ),
    ];
    make_pdf(&[page1, page2], "")
}

#[test]
fn a_pdf_reads_in_column_and_page_order() {
    let pdf = paper();
    assert_eq!(Kind::of(None, &pdf).unwrap(), Kind::Pdf);
    assert_eq!(
        Kind::of(Some("application/octet-stream"), &pdf).unwrap(),
        Kind::Pdf
    );
    let page = extract_document(&pdf, Kind::Pdf, "https://example.com/paper.pdf").unwrap();
    let md = &page.content;
    let at = |s: &str| {
        md.find(s)
            .unwrap_or_else(|| panic!("{s:?} missing from:\n{md}"))
    };
    assert!(at("Sharded Optimizer States") < at("Alpha column begins"));
    assert!(at("Alpha column begins") < at("Alpha column ends"));
    // The whole left column comes before the right one: reading order, not line order.
    assert!(at("Alpha column ends") < at("Beta column opens"), "{md}");
    assert!(at("Beta column closes") < at("Gamma page two holds"));
    // Pages are separated.
    assert!(
        md[at("Beta column closes")..at("Gamma page two holds")].contains("---"),
        "{md}"
    );
}

#[test]
fn an_encrypted_pdf_gives_a_one_line_reason() {
    // Standard security handler whose /U does not match the empty password: a password is needed.
    let encrypt = format!(
        "/Encrypt << /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <{o}> /U <{u}> >> /ID [<{id}> <{id}>]",
        o = "7a".repeat(32),
        u = "3c".repeat(32),
        id = "0123456789abcdef0123456789abcdef"
    );
    let pdf = make_pdf(&[vec![(72.0, 700.0, 12.0, "Secret words")]], &encrypt);
    let e = extract_document(&pdf, Kind::Pdf, "locked.pdf").unwrap_err();
    assert_eq!(e, ExtractError::Pdf(PdfError::Encrypted), "{e}");
    assert_eq!(
        e.to_string(),
        "PDF: encrypted (a password is needed to read it)"
    );
}

#[test]
fn a_truncated_or_corrupt_pdf_gives_a_one_line_reason() {
    let pdf = paper();
    for cut in [10, 60, pdf.len() / 2, pdf.len() - 30] {
        match extract_document(&pdf[..cut], Kind::Pdf, "cut.pdf") {
            // A cut after the first page's text may still give that text: a repairing reader
            // recovers what is there.
            Ok(page) => assert!(
                page.content.contains("Alpha"),
                "cut {cut}: {}",
                page.content
            ),
            Err(e) => {
                assert!(matches!(e, ExtractError::Pdf(_)), "cut {cut}: {e}");
                assert!(!e.to_string().contains('\n'), "cut {cut}: {e}");
            }
        }
    }
    let e = extract_document(b"%PDF-1.7", Kind::Pdf, "stub.pdf").unwrap_err();
    assert!(e.to_string().starts_with("PDF: "), "{e}");
    let e = extract_document(b"not a pdf at all", Kind::Pdf, "fake.pdf").unwrap_err();
    assert_eq!(
        e,
        ExtractError::Pdf(PdfError::Corrupt("no %PDF header".into()))
    );
}

#[test]
fn a_pdf_without_text_is_image_only() {
    let pdf = make_pdf(&[vec![], vec![]], "");
    let e = extract_document(&pdf, Kind::Pdf, "scan.pdf").unwrap_err();
    assert_eq!(e, ExtractError::Pdf(PdfError::ImageOnly(2)), "{e}");
    // Past the page cap, the count is of the pages read, not of the whole file.
    let pdf = make_pdf(&vec![vec![]; expanse::research::pdf::MAX_PDF_PAGES + 5], "");
    let e = extract_document(&pdf, Kind::Pdf, "scan.pdf").unwrap_err();
    assert_eq!(
        e,
        ExtractError::Pdf(PdfError::ImageOnly(expanse::research::pdf::MAX_PDF_PAGES)),
        "{e}"
    );
}

#[test]
fn types_are_told_by_header_extension_and_bytes() {
    assert_eq!(
        Kind::of(Some("text/html; charset=utf-8"), b"x").unwrap(),
        Kind::Html
    );
    assert_eq!(Kind::of(Some("text/markdown"), b"# x").unwrap(), Kind::Text);
    assert_eq!(
        Kind::of(Some("application/pdf"), b"junk").unwrap(),
        Kind::Pdf
    );
    assert_eq!(Kind::of(None, b"<!DOCTYPE html><p>x").unwrap(), Kind::Html);
    assert_eq!(Kind::of(None, b"plain words").unwrap(), Kind::Text);
    // The PDF magic counts at the start (after a byte-order mark or whitespace), not when a
    // page or a note mentions it.
    assert_eq!(
        Kind::of(Some("text/html"), b"\xEF\xBB\xBF \r\n%PDF-1.4\n").unwrap(),
        Kind::Pdf
    );
    assert_eq!(
        Kind::of(Some("text/html"), b"<title>Reading %PDF-1.4 files</title>").unwrap(),
        Kind::Html
    );
    assert_eq!(
        Kind::of_file(
            Path::new("notes.md"),
            b"# PDFs\n\nThey start with `%PDF-1.7`."
        )
        .unwrap(),
        Kind::Text
    );
    let e = Kind::of(Some("image/png"), b"\x89PNG").unwrap_err();
    assert_eq!(
        e.to_string(),
        "unsupported type image/png (expanse reads HTML, text, markdown and PDF)"
    );
    assert!(Kind::of(None, b"\x00\x01binary").is_err());
    let e = Kind::of_file(Path::new("notes.docx"), b"PK\x03\x04").unwrap_err();
    assert!(e.to_string().contains(".docx"), "{e}");
    assert_eq!(Kind::of_file(Path::new("a.HTM"), b"").unwrap(), Kind::Html);
    assert_eq!(
        Kind::of_file(Path::new("paper.pdf"), b"").unwrap(),
        Kind::Pdf
    );
}

/// A corpus with one file of each supported type and one unsupported file.
fn corpus(dir: &Path) {
    std::fs::write(
        dir.join("zero.md"),
        "# ZeRO\n\nZeRO partitions optimizer states.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("notes.txt"),
        "Pipeline parallelism splits layers into stages.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("page.html"),
        "<html><head><title>Triton</title></head><body><nav>Home | Docs</nav><article><h1>Triton</h1>\
<p>Triton dynamic batching groups inference requests on the server side, so that a model sees \
fewer and larger batches, which raises throughput on accelerators at a small cost in latency.</p>\
<p>The scheduler waits a bounded time for more requests before it sends a batch.</p></article>\
<footer>Copyright</footer></body></html>",
    )
    .unwrap();
    std::fs::write(dir.join("legacy.htm"), "<p>Legacy HTM page about tensor cores and their use in matrix multiplication kernels, long enough to be content for the extractor to keep as the main text of this page.</p>").unwrap();
    std::fs::write(dir.join("paper.pdf"), paper()).unwrap();
    std::fs::write(dir.join("notes.docx"), b"PK\x03\x04 not really a docx").unwrap();
}

#[test]
fn the_corpus_reads_every_supported_type_and_lists_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let listing = scan_corpus(dir.path());
    let names: Vec<&str> = listing.files.iter().map(|f| f.rel.as_str()).collect();
    assert_eq!(
        names,
        [
            "legacy.htm",
            "notes.txt",
            "page.html",
            "paper.pdf",
            "zero.md"
        ]
    );
    assert_eq!(
        listing.unsupported,
        [(
            "notes.docx".to_string(),
            "unsupported type .docx".to_string()
        )]
    );
    for f in &listing.files {
        let doc = load_doc(&f.path).unwrap_or_else(|e| panic!("{}: {e}", f.rel));
        assert!(!doc.text.trim().is_empty(), "{}", f.rel);
    }
    let pdf = load_doc(&dir.path().join("paper.pdf")).unwrap();
    assert!(pdf.text.contains("Beta column reports"), "{}", pdf.text);
    let html = load_doc(&dir.path().join("page.html")).unwrap();
    assert_eq!(html.title, "Triton");
    assert!(html.text.contains("dynamic batching") && !html.text.contains("Home | Docs"));
    assert_eq!(
        summary(listing.files.len(), &listing.unsupported),
        "6 files: 5 read, 1 skipped: notes.docx (unsupported type .docx)"
    );
}

/// Nothing in a corpus folder is dropped without a word: ignore files hide nothing, and a
/// symbolic link or an oversized PDF is listed with why it was not read.
#[cfg(unix)]
#[test]
fn the_corpus_lists_links_and_ignores_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let corpus_dir = dir.path().join("corpus");
    std::fs::create_dir_all(corpus_dir.join("sub")).unwrap();
    corpus(&corpus_dir);
    // A ripgrep user's ignore file, and one in the folder above the corpus.
    std::fs::write(corpus_dir.join(".ignore"), "*.pdf\nsub/\n").unwrap();
    std::fs::write(dir.path().join(".ignore"), "*.md\n").unwrap();
    std::fs::write(corpus_dir.join("sub/more.txt"), "Tensor parallel layers.\n").unwrap();
    std::fs::write(
        dir.path().join("outside.md"),
        "# Outside\n\nNot in the corpus.\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.md"), corpus_dir.join("link.md")).unwrap();
    // Latin-1, as old exports are: read as such, not skipped.
    std::fs::write(
        corpus_dir.join("latin1.txt"),
        b"Caf\xe9 notes on tensor cores.\n",
    )
    .unwrap();
    // Sparse: 33 MB on paper, nothing on disk.
    let big = std::fs::File::create(corpus_dir.join("big.pdf")).unwrap();
    big.set_len(33 * 1024 * 1024).unwrap();
    drop(big);

    let listing = scan_corpus(&corpus_dir);
    let names: Vec<&str> = listing.files.iter().map(|f| f.rel.as_str()).collect();
    assert_eq!(
        names,
        [
            "big.pdf",
            "latin1.txt",
            "legacy.htm",
            "notes.txt",
            "page.html",
            "paper.pdf",
            "sub/more.txt",
            "zero.md"
        ]
    );
    assert_eq!(
        listing.unsupported,
        [
            (
                "link.md".to_string(),
                "a symbolic link, not followed".to_string()
            ),
            (
                "notes.docx".to_string(),
                "unsupported type .docx".to_string()
            ),
        ]
    );
    let latin1 = load_doc(&corpus_dir.join("latin1.txt")).unwrap();
    assert!(
        latin1.text.contains("Café notes on tensor cores"),
        "{}",
        latin1.text
    );
    // The cap named is the one applied: PDFs may be larger than other documents.
    let e = load_doc(&corpus_dir.join("big.pdf")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "skipped: 34603008 bytes is over the 33554432-byte limit for a corpus document"
    );
}

#[test]
fn the_local_index_counts_pdfs_and_reports_skipped_files_on_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let corpus_dir = dir.path().join("corpus");
    std::fs::create_dir_all(&corpus_dir).unwrap();
    corpus(&corpus_dir);
    let idx = dir.path().join("idx");
    for built in [true, false] {
        let (_, info) = expanse::research::local::LocalSearch::open(&corpus_dir, &idx).unwrap();
        assert_eq!(info.built, built);
        assert_eq!(
            summary(info.documents, &info.skipped),
            "6 files: 5 read, 1 skipped: notes.docx (unsupported type .docx)"
        );
    }
}

fn expanse() -> Command {
    Command::cargo_bin("expanse").unwrap()
}

#[test]
fn expanse_extract_prints_a_pdf_and_refuses_other_types() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let out = expanse()
        .args(["extract", "--format", "text"])
        .arg(dir.path().join("paper.pdf"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Alpha column begins") && !text.contains("%PDF"),
        "{text}"
    );

    let out = expanse()
        .arg("extract")
        .arg(dir.path().join("notes.docx"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unsupported type .docx"), "{err}");

    let truncated = dir.path().join("cut.pdf");
    std::fs::write(&truncated, &paper()[..60]).unwrap();
    let out = expanse().arg("extract").arg(&truncated).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("PDF"), "{err}");

    // A folder, a missing file and a URL of another scheme each get one line saying so.
    for (input, says) in [
        (
            dir.path().to_string_lossy().to_string(),
            "a folder, not a file",
        ),
        (
            dir.path().join("gone.html").to_string_lossy().to_string(),
            "gone.html: no such file",
        ),
        (
            "ftp://example.com/a.pdf".to_string(),
            "only http:// and https://",
        ),
    ] {
        let out = expanse().arg("extract").arg(&input).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{input}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{input}: {err}");
    }
}

#[test]
fn expanse_extract_of_an_unreachable_url_is_one_line() {
    // A closed port on this machine stands for "no network": the connection is refused at once.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let out = expanse()
        .current_dir(dir.path())
        .env("EXPANSE_ALLOW_PRIVATE_URLS", "1")
        .args(["extract", &format!("http://127.0.0.1:{port}/page")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("connect"), "{err}");
    assert!(!err.contains("retry"), "{err}");
}

/// A paragraph wrapped over several lines of a PDF page, set with generous line spacing, reads
/// as one paragraph; the break between paragraphs and a heading stay.
#[test]
fn a_pdfs_wrapped_paragraph_is_one_paragraph() {
    let page: Vec<Line<'_>> = vec![
        (72.0, 720.0, 18.0, "Baking notes"),
        (
            72.0,
            680.0,
            11.0,
            "A bulk ferment at room temperature takes about 5",
        ),
        (
            72.0,
            658.0,
            11.0,
            "hours; at 20 C it takes closer to seven, and a warm",
        ),
        (
            72.0,
            636.0,
            11.0,
            "oven also helps a cold retarded loaf to rise again.",
        ),
        (
            72.0,
            600.0,
            11.0,
            "Shaping comes next, after a short bench rest, when the",
        ),
        (72.0, 578.0, 11.0, "dough has relaxed."),
    ];
    let pdf = make_pdf(&[page], "");
    let md = extract_document(&pdf, Kind::Pdf, "bake.pdf")
        .unwrap()
        .content;
    assert!(
        md.contains("takes about 5 hours; at 20 C it takes closer to seven, and a warm oven also helps a cold retarded loaf to rise again."),
        "{md}"
    );
    assert!(md.contains("Baking notes"), "{md}");
    assert!(
        md.contains("Shaping comes next, after a short bench rest, when the dough has relaxed."),
        "{md}"
    );
    let rise = md.find("rise again.").unwrap();
    let shaping = md.find("Shaping comes next").unwrap();
    assert!(
        md[rise..shaping].contains("\n\n"),
        "two paragraphs stay two: {md}"
    );
}

#[test]
fn joining_leaves_headings_lists_and_sentence_ends_alone() {
    use expanse::research::pdf::join_wrapped_lines;
    assert_eq!(
        join_wrapped_lines(
            "# Title\n\nfirst line of text\n\ncontinues here.\n\nNew paragraph.\n\n- item one\n- item two"
        ),
        "# Title\n\nfirst line of text continues here.\n\nNew paragraph.\n\n- item one\n- item two"
    );
    assert_eq!(
        join_wrapped_lines("Ends here.\n\nlowercase start"),
        "Ends here.\n\nlowercase start"
    );
}
