//! The streamed answer of an OpenAI-compatible chat completion: server-sent events parsed with
//! eventsource-stream, chunk JSON read into content, finish reason and usage, and `<think>`
//! blocks removed.

use std::sync::Mutex;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use serde::Deserialize;

use super::client::json_error_message;
use crate::research::Usage;

/// What the stream delivered before it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// Every content piece concatenated, `<think>` blocks included.
    pub raw: String,
    /// The finish reason of the (first) choice, if one arrived.
    pub finish_reason: Option<String>,
    /// Whether `data: [DONE]` arrived.
    pub done: bool,
    /// Token usage, if the server sent it.
    pub usage: Option<Usage>,
    /// Bytes received.
    pub bytes: usize,
}

impl Completion {
    /// Whether the answer ended properly: `[DONE]` or a finish reason arrived. A stream that
    /// simply stops has been cut and its text must not be taken as a whole draft.
    pub fn is_complete(&self) -> bool {
        self.done || self.finish_reason.is_some()
    }
}

/// Why reading the stream failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamFailure {
    /// The server sent an error in the stream.
    #[error("the model server reported an error: {0}")]
    Server(String),
    /// The stream held something that is not a chat completion chunk.
    #[error("the stream is not an OpenAI-compatible chat completion: {0}")]
    Invalid(String),
    /// The connection broke or went quiet (the text so far is incomplete).
    #[error("{0}")]
    Cut(String),
    /// The answer passed one of its size caps.
    #[error("the answer passed the {limit}-byte limit on {what}; the rest was not read")]
    TooLarge {
        /// What was measured, with the setting that caps it.
        what: &'static str,
        /// The cap, in bytes.
        limit: usize,
    },
    /// The whole answer took longer than allowed.
    #[error("the answer was not complete after {:.0} s, the time a draft may take ([model] timeout_secs)", .0.as_secs_f64())]
    Deadline(Duration),
}

/// Bytes of answer text (content pieces, reasoning included) a draft may have by default.
pub const DEFAULT_MAX_TEXT: usize = 1_000_000;
/// Bytes one server-sent event may have by default.
pub const DEFAULT_MAX_EVENT: usize = 1 << 20;
/// Raw bytes a whole stream may have by default: generous, as chunk JSON is ~15× its text.
pub const DEFAULT_MAX_RAW: usize = 64 << 20;

/// Bounds on one streamed answer; passing any ends the stream with a clear error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamLimits {
    /// Longest time without progress (text, a finish reason, usage or `[DONE]`): keep-alives
    /// and comments do not count, so a server sending only those is stopped.
    pub idle: Option<Duration>,
    /// When the whole answer must be complete.
    pub deadline: Option<tokio::time::Instant>,
    /// The time the deadline stands for, for its message.
    pub total: Duration,
    /// Bytes of answer text at most.
    pub max_text: usize,
    /// Bytes of one event at most (a line that never ends is stopped here).
    pub max_event: usize,
    /// Raw bytes of the whole stream at most.
    pub max_raw: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            idle: None,
            deadline: None,
            total: Duration::ZERO,
            max_text: DEFAULT_MAX_TEXT,
            max_event: DEFAULT_MAX_EVENT,
            max_raw: DEFAULT_MAX_RAW,
        }
    }
}

/// One parsed `data:` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A piece of the answer's text.
    Content(String),
    /// Why the model stopped.
    Finish(String),
    /// Token usage.
    Usage(Usage),
    /// `[DONE]`.
    Done,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<UsageJson>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    message: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct UsageJson {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

/// The pieces in one `data:` payload (a chunk, `[DONE]`, or an error object).
pub fn parse_data(data: &str) -> Result<Vec<Piece>, StreamFailure> {
    let data = data.trim();
    // `data: : keepalive` and empty data are keep-alives, not chunks.
    if data.is_empty() || data.starts_with(':') {
        return Ok(Vec::new());
    }
    if data == "[DONE]" {
        return Ok(vec![Piece::Done]);
    }
    let value: serde_json::Value = serde_json::from_str(data).map_err(|e| {
        StreamFailure::Invalid(format!("{e} in `{}`", crate::words::shorten(data, 120)))
    })?;
    let is_error = value.get("error").is_some_and(|e| !e.is_null())
        || value.get("object").and_then(|o| o.as_str()) == Some("error");
    if is_error {
        return Err(StreamFailure::Server(
            json_error_message(&value).unwrap_or_else(|| crate::words::shorten(data, 300)),
        ));
    }
    let chunk: Chunk = serde_json::from_value(value).map_err(|e| {
        StreamFailure::Invalid(format!("{e} in `{}`", crate::words::shorten(data, 120)))
    })?;
    let mut out = Vec::new();
    for choice in chunk.choices.unwrap_or_default() {
        // expanse asks for one choice; a server that sends more is read for the first only.
        if choice.index.unwrap_or(0) != 0 {
            continue;
        }
        let content = choice
            .delta
            .and_then(|d| d.content)
            .or_else(|| choice.message.and_then(|m| m.content));
        if let Some(c) = content.filter(|c| !c.is_empty()) {
            out.push(Piece::Content(c));
        }
        if let Some(r) = choice.finish_reason.filter(|r| !r.is_empty()) {
            out.push(Piece::Finish(r));
        }
    }
    if let Some(u) = chunk.usage {
        out.push(Piece::Usage(Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            estimated: false,
        }));
    }
    Ok(out)
}

