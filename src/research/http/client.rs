//! The shared HTTP layer: one client with timeouts, retries honouring Retry-After, limits that
//! belong to what they protect (per web site for pages, per provider for configured endpoints),
//! the private-address policy for pages, redirects followed hop by hop with secret headers kept
//! to their origin, streamed body caps and redacted request logs.

mod addresses;
mod errors;
mod limits;
pub use addresses::*;
pub use errors::*;
pub use limits::*;
use std::collections::HashMap;
use std::error::Error as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{self, HeaderMap, HeaderName};
use reqwest::{Method, Request, Response, StatusCode, Url};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::redact::Redactor;
use crate::research::LogSink;

/// A wait for a request slot longer than this is announced in the PART's log.
pub const WAIT_NOTE_AFTER: Duration = Duration::from_millis(250);

/// What to tell a user whose page fetch was refused for its address.
const ALLOW_HINT: &str =
    "set [fetch] allow_private = true or EXPANSE_ALLOW_PRIVATE_URLS=1 to fetch self-hosted pages";

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
    /// Page requests in flight to one web site (host and port) at once.
    pub per_host_concurrency: usize,
    /// Page requests a second to one web site; `None`: no rate limit.
    pub per_host_rate: Option<f64>,
    /// Whether pages on loopback, private, link-local, unique-local or unspecified addresses
    /// may be fetched (self-hosted sources). Configured endpoints are never checked.
    pub allow_private: bool,
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
            per_host_rate: Some(5.0),
            allow_private: false,
            user_agent: format!(
                "Mozilla/5.0 (compatible; expanse/{}; knowledge research)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

/// What one provider call passes to the HTTP layer: where log lines go and its own limits.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    /// The PART's log.
    pub log: &'a LogSink,
    /// The provider's limits (rate, and requests in flight when capped).
    pub limit: Option<&'a RateLimit>,
}

/// Where a request goes, which decides its address policy and its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// A web page named by untrusted input (a search result): the private-address policy
    /// applies, and per-site politeness (requests at once and a second per host and port).
    Page,
    /// An endpoint the user configured (search API, model server, Bright Data): no address
    /// policy and no per-site cap, only the provider's own limits. A redirect off its origin
    /// is treated as a page, without the request's credentials.
    Endpoint,
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

/// The slots a response holds while its body is read (the provider's and the web site's);
/// dropping it frees them.
pub struct Slot {
    _provider: Option<OwnedSemaphorePermit>,
    _site: Option<OwnedSemaphorePermit>,
}

/// When a request was sent and how long it waited for its slots first, for log lines that
/// keep the server's time apart from the wait.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// When the request that answered was sent.
    pub started: Instant,
    /// Time spent waiting for slots and rate limits before sending.
    pub waited: Duration,
}

/// A response whose headers arrived with a success status; its body is still to be read.
pub struct Opened {
    /// The response.
    pub response: Response,
    /// Held while the body streams, so the limits cover it.
    pub slot: Slot,
    /// When it was sent, and the wait before.
    pub timing: Timing,
}

/// The one HTTP client of a run, shared by every provider.
pub struct HttpClient {
    /// For configured endpoints: the system resolver.
    endpoints: reqwest::Client,
    /// For pages: only public addresses, unless private ones are allowed.
    pages: reqwest::Client,
    /// Page names are resolved and checked before sending: a proxy resolves them, not `pages`.
    check_before_proxy: bool,
    options: HttpOptions,
    sites: Mutex<HashMap<String, Arc<RateLimit>>>,
    redactor: Redactor,
}

