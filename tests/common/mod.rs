//! Helpers shared by the integration tests: workspaces, the demo corpus, file listings.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

/// The runnable plan: the seed with every PART open.
pub const RUNNABLE: &str = include_str!("../../plans/expansion-18-21.md");

/// The demo corpus shipped in `assets/corpus/`.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/corpus")
}

/// A workspace holding `plan` as plans/p.md and a knowledge base with an empty INDEX.md.
pub fn workspace(plan: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("plans")).unwrap();
    std::fs::create_dir_all(dir.path().join("knowledge")).unwrap();
    std::fs::write(dir.path().join("plans/p.md"), plan).unwrap();
    std::fs::write(
        dir.path().join("knowledge/INDEX.md"),
        "# Index\n\n## Files\n\n",
    )
    .unwrap();
    dir
}

/// Every file under `dir` (none when it does not exist), sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// `expanse --root WS`.
pub fn expanse(ws: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("expanse").unwrap();
    c.arg("--root").arg(ws);
    c
}

/// `expanse attach plans/p.md` finds no live run behind the socket `sock` a dead run left: it
/// says so, exits 1 and removes the socket.
pub fn attach_finds_the_socket_stale(ws: &Path, sock: &Path) {
    let out = expanse(ws).args(["attach", "plans/p.md"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no run of plans/p.md is live"), "{err}");
    assert!(!sock.exists(), "the stale socket is removed");
}

/// Run `c`, fail the test with its stderr unless it succeeds; its output.
pub fn succeeds(c: &mut assert_cmd::Command) -> std::process::Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `expanse run plans/p.md --headless --json --offline` on the demo corpus, plus `extra`:
/// the exit code, the events, and stderr.
pub fn run(ws: &Path, extra: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let out = expanse(ws)
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--json",
            "--offline",
            "--corpus",
        ])
        .arg(corpus())
        .args(extra)
        .output()
        .unwrap();
    let events = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        events,
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `expanse run plans/p.md --headless --offline --only ONLY` on the demo corpus, as it ended.
pub fn run_only(ws: &Path, only: &str) -> std::process::Output {
    expanse(ws)
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--offline",
            "--only",
            only,
            "--corpus",
        ])
        .arg(corpus())
        .output()
        .unwrap()
}

/// The PARTs of the draft events, in order.
pub fn drafted_parts(events: &[serde_json::Value]) -> Vec<u64> {
    events
        .iter()
        .filter(|e| e["kind"] == "draft")
        .map(|e| e["part"].as_u64().unwrap())
        .collect()
}

/// `expanse status plans/p.md --json`'s PARTs.
pub fn status(ws: &Path) -> Vec<serde_json::Value> {
    let out = expanse(ws)
        .args(["status", "plans/p.md", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["parts"].as_array().unwrap().clone()
}

/// The state folder of the workspace's only plan (`.expanse/plans/<plan>/`).
pub fn journal_dir(ws: &Path) -> PathBuf {
    let mut dirs = files(&ws.join(".expanse/plans"));
    dirs.retain(|p| p.ends_with("journal.jsonl"));
    assert_eq!(dirs.len(), 1, "one plan's journal: {dirs:?}");
    dirs[0].parent().unwrap().to_path_buf()
}

/// Append raw lines to that journal (as a crash or another process would have left them).
pub fn append_journal(ws: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(journal_dir(ws).join("journal.jsonl"))
        .unwrap();
    std::io::Write::write_all(&mut f, bytes).unwrap();
}

/// A listener on a free port of 127.0.0.1, and its base URL (`http://127.0.0.1:PORT`), for a
/// server whose routes need to know their own address.
pub fn listen() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (listener, base)
}

/// Serve `app` on `listener` from a thread of its own with a one-thread runtime, so tests that
/// block (running the binary, a blocking client) can talk to it.
pub fn serve_in_thread(listener: std::net::TcpListener, app: axum::Router) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            axum::serve(tokio::net::TcpListener::from_std(listener).unwrap(), app)
                .await
                .unwrap();
        });
    });
}

/// [`serve_in_thread`] on a fresh [`listen`]er; the base URL.
pub fn serve(app: axum::Router) -> String {
    let (listener, base) = listen();
    serve_in_thread(listener, app);
    base
}

/// A PDF of `objects` (bodies), with an xref and trailer.
pub fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
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
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
