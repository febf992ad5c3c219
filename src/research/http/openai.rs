//! The OpenAI-compatible writer: a streamed Chat Completions request (OpenAI, vLLM, Ollama,
//! llama.cpp, LiteLLM), read as server-sent events, reasoning removed, retried once if cut.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, Url, header};

use super::client::{Call, HttpClient, HttpError, RateLimit};
use super::prompt;
use super::sse::{self, StreamFailure, ThinkFilter};
use crate::research::{LogSink, ResearchError, SectionRequest, Writer, Written};

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
    /// Time the whole streamed answer may take.
    pub timeout: Duration,
    /// Longest silence between two chunks.
    pub idle_timeout: Duration,
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
        if let Some(m) = self.options.max_tokens {
            body["max_tokens"] = serde_json::json!(m);
        }
        body
    }

    /// One streamed attempt.
    async fn attempt(
        &self,
        body: &serde_json::Value,
        log: &LogSink,
        delta: &LogSink,
    ) -> Result<sse::Completion, Attempt> {
        let mut builder = self
            .client
            .request(Method::POST, self.endpoint.clone())
            .header(header::ACCEPT, "text/event-stream")
            .timeout(self.options.timeout)
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
        let opened = self
            .client
            .open(request, call)
            .await
            .map_err(|e| Attempt::Fatal(e.to_string()))?;
        let response = opened.response;
        let status = response.status().as_u16();
        let url = response.url().clone();
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("json"));
        let max = self.client.options().max_body_bytes;
        let filter = Mutex::new(ThinkFilter::new());
        let mut on_content = |piece: &str| {
            // Held only for this push; the delta sink never awaits.
            let visible = filter.lock().unwrap_or_else(|p| p.into_inner()).push(piece);
            if !visible.is_empty() {
                delta(&visible);
            }
        };
        let result = if is_json {
            // A server that ignored `stream: true` (or answered 200 with an error object).
            let bytes = response
                .bytes()
                .await
                .map_err(|e| Attempt::Cut(format!("the answer broke off: {}", e.without_url())))?;
            let text = String::from_utf8_lossy(&bytes);
            let body = format!("data: {}\n\ndata: [DONE]\n\n", text.replace('\n', " "));
            let chunks = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(body)]);
            sse::read_stream(chunks, None, max, &mut on_content).await
        } else {
            sse::read_stream(
                response.bytes_stream(),
                Some(self.options.idle_timeout),
                max,
                &mut on_content,
            )
            .await
        };
        let tail = filter.lock().unwrap_or_else(|p| p.into_inner()).finish();
        if !tail.is_empty() {
            delta(&tail);
        }
        let outcome = match &result {
            Ok(c) if c.is_complete() => format!("{status} streamed"),
            Ok(_) => format!("{status} cut off"),
            Err(e) => format!("{status} then {e}"),
        };
        let bytes = result.as_ref().map(|c| c.bytes).ok();
        self.client
            .log_done(call, &Method::POST, &url, &outcome, bytes, opened.started);
        drop(opened.permit);
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
        let mut completion = None;
        for attempt in 1..=2 {
            match self.attempt(&body, log, delta).await {
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
        let body = sse::strip_think(&completion.raw).trim_end().to_string();
        if body.trim().is_empty() {
            return Err(self.error(if completion.raw.trim().is_empty() {
                "the model returned no text"
            } else {
                "the model returned only reasoning (<think>…</think>) and no section text"
            }));
        }
        Ok(Written {
            body: prompt::clean_section(&body),
            usage: completion.usage,
        })
    }
}
