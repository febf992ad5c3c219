//! The HTTP layer and the search and fetch providers against mock servers on 127.0.0.1:
//! retries, Retry-After, timeouts, body caps, content types, bad JSON and bytes, each provider's
//! happy path, secrets kept out of every log line and error, and the extraction evaluation set.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::Response;
use axum::routing::get;
use expanse::research::extract::{extract_page, markdown_to_text, token_f1};
use expanse::research::http::{
    BraveSearch, BrightDataSearch, DirectFetch, HttpClient, HttpOptions, Redactor, SearxngSearch,
    UnlockerFetch,
};
use expanse::research::{Fetch, ResearchError, Search};
use wiremock::matchers::{
    body_partial_json, header as has_header, header_exists, method, path, query_param,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "BSA-secret-key-0123456789";

fn client_with(f: impl FnOnce(&mut HttpOptions)) -> Arc<HttpClient> {
    let mut o = HttpOptions {
        timeout: Duration::from_millis(600),
        connect_timeout: Duration::from_millis(300),
        attempts: 3,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(3),
        ..HttpOptions::default()
    };
    f(&mut o);
    Arc::new(HttpClient::new(o, Redactor::new([KEY.to_string()])).unwrap())
}

fn client() -> Arc<HttpClient> {
    client_with(|_| {})
}

/// A client for fetching pages from the test's own servers on 127.0.0.1, which the default
/// address policy refuses: the allowance is explicit, as it is for a user's self-hosted sources.
fn page_client_with(f: impl FnOnce(&mut HttpOptions)) -> Arc<HttpClient> {
    client_with(|o| {
        o.allow_private = true;
        f(o)
    })
}

fn page_client() -> Arc<HttpClient> {
    page_client_with(|_| {})
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

fn searxng_json() -> serde_json::Value {
    serde_json::json!({
        "query": "deepspeed zero",
        "number_of_results": 0,
        "results": [
            {"url": "https://www.deepspeed.ai/tutorials/zero/", "title": "Zero Redundancy Optimizer - DeepSpeed",
             "content": "ZeRO reduces the memory consumption of each GPU by partitioning the various model training states.",
             "engine": "duckduckgo", "parsed_url": ["https", "www.deepspeed.ai", "/tutorials/zero/", "", "", ""],
             "template": "default.html", "engines": ["duckduckgo", "brave"], "positions": [1, 2], "score": 4.0, "category": "general"},
            {"url": "https://arxiv.org/abs/1910.02054", "title": "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models",
             "content": "Large deep learning models offer significant accuracy gains &amp; more.", "engine": "google",
             "engines": ["google"], "positions": [2], "score": 1.5, "category": "general", "publishedDate": null}
        ],
        "answers": [], "corrections": [], "infoboxes": [], "suggestions": ["deepspeed zero 3"],
        "unresponsive_engines": [["wikipedia", "timeout"]]
    })
}

#[tokio::test]
async fn searxng_happy_path_logs_each_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/search"))
        .and(query_param("q", "deepspeed zero"))
        .and(query_param("format", "json"))
        .and(header_exists("accept-language"))
        .respond_with(ResponseTemplate::new(200).set_body_json(searxng_json()))
        .expect(1)
        .mount(&server)
        .await;
    let s = SearxngSearch::new(client(), &server.uri(), None).unwrap();
    let log = Log::default();
    let hits = s.search("deepspeed zero", 5, &log.sink()).await.unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].url, "https://www.deepspeed.ai/tutorials/zero/");
    assert_eq!(
        hits[1].snippet,
        "Large deep learning models offer significant accuracy gains & more."
    );
    let text = log.text();
    let port = server.address().port();
    let want = format!("GET 127.0.0.1:{port}/search → 200, ");
    assert!(
        text.contains(&want) && text.contains(" B, ") && text.ends_with(" ms"),
        "{text}"
    );
    assert!(
        !text.contains("deepspeed zero"),
        "queries stay out of request lines: {text}"
    );
}

