//! Secret redaction for log lines, error messages and model output: configured secret values in
//! any letter case and in base64 (standard and URL-safe, padded or not, at any alignment inside
//! a longer encoded string), and secret-looking query parameters in log lines.

use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Secret values shorter than this are not matched: replacing every `1` or `ab` in a log line
/// would garble it, and no real API key is that short.
const MIN_SECRET_LEN: usize = 4;

/// Base64 forms shorter than this are not matched: a short run of base64 letters occurs in
/// ordinary words, a 10-character one practically never does by chance.
const MIN_ENCODED_LEN: usize = 10;

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

/// Removes configured secret values (API keys) from any text before it is logged, shown or stored.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: Arc<Forms>,
}

/// Every form of every secret, in one automaton.
#[derive(Default)]
struct Forms {
    /// Matches any form, ASCII case-insensitively, leftmost-longest; `None` without secrets.
    matcher: Option<AhoCorasick>,
    /// The longest form in bytes: how much a streamed text must hold back.
    longest: usize,
    /// How many secrets were configured (for Debug, which must never show them).
    secrets: usize,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The forms are the secrets themselves: only their number is ever printed.
        f.debug_struct("Redactor")
            .field("secrets", &self.inner.secrets)
            .finish()
    }
}

impl Redactor {
    /// A redactor for these secret values (empty and very short values are ignored).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut values: Vec<String> = secrets
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .collect();
        values.sort();
        values.dedup();
        let mut forms: Vec<String> = Vec::new();
        for s in &values {
            // Matching is ASCII case-insensitive, so this one form covers lower, upper and mixed case.
            forms.push(s.clone());
            forms.extend(encoded_forms(s.as_bytes()));
        }
        forms.sort();
        forms.dedup();
        let longest = forms.iter().map(String::len).max().unwrap_or(0);
        let matcher = (!forms.is_empty()).then(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(&forms)
                // Invariant: building fails only past the automaton's state-ID limit (billions
                // of states); a few dozen forms of a few keys are nowhere near it.
                .expect("a handful of secret forms fit in an Aho-Corasick automaton")
        });
        Redactor {
            inner: Arc::new(Forms {
                matcher,
                longest,
                secrets: values.len(),
            }),
        }
    }

    /// `text` with every secret form and every secret-looking query parameter value replaced:
    /// for log lines and error messages.
    pub fn text(&self, text: &str) -> String {
        redact_query_values(&self.secrets(text))
    }

    /// `text` with every form of every configured secret replaced, and nothing else changed:
    /// for model output, where `max_tokens=4096` is content, not a credential.
    pub fn secrets(&self, text: &str) -> String {
        let Some(m) = &self.inner.matcher else {
            return text.to_string();
        };
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for found in m.find_iter(text) {
            out.push_str(&text[at..found.start()]);
            out.push_str(REDACTED);
            at = found.end();
        }
        out.push_str(&text[at..]);
        out
    }

    /// A redactor for text that arrives in pieces (a streamed answer), which holds back just
    /// enough of the tail that a secret split across two pieces is still caught.
    pub fn stream(&self) -> StreamRedactor {
        StreamRedactor {
            redactor: self.clone(),
            pending: String::new(),
        }
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

/// Redacts a text that arrives piece by piece: what [`StreamRedactor::push`] returns, followed
/// by [`StreamRedactor::finish`], is the whole text as [`Redactor::secrets`] would give it.
pub struct StreamRedactor {
    redactor: Redactor,
    pending: String,
}

impl StreamRedactor {
    /// The redacted text this piece makes safe to show; a tail that could be the start of a
    /// secret is held back until the next piece.
    pub fn push(&mut self, piece: &str) -> String {
        self.pending.push_str(piece);
        let Some(m) = &self.redactor.inner.matcher else {
            return std::mem::take(&mut self.pending);
        };
        // Anything starting before `cut` has all its bytes here if it is a secret, since no
        // form is longer than `longest`.
        let hold = self.redactor.inner.longest.saturating_sub(1);
        let mut cut = self.pending.len().saturating_sub(hold);
        while !self.pending.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut out = String::new();
        let mut at = 0;
        for found in m.find_iter(&self.pending) {
            if found.start() >= cut {
                break;
            }
            out.push_str(&self.pending[at..found.start()]);
            out.push_str(REDACTED);
            at = found.end();
        }
        if at < cut {
            out.push_str(&self.pending[at..cut]);
            at = cut;
        }
        self.pending.drain(..at);
        out
    }

    /// The held-back tail, redacted: the end of the text.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        self.redactor.secrets(&rest)
    }
}

