//! The shared HTTP layer: one pooled client with timeouts, retries honouring Retry-After,
//! per-host concurrency, per-provider rate limits, streamed body caps and redacted request logs.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, Request, Response, StatusCode, Url};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::redact::Redactor;
use crate::research::LogSink;

/// How the HTTP layer behaves; every limit is configurable so tests can run in milliseconds.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Total time for one attempt, from sending to the last body byte.
    pub timeout: Duration,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Largest body accepted, counted while it streams in (after decompression).
    pub max_body_bytes: usize,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Attempts per request, the first included.
    pub attempts: usize,
    /// First backoff delay.
    pub min_backoff: Duration,
    /// Largest backoff delay.
    pub max_backoff: Duration,
    /// Longest Retry-After honoured; a server asking for more makes the request fail at once.
    pub max_retry_after: Duration,
    /// Requests in flight to one host at once.
    pub per_host_concurrency: usize,
    /// The User-Agent header.
    pub user_agent: String,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 5 * 1024 * 1024,
            max_redirects: 5,
            attempts: 4,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            per_host_concurrency: 6,
            user_agent: format!(
                "Mozilla/5.0 (compatible; expanse/{}; knowledge research)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

/// Why an HTTP request failed. Messages carry no secrets: the caller redacts them anyway.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum HttpError {
    /// The server answered with a non-success status.
    #[error("HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Status {
        /// The status code.
        status: u16,
        /// What the body said, shortened.
        message: String,
        /// How long the server asked to wait, if it did.
        retry_after: Option<Duration>,
    },
    /// No complete answer within the time limit.
    #[error("timed out after {:.1} s", .0.as_secs_f64())]
    Timeout(Duration),
    /// The connection could not be made.
    #[error("could not connect: {0}")]
    Connect(String),
    /// Any other transport failure (reset connection, bad TLS, decoding).
    #[error("{0}")]
    Transport(String),
    /// The body grew past the size cap.
    #[error("the response is larger than the {limit}-byte limit (refused while downloading)")]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The page is of a type expanse does not read.
    #[error(
        "refused: {0} is not a page expanse can read (HTML, XHTML, plain text, markdown or PDF)"
    )]
    ContentType(String),
    /// The server asked for a wait longer than expanse is willing to make.
    #[error("HTTP {status}: the server asks to retry after {:.0} s, more than the {:.0} s expanse waits", .asked.as_secs_f64(), .cap.as_secs_f64())]
    RetryTooLate {
        /// The status code.
        status: u16,
        /// What the server asked for.
        asked: Duration,
        /// The configured cap.
        cap: Duration,
    },
    /// The URL is not usable.
    #[error("invalid URL: {0}")]
    Url(String),
    /// Retries ran out.
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp {
        /// How many attempts were made.
        attempts: usize,
        /// The last failure.
        last: Box<HttpError>,
    },
}

impl HttpError {
    /// Whether trying again could help: timeouts, connection failures and 408, 409, 429, 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            HttpError::Status { status, .. } => {
                matches!(status, 408 | 409 | 429) || (500..=599).contains(status)
            }
            HttpError::Timeout(_) | HttpError::Connect(_) | HttpError::Transport(_) => true,
            _ => false,
        }
    }

    /// The HTTP status behind this error, if there is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } | HttpError::RetryTooLate { status, .. } => {
                Some(*status)
            }
            HttpError::GaveUp { last, .. } => last.status(),
            _ => None,
        }
    }
}

/// A per-provider request rate limit (a GCRA limiter from `governor`).
pub struct RateLimit {
    limiter: governor::DefaultDirectRateLimiter,
}