#[tokio::test]
async fn searxng_without_json_format_says_how_to_fix_it() {
    let server = MockServer::start().await;
    Mock::given(path("/search"))
        .respond_with(ResponseTemplate::new(403).set_body_string("<html>Forbidden</html>"))
        .mount(&server)
        .await;
    let s = SearxngSearch::new(client(), &server.uri(), None).unwrap();
    let e = s
        .search("q", 5, &Log::default().sink())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("searxng: HTTP 403") && e.contains("search.formats"),
        "{e}"
    );
}

#[tokio::test]
async fn invalid_json_names_the_provider() {
    let server = MockServer::start().await;
    Mock::given(path("/search"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<!doctype html><p>not json"))
        .mount(&server)
        .await;
    let s = SearxngSearch::new(client(), &server.uri(), None).unwrap();
    let e = s.search("q", 5, &Log::default().sink()).await.unwrap_err();
    let ResearchError::Provider { provider, message } = e else {
        panic!("{e:?}")
    };
    assert_eq!(provider, "searxng");
    assert!(
        message.contains("unexpected answer") && message.contains("<!doctype"),
        "{message}"
    );
}

fn brave_json() -> serde_json::Value {
    serde_json::json!({
        "type": "search",
        "query": {"original": "zero optimizer", "show_strict_warning": false, "is_navigational": false,
                  "spellcheck_off": true, "country": "us", "more_results_available": true},
        "mixed": {"type": "mixed", "main": [{"type": "web", "index": 0, "all": false}], "top": [], "side": []},
        "web": {"type": "search", "family_friendly": true, "results": [
            {"title": "ZeRO &amp; DeepSpeed: New system optimizations", "url": "https://www.microsoft.com/en-us/research/blog/zero-deepspeed/",
             "is_source_local": false, "is_source_both": false,
             "description": "<strong>ZeRO</strong> removes the memory redundancies across data-parallel processes.",
             "page_age": "2020-02-10T00:00:00", "profile": {"name": "Microsoft", "url": "https://www.microsoft.com", "long_name": "microsoft.com"},
             "language": "en", "family_friendly": true, "type": "search_result", "subtype": "generic",
             "meta_url": {"scheme": "https", "netloc": "microsoft.com", "hostname": "www.microsoft.com", "favicon": "https://imgs.search.brave.com/x", "path": "› en-us › research"},
             "extra_snippets": ["more text"]},
            {"title": "DeepSpeed ZeRO", "url": "https://www.deepspeed.ai/tutorials/zero/", "description": "Tutorial.", "type": "search_result"}
        ]}
    })
}

#[tokio::test]
async fn brave_happy_path_sends_the_key_in_a_header_only() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/res/v1/web/search"))
        .and(query_param("q", "zero optimizer"))
        .and(query_param("count", "5"))
        .and(has_header("x-subscription-token", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(brave_json()))
        .mount(&server)
        .await;
    let s = BraveSearch::new(client(), &server.uri(), KEY.into(), None).unwrap();
    let log = Log::default();
    let hits = s.search("zero optimizer", 5, &log.sink()).await.unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].title, "ZeRO & DeepSpeed: New system optimizations");
    assert_eq!(
        hits[0].snippet,
        "ZeRO removes the memory redundancies across data-parallel processes."
    );
    let requests = server.received_requests().await.unwrap();
    assert!(!requests[0].url.as_str().contains(KEY));
    assert!(!log.text().contains(KEY));
}

#[tokio::test]
async fn brave_error_shapes_are_read() {
    let server = MockServer::start().await;
    Mock::given(query_param("q", "a"))
        .respond_with(ResponseTemplate::new(422).set_body_json(serde_json::json!({
            "type": "ErrorResponse",
            "error": {"id": "5a0f", "status": 422, "code": "SUBSCRIPTION_TOKEN_INVALID",
                      "detail": "The provided subscription token is invalid.", "meta": {"component": "authentication"}},
            "time": 1_719_000_000
        })))
        .mount(&server)
        .await;
    Mock::given(query_param("q", "b"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"message": format!("Invalid token {KEY}")})),
        )
        .mount(&server)
        .await;
    Mock::given(query_param("q", "c"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "type": "ErrorResponse", "error": {"code": "RATE_LIMITED", "detail": "Request rate limit exceeded for plan."}
        })))
        .mount(&server)
        .await;
    let s = BraveSearch::new(client(), &server.uri(), KEY.into(), None).unwrap();
    let sink = Log::default();
    let e = s
        .search("a", 3, &sink.sink())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "brave: HTTP 422: The provided subscription token is invalid. (SUBSCRIPTION_TOKEN_INVALID)"
    );
    let e = s
        .search("b", 3, &sink.sink())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(e, "brave: HTTP 401: Invalid token [redacted]");
    let e = s
        .search("c", 3, &sink.sink())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Request rate limit exceeded") && e.contains("RATE_LIMITED"),
        "{e}"
    );
    assert!(!sink.text().contains(KEY));
}

