//! The HTTP layer's policies against real servers on 127.0.0.1: pages on internal addresses are
//! refused (after resolution, every hop) unless allowed, credentials never follow a redirect to
//! another origin, and each limit applies to what it protects — web sites, the search
//! provider, the model server — with waits reported apart from the server's time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use expanse::config::Config;
use expanse::knowledge::Existing;
use expanse::plan::Plan;
use expanse::research::http::{
    BraveSearch, BrightDataSearch, DirectFetch, HttpClient, HttpOptions, OpenAiWriter, RateLimit,
    Redactor, SearxngSearch, WriterOptions, http_options_in,
};
use expanse::research::{Fetch, Page, Search, SectionRequest, Source, Writer};

const KEY: &str = "BSA-policy-secret-0123456789";

/// One request as a server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// What a test server does with a request: its status, headers and body.
type Handler = Arc<dyn Fn(&Seen, &str) -> (u16, Vec<(String, String)>, String) + Send + Sync>;

/// A server on 127.0.0.1 that records every request, tracks how many are in flight at most
/// (each held `hold` before it answers), and answers with `handler`.
#[derive(Clone)]
struct Server {
    base: String,
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    peak: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Ctx {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    hold: Duration,
    handler: Handler,
}

async fn any(
    State(c): State<Ctx>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method,
        path: uri.path().to_string(),
        headers,
        body,
    };
    c.seen.lock().unwrap().push(seen.clone());
    let n = c.now.fetch_add(1, Ordering::SeqCst) + 1;
    c.peak.fetch_max(n, Ordering::SeqCst);
    tokio::time::sleep(c.hold).await;
    c.now.fetch_sub(1, Ordering::SeqCst);
    let (status, headers, body) = (c.handler)(&seen, &c.base);
    let mut r = Response::builder().status(StatusCode::from_u16(status).unwrap());
    for (k, v) in headers {
        r = r.header(k, v);
    }
    r.body(Body::from(body)).unwrap()
}

async fn server(hold: Duration, handler: Handler) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let peak = Arc::new(AtomicUsize::new(0));
    let ctx = Ctx {
        base: base.clone(),
        seen: seen.clone(),
        now: Arc::new(AtomicUsize::new(0)),
        peak: peak.clone(),
        hold,
        handler,
    };
    let app = Router::new().fallback(any).with_state(ctx);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        base,
        port: addr.port(),
        seen,
        peak,
    }
}