impl HttpClient {
    /// A client with these options; `redactor` scrubs every log line and error message.
    pub fn new(options: HttpOptions, redactor: Redactor) -> Result<HttpClient, HttpError> {
        // Behind a proxy the resolver would see the proxy's name (often on a private address),
        // so names are checked before sending instead.
        let proxied = proxy_in_env();
        let build = |public_only: bool| {
            let mut b = reqwest::Client::builder()
                .timeout(options.timeout)
                .connect_timeout(options.connect_timeout)
                // Redirects are followed by `attempt`, hop by hop: each hop's address is
                // checked, its site's limits taken and credentials kept to their origin.
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(options.user_agent.clone())
                .pool_idle_timeout(Duration::from_secs(30))
                .gzip(true)
                .brotli(true);
            if public_only {
                b = b.dns_resolver(Arc::new(PublicOnly));
            }
            b.build()
                .map_err(|e| HttpError::Transport(e.without_url().to_string()))
        };
        Ok(HttpClient {
            endpoints: build(false)?,
            pages: build(!options.allow_private && !proxied)?,
            check_before_proxy: !options.allow_private && proxied,
            options,
            sites: Mutex::new(HashMap::new()),
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

    /// A request builder; finish it with `.build()` and pass it to [`HttpClient::fetch`] or
    /// [`HttpClient::open`], or pass it to [`HttpClient::send`].
    pub fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.endpoints.request(method, url)
    }

    /// Builds `request` and fetches it as `dest` says: a web page ([`Dest::Page`], a page
    /// fetch) or a configured endpoint ([`Dest::Endpoint`], every search and API request). A
    /// request that cannot be built is an [`HttpError::Url`].
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        call: Call<'_>,
        expect: Expect,
        dest: Dest,
    ) -> Result<Fetched, HttpError> {
        let request = request.build().map_err(|e| HttpError::Url(e.to_string()))?;
        self.fetch_to(request, call, expect, dest).await
    }

    /// Sends `request` as a web page with retries and reads its whole body under the size cap.
    pub async fn fetch(
        &self,
        request: Request,
        call: Call<'_>,
        expect: Expect,
    ) -> Result<Fetched, HttpError> {
        self.fetch_to(request, call, expect, Dest::Page).await
    }

    async fn fetch_to(
        &self,
        request: Request,
        call: Call<'_>,
        expect: Expect,
        dest: Dest,
    ) -> Result<Fetched, HttpError> {
        let method = request.method().clone();
        let place = self.redactor.location(request.url());
        self.with_retries(&method, &place, call, || async {
            let opened = self.attempt(&request, call, dest).await?;
            let response = opened.response;
            let timing = opened.timing;
            let status = response.status();
            let url = response.url().clone();
            let place = self.redactor.location(&url);
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if expect == Expect::Page {
                check_page_type(content_type.as_deref())?;
            }
            let body = match self.read_body(response, self.options.max_body_bytes).await {
                Ok(b) => b,
                Err(e) => {
                    self.log_line(call, &method, &place, &e.to_string(), None, timing);
                    return Err(e);
                }
            };
            self.log_line(
                call,
                &method,
                &place,
                &status.as_u16().to_string(),
                Some(body.len()),
                timing,
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

    /// Sends `request` to a configured endpoint with retries until a success status arrives,
    /// leaving the body unread (for streamed responses). The caller logs the end with
    /// [`HttpClient::log_done`] and holds [`Opened::slot`] while it reads.
    pub async fn open(&self, request: Request, call: Call<'_>) -> Result<Opened, HttpError> {
        let method = request.method().clone();
        let place = self.redactor.location(request.url());
        self.with_retries(&method, &place, call, || {
            self.attempt(&request, call, Dest::Endpoint)
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
        timing: Timing,
    ) {
        let place = self.redactor.location(url);
        self.log_line(call, method, &place, outcome, bytes, timing);
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

    /// One attempt: the provider's limits, then hop by hop (each redirect followed here) the
    /// address policy and the site's limits for pages, the send, and a failure status turned
    /// into an error.
    async fn attempt(
        &self,
        request: &Request,
        call: Call<'_>,
        dest: Dest,
    ) -> Result<Opened, HttpError> {
        let mut request = request.try_clone().ok_or_else(|| {
            HttpError::Transport("a streamed request body cannot be retried".into())
        })?;
        let origin = request.url().origin();
        let note = |line: &str| (call.log)(&self.redactor.text(line));
        let mut waited = Duration::ZERO;
        // The provider's own limits hold for the whole attempt, redirects included.
        let provider = match call.limit {
            Some(limit) => {
                let begun = Instant::now();
                let permit = limit.pass(&note).await?;
                waited += begun.elapsed();
                permit
            }
            None => None,
        };
        let mut hops = 0;
        loop {
            let url = request.url().clone();
            let method = request.method().clone();
            let place = self.redactor.location(&url);
            let page = dest == Dest::Page || url.origin() != origin;
            let checked = if page && !self.options.allow_private {
                match check_literal(&url) {
                    Ok(()) if self.check_before_proxy => check_name_before_proxy(&url).await,
                    other => other,
                }
            } else {
                Ok(())
            };
            if let Err(e) = checked {
                let timing = Timing {
                    started: Instant::now(),
                    waited,
                };
                self.log_line(call, &method, &place, &e.to_string(), None, timing);
                return Err(e);
            }
            let site = if page {
                let begun = Instant::now();
                let permit = self.site(&url).pass(&note).await?;
                waited += begun.elapsed();
                permit
            } else {
                None
            };
            // Kept for a redirect that re-sends the request (307/308 keep the body).
            let copy = request.try_clone();
            let client = if page { &self.pages } else { &self.endpoints };
            let timing = Timing {
                started: Instant::now(),
                waited,
            };
            let timeout = request.timeout().copied().unwrap_or(self.options.timeout);
            let response = match client.execute(request).await {
                Ok(r) => r,
                Err(e) => {
                    let e = transport_error(&e, timeout);
                    self.log_line(call, &method, &place, &e.to_string(), None, timing);
                    return Err(e);
                }
            };
            let status = response.status();
            let location = status
                .is_redirection()
                .then(|| response.headers().get(header::LOCATION))
                .flatten()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            if let Some(location) = location {
                hops += 1;
                let next = if hops > self.options.max_redirects {
                    Err(HttpError::Redirect(format!(
                        "more than {} redirects",
                        self.options.max_redirects
                    )))
                } else {
                    redirected(copy, status, &url, &location)
                };
                let (next_request, dropped) = match next {
                    Ok(n) => n,
                    Err(e) => {
                        let outcome = format!("{} → {e}", status.as_u16());
                        self.log_line(call, &method, &place, &outcome, None, timing);
                        return Err(e);
                    }
                };
                let to = self.redactor.location(next_request.url());
                let why = if dropped {
                    " (credentials not sent to the new origin)"
                } else {
                    ""
                };
                self.log_line(
                    call,
                    &method,
                    &place,
                    &format!("{} → {to}{why}", status.as_u16()),
                    None,
                    timing,
                );
                // This site's slot is freed before the next hop waits for its own.
                drop(site);
                request = next_request;
                continue;
            }
            if status.is_success() {
                return Ok(Opened {
                    response,
                    slot: Slot {
                        _provider: provider,
                        _site: site,
                    },
                    timing,
                });
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
                timing,
            );
            return Err(HttpError::Status {
                status: status.as_u16(),
                message: error_message(status, &body),
                retry_after: wait,
            });
        }
    }

    /// The limits of the web site (host and port) `url` is on.
    fn site(&self, url: &Url) -> Arc<RateLimit> {
        let host = url.host_str().unwrap_or("");
        let key = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        // Held only to look up or insert; never across an await.
        let mut sites = self.sites.lock().unwrap_or_else(|p| p.into_inner());
        sites
            .entry(key.clone())
            .or_insert_with(|| {
                let mut limit = RateLimit::new(&key).concurrency(
                    self.options.per_host_concurrency,
                    "[limits] per_host_concurrency",
                );
                if let Some(rps) = self.options.per_host_rate {
                    limit = limit.rate(rps, "[limits] requests_per_second");
                }
                Arc::new(limit)
            })
            .clone()
    }

    /// The whole body, refused as soon as it passes `limit` bytes (announced or counted).
    pub async fn read_body(&self, response: Response, limit: usize) -> Result<Vec<u8>, HttpError> {
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
        timing: Timing,
    ) {
        let ms = timing.started.elapsed().as_millis();
        let mut line = match bytes {
            Some(b) => format!("{method} {place} → {outcome}, {}, {ms} ms", human_bytes(b)),
            None => format!("{method} {place} → {outcome}, {ms} ms"),
        };
        let waited = timing.waited.as_millis();
        if waited > 0 {
            line.push_str(&format!(" (waited {waited} ms for a slot)"));
        }
        (call.log)(&self.redactor.text(&line));
    }
}

pub use crate::words::human_bytes;
