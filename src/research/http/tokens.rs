//! Token estimates for a model request whose server reported no usage: the o200k_base BPE
//! tokenizer (tiktoken-rs) over the prompt messages and the answer, marked as estimated.

use crate::research::Usage;

/// The tokenizer the estimates use, for log lines.
pub const TOKENIZER: &str = "o200k_base";

/// Tokens OpenAI's chat format adds around each message (role and separators), and once to
/// prime the reply; the same constants as OpenAI's own counting recipe.
const PER_MESSAGE: u64 = 3;
const REPLY_PRIMING: u64 = 3;

/// Prompt and completion tokens estimated with [`TOKENIZER`]: `messages` as sent (the
/// `messages` array of a Chat Completions request), `completion` the text the model returned.
pub fn estimate(messages: &serde_json::Value, completion: &str) -> Usage {
    // Loaded once per process (about 0.1 s in release); callers run this off the async threads.
    let bpe = tiktoken_rs::o200k_base_singleton();
    let count = |s: &str| bpe.encode_ordinary(s).len() as u64;
    let prompt = messages.as_array().map_or(0, |all| {
        all.iter()
            .map(|m| {
                PER_MESSAGE
                    + m["role"].as_str().map_or(0, count)
                    + m["content"].as_str().map_or(0, count)
            })
            .sum::<u64>()
            + REPLY_PRIMING
    });
    Usage {
        prompt_tokens: prompt,
        completion_tokens: count(completion),
        estimated: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tokens_not_characters() {
        let text = " hello".repeat(200);
        let u = estimate(&serde_json::json!([]), &text);
        assert_eq!(u.completion_tokens, 200);
        assert!(u.estimated);
        let m = serde_json::json!([{"role": "user", "content": "hello"}]);
        assert_eq!(estimate(&m, "").prompt_tokens, 3 + 1 + 1 + 3);
    }
}