impl RateLimit {
    /// At most `per_second` requests a second on average (fractions allowed), with a burst of
    /// one second's worth; `None` when `per_second` is not a positive number.
    pub fn per_second(per_second: f64) -> Option<Arc<RateLimit>> {
        if !per_second.is_finite() || per_second <= 0.0 {
            return None;
        }
        // A rate so low its period overflows a Duration is refused like a non-positive one.
        let period = Duration::try_from_secs_f64(1.0 / per_second).ok()?;
        let burst = NonZeroU32::new(per_second.ceil().clamp(1.0, 10_000.0) as u32)?;
        let quota = governor::Quota::with_period(period)?.allow_burst(burst);
        Some(Arc::new(RateLimit {
            limiter: governor::RateLimiter::direct(quota),
        }))
    }

    /// Waits until a request may be sent.
    pub async fn ready(&self) {
        self.limiter.until_ready().await;
    }
}

/// What one provider call passes to the HTTP layer: where log lines go and its rate limit.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    /// The PART's log.
    pub log: &'a LogSink,
    /// The provider's rate limit.
    pub limit: Option<&'a RateLimit>,
}

/// What a request expects back, for checks made before the body is downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Any body (API responses).
    Any,
    /// A readable page: HTML, XHTML, plain text or markdown.
    Page,
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The final status.
    pub status: u16,
    /// The address after redirects.
    pub url: Url,
    /// The Content-Type header, if any.
    pub content_type: Option<String>,
    /// The body bytes (decompressed).
    pub body: Vec<u8>,
}

/// A response whose headers arrived with a success status; its body is still to be read.
pub struct Opened {
    /// The response.
    pub response: Response,
    /// Held while the body streams, so the per-host limit covers it.
    pub permit: OwnedSemaphorePermit,
    /// When the successful attempt started.
    pub started: Instant,
}

/// The one HTTP client of a run, shared by every provider.
pub struct HttpClient {
    inner: reqwest::Client,
    options: HttpOptions,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    redactor: Redactor,
}

impl HttpClient {
    /// A client with these options; `redactor` scrubs every log line and error message.
    pub fn new(options: HttpOptions, redactor: Redactor) -> Result<HttpClient, HttpError> {
        let inner = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .redirect(reqwest::redirect::Policy::limited(options.max_redirects))
            .user_agent(options.user_agent.clone())
            .pool_idle_timeout(Duration::from_secs(30))
            .gzip(true)
            .brotli(true)
            .build()
            .map_err(|e| HttpError::Transport(e.without_url().to_string()))?;
        Ok(HttpClient {
            inner,
            options,
            hosts: Mutex::new(HashMap::new()),
            redactor,
        })
    }

