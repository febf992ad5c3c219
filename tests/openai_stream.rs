//! The streamed OpenAI-compatible writer against a local axum server that streams, stalls and
//! cuts its answers; and the SSE reader fed a recorded stream split at arbitrary points.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use expanse::knowledge::Existing;
use expanse::plan::Plan;
use expanse::research::http::sse::{self, Completion};
use expanse::research::http::{HttpClient, HttpOptions, OpenAiWriter, Redactor, WriterOptions};
use expanse::research::{Page, SectionRequest, Source, Usage, Writer};
use proptest::prelude::*;

const KEY: &str = "sk-test-SECRET-4242424242";

/// One scripted answer: status, content type, and body chunks with a delay before each;
/// `cut` ends the body with a transport error instead of a clean end.
#[derive(Clone)]
struct Answer {
    status: u16,
    content_type: &'static str,
    chunks: Vec<(u64, String)>,
    cut: bool,
}

impl Answer {
    fn sse(chunks: &[&str]) -> Answer {
        Answer {
            status: 200,
            content_type: "text/event-stream",
            chunks: chunks.iter().map(|c| (5, c.to_string())).collect(),
            cut: false,
        }
    }
}

#[derive(Clone)]
struct Script {
    answers: Arc<Vec<Answer>>,
    served: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<(HeaderMap, serde_json::Value)>>>,
}

async fn completions(State(s): State<Script>, headers: HeaderMap, body: Bytes) -> Response {
    let n = s.served.fetch_add(1, Ordering::SeqCst);
    let json = serde_json::from_slice(&body).unwrap_or_default();
    s.bodies.lock().unwrap().push((headers, json));
    let a = s.answers[n.min(s.answers.len() - 1)].clone();
    let cut = a.cut;
    let chunks = a.chunks.clone();
    let stream = futures_util::stream::unfold(0usize, move |i| {
        let chunks = chunks.clone();
        async move {
            if i < chunks.len() {
                tokio::time::sleep(Duration::from_millis(chunks[i].0)).await;
                Some((
                    Ok::<Bytes, std::io::Error>(Bytes::from(chunks[i].1.clone())),
                    i + 1,
                ))
            } else if i == chunks.len() && cut {
                Some((Err(std::io::Error::other("connection reset")), i + 1))
            } else {
                None
            }
        }
    });
    Response::builder()
        .status(StatusCode::from_u16(a.status).unwrap())
        .header(header::CONTENT_TYPE, a.content_type)
        .body(Body::from_stream(stream))
        .unwrap()
}

struct Server {
    base: String,
    script: Script,
}

async fn serve(answers: Vec<Answer>) -> Server {
    let script = Script {
        answers: Arc::new(answers),
        served: Arc::new(AtomicUsize::new(0)),
        bodies: Arc::new(Mutex::new(Vec::new())),
    };
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        base: format!("http://{addr}/v1"),
        script,
    }
}

fn writer_options(base: &str) -> WriterOptions {
    let mut w = WriterOptions::new(base, "test-model", Some(KEY.to_string()));
    w.idle_timeout = Duration::from_millis(800);
    w
}

fn writer_with(w: WriterOptions) -> OpenAiWriter {
    let options = HttpOptions {
        timeout: Duration::from_secs(5),
        attempts: 2,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        ..HttpOptions::default()
    };
    let client = Arc::new(HttpClient::new(options, Redactor::new([KEY.to_string()])).unwrap());
    OpenAiWriter::new(client, w, None).unwrap()
}

fn writer(base: &str) -> OpenAiWriter {
    writer_with(writer_options(base))
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
        feedback: Some("cite more".into()),
    }
}

struct Captured {
    logs: Arc<Mutex<Vec<String>>>,
    deltas: Arc<Mutex<Vec<String>>>,
}

async fn run(w: &OpenAiWriter) -> (Result<expanse::research::Written, String>, Captured) {
    let logs = Arc::new(Mutex::new(Vec::new()));
    let deltas = Arc::new(Mutex::new(Vec::new()));
    let (l, d) = (logs.clone(), deltas.clone());
    let log = move |s: &str| l.lock().unwrap().push(s.to_string());
    let delta = move |s: &str| d.lock().unwrap().push(s.to_string());
    let r = w
        .write_section(&request(), &log, &delta)
        .await
        .map_err(|e| e.to_string());
    (r, Captured { logs, deltas })
}

