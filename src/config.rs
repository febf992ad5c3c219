//! Settings: the optional `expanse.toml` at the workspace root, with environment variables on top.
//! Secrets (API keys) come only from the environment.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The settings file's name, at the workspace root.
pub const FILE_NAME: &str = "expanse.toml";

/// Environment variables expanse reads.
pub mod env {
    /// Base URL of a SearXNG instance.
    pub const SEARXNG_URL: &str = "SEARXNG_URL";
    /// Brave Search API key.
    pub const BRAVE_API_KEY: &str = "BRAVE_API_KEY";
    /// Bright Data API key.
    pub const BRIGHTDATA_API_KEY: &str = "BRIGHTDATA_API_KEY";
    /// Bright Data SERP API zone.
    pub const BRIGHTDATA_SERP_ZONE: &str = "BRIGHTDATA_SERP_ZONE";
    /// Bright Data Web Unlocker zone.
    pub const BRIGHTDATA_UNLOCKER_ZONE: &str = "BRIGHTDATA_UNLOCKER_ZONE";
    /// Base URL of an OpenAI-compatible server.
    pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
    /// API key for it (optional for local servers).
    pub const OPENAI_API_KEY: &str = "OPENAI_API_KEY";
    /// The model to ask.
    pub const OPENAI_MODEL: &str = "OPENAI_MODEL";
    /// `1` (or `true`, `yes`) lets pages on loopback and private addresses be fetched, as
    /// `[fetch] allow_private = true` does.
    pub const EXPANSE_ALLOW_PRIVATE_URLS: &str = "EXPANSE_ALLOW_PRIVATE_URLS";
    /// Variables holding secrets: their values are redacted wherever text is shown.
    pub const SECRETS: &[&str] = &[BRAVE_API_KEY, BRIGHTDATA_API_KEY, OPENAI_API_KEY];
}

/// Why the settings could not be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: {message}")]
    Io {
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// The file is not valid TOML or has a value of the wrong type.
    #[error("{file}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// What went wrong (with line and column).
        message: String,
    },
    /// The file names a key expanse does not know.
    #[error("{file}: unknown key `{key}`{}", if known.is_empty() { String::new() } else { format!(" (known here: {known})") })]
    UnknownKey {
        /// The file.
        file: String,
        /// The dotted key.
        key: String,
        /// The keys allowed in that table.
        known: String,
    },
    /// The file holds a secret.
    #[error(
        "{file}: `{key}` looks like a secret; expanse reads secrets only from the environment — remove it from the file and set {env} instead"
    )]
    Secret {
        /// The file.
        file: String,
        /// The dotted key.
        key: String,
        /// The environment variable to use.
        env: String,
    },
}

/// Which search provider to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchProvider {
    /// A SearXNG instance.
    Searxng,
    /// Brave Search API.
    Brave,
    /// Bright Data SERP API.
    Brightdata,
    /// The local corpus.
    Local,
}

/// Which fetcher to use for web pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FetchProvider {
    /// Direct HTTP.
    Direct,
    /// Bright Data Web Unlocker.
    Brightdata,
    /// Only the local corpus.
    Local,
}

/// `[search]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    /// The provider; inferred from the environment when absent.
    pub provider: Option<SearchProvider>,
    /// SearXNG base URL (`SEARXNG_URL` overrides).
    pub searxng_url: Option<String>,
    /// Brave API base URL (tests point it at a local server).
    pub brave_url: Option<String>,
    /// Bright Data API base URL (tests point it at a local server).
    pub brightdata_url: Option<String>,
    /// Searches a second to the search provider (its own rate, apart from web sites').
    pub requests_per_second: Option<f64>,
}

/// `[fetch]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchSettings {
    /// The fetcher; inferred when absent.
    pub provider: Option<FetchProvider>,
    /// Fetch pages on loopback, private, link-local and unique-local addresses too (for
    /// self-hosted sources); off by default, since search results are untrusted input.
    pub allow_private: Option<bool>,
    /// Seconds one page may take in all, retries included (default 60).
    pub page_deadline_secs: Option<u64>,
}

