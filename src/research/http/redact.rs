//! Secret redaction for log lines and error messages: configured secret values and secret-looking query parameters.

use std::sync::Arc;

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Secret values shorter than this are not matched: replacing every `1` or `ab` in a log line
/// would garble it, and no real API key is that short.
const MIN_SECRET_LEN: usize = 4;

/// Query parameter names (lower-cased substrings) whose values are never shown.
const SECRET_PARAMS: &[&str] = &[
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "auth",
    "signature",
    "sig",
    "credential",
];

/// Removes configured secret values (API keys) from any text before it is logged or shown.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Arc<Vec<String>>,
}

impl Redactor {
    /// A redactor for these secret values (empty and very short values are ignored).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .collect();
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor {
            secrets: Arc::new(secrets),
        }
    }

    /// `text` with every secret value and every secret-looking query parameter value replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in self.secrets.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        redact_query_values(&out)
    }

    /// `host[:port]/path` of a URL, for log lines: never the query, the fragment or user info.
    pub fn location(&self, url: &reqwest::Url) -> String {
        let host = url.host_str().unwrap_or("?");
        let loc = match url.port() {
            Some(p) => format!("{host}:{p}{}", url.path()),
            None => format!("{host}{}", url.path()),
        };
        self.text(&loc)
    }

    /// A URL with secret query values and user info replaced, for messages that need the whole address.
    pub fn url(&self, url: &str) -> String {
        match reqwest::Url::parse(url) {
            Ok(mut u) => {
                if !u.username().is_empty() {
                    let _ = u.set_username(REDACTED);
                }
                if u.password().is_some() {
                    let _ = u.set_password(None);
                }
                self.text(u.as_str())
            }
            Err(_) => self.text(url),
        }
    }
}

/// Replace values of `name=value` pairs whose name looks secret, wherever they occur in `text`.
fn redact_query_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            // The parameter name runs back to the previous `?`, `&`, `;`, whitespace or start.
            let name_start = text[..i]
                .rfind(['?', '&', ';', ' ', '\t', '\n', '"', '\''])
                .map_or(0, |p| p + 1);
            let name = text[name_start..i].to_ascii_lowercase();
            let secret = !name.is_empty()
                && name.len() <= 40
                && SECRET_PARAMS.iter().any(|p| name.contains(p));
            if secret {
                let value_end = text[i + 1..]
                    .find(['&', ';', ' ', '\t', '\n', '"', '\'', '#'])
                    .map_or(text.len(), |p| i + 1 + p);
                if value_end > i + 1 {
                    out.push_str(&text[copied..=i]);
                    out.push_str(REDACTED);
                    copied = value_end;
                    i = value_end;
                    continue;
                }
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_replaced() {
        let r = Redactor::new(["sk-live-123456".to_string(), "ab".to_string()]);
        assert_eq!(
            r.text("bad key sk-live-123456 (ab)"),
            "bad key [redacted] (ab)"
        );
    }

    #[test]
    fn secret_query_parameters_are_replaced() {
        let r = Redactor::default();
        assert_eq!(
            r.text("GET http://h/s?q=zero&api_key=abc123&x=1"),
            "GET http://h/s?q=zero&api_key=[redacted]&x=1"
        );
        assert_eq!(r.text("u?token=t0k3n"), "u?token=[redacted]");
        assert_eq!(r.text("a = b, q=1"), "a = b, q=1");
    }

    #[test]
    fn locations_have_no_query_or_user() {
        let r = Redactor::default();
        let u = reqwest::Url::parse("https://me:pw@api.x.com:8443/v1/s?key=zzz").unwrap();
        assert_eq!(r.location(&u), "api.x.com:8443/v1/s");
        let shown = r.url("https://me:pw@api.x.com/v1?key=zzz&q=a");
        assert!(!shown.contains("pw") && !shown.contains("zzz") && !shown.contains("me:"));
    }
}