/// Byte counts of the raw stream, kept as it flows into the SSE parser: the whole stream, and
/// the event being received (since the last blank line).
#[derive(Default)]
struct Counter {
    raw: usize,
    event: usize,
    /// The previous byte ended a line (so a line end now is a blank line: an event's end).
    at_line_start: bool,
    /// The previous byte was a CR (a following LF belongs to the same line end).
    after_cr: bool,
    /// Which cap was passed, once one was.
    over: Option<(&'static str, usize)>,
}

impl Counter {
    fn count(&mut self, bytes: &[u8], limits: &StreamLimits) -> Result<(), ()> {
        self.raw += bytes.len();
        for &b in bytes {
            match b {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    if self.at_line_start {
                        self.event = 0;
                    }
                    self.at_line_start = true;
                }
                _ => {
                    self.after_cr = false;
                    self.at_line_start = false;
                    self.event += 1;
                    if self.event > limits.max_event {
                        self.over = Some(("one event ([model] max_event_bytes)", limits.max_event));
                        return Err(());
                    }
                }
            }
        }
        if self.raw > limits.max_raw {
            self.over = Some((
                "the whole stream ([model] max_stream_bytes)",
                limits.max_raw,
            ));
            return Err(());
        }
        Ok(())
    }
}

/// Reads a chat completion stream to its end. `on_content` gets each content piece as it
/// arrives; `limits` bound the time without progress, the whole time, the text, each event and
/// the raw stream, each checked as the bytes arrive (nothing past a cap is buffered).
pub async fn read_stream<S, B, E>(
    bytes: S,
    limits: &StreamLimits,
    on_content: &mut (dyn FnMut(&str) + Send),
) -> Result<Completion, StreamFailure>
where
    S: Stream<Item = Result<B, E>> + Send,
    B: AsRef<[u8]> + Send,
    E: std::fmt::Display + Send,
{
    let mut completion = Completion::default();
    // Held only inside the byte stream's map and after it is dropped; never across an await.
    let counter = Mutex::new(Counter::default());
    let counted = bytes.map(|item| match item {
        Ok(b) => {
            let mut c = counter.lock().unwrap_or_else(|p| p.into_inner());
            match c.count(b.as_ref(), limits) {
                Ok(()) => Ok(b.as_ref().to_vec()),
                Err(()) => Err("over a size cap".to_string()),
            }
        }
        Err(e) => Err(e.to_string()),
    });
    // eventsource-stream drops an event still open at the end of the input; a final blank line
    // closes it, so `data: [DONE]` without its trailing blank line is still seen.
    let closed = counted.chain(futures_util::stream::once(async {
        Ok::<Vec<u8>, String>(b"\n\n".to_vec())
    }));
    let mut events = Box::pin(eventsource_stream::EventStream::new(closed));
    let mut last_progress = tokio::time::Instant::now();
    let mut keepalives = 0usize;
    let over = |counter: &Mutex<Counter>| {
        counter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .over
            .map(|(what, limit)| StreamFailure::TooLarge { what, limit })
    };
    loop {
        let idle_end = limits.idle.map(|d| last_progress + d);
        let until = match (idle_end, limits.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let next = match until {
            Some(when) => match tokio::time::timeout_at(when, events.next()).await {
                Ok(n) => n,
                Err(_) => {
                    if limits
                        .deadline
                        .is_some_and(|d| tokio::time::Instant::now() >= d)
                    {
                        return Err(StreamFailure::Deadline(limits.total));
                    }
                    let secs = limits.idle.unwrap_or_default().as_secs_f64();
                    return Err(StreamFailure::Cut(if keepalives > 0 {
                        format!(
                            "the model server sent only keep-alives ({keepalives}) and no text for {secs:.0} s"
                        )
                    } else {
                        format!("no data from the model server for {secs:.0} s")
                    }));
                }
            },
            None => events.next().await,
        };
        let Some(event) = next else { break };
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                return Err(over(&counter)
                    .unwrap_or_else(|| StreamFailure::Cut(format!("the stream broke: {e}"))));
            }
        };
        if event.event == "error" {
            let v: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
            return Err(StreamFailure::Server(
                json_error_message(&v).unwrap_or_else(|| crate::words::shorten(&event.data, 300)),
            ));
        }
        let pieces = match parse_data(&event.data) {
            Ok(p) => p,
            // A half-written last line is a cut stream, not a server speaking nonsense.
            Err(StreamFailure::Invalid(_)) if !completion.done && looks_cut(&event.data) => {
                return Err(StreamFailure::Cut("the stream ended inside a chunk".into()));
            }
            Err(e) => return Err(e),
        };
        if pieces.is_empty() {
            keepalives += 1;
            continue;
        }
        last_progress = tokio::time::Instant::now();
        keepalives = 0;
        absorb(&mut completion, pieces, limits.max_text, on_content)?;
        if completion.done {
            break;
        }
    }
    drop(events);
    completion.bytes = counter.lock().unwrap_or_else(|p| p.into_inner()).raw;
    Ok(completion)
}

