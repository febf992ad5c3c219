//! What attached terminals cost a run: the run's own process (the real binary, `run
//! --headless`) under a token flood — 16 PARTs, each writing one section from a model that streams
//! 20,000 chunks — with 0, 1 and 3 clients attached to its socket for the whole flood. The
//! figure is the CPU time (user + system) of the run's process, from its rusage at exit, and its
//! wall time; clients are threads of this process, reading every line the run sends them.
//!
//! Run: `cargo bench --bench attached` (plain main: the median of five runs per client count).

use std::io::{BufRead as _, Write as _};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::Response;
use axum::routing::post;
use tokio::sync::watch;

const PARTS: u32 = 16;
const CHUNKS: usize = 20_000;
/// Runs per client count; the median is the figure.
const ROUNDS: usize = 5;

/// One streamed answer of CHUNKS chunks, made once.
fn answer() -> Bytes {
    let mut out = String::new();
    for i in 0..CHUNKS {
        let word = if i % 12 == 11 { "flood.\n" } else { "flood " };
        let data = serde_json::json!({"choices": [{"index": 0, "delta": {"content": word}, "finish_reason": null}]});
        out.push_str(&format!("data: {data}\n\n"));
    }
    out.push_str("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    out.push_str("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20000}}\n\ndata: [DONE]\n\n");
    Bytes::from(out)
}

/// The model server: every answer waits for the gate, then streams in 16 KB pieces.
async fn model(gate: watch::Receiver<bool>, body: Bytes) -> Response {
    let mut gate = gate;
    let _ = gate.wait_for(|open| *open).await;
    let pieces: Vec<Result<Bytes, std::convert::Infallible>> = (0..body.len())
        .step_by(16 * 1024)
        .map(|i| Ok(body.slice(i..(i + 16 * 1024).min(body.len()))))
        .collect();
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(futures_util::stream::iter(pieces)))
        .unwrap()
}

fn plan() -> String {
    let mut s = String::from("# Flood plan\n\n");
    for n in 1..=PARTS {
        s.push_str(&format!(
            "### PART {n}: Create t/{n:02}-zero.md (~20 lines)\n\n- [ ] PART {n}: Create t/{n:02}-zero.md\n- [ ] Search: \"DeepSpeed ZeRO optimizer stages {n}\"\n- [ ] Scrape top 1 results\n- [ ] Section 1: ZeRO stages (~20 lines)\n\n"
        ));
    }
    s
}

/// A client: say hello, then read every line until every PART's draft has come (then it leaves,
/// as a person would close the screen; a run stays while a client is attached).
fn client(dir: &Path) -> std::thread::JoinHandle<usize> {
    let mut s = UnixStream::connect(dir.join("run.sock")).expect("the run's socket");
    s.write_all(b"{\"expanse\": 1}\n").unwrap();
    let mut r = std::io::BufReader::new(s);
    let mut hello = String::new();
    r.read_line(&mut hello).unwrap();
    std::thread::spawn(move || {
        let mut lines = 0;
        let mut line = String::new();
        let mut drafts = 0;
        while r.read_line(&mut line).unwrap_or(0) > 0 {
            lines += 1;
            if line.contains("\"kind\":\"draft\"") {
                drafts += 1;
                if drafts == PARTS {
                    break;
                }
            }
            line.clear();
        }
        lines
    })
}

/// One run with `clients` attached: (CPU of the run's process, its wall time, lines a client read).
fn one_run(port: u16, gate: &watch::Sender<bool>, clients: usize) -> (Duration, Duration, usize) {
    let bin = env!("CARGO_BIN_EXE_expanse");
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path();
    assert!(
        std::process::Command::new(bin)
            .arg("init")
            .arg(root)
            .output()
            .unwrap()
            .status
            .success()
    );
    std::fs::write(root.join("plans/flood.md"), plan()).unwrap();
    std::fs::write(
        root.join("expanse.toml"),
        "[search]\nprovider = \"local\"\n[fetch]\nprovider = \"local\"\n",
    )
    .unwrap();
    gate.send_replace(false);
    let mut child = std::process::Command::new(bin)
        .arg("--root")
        .arg(root)
        .args(["run", "plans/flood.md", "--headless"])
        .env("OPENAI_BASE_URL", format!("http://127.0.0.1:{port}/v1"))
        .env("OPENAI_MODEL", "flood")
        .env("EXPANSE_ALLOW_PRIVATE_URLS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let plans = root.join(".expanse/plans");
    let dir = loop {
        let found = std::fs::read_dir(&plans).ok().and_then(|mut d| {
            d.find_map(|e| {
                let p = e.ok()?.path();
                p.join("run.sock").exists().then_some(p)
            })
        });
        if let Some(d) = found {
            break d;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let readers: Vec<_> = (0..clients).map(|_| client(&dir)).collect();
    let start = Instant::now();
    gate.send_replace(true);
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 writes only the status and rusage it is given; the child is ours.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(got, pid);
    let wall = start.elapsed();
    let _ = child.try_wait();
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    let read = readers
        .into_iter()
        .map(|r| r.join().unwrap())
        .max()
        .unwrap_or(0);
    let drafts = std::fs::read_dir(dir.join("drafts")).map_or(0, |d| d.count());
    assert!(
        drafts >= PARTS as usize,
        "every PART wrote its draft ({drafts})"
    );
    (cpu, wall, read)
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (gate, watching) = watch::channel(false);
    let body = answer();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move || model(watching.clone(), body.clone())),
    );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    let gate = Arc::new(gate);
    println!("| clients | run CPU (median of {ROUNDS}) | wall (median) | lines a client read |");
    println!("|---|---|---|---|");
    for clients in [0, 1, 3] {
        let mut runs: Vec<(Duration, Duration, usize)> =
            (0..ROUNDS).map(|_| one_run(port, &gate, clients)).collect();
        runs.sort();
        let mut walls: Vec<Duration> = runs.iter().map(|r| r.1).collect();
        walls.sort();
        let (cpu, _, read) = runs[ROUNDS / 2];
        println!(
            "| {clients} | {cpu:.2?} | {:.2?} | {read} |",
            walls[ROUNDS / 2]
        );
    }
}