#[tokio::test]
async fn brightdata_serp_happy_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/request"))
        .and(has_header("authorization", format!("Bearer {KEY}").as_str()))
        .and(body_partial_json(serde_json::json!({"zone": "serp_zone", "format": "raw"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "general": {"search_engine": "google", "query": "pipeline parallelism", "results_cnt": 1_230_000, "search_time": 0.31},
            "input": {"original_url": "https://www.google.com/search?q=pipeline+parallelism&brd_json=1"},
            "organic": [
                {"link": "https://arxiv.org/abs/1811.06965", "display_link": "arxiv.org › cs", "title": "GPipe: Efficient Training of Giant Neural Networks",
                 "description": "GPipe is a pipeline parallelism library.", "rank": 2, "global_rank": 2},
                {"link": "https://en.wikipedia.org/wiki/Pipeline_parallelism", "title": "Pipeline parallelism - Wikipedia",
                 "description": "Pipeline parallelism splits layers into stages.", "rank": 1, "global_rank": 1}
            ]
        })))
        .mount(&server)
        .await;
    let s = BrightDataSearch::new(
        client(),
        &server.uri(),
        KEY.into(),
        "serp_zone".into(),
        None,
    )
    .unwrap();
    let log = Log::default();
    let hits = s
        .search("pipeline parallelism", 5, &log.sink())
        .await
        .unwrap();
    assert_eq!(
        hits[0].url,
        "https://en.wikipedia.org/wiki/Pipeline_parallelism"
    );
    assert_eq!(
        hits[1].title,
        "GPipe: Efficient Training of Giant Neural Networks"
    );
    let sent: serde_json::Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    let url = sent["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://www.google.com/search?q=pipeline+parallelism")
            && url.contains("brd_json=1"),
        "{url}"
    );
    assert!(!log.text().contains(KEY));
}

