//! The OpenAI-compatible writer: a streamed Chat Completions request (OpenAI, vLLM, Ollama,
//! llama.cpp, LiteLLM), read as server-sent events under size and time caps, reasoning and any
//! echoed secret removed, retried once if cut, with the server's token usage or an estimate.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, Url, header};

use super::client::{Call, HttpClient, HttpError, RateLimit};
use super::sse::{self, StreamFailure, StreamLimits, ThinkFilter};
use super::{prompt, tokens};
use crate::research::{LogSink, ResearchError, SectionRequest, Usage, Writer, Written};

/// The public API's base URL.
pub const OPENAI_BASE: &str = "https://api.openai.com/v1";

/// How the writer talks to the model server.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Base URL (`…/v1`).
    pub base_url: String,
    /// The model.
    pub model: String,
    /// API key, if the server wants one.
    pub api_key: Option<String>,
    /// Characters of source text in the prompt at most.
    pub context_chars: usize,
    /// Sampling temperature (none: the server's default).
    pub temperature: Option<f32>,
    /// Completion tokens at most (none: the server's default).
    pub max_tokens: Option<u32>,
    /// Time the whole answer may take, a retry after a cut included.
    pub timeout: Duration,
    /// Longest time without progress (text, finish, usage): keep-alives do not count.
    pub idle_timeout: Duration,
    /// Bytes of answer text at most.
    pub max_answer_bytes: usize,
    /// Bytes of one server-sent event at most.
    pub max_event_bytes: usize,
    /// Raw bytes of one streamed answer at most.
    pub max_stream_bytes: usize,
}

impl WriterOptions {
    /// Options for `model` at `base_url` with the defaults for everything else.
    pub fn new(base_url: &str, model: &str, api_key: Option<String>) -> WriterOptions {
        WriterOptions {
            base_url: base_url.to_string(),
            model: model.to_string(),
            api_key,
            context_chars: prompt::DEFAULT_CONTEXT_CHARS,
            temperature: Some(0.2),
            max_tokens: None,
            timeout: Duration::from_secs(900),
            idle_timeout: Duration::from_secs(180),
            max_answer_bytes: sse::DEFAULT_MAX_TEXT,
            max_event_bytes: sse::DEFAULT_MAX_EVENT,
            max_stream_bytes: sse::DEFAULT_MAX_RAW,
        }
    }
}

/// Drafts through an OpenAI-compatible Chat Completions endpoint, streamed.
pub struct OpenAiWriter {
    client: Arc<HttpClient>,
    endpoint: Url,
    options: WriterOptions,
    limit: Option<Arc<RateLimit>>,
}

const NAME: &str = "openai";

/// Completion tokens reserved for a request with no limit at all (only without a budget, where
/// nothing is reserved, can a request have none).
const DEFAULT_MOST: u32 = 8_192;

impl OpenAiWriter {
    /// A writer on the shared client.
    pub fn new(
        client: Arc<HttpClient>,
        options: WriterOptions,
        limit: Option<Arc<RateLimit>>,
    ) -> Result<OpenAiWriter, ResearchError> {
        let endpoint = super::join(NAME, &options.base_url, "chat/completions")?;
        Ok(OpenAiWriter {
            client,
            endpoint,
            options,
            limit,
        })
    }

    fn error(&self, message: impl AsRef<str>) -> ResearchError {
        ResearchError::Provider {
            provider: format!("{NAME} {}", self.options.model),
            message: self.client.redact(message.as_ref()),
        }
    }

    fn body(&self, request: &SectionRequest) -> serde_json::Value {
        let mut body = serde_json::json!({
            "model": self.options.model,
            "messages": prompt::messages(request, self.options.context_chars),
            "stream": true,
            "stream_options": { "include_usage": true },
        });
        if let Some(t) = self.options.temperature {
            body["temperature"] = serde_json::json!(t);
        }
        if let Some(m) = self.max_tokens(request) {
            body["max_tokens"] = serde_json::json!(m);
        }
        body
    }

