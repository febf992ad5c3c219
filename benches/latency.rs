//! End-to-end latency of the fan-out with default settings: 16 PARTs through the real
//! supervisor and the real HTTP providers (SearXNG search, direct fetch, streamed
//! OpenAI-compatible writer) against local servers that wait 0.2–2 s before every answer. Each
//! PART is first run alone, then all 16 at once; the fan-out's wall time is compared with the
//! slowest PART alone (the aim: at most 1.10×, i.e. no limit meant for someone else holds a PART
//! back).
//!
//! The search and model server is one local server (one host, as a self-hosted SearXNG and vLLM
//! would be); each PART's pages come from a site of their own, as search results for different
//! topics do. Settings are expanse's defaults, except that pages on 127.0.0.1 are allowed.
//!
//! Every PART has 5 planned sections, so the writer makes one streamed request per section.
//! Then the pause: a PART whose section streams never end is paused, and the time from the
//! command to the server seeing every stream closed is measured.
//!
//! Run: `cargo bench --bench latency` (plain main, no criterion: one run is the figure).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use expanse::config::Config;
use expanse::journal::{Cache, Journal};
use expanse::plan::Plan;
use expanse::research::select;
use expanse::runner::{self, EventKind, RunContext, RunOptions, RunnerState};

const PARTS: u32 = 16;
const SEARCHES: u32 = 3;
const SECTIONS: u32 = 5;

/// Requests served and the latency added to them, in milliseconds.
#[derive(Clone, Default)]
struct Stats {
    requests: Arc<AtomicU64>,
    added_ms: Arc<AtomicU64>,
}

/// 0.2–2 s, spread deterministically over the request's key so runs are comparable.
async fn delay(stats: &Stats, key: &str) {
    let h = key.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1099511628211)
    });
    let ms = 200 + h % 1801;
    stats.requests.fetch_add(1, Ordering::Relaxed);
    stats.added_ms.fetch_add(ms, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// The search and model server's state: its stats and each PART's page site.
#[derive(Clone)]
struct Api {
    stats: Stats,
    sites: Arc<Vec<String>>,
    probe: Probe,
}

/// The pause probe's streams: how many are open, and when the last one closed.
#[derive(Clone, Default)]
struct Probe {
    open: Arc<AtomicU64>,
    closed_at: Arc<std::sync::Mutex<Option<Instant>>>,
}

/// Notes when a probe stream is dropped (the client closed it).
struct Closing(Probe);

impl Drop for Closing {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
        *self.0.closed_at.lock().unwrap() = Some(Instant::now());
    }
}

async fn search(State(api): State<Api>, uri: Uri) -> Response {
    let query = reqwest::Url::parse(&format!("http://local{uri}"))
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.to_string())
        })
        .unwrap_or_default();
    delay(&api.stats, &format!("search {query}")).await;
    // "topic N aspect K": PART N's results are on PART N's site.
    let part: usize = query
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let site = &api.sites[(part - 1) % api.sites.len()];
    let results: Vec<serde_json::Value> = (0..2)
        .map(|i| {
            serde_json::json!({
                "url": format!("{site}/page/{}-{i}", query.replace(' ', "-")),
                "title": format!("{query} result {i}"),
                "content": "A page about the topic.",
            })
        })
        .collect();
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({"query": query, "number_of_results": 2, "results": results})
                .to_string(),
        ))
        .unwrap()
}

async fn page(State(stats): State<Stats>, Path(name): Path<String>) -> Response {
    delay(&stats, &format!("page {name}")).await;
    let html = format!(
        "<html><head><title>{name}</title></head><body><nav>Home | Docs</nav><article><h1>{name}</h1>\
         <p>The overview of {name} explains the fundamentals of the topic in enough words to be a passage worth citing.</p>\
         <p>Memory, communication and compute trade off against each other in every design discussed on this page.</p></article>\
         <footer>© example</footer></body></html>"
    );
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(html))
        .unwrap()
}