impl Server {
    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn html() -> Handler {
    Arc::new(|s, _| {
        (
            200,
            vec![("content-type".into(), "text/html".into())],
            format!(
                "<html><head><title>T</title></head><body><article><h1>Page {}</h1><p>ZeRO partitions the optimizer state across data-parallel ranks, so each rank keeps only its own shard.</p></article></body></html>",
                s.path
            ),
        )
    })
}

fn redirect_to(status: u16, target: String) -> Handler {
    Arc::new(move |_, _| {
        (
            status,
            vec![("location".into(), target.clone())],
            String::new(),
        )
    })
}

fn client(allow_private: bool, f: impl FnOnce(&mut HttpOptions)) -> Arc<HttpClient> {
    let mut o = HttpOptions {
        timeout: Duration::from_secs(5),
        attempts: 2,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        allow_private,
        ..HttpOptions::default()
    };
    f(&mut o);
    Arc::new(HttpClient::new(o, Redactor::new([KEY.to_string()])).unwrap())
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn sink(&self) -> impl Fn(&str) + Send + Sync + use<> {
        let lines = self.0.clone();
        move |s: &str| lines.lock().unwrap().push(s.to_string())
    }
    fn text(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }
}

#[tokio::test]
async fn pages_on_internal_addresses_are_refused_and_never_reached() {
    let s = server(Duration::ZERO, html()).await;
    let p = s.port;
    let fetch = DirectFetch::new(client(false, |_| {}), None);
    let log = Log::default();
    let urls = [
        format!("http://127.0.0.1:{p}/loopback"),
        format!("http://localhost:{p}/name"),
        format!("http://2130706433:{p}/decimal"),
        format!("http://0x7f.1:{p}/hex"),
        format!("http://[::ffff:127.0.0.1]:{p}/mapped"),
        format!("http://[::1]:{p}/v6"),
        format!("http://0.0.0.0:{p}/unspecified"),
        format!("http://10.1.2.3:{p}/private"),
        format!("http://192.168.1.1:{p}/private"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        format!("http://[fd00::1]:{p}/unique-local"),
        format!("http://[fe80::1]:{p}/link-local"),
    ];
    for url in &urls {
        let e = fetch.fetch(url, &log.sink()).await.unwrap_err().to_string();
        assert!(
            e.contains("refused:") && e.contains("allow_private"),
            "{url}: {e}"
        );
        assert!(!e.contains("gave up"), "a refusal is not retried: {e}");
    }
    assert_eq!(s.count(), 0, "no refused request reached the server");
    let text = log.text();
    assert_eq!(
        text.matches("refused:").count(),
        urls.len(),
        "one log line per refusal: {text}"
    );
    assert!(text.contains("localhost is a loopback address"), "{text}");

    // Allowed explicitly, the same pages are fetched (the check is a policy, not a broken client).
    let allowed = DirectFetch::new(client(true, |_| {}), None);
    for url in &urls[..5] {
        let page = allowed.fetch(url, &log.sink()).await.unwrap();
        assert!(page.content.contains("ZeRO partitions"), "{url}");
    }
    assert_eq!(s.count(), 5);
}

#[test]
fn the_allowance_comes_from_the_file_or_the_environment() {
    let none = |_: &str| None;
    assert!(!http_options_in(&Config::default(), &none).allow_private);
    let env_on = |n: &str| (n == "EXPANSE_ALLOW_PRIVATE_URLS").then(|| "1".to_string());
    assert!(http_options_in(&Config::default(), &env_on).allow_private);
    let env_off = |n: &str| (n == "EXPANSE_ALLOW_PRIVATE_URLS").then(|| "0".to_string());
    assert!(!http_options_in(&Config::default(), &env_off).allow_private);
    let file = Config::parse("[fetch]\nallow_private = true\n", "expanse.toml").unwrap();
    assert!(http_options_in(&file, &none).allow_private);
    assert!(!HttpOptions::default().allow_private, "refused by default");
}

#[tokio::test]
async fn a_redirect_off_the_endpoint_to_an_internal_address_is_refused() {
    // The SearXNG endpoint is trusted (the user configured it, on 127.0.0.1); where it sends
    // the client next is not: another loopback port is another origin, so a page.
    let inner = server(Duration::ZERO, html()).await;
    let outer = server(
        Duration::ZERO,
        redirect_to(302, format!("http://127.0.0.1:{}/admin", inner.port)),
    )
    .await;
    let s = SearxngSearch::new(client(false, |_| {}), &outer.base, None).unwrap();
    let log = Log::default();
    let e = s.search("q", 3, &log.sink()).await.unwrap_err().to_string();
    assert!(
        e.contains("refused: 127.0.0.1 is a loopback address"),
        "{e}"
    );
    assert_eq!(outer.count(), 1, "the endpoint itself is reached");
    assert_eq!(inner.count(), 0, "the internal hop is not");
    let text = log.text();
    assert!(
        text.contains(&format!("→ 302 → 127.0.0.1:{}/admin", inner.port)),
        "{text}"
    );
}

fn brave_json() -> String {
    serde_json::json!({"type": "search", "web": {"results": [
        {"url": "https://example.com/a", "title": "A", "description": "a"}
    ]}})
    .to_string()
}

#[tokio::test]
async fn credentials_never_follow_a_redirect_to_another_origin() {
    let other = server(
        Duration::ZERO,
        Arc::new(|_, _| {
            (
                200,
                vec![("content-type".into(), "application/json".into())],
                brave_json(),
            )
        }),
    )
    .await;
    // Brave: the first hop moves to another origin, the second stays on it.
    let to_other = format!("{}/res/v1/web/search", other.base);
    let brave_api = server(
        Duration::ZERO,
        Arc::new(move |s, base| {
            if s.path == "/res/v1/web/search" {
                (
                    307,
                    vec![("location".into(), format!("{base}/moved"))],
                    String::new(),
                )
            } else {
                (
                    307,
                    vec![("location".into(), to_other.clone())],
                    String::new(),
                )
            }
        }),
    )
    .await;
    // The other origin is on 127.0.0.1 too, so these tests allow private pages.
    let c = client(true, |_| {});
    let brave = BraveSearch::new(c.clone(), &brave_api.base, KEY.into(), None).unwrap();
    let log = Log::default();
    let hits = brave.search("q", 3, &log.sink()).await.unwrap();
    assert_eq!(hits.len(), 1);
    let first = brave_api.requests();
    assert_eq!(first.len(), 2, "{first:?}");
    for r in &first {
        assert_eq!(
            r.headers.get("x-subscription-token").unwrap(),
            KEY,
            "kept on its own origin ({})",
            r.path
        );
    }
    let moved = other.requests();
    assert_eq!(moved.len(), 1);
    assert!(
        moved[0].headers.get("x-subscription-token").is_none(),
        "{:?}",
        moved[0].headers
    );
    assert!(
        log.text()
            .contains("(credentials not sent to the new origin)"),
        "{}",
        log.text()
    );

    // Bright Data's Bearer key and the model's Authorization header, each after a 307 that keeps
    // the POST body.
    let sink = server(
        Duration::ZERO,
        Arc::new(|_, _| (404, vec![], "{\"error\":\"nothing here\"}".into())),
    )
    .await;
    let bounce = server(
        Duration::ZERO,
        redirect_to(307, format!("{}/elsewhere", sink.base)),
    )
    .await;
    let bd = BrightDataSearch::new(c.clone(), &bounce.base, KEY.into(), "z".into(), None).unwrap();
    let _ = bd.search("q", 3, &log.sink()).await;
    let w = OpenAiWriter::new(
        c.clone(),
        WriterOptions::new(&format!("{}/v1", bounce.base), "m", Some(KEY.into())),
        None,
    )
    .unwrap();
    let _ = w.write_section(&request(), &log.sink(), &log.sink()).await;
    let at_bounce = bounce.requests();
    assert_eq!(at_bounce.len(), 2);
    for r in &at_bounce {
        assert_eq!(
            r.headers.get("authorization").unwrap(),
            &format!("Bearer {KEY}")
        );
    }
    let at_sink = sink.requests();
    assert_eq!(at_sink.len(), 2, "{at_sink:?}");
    for r in &at_sink {
        assert_eq!(r.method, Method::POST, "307 keeps the method");
        assert!(!r.body.is_empty(), "307 keeps the body");
        assert!(r.headers.get("authorization").is_none(), "{:?}", r.headers);
    }
    assert!(!log.text().contains(KEY));
}

fn request() -> SectionRequest {
    let plan = Plan::parse(
        "# P\n\n### PART 1: Create t/00-zero.md (~40 lines)\n\n- [ ] PART 1: Create t/00-zero.md\n\
         - [ ] Search: \"ZeRO\"\n- [ ] Section 1: Overview - what it is (~20 lines)\n- [ ] Cite all sources\n",
    );
    SectionRequest {
        plan_title: Some("P".into()),
        part: plan.parts[0].clone(),
        title: "ZeRO".into(),
        index: 0,
        passages: Vec::new(),
        searched: vec!["ZeRO".into()],
        max_tokens: None,
        previous: None,
        sources: vec![Source {
            n: 1,
            page: Page {
                url: "https://example.com/zero".into(),
                title: "ZeRO".into(),
                content: "ZeRO partitions optimizer state across ranks.".into(),
            },
        }],
        existing: Existing::default(),
        already: None,
        feedback: None,
    }
}

fn answer() -> Handler {
    Arc::new(|_, _| {
        let body = format!(
            "data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
            serde_json::json!({"choices": [{"index": 0, "delta": {"content": "## Overview\n\nZeRO shards state [1].\n"}}]}),
            serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        );
        (
            200,
            vec![("content-type".into(), "text/event-stream".into())],
            body,
        )
    })
}

/// Twelve drafts at once from one model server: the per-site cap for web pages (2 here) does
/// not hold them back; the model's own `concurrency` does, and says so.
#[tokio::test]
async fn the_model_server_has_its_own_concurrency() {
    let model = server(Duration::from_millis(300), answer()).await;
    let c = client(false, |o| o.per_host_concurrency = 2);
    let run = |limit: RateLimit| {
        let w = Arc::new(
            OpenAiWriter::new(
                c.clone(),
                WriterOptions::new(&format!("{}/v1", model.base), "m", None),
                Some(Arc::new(limit)),
            )
            .unwrap(),
        );
        async move {
            let log = Log::default();
            let mut tasks = Vec::new();
            for _ in 0..12 {
                let (w, sink) = (w.clone(), log.sink());
                tasks.push(tokio::spawn(async move {
                    w.write_section(&request(), &sink, &|_: &str| {})
                        .await
                        .unwrap();
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            log.text()
        }
    };
    let text = run(RateLimit::new("the model server").concurrency(64, "[model] concurrency")).await;
    assert_eq!(model.peak.load(Ordering::SeqCst), 12, "all twelve at once");
    assert!(!text.contains("waiting for"), "{text}");

    model.peak.store(0, Ordering::SeqCst);
    let text = run(RateLimit::new("the model server").concurrency(3, "[model] concurrency")).await;
    assert_eq!(model.peak.load(Ordering::SeqCst), 3);
    assert!(
        text.contains(
            "waiting for the model server: 3 requests already in flight ([model] concurrency)"
        ),
        "{text}"
    );
    assert!(text.contains("ms for a slot)"), "{text}");
}

/// Pages keep their politeness: at most `per_host_concurrency` requests to one site at once,
/// announced when a fetch has to wait for one.
#[tokio::test]
async fn pages_are_limited_per_site() {
    let site = server(Duration::from_millis(400), html()).await;
    let fetch = Arc::new(DirectFetch::new(
        client(true, |o| {
            o.per_host_concurrency = 2;
            o.per_host_rate = None;
        }),
        None,
    ));
    let log = Log::default();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (f, sink, url) = (fetch.clone(), log.sink(), format!("{}/p{i}", site.base));
        tasks.push(tokio::spawn(
            async move { f.fetch(&url, &sink).await.unwrap() },
        ));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(site.peak.load(Ordering::SeqCst), 2);
    let text = log.text();
    assert!(
        text.contains(&format!(
            "waiting for 127.0.0.1:{}: 2 requests already in flight ([limits] per_host_concurrency)",
            site.port
        )),
        "{text}"
    );
}

/// The search provider's own rate spaces searches; the wait is announced and each request line
/// keeps the server's time apart from it.
#[tokio::test]
async fn search_waits_are_reported_apart_from_server_time() {
    let api = server(
        Duration::ZERO,
        Arc::new(|_, _| {
            let body = serde_json::json!({"results": [{"url": "https://example.com/a", "title": "A", "content": "a"}]});
            (
                200,
                vec![("content-type".into(), "application/json".into())],
                body.to_string(),
            )
        }),
    )
    .await;
    let limit = Arc::new(RateLimit::new("searxng").rate(2.0, "[search] requests_per_second"));
    let s = SearxngSearch::new(client(false, |_| {}), &api.base, Some(limit)).unwrap();
    let log = Log::default();
    for _ in 0..3 {
        s.search("q", 3, &log.sink()).await.unwrap();
    }
    let text = log.text();
    assert!(
        text.contains(
            "waiting for searxng: at most 2 requests a second ([search] requests_per_second)"
        ),
        "{text}"
    );
    let last = text.lines().last().unwrap();
    assert!(
        last.contains("/search → 200, ")
            && last.contains(" ms (waited ")
            && last.ends_with(" ms for a slot)"),
        "{last}"
    );
}