/// A whole (not streamed) chat completion body, as a server that ignored `stream: true` sends
/// it: read like one event of a stream that then ends with `[DONE]`.
pub fn read_json(
    body: &[u8],
    max_text: usize,
    on_content: &mut (dyn FnMut(&str) + Send),
) -> Result<Completion, StreamFailure> {
    let text = String::from_utf8_lossy(body);
    let mut completion = Completion::default();
    absorb(&mut completion, parse_data(&text)?, max_text, on_content)?;
    completion.done = true;
    completion.bytes = body.len();
    Ok(completion)
}

/// Adds one payload's pieces to the completion, refusing text past `max_text`.
fn absorb(
    completion: &mut Completion,
    pieces: Vec<Piece>,
    max_text: usize,
    on_content: &mut (dyn FnMut(&str) + Send),
) -> Result<(), StreamFailure> {
    for piece in pieces {
        match piece {
            Piece::Content(c) => {
                if completion.raw.len() + c.len() > max_text {
                    return Err(StreamFailure::TooLarge {
                        what: "the answer's text ([model] max_answer_bytes)",
                        limit: max_text,
                    });
                }
                on_content(&c);
                completion.raw.push_str(&c);
            }
            Piece::Finish(r) => {
                completion.finish_reason.get_or_insert(r);
            }
            Piece::Usage(u) => completion.usage = Some(u),
            Piece::Done => completion.done = true,
        }
    }
    Ok(())
}

fn looks_cut(data: &str) -> bool {
    let t = data.trim_end();
    t.starts_with('{') && !t.ends_with('}')
}

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// Removes `<think>…</think>` blocks from streamed text, holding back any piece that might be
/// the start of a tag split across chunks.
#[derive(Debug, Default)]
pub struct ThinkFilter {
    pending: String,
    inside: bool,
    /// Still at the start of the answer (or just after a think block): leading whitespace is dropped.
    at_start: bool,
    started: bool,
}

impl ThinkFilter {
    /// A filter at the start of an answer.
    pub fn new() -> ThinkFilter {
        ThinkFilter {
            at_start: true,
            ..ThinkFilter::default()
        }
    }