async fn chat(State(api): State<Api>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body).to_string();
    // The PART's file and the section key the delay, so a section waits as long alone as in
    // the fan-out.
    let file = text
        .find("t/")
        .map(|i| text[i..].chars().take(12).collect::<String>())
        .unwrap_or_default();
    let section = text
        .find("The section to write: ")
        .map(|i| text[i + 22..].chars().take(2).collect::<String>())
        .unwrap_or_default();
    if file.starts_with("t/probe") {
        // A stream that never ends, until the client closes it.
        api.probe.open.fetch_add(1, Ordering::SeqCst);
        let guard = Closing(api.probe.clone());
        let stream = futures_util::stream::unfold(guard, |g| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let data = serde_json::json!({"choices": [{"index": 0, "delta": {"content": "more "}, "finish_reason": null}]});
            Some((
                Ok::<_, std::convert::Infallible>(Bytes::from(format!("data: {data}\n\n"))),
                g,
            ))
        });
        return Response::builder()
            .header(header::CONTENT_TYPE, "text/event-stream")
            .body(Body::from_stream(stream))
            .unwrap();
    }
    delay(&api.stats, &format!("chat {file} {section}")).await;
    let chunk = |c: &str| {
        format!(
            "data: {}\n\n",
            serde_json::json!({"choices": [{"index": 0, "delta": {"content": c}, "finish_reason": null}]})
        )
    };
    let mut out = String::new();
    for piece in [
        "The fundamentals are explained ",
        "in the sources [1][2].\n",
    ] {
        out.push_str(&chunk(piece));
    }
    out.push_str("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    out.push_str("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20}}\n\ndata: [DONE]\n\n");
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from(out))
        .unwrap()
}

fn plan() -> Plan {
    let mut s = String::from("# Latency plan\n\n");
    for n in 1..=PARTS {
        s.push_str(&format!(
            "### PART {n}: Create t/{n:02}-topic.md (~20 lines)\n\n- [ ] PART {n}: Create t/{n:02}-topic.md\n\n"
        ));
        for k in 1..=SEARCHES {
            s.push_str(&format!("- [ ] Search: \"topic {n} aspect {k}\"\n"));
        }
        s.push_str("- [ ] Scrape top 2 results\n");
        for k in 1..=SECTIONS {
            s.push_str(&format!(
                "- [ ] Section {k}: Aspect {k} - fundamentals (~10 lines)\n"
            ));
        }
        s.push('\n');
    }
    Plan::parse(&s)
}