    /// The completion limit of a request: the smaller of the model's and the request's own.
    fn max_tokens(&self, request: &SectionRequest) -> Option<u32> {
        match (self.options.max_tokens, request.max_tokens) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// One streamed attempt, to be complete by `deadline`.
    async fn attempt(
        &self,
        body: &serde_json::Value,
        deadline: tokio::time::Instant,
        log: &LogSink,
        delta: &LogSink,
    ) -> Result<sse::Completion, Attempt> {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        // The transport's own timeout is a backstop a little after the deadline, so that the
        // stream reader's clearer message is the one a user sees.
        let mut builder = self
            .client
            .request(Method::POST, self.endpoint.clone())
            .header(header::ACCEPT, "text/event-stream")
            .timeout(left + Duration::from_secs(5))
            .json(body);
        if let Some(key) = &self.options.api_key {
            builder = builder.bearer_auth(key);
        }
        let request = builder
            .build()
            .map_err(|e| Attempt::Fatal(HttpError::Url(e.to_string()).to_string()))?;
        let call = Call {
            log,
            limit: self.limit.as_deref(),
        };
        let opened = match tokio::time::timeout_at(deadline, self.client.open(request, call)).await
        {
            Ok(r) => r.map_err(|e| Attempt::Fatal(e.to_string()))?,
            Err(_) => {
                return Err(Attempt::Fatal(
                    StreamFailure::Deadline(self.options.timeout).to_string(),
                ));
            }
        };
        let response = opened.response;
        let status = response.status().as_u16();
        let url = response.url().clone();
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("json"));
        let limits = StreamLimits {
            idle: Some(self.options.idle_timeout),
            deadline: Some(deadline),
            total: self.options.timeout,
            max_text: self.options.max_answer_bytes,
            max_event: self.options.max_event_bytes,
            max_raw: self.options.max_stream_bytes,
        };
        // Reasoning is filtered, then every configured secret in any form is removed, before
        // a piece is shown: a model echoing a key must not put it on the screen.
        let shown = Mutex::new((ThinkFilter::new(), self.client.redactor().stream()));
        let mut on_content = |piece: &str| {
            // Held only for this push; the delta sink never awaits.
            let mut g = shown.lock().unwrap_or_else(|p| p.into_inner());
            let (filter, redactor) = &mut *g;
            let visible = redactor.push(&filter.push(piece));
            if !visible.is_empty() {
                delta(&visible);
            }
        };
        let result = if is_json {
            // A server that ignored `stream: true` (or answered 200 with an error object): one
            // JSON body, which holds the text once plus JSON escaping, so twice the text cap.
            let cap = limits
                .max_text
                .saturating_mul(2)
                .saturating_add(64 * 1024)
                .min(limits.max_raw);
            match tokio::time::timeout_at(deadline, self.client.read_body(response, cap)).await {
                Ok(Ok(bytes)) => sse::read_json(&bytes, limits.max_text, &mut on_content),
                Ok(Err(HttpError::TooLarge { limit })) => Err(StreamFailure::TooLarge {
                    what: "a JSON answer (twice [model] max_answer_bytes)",
                    limit,
                }),
                Ok(Err(e)) => Err(StreamFailure::Cut(format!("the answer broke off: {e}"))),
                Err(_) => Err(StreamFailure::Deadline(self.options.timeout)),
            }
        } else {
            sse::read_stream(response.bytes_stream(), &limits, &mut on_content).await
        };
        {
            let mut g = shown.lock().unwrap_or_else(|p| p.into_inner());
            let (filter, redactor) = &mut *g;
            let mut tail = redactor.push(&filter.finish());
            tail.push_str(&redactor.finish());
            if !tail.is_empty() {
                delta(&tail);
            }
        }
        let outcome = match &result {
            Ok(c) if c.is_complete() => format!("{status} streamed"),
            Ok(_) => format!("{status} cut off"),
            Err(e) => format!("{status} then {e}"),
        };
        let bytes = result.as_ref().map(|c| c.bytes).ok();
        self.client
            .log_done(call, &Method::POST, &url, &outcome, bytes, opened.timing);
        drop(opened.slot);
        match result {
            Ok(c) if c.is_complete() => Ok(c),
            Ok(c) => Err(Attempt::Cut(format!(
                "the stream ended after {} characters with neither [DONE] nor a finish reason",
                c.raw.chars().count()
            ))),
            Err(StreamFailure::Cut(m)) => Err(Attempt::Cut(m)),
            Err(e) => Err(Attempt::Fatal(e.to_string())),
        }
    }

    /// The server's usage, or else an estimate with a BPE tokenizer, said so in the log.
    async fn usage(
        &self,
        body: &serde_json::Value,
        completion: &sse::Completion,
        log: &LogSink,
    ) -> Option<Usage> {
        if let Some(u) = completion.usage {
            return Some(u);
        }
        let messages = body["messages"].clone();
        let raw = completion.raw.clone();
        // Tokenizing is CPU work (and loads the vocabulary once): off the async threads.
        let usage = tokio::task::spawn_blocking(move || tokens::estimate(&messages, &raw))
            .await
            .ok()?;
        log(&format!(
            "the server sent no usage; estimated with the {} tokenizer: {usage}",
            tokens::TOKENIZER
        ));
        Some(usage)
    }
}