    /// The options in force.
    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// The redactor every message goes through.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// A request builder on the pooled client; finish it with `.build()` and pass it to
    /// [`HttpClient::fetch`] or [`HttpClient::open`].
    pub fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.inner.request(method, url)
    }

    /// Builds `request` and sends it as [`HttpClient::fetch`] does: the one path every
    /// provider's request takes (a request that cannot be built is an [`HttpError::Url`]).
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        call: Call<'_>,
        expect: Expect,
    ) -> Result<Fetched, HttpError> {
        let request = request.build().map_err(|e| HttpError::Url(e.to_string()))?;
        self.fetch(request, call, expect).await
    }

    /// Sends `request` with retries and reads its whole body under the size cap.
    pub async fn fetch(
        &self,
        request: Request,
        call: Call<'_>,
        expect: Expect,
    ) -> Result<Fetched, HttpError> {
        let method = request.method().clone();
        let place = self.redactor.location(request.url());
        self.with_retries(&method, &place, call, || async {
            let (response, _permit, started) = self.attempt(&request, call).await?;
            let status = response.status();
            let url = response.url().clone();
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if expect == Expect::Page {
                check_page_type(content_type.as_deref())?;
            }
            let body = match self.read_capped(response).await {
                Ok(b) => b,
                Err(e) => {
                    self.log_line(call, &method, &place, &e.to_string(), None, started);
                    return Err(e);
                }
            };
            self.log_line(
                call,
                &method,
                &place,
                &status.as_u16().to_string(),
                Some(body.len()),
                started,
            );
            Ok(Fetched {
                status: status.as_u16(),
                url,
                content_type,
                body,
            })
        })
        .await
    }

    /// Sends `request` with retries until a success status arrives, leaving the body unread
    /// (for streamed responses). The caller logs the end with [`HttpClient::log_done`].
    pub async fn open(&self, request: Request, call: Call<'_>) -> Result<Opened, HttpError> {
        let method = request.method().clone();
        let place = self.redactor.location(request.url());
        self.with_retries(&method, &place, call, || async {
            let (response, permit, started) = self.attempt(&request, call).await?;
            Ok(Opened {
                response,
                permit,
                started,
            })
        })
        .await
    }

    /// Logs the end of a request whose body was read by the caller.
    pub fn log_done(
        &self,
        call: Call<'_>,
        method: &Method,
        url: &Url,
        outcome: &str,
        bytes: Option<usize>,
        started: Instant,
    ) {
        let place = self.redactor.location(url);
        self.log_line(call, method, &place, outcome, bytes, started);
    }

    /// Scrubs a message of secrets.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.text(text)
    }

    async fn with_retries<T, F, Fut>(
        &self,
        method: &Method,
        place: &str,
        call: Call<'_>,
        attempt: F,
    ) -> Result<T, HttpError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, HttpError>>,
    {
        let max = self.options.attempts.max(1);
        let tried = AtomicUsize::new(0);
        let cap = self.options.max_retry_after;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.options.min_backoff)
            .with_max_delay(self.options.max_backoff)
            .with_max_times(max - 1)
            .with_jitter();
        let mut attempt = attempt;
        let result = (|| {
            tried.fetch_add(1, Ordering::SeqCst);
            attempt()
        })
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(|e: &HttpError| e.is_retryable() && retry_after(e).is_none_or(|d| d <= cap))
        .adjust(|e: &HttpError, planned: Option<Duration>| {
            // Out of attempts stays out; otherwise the server's own wait wins over ours.
            planned.map(|d| retry_after(e).unwrap_or(d))
        })
        .notify(|e: &HttpError, wait: Duration| {
            let n = tried.load(Ordering::SeqCst);
            let why = if retry_after(e).is_some() {
                " (as the server asked)"
            } else {
                ""
            };
            (call.log)(&self.redactor.text(&format!(
                "{method} {place} → {e}; retry {n}/{} in {:.1} s{why}",
                max - 1,
                wait.as_secs_f64()
            )));
        })
        .await;
        result.map_err(|e| {
            let n = tried.load(Ordering::SeqCst);
            let e = match e {
                HttpError::Status {
                    status,
                    retry_after: Some(asked),
                    ..
                } if asked > cap && e.is_retryable() => {
                    HttpError::RetryTooLate { status, asked, cap }
                }
                e if e.is_retryable() && n > 1 => HttpError::GaveUp {
                    attempts: n,
                    last: Box::new(e),
                },
                e => e,
            };
            redact_error(&self.redactor, e)
        })
    }

    /// One attempt: rate limit, per-host permit, send, and turn a failure status into an error.
    async fn attempt(
        &self,
        request: &Request,
        call: Call<'_>,
    ) -> Result<(Response, OwnedSemaphorePermit, Instant), HttpError> {
        let request = request.try_clone().ok_or_else(|| {
            HttpError::Transport("a streamed request body cannot be retried".into())
        })?;
        let method = request.method().clone();
        let place = self.redactor.location(request.url());
        if let Some(limit) = call.limit {
            limit.ready().await;
        }
        let permit = self.host_permit(request.url()).await?;
        let started = Instant::now();
        let timeout = request.timeout().copied().unwrap_or(self.options.timeout);
        let response = match self.inner.execute(request).await {
            Ok(r) => r,
            Err(e) => {
                let e = transport_error(&e, timeout);
                self.log_line(call, &method, &place, &e.to_string(), None, started);
                return Err(e);
            }
        };
        let status = response.status();
        if status.is_success() {
            return Ok((response, permit, started));
        }
        let wait = retry_after_headers(response.headers());
        let body = self
            .read_limited(response, 64 * 1024)
            .await
            .unwrap_or_default();
        self.log_line(
            call,
            &method,
            &place,
            &status.as_u16().to_string(),
            Some(body.len()),
            started,
        );
        Err(HttpError::Status {
            status: status.as_u16(),
            message: error_message(status, &body),
            retry_after: wait,
        })
    }

    async fn host_permit(&self, url: &Url) -> Result<OwnedSemaphorePermit, HttpError> {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let sem = {
            // Held only to look up or insert; never across an await.
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(key)
                .or_insert_with(|| {
                    Arc::new(Semaphore::new(self.options.per_host_concurrency.max(1)))
                })
                .clone()
        };
        sem.acquire_owned()
            .await
            .map_err(|_| HttpError::Transport("the per-host limiter was closed".into()))
    }

    /// The whole body, refused as soon as it passes the cap (announced or counted).
    async fn read_capped(&self, response: Response) -> Result<Vec<u8>, HttpError> {
        let limit = self.options.max_body_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(HttpError::TooLarge { limit });
        }
        let timeout = self.options.timeout;
        let mut response = response;
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        return Err(HttpError::TooLarge { limit });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) => return Err(transport_error(&e, timeout)),
            }
        }
    }

    /// Up to `limit` bytes of an error body; the rest is dropped unread.
    async fn read_limited(&self, response: Response, limit: usize) -> Result<Vec<u8>, HttpError> {
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(&e, self.options.timeout))?
        {
            let room = limit.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= limit {
                break;
            }
        }
        Ok(body)
    }

    fn log_line(
        &self,
        call: Call<'_>,
        method: &Method,
        place: &str,
        outcome: &str,
        bytes: Option<usize>,
        started: Instant,
    ) {
        let ms = started.elapsed().as_millis();
        let line = match bytes {
            Some(b) => format!("{method} {place} → {outcome}, {}, {ms} ms", human_bytes(b)),
            None => format!("{method} {place} → {outcome}, {ms} ms"),
        };
        (call.log)(&self.redactor.text(&line));
    }
}

