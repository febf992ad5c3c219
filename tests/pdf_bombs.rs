//! PDF decompression and page-count bombs are refused before parsing, in little memory: the
//! peak of the `expanse extract` child, from wait4. Alone in this test binary, so nothing else
//! the tests do is counted with it.

mod common;

use std::io::Write as _;
use std::os::unix::process::ExitStatusExt as _;

use common::pdf;

/// One page whose content stream is 250 KB of deflate that inflates to 250 MB, written to
/// `path` as it is compressed (the test process stays small).
fn flate_bomb(path: &std::path::Path) {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET\n")
        .unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..250 {
        z.write_all(&spaces).unwrap();
    }
    let stream = z.finish().unwrap();
    let mut content = format!(
        "<< /Length {} /Filter /FlateDecode >>\nstream\n",
        stream.len()
    )
    .into_bytes();
    content.extend_from_slice(&stream);
    content.extend_from_slice(b"\nendstream");
    let bytes = pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".to_vec(),
        content,
    ]);
    std::fs::write(path, bytes).unwrap();
}

/// 100,000 tiny pages (12 MB).
fn page_bomb() -> Vec<u8> {
    let n = 100_000;
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", i + 4)).collect();
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes(),
        b"<< /Length 36 >>\nstream\nBT /F1 12 Tf 72 720 Td (x) Tj ET\nendstream".to_vec(),
    ];
    objects.extend(std::iter::repeat_n(
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>".to_vec(),
        n,
    ));
    pdf(&objects)
}

/// `expanse extract FILE`: its stderr and the most memory it held, in MB (from wait4).
// The child is reaped by wait4 below, which is what gives its peak memory.
#[allow(clippy::zombie_processes)]
fn extract_measured(file: &std::path::Path) -> (String, u64) {
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("expanse"))
        .arg("extract")
        .arg(file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut err).unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, filling the two out-parameters it is given.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid);
    assert_eq!(
        std::process::ExitStatus::from_raw(status).code(),
        Some(1),
        "{err}"
    );
    (err, usage.ru_maxrss as u64 / 1024)
}

#[test]
fn pdf_bombs_are_refused_before_parsing_in_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let flate = dir.path().join("flate.pdf");
    flate_bomb(&flate);
    let pages = dir.path().join("pages.pdf");
    std::fs::write(&pages, page_bomb()).unwrap();
    let (err, mb) = extract_measured(&flate);
    assert!(err.contains("inflate past 16 MB in one stream"), "{err}");
    assert!(mb < 150, "the flate bomb took {mb} MB");
    let (err, mb) = extract_measured(&pages);
    assert!(
        err.contains("100000 pages is over the 5000 pages expanse opens"),
        "{err}"
    );
    assert!(mb < 150, "the page bomb took {mb} MB");
}