async fn listen(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

/// What one run of the supervisor measured.
struct Run {
    wall: Duration,
    finished: BTreeMap<u32, Duration>,
    in_review: usize,
    failed: usize,
    /// "waiting for …" lines: a limit held a request back.
    waits: Vec<String>,
}

/// The selected PARTs through a fresh workspace (no cache) with default settings.
async fn run_parts(api: &str, only: Option<BTreeSet<u32>>) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    let config = Config::default();
    let base = api.to_string();
    let env = move |name: &str| match name {
        "SEARXNG_URL" => Some(base.clone()),
        "OPENAI_BASE_URL" => Some(format!("{base}/v1")),
        "OPENAI_MODEL" => Some("bench-model".into()),
        // The page sites are local servers; the one setting that is not a default.
        "EXPANSE_ALLOW_PRIVATE_URLS" => Some("1".into()),
        _ => None,
    };
    let selection = select(&config, &env, false, &corpus, &dir.path().join("index")).unwrap();
    let ctx = RunContext {
        plan: plan(),
        plan_path: dir.path().join("plan.md"),
        workspace: expanse::workspace::Workspace::new(dir.path()),
        providers: selection.providers,
        journal: Arc::new(Journal::open(&dir.path().join("journal")).unwrap()),
        cache: Arc::new(Cache::new(&dir.path().join("cache"))),
    };
    let (tx, mut events) = tokio::sync::mpsc::channel(1024);
    let options = RunOptions {
        only,
        ..RunOptions::default()
    };
    let started = Instant::now();
    let (_commands, handle) = runner::spawn(ctx, options, tx);
    let mut finished = BTreeMap::new();
    let mut waits = Vec::new();
    while let Some(e) = events.recv().await {
        // The draft event carries the `review` state; a failure comes as a state event.
        if let (Some(RunnerState::Review | RunnerState::Failed), Some(n)) = (e.state_now(), e.part)
        {
            finished.entry(n).or_insert_with(|| started.elapsed());
        }
        if e.message.contains("waiting for") {
            waits.push(e.message.clone());
        }
        if e.kind() == EventKind::Error {
            eprintln!("error: PART {:?}: {}", e.part, e.message);
        }
    }
    let summary = handle.await.unwrap();
    Run {
        wall: started.elapsed(),
        finished,
        in_review: summary.count(RunnerState::Review),
        failed: summary.count(RunnerState::Failed),
        waits,
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(run());
}

async fn run() {
    let stats = Stats::default();
    let mut sites = Vec::new();
    for _ in 0..PARTS {
        let app = Router::new()
            .route("/page/{name}", get(page))
            .with_state(stats.clone());
        sites.push(listen(app).await);
    }
    let probe = Probe::default();
    let api = Api {
        stats: stats.clone(),
        sites: Arc::new(sites),
        probe: probe.clone(),
    };
    let base = listen(
        Router::new()
            .route("/search", get(search))
            .route("/v1/chat/completions", post(chat))
            .with_state(api),
    )
    .await;

    let mut alone = BTreeMap::new();
    for n in 1..=PARTS {
        let r = run_parts(&base, Some(BTreeSet::from([n]))).await;
        assert_eq!(r.in_review, 1, "PART {n} alone did not reach review");
        alone.insert(n, r.wall);
    }
    let (slowest_n, slowest) = alone
        .iter()
        .max_by_key(|(_, d)| **d)
        .map(|(n, d)| (*n, *d))
        .unwrap_or_default();
    let sum_alone: Duration = alone.values().sum();
    println!(
        "each PART alone: {}",
        alone
            .iter()
            .map(|(n, d)| format!("{n}: {:.2} s", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let before = stats.requests.load(Ordering::Relaxed);
    let added_before = stats.added_ms.load(Ordering::Relaxed);
    let all = run_parts(&base, None).await;
    println!(
        "{PARTS} PARTs at once: {} in review, {} failed; {} requests, {:.1} s of latency added in all",
        all.in_review,
        all.failed,
        stats.requests.load(Ordering::Relaxed) - before,
        (stats.added_ms.load(Ordering::Relaxed) - added_before) as f64 / 1000.0
    );
    let slowest_in_fanout = all.finished.values().max().copied().unwrap_or_default();
    println!(
        "wall time {:.2} s; slowest PART alone {:.2} s (PART {slowest_n}); ratio {:.3} (aim ≤ 1.10); \
         slowest PART in the fan-out {:.2} s; sum of PARTs alone {:.1} s",
        all.wall.as_secs_f64(),
        slowest.as_secs_f64(),
        all.wall.as_secs_f64() / slowest.as_secs_f64().max(f64::EPSILON),
        slowest_in_fanout.as_secs_f64(),
        sum_alone.as_secs_f64()
    );
    println!(
        "requests held back by a limit (\"waiting for …\" lines): {}",
        all.waits.len()
    );
    for w in all.waits.iter().take(5) {
        println!("  {w}");
    }

    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..5 {
        times.push(pause_probe(&base, &probe).await);
    }
    times.sort();
    println!(
        "pause → every section stream of the PART closed at the server: median {:.1} ms, max {:.1} ms (5 runs, 4 streams each)",
        times[2].as_secs_f64() * 1000.0,
        times[4].as_secs_f64() * 1000.0
    );
}

/// One PART whose section streams never end: the time from `Pause` to the server seeing all of
/// them closed.
async fn pause_probe(api: &str, probe: &Probe) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    let base = api.to_string();
    let env = move |name: &str| match name {
        "SEARXNG_URL" => Some(base.clone()),
        "OPENAI_BASE_URL" => Some(format!("{base}/v1")),
        "OPENAI_MODEL" => Some("bench-model".into()),
        "EXPANSE_ALLOW_PRIVATE_URLS" => Some("1".into()),
        _ => None,
    };
    let selection = select(
        &Config::default(),
        &env,
        false,
        &corpus,
        &dir.path().join("index"),
    )
    .unwrap();
    let mut text = String::from(
        "# Probe\n\n### PART 1: Create t/probe.md (~50 lines)\n\n- [ ] PART 1: Create t/probe.md\n- [ ] Search: \"topic 1 aspect 1\"\n- [ ] Scrape top 1 results\n",
    );
    for k in 1..=SECTIONS {
        text.push_str(&format!("- [ ] Section {k}: Aspect {k} (~10 lines)\n"));
    }
    let ctx = RunContext {
        plan: Plan::parse(&text),
        plan_path: dir.path().join("plan.md"),
        workspace: expanse::workspace::Workspace::new(dir.path()),
        providers: selection.providers,
        journal: Arc::new(Journal::open(&dir.path().join("journal")).unwrap()),
        cache: Arc::new(Cache::new(&dir.path().join("cache"))),
    };
    let (tx, mut events) = tokio::sync::mpsc::channel(1024);
    let options = RunOptions {
        exit_when_settled: false,
        ..RunOptions::default()
    };
    let (commands, handle) = runner::spawn(ctx, options, tx);
    let drain = tokio::spawn(async move { while events.recv().await.is_some() {} });
    while probe.open.load(Ordering::SeqCst) < 4 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    *probe.closed_at.lock().unwrap() = None;
    let asked = Instant::now();
    commands
        .send(runner::Command::Pause(runner::Target::Part(1)))
        .await
        .unwrap();
    while probe.open.load(Ordering::SeqCst) > 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let closed = probe.closed_at.lock().unwrap().unwrap_or_else(Instant::now);
    let _ = commands.send(runner::Command::Shutdown).await;
    let _ = handle.await;
    drain.abort();
    closed.duration_since(asked)
}