/// `12.3 KB`, `512 B`, `1.4 MB`.
pub fn human_bytes(n: usize) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    }
}

fn retry_after(e: &HttpError) -> Option<Duration> {
    match e {
        HttpError::Status { retry_after, .. } => *retry_after,
        _ => None,
    }
}

/// The wait a server asked for: `retry-after-ms` (OpenAI style), then `Retry-After` in seconds
/// or as an HTTP date.
pub fn retry_after_headers(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        // A wait too long to represent is as good as forever: the cap turns it into an error.
        return Some(Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX));
    }
    let v = text(header::RETRY_AFTER.as_str())?;
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn check_page_type(content_type: Option<&str>) -> Result<(), HttpError> {
    let Some(ct) = content_type else {
        // No header: the body decides (extraction copes with text and HTML alike).
        return Ok(());
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let ok = matches!(
        mime.as_str(),
        "text/html"
            | "application/xhtml+xml"
            | "text/plain"
            | "text/markdown"
            | "text/x-markdown"
            | "application/pdf"
            | "application/x-pdf"
            // Servers send PDFs (and worse) as octet-stream: extraction sniffs the bytes.
            | "application/octet-stream"
            | ""
    );
    if ok {
        Ok(())
    } else {
        Err(HttpError::ContentType(mime))
    }
}

fn transport_error(e: &reqwest::Error, timeout: Duration) -> HttpError {
    if e.is_timeout() {
        return HttpError::Timeout(timeout);
    }
    if e.is_redirect() {
        return HttpError::Transport("too many redirects".into());
    }
    // Display of a reqwest error names the URL; the chain below it does not, and says why.
    let mut msg = e.to_string();
    if let Some(url) = e.url() {
        msg = msg
            .replace(&format!(" ({url})"), "")
            .replace(url.as_str(), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_connect() {
        HttpError::Connect(msg)
    } else {
        HttpError::Transport(msg)
    }
}

/// A short message from an error body: the JSON `message`/`detail`/`error` if there is one,
/// else the start of the text.
fn error_message(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(m) = json_error_message(&v)
    {
        return shorten(&m, 300);
    }
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() || flat.starts_with('<') {
        status.canonical_reason().unwrap_or("").to_string()
    } else {
        shorten(&flat, 300)
    }
}

/// The human part of the JSON error shapes seen in the wild: `{"error":{"message"|"detail"}}`,
/// `{"error":"..."}`, `{"message":...}`, `{"detail":...}`.
pub fn json_error_message(v: &serde_json::Value) -> Option<String> {
    let pick = |o: &serde_json::Value| -> Option<String> {
        for key in ["message", "detail", "msg", "description"] {
            if let Some(s) = o.get(key).and_then(|m| m.as_str()) {
                let code = o
                    .get("code")
                    .and_then(|c| {
                        c.as_str()
                            .map(str::to_string)
                            .or_else(|| Some(c.to_string()))
                    })
                    .filter(|c| c != "null" && !c.is_empty());
                return Some(match code {
                    Some(c) if !s.contains(&c) => format!("{s} ({c})"),
                    _ => s.to_string(),
                });
            }
        }
        None
    };
    match v.get("error") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(inner @ serde_json::Value::Object(_)) => pick(inner),
        _ => pick(v),
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

fn redact_error(r: &Redactor, e: HttpError) -> HttpError {
    match e {
        HttpError::Status {
            status,
            message,
            retry_after,
        } => HttpError::Status {
            status,
            message: r.text(&message),
            retry_after,
        },
        HttpError::Connect(m) => HttpError::Connect(r.text(&m)),
        HttpError::Transport(m) => HttpError::Transport(r.text(&m)),
        HttpError::Url(m) => HttpError::Url(r.text(&m)),
        HttpError::GaveUp { attempts, last } => HttpError::GaveUp {
            attempts,
            last: Box::new(redact_error(r, *last)),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after_headers(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after_headers(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        let later = std::time::SystemTime::now() + Duration::from_secs(30);
        h.insert(
            "retry-after",
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let d = retry_after_headers(&h).unwrap();
        assert!(
            d > Duration::from_secs(27) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after_headers(&h), Some(Duration::ZERO));
    }

    #[test]
    fn error_bodies_give_their_message() {
        let s = StatusCode::UNPROCESSABLE_ENTITY;
        let brave = br#"{"type":"ErrorResponse","error":{"id":"x","status":422,"code":"SUBSCRIPTION_TOKEN_INVALID","detail":"The provided subscription token is invalid."},"time":1}"#;
        assert_eq!(
            error_message(s, brave),
            "The provided subscription token is invalid. (SUBSCRIPTION_TOKEN_INVALID)"
        );
        let vllm =
            br#"{"object":"error","message":"model not found","type":"NotFoundError","code":404}"#;
        assert_eq!(error_message(s, vllm), "model not found (404)");
        assert_eq!(
            error_message(s, b"<html>oops</html>"),
            "Unprocessable Entity"
        );
        assert_eq!(error_message(s, b"plain  words"), "plain words");
    }

    #[test]
    fn page_types() {
        assert!(check_page_type(Some("text/html; charset=utf-8")).is_ok());
        assert!(check_page_type(Some("application/xhtml+xml")).is_ok());
        assert!(check_page_type(Some("text/markdown")).is_ok());
        assert!(check_page_type(None).is_ok());
        assert!(check_page_type(Some("application/pdf")).is_ok());
        let e = check_page_type(Some("image/png")).unwrap_err();
        assert!(e.to_string().contains("image/png"), "{e}");
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 409, 429, 500, 502, 503, 504] {
            let e = HttpError::Status {
                status: s,
                message: String::new(),
                retry_after: None,
            };
            assert!(e.is_retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            let e = HttpError::Status {
                status: s,
                message: String::new(),
                retry_after: None,
            };
            assert!(!e.is_retryable(), "{s}");
        }
    }
}