fn chunk(content: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "test-model",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}], "usage": null
    })
    .to_string()
}

/// A realistic stream: role-only first chunk, `content: null`, keep-alives in both styles, CRLF
/// line ends, a finish chunk, the usage chunk with empty choices, and `[DONE]` with no blank line after.
fn recorded() -> String {
    let role = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{"role":"assistant","content":null},"finish_reason":null}],"usage":null}"#;
    let finish = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}"#;
    let usage = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":12,"total_tokens":132}}"#;
    format!(
        ": ping\r\n\r\ndata: {role}\r\n\r\ndata: {}\r\n\r\ndata: : keepalive\r\n\r\ndata: {}\r\n\r\ndata: {}\r\n\r\ndata: {}\r\n\r\ndata: {finish}\r\n\r\ndata: {usage}\r\n\r\ndata: [DONE]",
        chunk("<think>Plan: overview"),
        chunk(" first.</think>\n\n## Overview\n\nZeRO partitions"),
        chunk(" optimizer state [1].\n"),
        chunk("It saves memory [1].\n"),
    )
}

#[tokio::test]
async fn happy_stream_gives_body_usage_and_deltas() {
    let text = recorded();
    // Split the recording into a few network chunks, one boundary inside a CRLF.
    let cuts = [7, 40, 200, text.find("\r\n").unwrap() + 1, text.len() - 3];
    let mut cuts = cuts.to_vec();
    cuts.sort();
    let mut pieces = Vec::new();
    let mut at = 0;
    for c in cuts {
        pieces.push(&text[at..c]);
        at = c;
    }
    pieces.push(&text[at..]);
    let server = serve(vec![Answer::sse(&pieces)]).await;
    let (r, cap) = run(&writer(&server.base)).await;
    let w = r.unwrap();
    assert_eq!(
        w.body, "ZeRO partitions optimizer state [1].\nIt saves memory [1].\n",
        "the model's own heading goes: expanse writes the planned one"
    );
    assert_eq!(
        w.usage,
        Some(Usage {
            prompt_tokens: 120,
            completion_tokens: 12,
            estimated: false,
        }),
        "the server's own figures, exactly"
    );
    let streamed: String = cap.deltas.lock().unwrap().concat();
    assert_eq!(
        streamed,
        format!("## Overview\n\n{}", w.body),
        "deltas are the answer, think-stripped"
    );
    let logs = cap.logs.lock().unwrap().join("\n");
    assert!(logs.contains("POST 127.0.0.1:"), "{logs}");
    assert!(
        logs.contains("/v1/chat/completions → 200 streamed"),
        "{logs}"
    );

    let bodies = server.script.bodies.lock().unwrap();
    let (headers, json) = &bodies[0];
    assert_eq!(json["stream"], true);
    assert_eq!(json["stream_options"]["include_usage"], true);
    assert_eq!(json["model"], "test-model");
    let user = json["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("[1] ZeRO — https://example.com/zero") && user.contains("cite more"));
    assert_eq!(
        headers.get("authorization").unwrap(),
        &format!("Bearer {KEY}")
    );
    assert!(!logs.contains(KEY));
}

#[tokio::test]
async fn a_cut_stream_is_retried_once_from_scratch() {
    let mut cut = Answer::sse(&[&format!(
        "data: {}\n\n",
        chunk("## Overview\n\nHalf a sent")
    )]);
    cut.cut = true;
    let whole = Answer::sse(&[&format!(
        "data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
        chunk("## Overview\n\nA whole draft [1].\n"),
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#
    )]);
    let server = serve(vec![cut, whole]).await;
    let (r, cap) = run(&writer(&server.base)).await;
    let w = r.unwrap();
    assert_eq!(w.body, "A whole draft [1].\n");
    assert_eq!(server.script.served.load(Ordering::SeqCst), 2);
    let logs = cap.logs.lock().unwrap().join("\n");
    assert!(logs.contains("sent again from scratch"), "{logs}");
}

#[tokio::test]
async fn a_stream_ending_without_done_or_finish_is_never_a_draft() {
    // A clean end of the body, but neither [DONE] nor a finish reason: cut, twice.
    let partial = Answer::sse(&[&format!("data: {}\n\n", chunk("## Overview\n\nTrunc"))]);
    let server = serve(vec![partial]).await;
    let (r, _) = run(&writer(&server.base)).await;
    let e = r.unwrap_err();
    assert!(
        e.contains("cut off twice") && e.contains("nothing of this section was kept"),
        "{e}"
    );
    assert_eq!(server.script.served.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_stalled_stream_hits_the_idle_timeout() {
    let mut stalled = Answer::sse(&[&format!("data: {}\n\n", chunk("## Over"))]);
    stalled.chunks.push((3_000, "data: [DONE]\n\n".into()));
    let server = serve(vec![stalled]).await;
    let (r, _) = run(&writer(&server.base)).await;
    let e = r.unwrap_err();
    assert!(e.contains("no data from the model server"), "{e}");
}

#[tokio::test]
async fn errors_mid_stream_and_error_bodies_are_clear() {
    let mid = Answer::sse(&[
        &format!("data: {}\n\n", chunk("## Overview\n\n")),
        "data: {\"error\":{\"message\":\"The server had an error while processing your request\",\"type\":\"server_error\"}}\n\n",
    ]);
    let server = serve(vec![mid]).await;
    let e = run(&writer(&server.base)).await.0.unwrap_err();
    assert!(
        e.contains("The server had an error while processing"),
        "{e}"
    );

    let vllm = Answer {
        status: 400,
        content_type: "application/json",
        chunks: vec![(0, r#"{"object":"error","message":"This model's maximum context length is 8192 tokens","type":"BadRequestError","param":null,"code":400}"#.into())],
        cut: false,
    };
    let server = serve(vec![vllm]).await;
    let e = run(&writer(&server.base)).await.0.unwrap_err();
    assert!(
        e.contains("HTTP 400") && e.contains("maximum context length is 8192"),
        "{e}"
    );

    let unauthorized = Answer {
        status: 401,
        content_type: "application/json",
        chunks: vec![(
            0,
            format!(
                r#"{{"error":{{"message":"Incorrect API key provided: {KEY}","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
            ),
        )],
        cut: false,
    };
    let server = serve(vec![unauthorized]).await;
    let (r, cap) = run(&writer(&server.base)).await;
    let e = r.unwrap_err();
    assert!(
        e.contains("HTTP 401") && e.contains("Incorrect API key provided"),
        "{e}"
    );
    assert!(!e.contains(KEY), "{e}");
    assert!(!cap.logs.lock().unwrap().concat().contains(KEY));

    let flat_in_stream = Answer::sse(&[
        "data: {\"object\":\"error\",\"message\":\"out of memory\",\"code\":500}\n\n",
    ]);
    let server = serve(vec![flat_in_stream]).await;
    let e = run(&writer(&server.base)).await.0.unwrap_err();
    assert!(e.contains("out of memory"), "{e}");
}

#[tokio::test]
async fn only_reasoning_or_a_token_limit_is_an_error() {
    let thinking = Answer::sse(&[&format!(
        "data: {}\n\ndata: [DONE]\n\n",
        chunk("<think>I will never finish thinking")
    )]);
    let server = serve(vec![thinking]).await;
    let e = run(&writer(&server.base)).await.0.unwrap_err();
    assert!(e.contains("only reasoning"), "{e}");

    let length = Answer::sse(&[&format!(
        "data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
        chunk("## Overview\n\nA long"),
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#
    )]);
    let server = serve(vec![length]).await;
    let e = run(&writer(&server.base)).await.0.unwrap_err();
    assert!(e.contains("finish_reason = length"), "{e}");
}

#[tokio::test]
async fn a_server_that_does_not_stream_is_still_read() {
    let plain = Answer {
        status: 200,
        content_type: "application/json",
        chunks: vec![(
            0,
            serde_json::json!({
                "id": "x", "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "## Overview\n\nNot streamed [1].\n"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 4}
            })
            .to_string(),
        )],
        cut: false,
    };
    let server = serve(vec![plain]).await;
    let w = run(&writer(&server.base)).await.0.unwrap();
    assert_eq!(w.body, "Not streamed [1].\n");
    assert_eq!(w.usage.unwrap().completion_tokens, 4);
}

fn read_split(text: &str, cuts: &[usize]) -> (Result<Completion, String>, String) {
    let bytes = text.as_bytes();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort();
    points.dedup();
    let mut pieces = Vec::new();
    let mut at = 0;
    for p in points {
        pieces.push(bytes[at..p].to_vec());
        at = p;
    }
    pieces.push(bytes[at..].to_vec());
    let stream = futures_util::stream::iter(pieces.into_iter().map(Ok::<_, Infallible>));
    let mut filter = sse::ThinkFilter::new();
    let mut shown = String::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let limits = sse::StreamLimits::default();
    let result = rt.block_on(sse::read_stream(stream, &limits, &mut |piece| {
        shown.push_str(&filter.push(piece))
    }));
    shown.push_str(&filter.finish());
    (result.map_err(|e| e.to_string()), shown)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Any split of the bytes (even inside a UTF-8 character, a CRLF or a `<think>` tag) reads the same.
    #[test]
    fn any_chunking_reads_the_same(cuts in proptest::collection::vec(0usize..4096, 0..12)) {
        let text = recorded().replace("saves memory", "saves mémoire ✓");
        let (whole, shown_whole) = read_split(&text, &[]);
        let (split, shown_split) = read_split(&text, &cuts);
        let whole = whole.unwrap();
        let split = split.unwrap();
        prop_assert_eq!(&whole.raw, &split.raw);
        prop_assert_eq!(&whole.usage, &split.usage);
        prop_assert_eq!(&whole.finish_reason, &split.finish_reason);
        prop_assert!(whole.done && split.done);
        prop_assert_eq!(&shown_whole, &shown_split);
        prop_assert_eq!(sse::strip_think(&split.raw), shown_split);
    }
}

/// What a lazy model server has done: requests served and body bytes the client pulled.
#[derive(Clone, Default)]
struct Pulled {
    requests: Arc<AtomicUsize>,
    bytes: Arc<AtomicUsize>,
}

type MakeBody = fn() -> futures_util::stream::BoxStream<'static, Bytes>;

/// A model server whose every answer is `status`, `content_type` and the (possibly endless)
/// body `make` produces lazily: a chunk is made only when the connection takes it, so the
/// byte count tells a refused body from one read whole.
async fn serve_lazy(status: u16, content_type: &'static str, make: MakeBody) -> (String, Pulled) {
    let pulled = Pulled::default();
    let p = pulled.clone();
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let p = p.clone();
            async move {
                p.requests.fetch_add(1, Ordering::SeqCst);
                let counted = make().map(move |b| {
                    p.bytes.fetch_add(b.len(), Ordering::SeqCst);
                    Ok::<Bytes, std::io::Error>(b)
                });
                Response::builder()
                    .status(StatusCode::from_u16(status).unwrap())
                    .header(header::CONTENT_TYPE, content_type)
                    .body(Body::from_stream(counted))
                    .unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/v1"), pulled)
}

use futures_util::StreamExt as _;

/// `head`, then 64 KiB chunks of `a` up to 400 MB.
fn huge(head: &'static str) -> futures_util::stream::BoxStream<'static, Bytes> {
    let fill = Bytes::from(vec![b'a'; 64 * 1024]);
    futures_util::stream::once(async move { Bytes::from_static(head.as_bytes()) })
        .chain(futures_util::stream::iter(std::iter::repeat_n(
            fill,
            400 * 1024 * 1024 / (64 * 1024),
        )))
        .boxed()
}

/// Far less than the 400 MB offered: what the caps let through plus the sockets' buffers.
const READ_AT_MOST: usize = 48 * 1024 * 1024;

#[tokio::test]
async fn a_400_mb_json_answer_is_refused_without_being_read() {
    let (base, pulled) = serve_lazy(200, "application/json", || {
        huge(r#"{"choices":[{"index":0,"message":{"content":""#)
    })
    .await;
    let e = run(&writer(&base)).await.0.unwrap_err();
    assert!(
        e.contains("limit on a JSON answer (twice [model] max_answer_bytes)"),
        "{e}"
    );
    let read = pulled.bytes.load(Ordering::SeqCst);
    eprintln!("{read} bytes of the 400 MB body were pulled from the server");
    assert!(read < READ_AT_MOST, "{read} bytes pulled");
    assert_eq!(pulled.requests.load(Ordering::SeqCst), 1, "not retried");
}

#[tokio::test]
async fn a_400_mb_error_body_is_cut_short() {
    let (base, pulled) = serve_lazy(500, "application/json", || {
        huge(r#"{"error":{"message":"overloaded "#)
    })
    .await;
    let e = run(&writer(&base)).await.0.unwrap_err();
    assert!(e.contains("HTTP 500"), "{e}");
    let read = pulled.bytes.load(Ordering::SeqCst);
    eprintln!("{read} bytes of the 400 MB body were pulled from the server");
    assert!(read < READ_AT_MOST, "{read} bytes pulled");
}

#[tokio::test]
async fn an_event_that_never_ends_stops_at_the_event_cap() {
    let (base, pulled) = serve_lazy(200, "text/event-stream", || {
        huge(r#"data: {"choices":[{"index":0,"delta":{"content":""#)
    })
    .await;
    let e = run(&writer(&base)).await.0.unwrap_err();
    assert!(
        e.contains("the 1048576-byte limit on one event ([model] max_event_bytes)"),
        "{e}"
    );
    let read = pulled.bytes.load(Ordering::SeqCst);
    eprintln!("{read} bytes of the 400 MB body were pulled from the server");
    assert!(read < READ_AT_MOST, "{read} bytes pulled");
    assert_eq!(pulled.requests.load(Ordering::SeqCst), 1, "not retried");
}

fn small_chunks(n: usize) -> futures_util::stream::BoxStream<'static, Bytes> {
    futures_util::stream::iter((0..n).map(|i| {
        Bytes::from(format!(
            "data: {}\n\n",
            chunk(&format!("word{:05} text ", i % 100_000))
        ))
    }))
    .boxed()
}

fn finish() -> String {
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
        .to_string()
}

#[tokio::test]
async fn a_long_answer_is_capped_by_its_text_not_its_raw_bytes() {
    // 30,000 chunks, ~450 KB of text in ~6 MB of SSE: more raw bytes than the 5 MiB page cap.
    let (base, pulled) = serve_lazy(200, "text/event-stream", || {
        small_chunks(30_000)
            .chain(futures_util::stream::once(async { Bytes::from(finish()) }))
            .boxed()
    })
    .await;
    let w = run(&writer(&base)).await.0.unwrap();
    assert_eq!(w.body.matches("word").count(), 30_000);
    assert!(pulled.bytes.load(Ordering::SeqCst) > 5 * 1024 * 1024);

    let mut small = writer_options(&base);
    small.max_answer_bytes = 100_000;
    let e = run(&writer_with(small)).await.0.unwrap_err();
    assert!(
        e.contains("the 100000-byte limit on the answer's text ([model] max_answer_bytes)"),
        "{e}"
    );
    let mut raw = writer_options(&base);
    raw.max_stream_bytes = 256 * 1024;
    let e = run(&writer_with(raw)).await.0.unwrap_err();
    assert!(
        e.contains("the 262144-byte limit on the whole stream ([model] max_stream_bytes)"),
        "{e}"
    );
}

fn every(ms: u64, item: &'static str) -> futures_util::stream::BoxStream<'static, Bytes> {
    futures_util::stream::unfold((), move |()| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Some((Bytes::from_static(item.as_bytes()), ()))
    })
    .boxed()
}

#[tokio::test]
async fn keep_alive_floods_end_with_a_clear_message() {
    let (base, pulled) = serve_lazy(200, "text/event-stream", || {
        every(5, "data: : keepalive\n\n")
    })
    .await;
    let e = run(&writer(&base)).await.0.unwrap_err();
    assert!(
        e.contains("sent only keep-alives") && e.contains("no text for 1 s"),
        "{e}"
    );
    assert_eq!(
        pulled.requests.load(Ordering::SeqCst),
        2,
        "retried once, then given up"
    );

    let (base, _) = serve_lazy(200, "text/event-stream", || every(5, ": ping\n\n")).await;
    let e = run(&writer(&base)).await.0.unwrap_err();
    assert!(e.contains("no data from the model server for 1 s"), "{e}");
}

#[tokio::test]
async fn an_answer_that_never_finishes_meets_the_deadline() {
    fn endless() -> futures_util::stream::BoxStream<'static, Bytes> {
        futures_util::stream::unfold(0u64, |i| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Some((
                Bytes::from(format!("data: {}\n\n", chunk(&format!("w{i} ")))),
                i + 1,
            ))
        })
        .boxed()
    }
    let (base, pulled) = serve_lazy(200, "text/event-stream", endless).await;
    let mut o = writer_options(&base);
    o.timeout = Duration::from_secs(2);
    let e = run(&writer_with(o)).await.0.unwrap_err();
    assert!(
        e.contains("not complete after 2 s") && e.contains("[model] timeout_secs"),
        "{e}"
    );
    assert_eq!(pulled.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_echoed_key_is_redacted_in_every_form_before_it_is_shown() {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let b64 = STANDARD.encode(KEY);
    let b64_bearer = STANDARD.encode(format!("Bearer {KEY}"));
    let url_safe = URL_SAFE_NO_PAD.encode(KEY);
    let lower = KEY.to_lowercase();
    let text = format!(
        "## Overview\n\nThe key is {KEY}, lower {lower}, upper {}, base64 {b64}, header {b64_bearer}, url {url_safe} [1].\n",
        KEY.to_uppercase()
    );
    // Split into 7-byte pieces, so every form straddles a chunk boundary somewhere.
    let mut chunks: Vec<String> = text
        .as_bytes()
        .chunks(7)
        .map(|c| format!("data: {}\n\n", chunk(std::str::from_utf8(c).unwrap())))
        .collect();
    chunks.push(finish());
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let server = serve(vec![Answer::sse(&refs)]).await;
    let (r, cap) = run(&writer(&server.base)).await;
    let w = r.unwrap();
    let streamed = cap.deltas.lock().unwrap().concat();
    assert_eq!(streamed, format!("## Overview\n\n{}", w.body));
    for shown in [&streamed, &w.body] {
        for form in [
            KEY,
            lower.as_str(),
            &KEY.to_uppercase(),
            &b64,
            &url_safe,
            &b64[..20],
            &b64_bearer[12..],
        ] {
            assert!(!shown.contains(form), "{form} in {shown}");
        }
        assert!(shown.matches("[redacted]").count() >= 6, "{shown}");
        assert!(
            shown.contains("The key is [redacted], lower [redacted]"),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn without_server_usage_tokens_are_estimated_and_marked() {
    // " hello" is one token in o200k_base: the true completion count is 300.
    let mut chunks: Vec<String> = (0..30)
        .map(|_| format!("data: {}\n\n", chunk(&" hello".repeat(10))))
        .collect();
    chunks.push(finish());
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let server = serve(vec![Answer::sse(&refs)]).await;
    let (r, cap) = run(&writer(&server.base)).await;
    let u = r.unwrap().usage.expect("usage");
    assert!(u.estimated);
    assert!(
        (285..=315).contains(&u.completion_tokens),
        "{} completion tokens for 300 words (1,800 characters)",
        u.completion_tokens
    );
    let bodies = server.script.bodies.lock().unwrap();
    let chars: usize = bodies[0].1["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().len())
        .sum();
    let prompt = u.prompt_tokens as usize;
    assert!(
        prompt > chars / 8 && prompt < chars / 2,
        "{prompt} prompt tokens for {chars} characters"
    );
    let logs = cap.logs.lock().unwrap().join("\n");
    assert!(
        logs.contains("the server sent no usage; estimated with the o200k_base tokenizer")
            && logs.contains("completion tokens (estimated)"),
        "{logs}"
    );
}
