//! The last hostile inputs, bounded: a truncated PDF says so, UTF-16 notes are read, deep
//! nesting gives its text once, and file names that hide or turn their text around are refused.
//! (PDF bombs are in `pdf_bombs.rs`, a test binary of their own so that the memory measured is
//! the extraction's alone.)

mod common;

use common::pdf;

#[test]
fn a_truncated_pdf_says_it_is_truncated() {
    let whole = pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".to_vec(),
        b"<< /Length 200 >>\nstream\nBT /F1 12 Tf 72 720 Td (cut) Tj ET\n".to_vec(),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cut.pdf");
    std::fs::write(&f, &whole[..whole.len() / 2]).unwrap();
    let out = common::expanse(dir.path())
        .arg("extract")
        .arg(&f)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("truncated: the file ends before its %%EOF marker"),
        "{err}"
    );
}

#[test]
fn utf16_notes_in_a_corpus_are_read() {
    let corpus = tempfile::tempdir().unwrap();
    let text =
        "# Notes in UTF-16\n\nZeRO stage 3 partitions parameters across data parallel ranks.\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(corpus.path().join("notes.md"), bytes).unwrap();
    let ws = common::workspace(common::RUNNABLE);
    let out = common::expanse(ws.path())
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--offline",
            "--only",
            "1",
            "--corpus",
        ])
        .arg(corpus.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 file: 1 read"), "{err}");
    assert!(!err.contains("binary"), "{err}");
}

#[test]
fn text_nested_past_the_depth_bound_comes_out_once() {
    for tag in [
        "div",
        "b",
        "span",
        "li",
        "td",
        "blockquote",
        "font",
        "section",
    ] {
        let html = format!(
            "<html><body>{}The deeply nested text still carries words a reader wants to keep, enough to count as content.{}</body></html>",
            format!("<{tag}>").repeat(300),
            format!("</{tag}>").repeat(300)
        );
        let page =
            expanse::research::extract::extract_page(&html, Some("https://e.com/x")).unwrap();
        assert_eq!(page.content.matches("deeply nested").count(), 1, "{tag}");
    }
}

#[test]
fn names_that_hide_or_turn_their_text_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plan = "# P\n\n### PART 1: Create a b.md\n\n- [ ] PART 1: Create a b.md\n\n### PART 2: Create rtl/\u{202e}gnp.md\n\n- [ ] PART 2: Create rtl/\u{202e}gnp.md\n\n### PART 3: Create zw/a\u{200b}b.md\n\n- [ ] PART 3: Create zw/a\u{200b}b.md\n";
    std::fs::write(dir.path().join("p.md"), plan).unwrap();
    let out = common::expanse(dir.path())
        .args(["check", "p.md"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("p.md:3: error: PART 1's target \"a b.md\" contains a space"),
        "{err}"
    );
    assert!(err.contains("PART 2's target \"rtl/\\u{202e}gnp.md\" contains an invisible or direction-changing character"), "{err}");
    assert!(
        err.contains("PART 3's target \"zw/a\\u{200b}b.md\""),
        "{err}"
    );
    assert!(
        !err.contains('\u{202e}'),
        "the message shows the character, not its effect"
    );
    let stamp = chrono::Local::now();
    assert_eq!(
        expanse::review::drop_file_name("KNOWLEDGE-DROP-\u{202e}fdp.exe-[TIME].md", stamp),
        format!("KNOWLEDGE-DROP-fdp.exe-{}.md", stamp.format("%H%M"))
    );
}