/// `[model]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// OpenAI-compatible base URL (`OPENAI_BASE_URL` overrides).
    pub base_url: Option<String>,
    /// The model (`OPENAI_MODEL` overrides).
    pub model: Option<String>,
    /// Characters of source text sent to the model at most.
    pub context_chars: Option<usize>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Completion tokens at most (none: the server's default).
    pub max_tokens: Option<u32>,
    /// Seconds a streamed answer may take in all.
    pub timeout_secs: Option<u64>,
    /// Seconds without new text before a stream counts as stalled (keep-alives do not count).
    pub idle_timeout_secs: Option<u64>,
    /// Model requests in flight at once (streams included).
    pub concurrency: Option<usize>,
    /// Model requests a second (none: no rate limit).
    pub requests_per_second: Option<f64>,
    /// Bytes of answer text one request may return.
    pub max_answer_bytes: Option<usize>,
    /// Bytes of one server-sent event.
    pub max_event_bytes: Option<usize>,
    /// Raw bytes of one streamed answer.
    pub max_stream_bytes: Option<usize>,
    /// Dollars per million prompt tokens (no price: no cost is shown).
    pub price_input_per_mtok: Option<f64>,
    /// Dollars per million completion tokens.
    pub price_output_per_mtok: Option<f64>,
}

/// `[review]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewSettings {
    /// Ask for a confirming key before an approval in the TUI (default true).
    pub confirm_approve: Option<bool>,
    /// `lexical` (default) checks claims against their sources by their words; `model` also
    /// asks the model about weak and unsupported claims.
    pub verify: Option<Verify>,
}

/// How claims are checked against their sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verify {
    /// Shared words, numbers and named terms.
    Lexical,
    /// The lexical check, then a yes/no question to the model for weak and unsupported claims.
    Model,
}

/// `[notify]`: a word when a person is needed (a draft to review, a failure, a budget reached,
/// the run finished).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Ring the terminal's bell and ask it for a desktop notification (default true).
    pub terminal: Option<bool>,
    /// A shell command run for each notice, given it as one JSON line on stdin.
    pub command: Option<String>,
}

/// `[budget]`: caps on model spending for a run.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSettings {
    /// Tokens (prompt + completion) for the plan as a whole.
    pub tokens: Option<u64>,
    /// Dollars for the plan as a whole (needs prices in `[model]`).
    pub usd: Option<f64>,
    /// Tokens per PART.
    pub per_part_tokens: Option<u64>,
    /// Ask before starting a run whose estimated cost may pass this many dollars.
    pub confirm_over_usd: Option<f64>,
}

/// `[limits]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Page requests a second to one web site (politeness; search and model have their own).
    pub requests_per_second: Option<f64>,
    /// Page requests in flight to one web site.
    pub per_host_concurrency: Option<usize>,
    /// Seconds one request may take.
    pub timeout_secs: Option<u64>,
    /// Seconds to connect.
    pub connect_timeout_secs: Option<u64>,
    /// Largest response body, in bytes.
    pub max_body_bytes: Option<usize>,
    /// Attempts per request, the first included.
    pub attempts: Option<usize>,
}

/// Everything `expanse.toml` may say. Every field is optional; an absent file is all defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Runners at once.
    pub jobs: Option<usize>,
    /// The corpus folder for local search, relative to the workspace root.
    pub corpus: Option<PathBuf>,
    /// `[search]`.
    #[serde(default)]
    pub search: SearchSettings,
    /// `[fetch]`.
    #[serde(default)]
    pub fetch: FetchSettings,
    /// `[model]`.
    #[serde(default)]
    pub model: ModelSettings,
    /// `[limits]`.
    #[serde(default)]
    pub limits: LimitSettings,
    /// `[review]`.
    #[serde(default)]
    pub review: ReviewSettings,
    /// `[budget]`.
    #[serde(default)]
    pub budget: BudgetSettings,
    /// `[sources]`: site globs to deny, prefer, or fetch only.
    #[serde(default)]
    pub sources: crate::sources::SourcePolicy,
    /// `[notify]`: the terminal's bell and notification, and a command, when a person is needed.
    #[serde(default)]
    pub notify: NotifySettings,
    /// `[keys]`: TUI action name -> key (`pause = "space"`); checked by the TUI's keymap.
    #[serde(default)]
    pub keys: std::collections::BTreeMap<String, String>,
}