/// The base64 forms of `secret`: the whole value in the standard and URL-safe alphabets, with
/// and without padding, and for each alphabet the run of characters that encodes only the
/// secret's bits when it sits at byte offset 1 or 2 inside a longer encoded text (as in
/// `base64("Bearer " + key)` or `base64("user:" + key)`).
fn encoded_forms(secret: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for engine in [&STANDARD, &URL_SAFE] {
        out.push(engine.encode(secret));
    }
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for offset in 0..3usize {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(secret);
            let encoded = engine.encode(&bytes);
            // Character i carries bits [6i, 6i+6); the secret's bits are [8·offset, 8·(offset+len)).
            let first = (8 * offset).div_ceil(6);
            let end = (8 * (offset + secret.len())) / 6;
            if let Some(core) = encoded.get(first..end) {
                out.push(core.to_string());
            }
        }
    }
    out.retain(|f| f.len() >= MIN_ENCODED_LEN);
    out
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

    const KEY: &str = "sk-live-Abc123XYZ987";

    #[test]
    fn secret_values_are_replaced() {
        let r = Redactor::new(["sk-live-123456".to_string(), "ab".to_string()]);
        assert_eq!(
            r.text("bad key sk-live-123456 (ab)"),
            "bad key [redacted] (ab)"
        );
    }

    #[test]
    fn every_case_and_base64_form_is_replaced() {
        let r = Redactor::new([KEY.to_string()]);
        let b = KEY.as_bytes();
        let forms = [
            KEY.to_string(),
            KEY.to_lowercase(),
            KEY.to_uppercase(),
            STANDARD.encode(b),
            STANDARD_NO_PAD.encode(b),
            URL_SAFE.encode(b),
            URL_SAFE_NO_PAD.encode(b),
            STANDARD.encode(format!("Bearer {KEY}")),
            STANDARD.encode(format!("user:{KEY}")),
            URL_SAFE_NO_PAD.encode(format!("x{KEY}y")),
            STANDARD.encode(format!("ab{KEY}")),
        ];
        for form in forms {
            let shown = r.secrets(&format!("echo: {form} done"));
            assert!(shown.contains(REDACTED), "{form} → {shown}");
            // What is left of an encoded form is its context and edge characters, never a run
            // of characters that encodes the secret.
            for f in encoded_forms(b) {
                assert!(!shown.contains(&f), "{form} → {shown}");
            }
            assert!(!shown.to_lowercase().contains(&KEY.to_lowercase()));
        }
    }

    #[test]
    fn model_output_keeps_parameter_names() {
        let r = Redactor::new([KEY.to_string()]);
        assert_eq!(r.secrets("set max_tokens=4096"), "set max_tokens=4096");
        assert_eq!(r.text("u?token=t0k3n"), "u?token=[redacted]");
    }

    #[test]
    fn a_secret_split_across_pieces_is_caught() {
        let r = Redactor::new([KEY.to_string()]);
        let text = format!("start {KEY} middle {} end é✓", STANDARD.encode(KEY));
        for size in 1..12 {
            let mut s = r.stream();
            let mut out = String::new();
            let chars: Vec<char> = text.chars().collect();
            for piece in chars.chunks(size) {
                out.push_str(&s.push(&piece.iter().collect::<String>()));
            }
            out.push_str(&s.finish());
            assert_eq!(out, r.secrets(&text), "pieces of {size}");
            assert!(!out.contains(KEY));
        }
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let r = Redactor::new([KEY.to_string()]);
        assert!(!format!("{r:?}").contains(KEY));
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