#[tokio::test]
async fn a_429_is_retried_after_the_wait_the_server_asks_for() {
    let server = MockServer::start().await;
    Mock::given(path("/search"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string("slow down"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(searxng_json()))
        .mount(&server)
        .await;
    let s = SearxngSearch::new(client(), &server.uri(), None).unwrap();
    let log = Log::default();
    let started = Instant::now();
    let hits = s.search("q", 5, &log.sink()).await.unwrap();
    assert_eq!(hits.len(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    let text = log.text();
    assert!(text.contains("→ 429, "), "{text}");
    assert!(
        text.contains("retry 1/2 in 1.0 s (as the server asked)"),
        "{text}"
    );
    assert!(text.contains("→ 200, "), "{text}");
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_fails_at_once() {
    let server = MockServer::start().await;
    Mock::given(path("/search"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let s = SearxngSearch::new(client(), &server.uri(), None).unwrap();
    let e = s
        .search("q", 5, &Log::default().sink())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("retry after 3600 s, more than the 3 s expanse waits"),
        "{e}"
    );
}

#[tokio::test]
async fn a_5xx_storm_gives_up_after_the_attempts() {
    let server = MockServer::start().await;
    Mock::given(path("/search"))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_json(serde_json::json!({"error": "upstream overloaded"})),
        )
        .expect(3)
        .mount(&server)
        .await;
    let s = SearxngSearch::new(client(), &server.uri(), None).unwrap();
    let log = Log::default();
    let e = s.search("q", 5, &log.sink()).await.unwrap_err().to_string();
    assert_eq!(
        e,
        "searxng: gave up after 3 attempts: HTTP 503: upstream overloaded"
    );
    let text = log.text();
    assert_eq!(text.matches("→ 503, ").count(), 3, "{text}");
    assert!(
        text.contains("→ HTTP 503: upstream overloaded; retry 1/2 in ")
            && text.contains("retry 2/2"),
        "{text}"
    );
}

/// A server on 127.0.0.1 whose `/slow` sends the headers, then the body a byte every `gap`, and
/// whose `/big` streams an unannounced (chunked) body of `big` bytes.
async fn streaming_server(gap: Duration, big: usize) -> String {
    let app = Router::new()
        .route(
            "/slow",
            get(move || async move {
                let stream = futures_util::stream::unfold(0, move |i| async move {
                    if i >= 20 {
                        return None;
                    }
                    tokio::time::sleep(gap).await;
                    Some((
                        Ok::<_, std::io::Error>(Bytes::from_static(b"<p>x</p>")),
                        i + 1,
                    ))
                });
                Response::builder()
                    .header(header::CONTENT_TYPE, "text/html")
                    .body(Body::from_stream(stream))
                    .unwrap()
            }),
        )
        .route(
            "/big",
            get(move || async move {
                let stream = futures_util::stream::iter(
                    (0..big / 1024).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'a'; 1024]))),
                );
                Response::builder()
                    .header(header::CONTENT_TYPE, "text/plain")
                    .body(Body::from_stream(stream))
                    .unwrap()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_slow_body_hits_the_timeout() {
    let base = streaming_server(Duration::from_millis(100), 0).await;
    let f = DirectFetch::new(page_client_with(|o| o.attempts = 2), None);
    let log = Log::default();
    let started = Instant::now();
    let e = f
        .fetch(&format!("{base}/slow"), &log.sink())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("gave up after 2 attempts: timed out after 0.6 s"),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(log.text().contains("timed out"), "{}", log.text());
}

#[tokio::test]
async fn oversized_pages_are_refused_while_streaming() {
    let base = streaming_server(Duration::ZERO, 64 * 1024).await;
    let f = DirectFetch::new(page_client_with(|o| o.max_body_bytes = 16 * 1024), None);
    let e = f
        .fetch(&format!("{base}/big"), &Log::default().sink())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than the 16384-byte limit"), "{e}");

    // An announced Content-Length over the cap is refused before the body is read.
    let server = MockServer::start().await;
    Mock::given(path("/huge"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(vec![b'a'; 40_000], "text/html"))
        .mount(&server)
        .await;
    let e = f
        .fetch(&format!("{}/huge", server.uri()), &Log::default().sink())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than the 16384-byte limit"), "{e}");
}

#[tokio::test]
async fn pdfs_and_images_are_refused_and_404_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(path("/paper.pdf"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(b"%PDF-1.7".to_vec(), "application/pdf"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/logo.png"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(vec![0x89, b'P', b'N', b'G'], "image/png"),
        )
        .mount(&server)
        .await;
    let f = DirectFetch::new(page_client(), None);
    let sink = Log::default().sink();
    let e = f
        .fetch(&format!("{}/paper.pdf", server.uri()), &sink)
        .await
        .unwrap_err()
        .to_string();
    // A PDF is read now; this one is only its magic, so it fails as a PDF, with one line.
    assert!(e.starts_with("direct: ") && e.contains("PDF"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    let e = f
        .fetch(&format!("{}/logo.png", server.uri()), &sink)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("image/png"), "{e}");
    let e = f
        .fetch(&format!("{}/gone", server.uri()), &sink)
        .await
        .unwrap_err();
    assert!(matches!(e, ResearchError::NotFound { .. }), "{e:?}");
    let e = f
        .fetch("ftp://example.com/x", &sink)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not an http(s) address"), "{e}");
}

#[tokio::test]
async fn invalid_utf8_is_decoded_lossily() {
    let server = MockServer::start().await;
    let mut body = b"<html><head><title>Caf".to_vec();
    body.push(0xE9); // Latin-1 'é' in a page served as UTF-8
    body.extend_from_slice(b"</title></head><body><article><h1>Menu</h1><p>Espresso and ");
    body.push(0xFF);
    body.extend_from_slice(b" croissants are served all day in the caf\xE9 on the corner, which opened in 1921 and still uses the original counter.</p></article></body></html>");
    Mock::given(path("/cafe"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/html; charset=utf-8"))
        .mount(&server)
        .await;
    let page = DirectFetch::new(page_client(), None)
        .fetch(&format!("{}/cafe", server.uri()), &Log::default().sink())
        .await
        .unwrap();
    assert!(
        page.content.contains("Espresso and \u{FFFD} croissants"),
        "{}",
        page.content
    );
}

#[tokio::test]
async fn direct_fetch_keeps_the_article_and_drops_the_chrome() {
    let html = std::fs::read_to_string(fixtures().join("news-article.html")).unwrap();
    let server = MockServer::start().await;
    Mock::given(path("/story"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(html.into_bytes(), "text/html; charset=utf-8"),
        )
        .mount(&server)
        .await;
    let url = format!("{}/story", server.uri());
    let page = DirectFetch::new(page_client(), None)
        .fetch(&url, &Log::default().sink())
        .await
        .unwrap();
    assert_eq!(page.url, url);
    assert!(page.title.contains("ZeRO"), "{}", page.title);
    assert!(
        page.content
            .contains("Stage one partitions the optimizer state"),
        "{}",
        page.content
    );
    for chrome in [
        "cookies",
        "Advertisement",
        "Podcasts",
        "First!",
        "All rights reserved",
        "trackPageView",
        "Try CloudGPU",
    ] {
        assert!(
            !page.content.contains(chrome),
            "{chrome} leaked:\n{}",
            page.content
        );
    }
}

#[tokio::test]
async fn the_unlocker_fetches_through_the_zone() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/request"))
        .and(has_header("authorization", format!("Bearer {KEY}").as_str()))
        .and(body_partial_json(serde_json::json!({"zone": "unlocker", "url": "https://example.com/a", "format": "raw"})))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            std::fs::read(fixtures().join("blog-post.html")).unwrap(),
            "text/html",
        ))
        .mount(&server)
        .await;
    let f =
        UnlockerFetch::new(client(), &server.uri(), KEY.into(), "unlocker".into(), None).unwrap();
    let log = Log::default();
    let page = f.fetch("https://example.com/a", &log.sink()).await.unwrap();
    assert_eq!(page.url, "https://example.com/a");
    assert!(
        page.content
            .contains("Gradient checkpointing is the oldest trick"),
        "{}",
        page.content
    );
    assert!(
        !page.content.contains("Proudly powered"),
        "{}",
        page.content
    );
    assert!(!log.text().contains(KEY));
}

/// Every provider against servers that echo the key back in errors, headers and bodies: the key
/// appears in no log line and no error message.
#[tokio::test]
async fn the_key_never_reaches_logs_or_errors() {
    let server = MockServer::start().await;
    let echo = format!("bad credentials: {KEY} (token={KEY})");
    Mock::given(path("/res/v1/web/search"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(serde_json::json!({"error": {"detail": echo}})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/request"))
        .respond_with(ResponseTemplate::new(403).set_body_string(echo.clone()))
        .mount(&server)
        .await;
    let c = client();
    let log = Log::default();
    let mut errors = Vec::new();
    let brave = BraveSearch::new(c.clone(), &server.uri(), KEY.into(), None).unwrap();
    errors.push(
        brave
            .search("q", 3, &log.sink())
            .await
            .unwrap_err()
            .to_string(),
    );
    let bd = BrightDataSearch::new(c.clone(), &server.uri(), KEY.into(), "z".into(), None).unwrap();
    errors.push(
        bd.search("q", 3, &log.sink())
            .await
            .unwrap_err()
            .to_string(),
    );
    let un = UnlockerFetch::new(c, &server.uri(), KEY.into(), "z".into(), None).unwrap();
    errors.push(
        un.fetch("https://example.com/?api_key=abc", &log.sink())
            .await
            .unwrap_err()
            .to_string(),
    );
    let direct = DirectFetch::new(page_client(), None);
    errors.push(
        direct
            .fetch(
                &format!("{}/nothing?token={KEY}", server.uri()),
                &log.sink(),
            )
            .await
            .unwrap_err()
            .to_string(),
    );
    let everything = format!("{}\n{}", log.text(), errors.join("\n"));
    assert!(everything.contains("[redacted]"), "{everything}");
    assert!(!everything.contains(KEY), "{everything}");
    assert!(!everything.contains("abc"), "{everything}");
}

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract")
}

/// The chosen extractor on the evaluation pages: high token F1, and no chrome reaching the writer.
#[test]
fn extraction_keeps_main_text_on_the_evaluation_set() {
    let mut names: Vec<_> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    names.sort();
    assert!(names.len() >= 10);
    let mut total = 0.0;
    for p in &names {
        let html = std::fs::read_to_string(p).unwrap();
        let expected = std::fs::read_to_string(p.with_extension("expected.txt")).unwrap();
        let page = extract_page(&html, Some("https://example.com/page")).unwrap();
        let (_, _, f1) = token_f1(&expected, &markdown_to_text(&page.content));
        assert!(f1 >= 0.65, "{}: F1 {f1:.3}\n{}", p.display(), page.content);
        total += f1;
        for chrome in [
            "cookie",
            "Advertisement",
            "ADVERTISEMENT",
            "©",
            "Subscribe",
            "Sign in",
            "Sign up",
            "Privacy",
            "googletag",
            "dataLayer",
            "window.",
            "Follow",
        ] {
            assert!(
                !page.content.contains(chrome),
                "{}: {chrome:?} leaked:\n{}",
                p.display(),
                page.content
            );
        }
    }
    let mean = total / names.len() as f64;
    assert!(mean >= 0.93, "mean F1 {mean:.3}");
}

/// A page served in a legacy encoding reaches the writer as the text it is: the server's
/// charset, else the page's `<meta>`, decodes it (it came out as U+FFFD replacement marks).
#[tokio::test]
async fn pages_in_other_encodings_are_decoded_by_their_charset() {
    // "Привет, мир: это страница о тензорных ядрах." in Windows-1251.
    let text = "Привет, мир: это страница о тензорных ядрах и о том, как они умножают матрицы.";
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    let page = |head: &str| {
        [
            format!("<html><head>{head}<title>T</title></head><body><article><p>").into_bytes(),
            cp1251.to_vec(),
            b"</p></article></body></html>".to_vec(),
        ]
        .concat()
    };
    let server = MockServer::start().await;
    Mock::given(path("/header"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(page(""), "text/html; charset=windows-1251"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/meta"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(page("<meta charset=\"windows-1251\">"), "text/html"),
        )
        .mount(&server)
        .await;
    let f = DirectFetch::new(page_client_with(|_| {}), None);
    for route in ["/header", "/meta"] {
        let got = f
            .fetch(&format!("{}{route}", server.uri()), &Log::default().sink())
            .await
            .unwrap();
        assert!(got.content.contains(text), "{route}: {}", got.content);
    }
}

/// A plan's named source ("Scrape DeepSpeed GitHub docs") as the query each web provider sends.
#[tokio::test]
async fn a_named_source_is_a_site_restricted_query_for_brave_and_bright_data() {
    let plan = expanse::plan::Plan::parse(
        "# P\n\n### PART 1: Create t/zero.md\n\n- [ ] PART 1: Create t/zero.md\n- [ ] Search: \"zero stages\"\n- [ ] Scrape DeepSpeed GitHub docs\n",
    );
    let named = expanse::runner::planned_searches(plan.part(1).unwrap())
        .into_iter()
        .find(|s| s.named)
        .unwrap()
        .query;
    assert!(named.starts_with("site:github.com "), "{named}");

    let server = MockServer::start().await;
    Mock::given(path("/res/v1/web/search"))
        .and(query_param("q", named.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(brave_json()))
        .mount(&server)
        .await;
    let s = BraveSearch::new(client(), &server.uri(), KEY.into(), None).unwrap();
    assert_eq!(
        s.search(&named, 5, &Log::default().sink())
            .await
            .unwrap()
            .len(),
        2
    );

    let server = MockServer::start().await;
    Mock::given(path("/request"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"organic": []})))
        .mount(&server)
        .await;
    let s = BrightDataSearch::new(client(), &server.uri(), KEY.into(), "z".into(), None).unwrap();
    s.search(&named, 5, &Log::default().sink()).await.unwrap();
    let sent: serde_json::Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    let url = reqwest::Url::parse(sent["url"].as_str().unwrap()).unwrap();
    let q = url
        .query_pairs()
        .find(|(k, _)| k == "q")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(q, named, "Google is asked the site: query as written");
}