/// Keys allowed per table, for the unknown-key message (kept beside the structs above).
const KNOWN: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "jobs", "corpus", "search", "fetch", "model", "limits", "review", "budget", "keys",
            "sources", "notify",
        ],
    ),
    (
        "search",
        &[
            "provider",
            "searxng_url",
            "brave_url",
            "brightdata_url",
            "requests_per_second",
        ],
    ),
    (
        "fetch",
        &["provider", "allow_private", "page_deadline_secs"],
    ),
    (
        "model",
        &[
            "base_url",
            "model",
            "context_chars",
            "temperature",
            "max_tokens",
            "timeout_secs",
            "price_input_per_mtok",
            "price_output_per_mtok",
            "idle_timeout_secs",
            "concurrency",
            "requests_per_second",
            "max_answer_bytes",
            "max_event_bytes",
            "max_stream_bytes",
        ],
    ),
    ("review", &["confirm_approve", "verify"]),
    (
        "budget",
        &["tokens", "usd", "per_part_tokens", "confirm_over_usd"],
    ),
    ("sources", &["deny", "prefer", "only"]),
    ("notify", &["terminal", "command"]),
    (
        "limits",
        &[
            "requests_per_second",
            "per_host_concurrency",
            "timeout_secs",
            "connect_timeout_secs",
            "max_body_bytes",
            "attempts",
        ],
    ),
];

impl Config {
    /// `expanse.toml` under `root`, or the defaults when there is none.
    pub fn load(root: &Path) -> Result<Config, ConfigError> {
        let path = root.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(ConfigError::Io {
                file: path.display().to_string(),
                message: e.to_string(),
            }),
        }
    }

    /// Settings from TOML text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            file: file.to_string(),
            message: toml_message(text, &e),
        })?;
        check_keys(&table, "", file)?;
        // Parsed again from the text so type errors carry their line and column.
        // Secret-looking keys were refused above, so the quoted line in a type error is safe.
        toml::from_str::<Config>(text).map_err(|e| ConfigError::Invalid {
            file: file.to_string(),
            message: one_line(&e.to_string()),
        })
    }
}

/// A TOML error as `line L: message`, without the quoted source line: that line may hold a
/// secret typed where it does not belong (`api_key = sk-…` unquoted).
fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let line = e
        .span()
        .map(|s| text.get(..s.start).unwrap_or(text).matches('\n').count() + 1);
    match line {
        Some(l) => format!("line {l}: {}", one_line(e.message())),
        None => one_line(e.message()),
    }
}

/// Secrets refused first (with the variable to use instead), then keys expanse does not know.
fn check_keys(table: &toml::Table, prefix: &str, file: &str) -> Result<(), ConfigError> {
    for (key, value) in table {
        let dotted = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        // `[keys]` holds key bindings, not secrets; the keymap checks its content.
        if prefix.is_empty() && key == "keys" {
            continue;
        }
        let known = KNOWN.iter().find(|(t, _)| *t == prefix).map(|(_, k)| *k);
        // A setting expanse knows (`max_tokens`, `[budget] tokens`) is never taken for a secret.
        let is_setting = known.is_some_and(|keys| keys.contains(&key.as_str()));
        if !is_setting && let Some(env) = secret_env(prefix, key) {
            return Err(ConfigError::Secret {
                file: file.to_string(),
                key: dotted,
                env: env.to_string(),
            });
        }
        match known {
            Some(keys) if !keys.contains(&key.as_str()) => {
                return Err(ConfigError::UnknownKey {
                    file: file.to_string(),
                    key: dotted,
                    known: keys.join(", "),
                });
            }
            None => {
                return Err(ConfigError::UnknownKey {
                    file: file.to_string(),
                    key: dotted,
                    known: String::new(),
                });
            }
            _ => {}
        }
        if let toml::Value::Table(inner) = value
            && prefix.is_empty()
        {
            check_keys(inner, key, file)?;
        }
    }
    Ok(())
}

