//! HTTP failures into words: Retry-After, page types, transport errors, error bodies, redaction.

use super::*;

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
    /// A page (or a redirect hop) resolves to an address that is not public.
    #[error("refused: {host} is a {kind} address ({ALLOW_HINT})")]
    Refused {
        /// The host as named in the URL.
        host: String,
        /// What kind of address it is (loopback, private, link-local, …).
        kind: &'static str,
    },
    /// A redirect that is not followed.
    #[error("redirect not followed: {0}")]
    Redirect(String),
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

pub(super) fn retry_after(e: &HttpError) -> Option<Duration> {
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

pub(super) fn check_page_type(content_type: Option<&str>) -> Result<(), HttpError> {
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

pub(super) fn transport_error(e: &reqwest::Error, timeout: Duration) -> HttpError {
    // The page resolver's refusal travels inside the connect error: it is a policy, not a
    // network failure, and must neither be retried nor read as one.
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<RefusedName>() {
            return HttpError::Refused {
                host: r.host.clone(),
                kind: r.kind,
            };
        }
        source = s.source();
    }
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
    let mut source = e.source();
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
pub(super) fn error_message(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(m) = json_error_message(&v)
    {
        return crate::words::shorten(&m, 300);
    }
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() || flat.starts_with('<') {
        status.canonical_reason().unwrap_or("").to_string()
    } else {
        crate::words::shorten(&flat, 300)
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

pub(super) fn redact_error(r: &Redactor, e: HttpError) -> HttpError {
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
        HttpError::Redirect(m) => HttpError::Redirect(r.text(&m)),
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