impl OpenAiWriter {
    /// The model's whole answer to `system` and `user`, at most `max_tokens` long, with its
    /// usage (the server's, else an estimate). One attempt, no streaming shown anywhere.
    pub async fn ask(
        &self,
        system: &str,
        user: &str,
        max_tokens: u32,
        log: &LogSink,
    ) -> Result<(String, Option<Usage>), ResearchError> {
        let body = serde_json::json!({
            "model": self.options.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "stream": true,
            "stream_options": { "include_usage": true },
            "max_tokens": max_tokens,
            "temperature": 0,
        });
        let deadline = tokio::time::Instant::now() + self.options.timeout;
        let completion = match self.attempt(&body, deadline, log, &|_: &str| {}).await {
            Ok(c) => c,
            Err(Attempt::Cut(why) | Attempt::Fatal(why)) => return Err(self.error(why)),
        };
        let usage = self.usage(&body, &completion, log).await;
        Ok((self.client.redactor().secrets(&completion.raw), usage))
    }
}

/// How one attempt ended, when it did not end well.
enum Attempt {
    /// Worth one more try from scratch.
    Cut(String),
    /// Not worth retrying.
    Fatal(String),
}

#[async_trait]
impl Writer for OpenAiWriter {
    fn name(&self) -> &str {
        NAME
    }

    fn most(&self, request: &SectionRequest) -> Option<Usage> {
        let messages = serde_json::json!(prompt::messages(request, self.options.context_chars));
        let counted = tokens::estimate(&messages, "").prompt_tokens;
        // The server's own tokenizer may count more than o200k: a quarter more, and some.
        let prompt = counted + counted / 4 + 64;
        Some(Usage {
            prompt_tokens: prompt,
            completion_tokens: u64::from(self.max_tokens(request).unwrap_or(DEFAULT_MOST)),
            estimated: true,
        })
    }

    async fn write_section(
        &self,
        request: &SectionRequest,
        log: &LogSink,
        delta: &LogSink,
    ) -> Result<Written, ResearchError> {
        let body = self.body(request);
        log(&format!(
            "asking {} at {} for section {} ({} sources, prompt {} characters)",
            self.options.model,
            self.client.redactor().url(self.endpoint.as_str()),
            request.index + 1,
            request.sources.len(),
            body["messages"].as_array().map_or(0, |m| m
                .iter()
                .map(|x| x["content"].as_str().map_or(0, str::len))
                .sum::<usize>())
        ));
        // One deadline for the whole answer: a retry after a cut gets only what is left.
        let deadline = tokio::time::Instant::now() + self.options.timeout;
        let mut completion = None;
        for attempt in 1..=2 {
            match self.attempt(&body, deadline, log, delta).await {
                Ok(c) => {
                    completion = Some(c);
                    break;
                }
                Err(Attempt::Cut(why)) if attempt == 1 => {
                    log(&self.client.redact(&format!(
                        "{why}; the partial section is discarded and the request sent again from scratch"
                    )));
                }
                Err(Attempt::Cut(why)) => {
                    return Err(self.error(format!(
                        "the answer was cut off twice, so nothing of this section was kept: {why}"
                    )));
                }
                Err(Attempt::Fatal(why)) => return Err(self.error(why)),
            }
        }
        let Some(completion) = completion else {
            return Err(self.error("no answer"));
        };
        match completion.finish_reason.as_deref() {
            Some("length") => {
                return Err(self.error(
                    "the model stopped at its token limit (finish_reason = length), so the section is incomplete; raise [model] max_tokens or lower context_chars",
                ));
            }
            Some("content_filter") => {
                return Err(self.error("the server's content filter stopped the answer"));
            }
            _ => {}
        }
        let usage = self.usage(&body, &completion, log).await;
        // The same removal as the streamed pieces had: no form of a key reaches the draft.
        let text = self
            .client
            .redactor()
            .secrets(&sse::strip_think(&completion.raw));
        let text = text.trim_end().to_string();
        if text.trim().is_empty() {
            return Err(self.error(if completion.raw.trim().is_empty() {
                "the model returned no text"
            } else {
                "the model returned only reasoning (<think>…</think>) and no section text"
            }));
        }
        Ok(Written {
            body: prompt::clean_section(&text),
            usage,
        })
    }
}