/// The environment variable a secret-looking key should have been.
fn secret_env(table: &str, key: &str) -> Option<&'static str> {
    let k = key.to_ascii_lowercase();
    let secret = ["key", "token", "secret", "password"]
        .iter()
        .any(|w| k.contains(w));
    if !secret {
        return None;
    }
    Some(match (table, k.as_str()) {
        ("model", _) => env::OPENAI_API_KEY,
        (_, k) if k.contains("brave") => env::BRAVE_API_KEY,
        (_, k) if k.contains("bright") => env::BRIGHTDATA_API_KEY,
        (_, k) if k.contains("openai") => env::OPENAI_API_KEY,
        ("search", _) => "BRAVE_API_KEY or BRIGHTDATA_API_KEY",
        ("fetch", _) => env::BRIGHTDATA_API_KEY,
        _ => "the provider's environment variable",
    })
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '|' || c == '^' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A view of the environment: a function from variable name to value, so tests need not touch
/// the process environment. Empty values count as unset.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, for [`crate::research::select`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Whether a yes/no variable is set to yes (`1`, `true`, `yes`, `on`, any case).
pub fn flag(env: EnvLookup<'_>, name: &str) -> bool {
    var(env, name)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

/// A variable's value, trimmed, `None` when unset or blank.
pub fn var(env: EnvLookup<'_>, name: &str) -> Option<String> {
    env(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_file_parses() {
        let c = Config::parse(
            "jobs = 4\ncorpus = \"docs\"\n[search]\nprovider = \"searxng\"\nsearxng_url = \"http://127.0.0.1:8888\"\n\
             [fetch]\nprovider = \"direct\"\n[model]\nbase_url = \"http://127.0.0.1:8000/v1\"\nmodel = \"qwen\"\ncontext_chars = 40000\ntemperature = 0.2\n\
             [limits]\nrequests_per_second = 2.5\nper_host_concurrency = 3\ntimeout_secs = 20\nconnect_timeout_secs = 5\nmax_body_bytes = 1000000\n",
            "expanse.toml",
        )
        .unwrap();
        assert_eq!(c.jobs, Some(4));
        assert_eq!(c.search.provider, Some(SearchProvider::Searxng));
        assert_eq!(c.model.context_chars, Some(40000));
        assert_eq!(c.limits.requests_per_second, Some(2.5));
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = Config::parse("[search]\nprovidr = \"brave\"\n", "ws/expanse.toml").unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("ws/expanse.toml") && m.contains("search.providr"),
            "{m}"
        );
        let e = Config::parse("[serch]\n", "expanse.toml").unwrap_err();
        assert!(e.to_string().contains("`serch`"), "{e}");
    }

    #[test]
    fn a_syntax_error_does_not_echo_the_line() {
        let e = Config::parse("[model]\napi_key = sk-live-abc123\n", "expanse.toml").unwrap_err();
        let m = e.to_string();
        assert!(!m.contains("sk-live-abc123"), "{m}");
        assert!(m.contains("line 2"), "{m}");
    }

    #[test]
    fn secrets_are_refused() {
        let e = Config::parse("[model]\napi_key = \"sk-1\"\n", "expanse.toml").unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("model.api_key") && m.contains("OPENAI_API_KEY"),
            "{m}"
        );
        assert!(!m.contains("sk-1"), "{m}");
        let e = Config::parse("[search]\nbrave_api_key = \"x\"\n", "f").unwrap_err();
        assert!(e.to_string().contains("BRAVE_API_KEY"), "{e}");
    }

    #[test]
    fn new_settings_parse_and_max_tokens_is_not_a_secret() {
        let c = Config::parse(
            "[search]\nrequests_per_second = 2.0\n[fetch]\nallow_private = true\n\
             [model]\nmax_tokens = 4096\nconcurrency = 8\nrequests_per_second = 3.5\n\
             max_answer_bytes = 2000000\nmax_event_bytes = 65536\nmax_stream_bytes = 9000000\nidle_timeout_secs = 30\n",
            "expanse.toml",
        )
        .unwrap();
        assert_eq!(c.search.requests_per_second, Some(2.0));
        assert_eq!(c.fetch.allow_private, Some(true));
        assert_eq!(c.model.max_tokens, Some(4096));
        assert_eq!(c.model.concurrency, Some(8));
        assert_eq!(c.model.max_event_bytes, Some(65536));
        assert!(Config::parse("[model]\napi_token = \"x\"\n", "f").is_err());
    }

    #[test]
    fn flags() {
        let on = |v: &'static str| move |_: &str| Some(v.to_string());
        assert!(flag(&on("1"), "X") && flag(&on("TRUE"), "X") && flag(&on(" yes "), "X"));
        assert!(!flag(&on("0"), "X") && !flag(&on("false"), "X") && !flag(&|_: &str| None, "X"));
    }

    #[test]
    fn bad_values_are_clear() {
        let e = Config::parse("[search]\nprovider = \"google\"\n", "f").unwrap_err();
        assert!(e.to_string().contains("google"), "{e}");
    }
}