    /// The visible text this piece completes.
    pub fn push(&mut self, piece: &str) -> String {
        self.started = true;
        self.pending.push_str(piece);
        let mut out = String::new();
        loop {
            if self.inside {
                if let Some(end) = self.pending.find(CLOSE) {
                    self.pending.drain(..end + CLOSE.len());
                    self.inside = false;
                    self.at_start = true;
                    continue;
                }
                // Keep only what could begin the closing tag.
                let keep = partial_suffix(&self.pending, CLOSE);
                self.pending.drain(..self.pending.len() - keep);
                break;
            }
            if self.at_start {
                let trimmed = self.pending.trim_start().len();
                self.pending.drain(..self.pending.len() - trimmed);
                if self.pending.is_empty() {
                    break;
                }
                self.at_start = false;
            }
            let next_open = self.pending.find(OPEN);
            let next_close = self.pending.find(CLOSE);
            match (next_open, next_close) {
                (Some(o), c) if c.is_none_or(|c| o < c) => {
                    out.push_str(&self.pending[..o]);
                    self.pending.drain(..o + OPEN.len());
                    self.inside = true;
                }
                (_, Some(c)) => {
                    // A closing tag with no opening one: the model's template opened the block.
                    out.push_str(&self.pending[..c]);
                    self.pending.drain(..c + CLOSE.len());
                    self.at_start = true;
                }
                _ => {
                    let keep = partial_suffix(&self.pending, OPEN)
                        .max(partial_suffix(&self.pending, CLOSE));
                    let emit = self.pending.len() - keep;
                    out.push_str(&self.pending[..emit]);
                    self.pending.drain(..emit);
                    break;
                }
            }
        }
        out
    }

    /// What is left at the end of the stream: a held-back partial tag is text after all;
    /// an unterminated think block is dropped.
    pub fn finish(&mut self) -> String {
        if self.inside {
            self.pending.clear();
            return String::new();
        }
        std::mem::take(&mut self.pending)
    }
}

/// The answer with reasoning removed: `<think>…</think>` blocks, an unterminated leading
/// `<think>` block, and everything before an orphan `</think>` (a template that opened the block
/// itself). This is authoritative for the draft; [`ThinkFilter`] only shapes the live preview.
pub fn strip_think(raw: &str) -> String {
    // Orphan closing tags (no opening one before them) cut everything up to them; a loop, not
    // recursion, so a model emitting thousands of them cannot overflow the stack.
    let mut raw = raw;
    while let Some(c) = raw.find(CLOSE)
        && !raw[..c].contains(OPEN)
    {
        raw = &raw[c + CLOSE.len()..];
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(o) = rest.find(OPEN) {
        out.push_str(&rest[..o]);
        match rest[o..].find(CLOSE) {
            Some(c) => rest = &rest[o + c + CLOSE.len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out.trim_start().to_string()
}

/// Length of the longest suffix of `text` that is a proper prefix of `tag`.
fn partial_suffix(text: &str, tag: &str) -> usize {
    (1..tag.len())
        .rev()
        .find(|&n| {
            text.len() >= n
                && text.is_char_boundary(text.len() - n)
                && tag.starts_with(&text[text.len() - n..])
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter_all(pieces: &[&str]) -> String {
        let mut f = ThinkFilter::new();
        let mut out: String = pieces.iter().map(|p| f.push(p)).collect();
        out.push_str(&f.finish());
        out
    }

    #[test]
    fn think_blocks_are_removed_across_chunks() {
        assert_eq!(
            filter_all(&["<thi", "nk>plan", " it</th", "ink>\n\n# Title"]),
            "# Title"
        );
        assert_eq!(filter_all(&["# A\n", "<think>x</think>", "b"]), "# A\nb");
        assert_eq!(filter_all(&["<think>never closed"]), "");
        assert_eq!(filter_all(&["a <", "b"]), "a <b");
        assert_eq!(filter_all(&["reasoning</think>\n# T"]), "reasoning# T");
        assert_eq!(strip_think("reasoning</think>\n# T"), "# T");
        assert_eq!(strip_think("<think>a</think>\n# T <think>b"), "# T ");
        assert_eq!(strip_think("  # T"), "# T");
    }

    #[test]
    fn data_payloads() {
        assert_eq!(parse_data("[DONE]").unwrap(), vec![Piece::Done]);
        assert!(parse_data(": keepalive").unwrap().is_empty());
        let role = r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":null},"finish_reason":null}],"usage":null}"#;
        assert!(parse_data(role).unwrap().is_empty());
        let usage = r#"{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}"#;
        assert_eq!(
            parse_data(usage).unwrap(),
            vec![Piece::Usage(Usage {
                prompt_tokens: 9,
                completion_tokens: 3,
                estimated: false,
            })]
        );
        let e =
            parse_data(r#"{"error":{"message":"overloaded","type":"server_error"}}"#).unwrap_err();
        assert_eq!(e, StreamFailure::Server("overloaded".into()));
        let e =
            parse_data(r#"{"object":"error","message":"bad","type":"BadRequestError","code":400}"#)
                .unwrap_err();
        assert_eq!(e, StreamFailure::Server("bad (400)".into()));
        assert!(matches!(
            parse_data("{nope"),
            Err(StreamFailure::Invalid(_))
        ));
    }
}
