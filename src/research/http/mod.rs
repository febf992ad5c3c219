//! The network providers: SearXNG, Brave and Bright Data search, direct and Bright Data Web
//! Unlocker fetch, the streamed OpenAI-compatible writer, and [`select`], which picks the
//! providers of a run from `expanse.toml` and the environment.

pub mod brave;
pub mod brightdata;
pub mod client;
pub mod fetch;
pub mod openai;
pub mod prompt;
pub mod redact;
pub mod searxng;
pub mod sse;
pub mod tokens;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

pub use brave::BraveSearch;
pub use brightdata::{BrightDataSearch, UnlockerFetch};
pub use client::{Dest, HttpClient, HttpError, HttpOptions, RateLimit};
pub use fetch::{DirectFetch, RoutedFetch};
pub use openai::{OpenAiWriter, WriterOptions};
pub use redact::Redactor;
pub use searxng::SearxngSearch;

use crate::config::{self, Config, EnvLookup, FetchProvider, SearchProvider, env};
use crate::research::{
    Fetch, Hit, Page, Providers, ResearchError, Search, Writer, extract, local, offline,
};

/// An Accept header like a browser's: some search front ends turn away anything else.
pub const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.8,*/*;q=0.7";
/// An Accept-Language header like a browser's.
pub const BROWSER_ACCEPT_LANGUAGE: &str = "en-US,en;q=0.9";
/// Page requests a second to one web site when `[limits] requests_per_second` is not set.
pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 5.0;
/// Searches a second to SearXNG (usually self-hosted) or Bright Data when `[search]
/// requests_per_second` is not set: enough for every PART of a large plan to search at once.
pub const DEFAULT_SEARCH_REQUESTS_PER_SECOND: f64 = 20.0;
/// Searches a second to Brave when `[search] requests_per_second` is not set: its free plan's rate.
pub const DEFAULT_BRAVE_REQUESTS_PER_SECOND: f64 = 1.0;
/// Model requests in flight at once when `[model] concurrency` is not set: 16 PARTs writing
/// 5 sections each stream at once.
pub const DEFAULT_MODEL_CONCURRENCY: usize = 80;

/// The providers a run uses, with a line per provider saying which it is and why.
pub struct Selection {
    /// The providers (their `description` is `description` joined on one line).
    pub providers: Providers,
    /// One line per provider (search, fetch, writer), no secrets.
    pub description: String,
    /// The local corpus index, when local search or the offline providers are used.
    pub index: Option<local::IndexInfo>,
    /// The model writer, when a model is configured (it also answers the grounding check's
    /// yes/no questions with `[review] verify = "model"`).
    pub model: Option<Arc<OpenAiWriter>>,
}

/// Chooses the run's providers: the offline ones with `offline` or when nothing is configured;
/// otherwise the configured HTTP providers (local search and the extractive writer fill in for
/// what is not configured). `env` is the environment (see [`config::process_env`]); `corpus`
/// and `index_root` serve local search and `corpus://` fetches.
pub fn select(
    config: &Config,
    env: EnvLookup<'_>,
    offline_only: bool,
    corpus: &Path,
    index_root: &Path,
) -> Result<Selection, ResearchError> {
    if offline_only {
        return offline_selection(corpus, index_root, "--offline");
    }
    let search = search_choice(config, env)?;
    let model = config::var(env, env::OPENAI_MODEL).or_else(|| config.model.model.clone());
    let fetch = fetch_choice(config, env, search)?;
    if search == SearchProvider::Local && fetch == FetchProvider::Local && model.is_none() {
        return offline_selection(corpus, index_root, "nothing else is configured");
    }

    let secrets: Vec<String> = env::SECRETS
        .iter()
        .filter_map(|name| config::var(env, name))
        .collect();
    let redactor = Redactor::new(secrets);
    let options = http_options_in(config, env);
    let allow_private = options.allow_private;
    let client = Arc::new(
        HttpClient::new(options, redactor.clone())
            .map_err(|e| ResearchError::Config(e.to_string()))?,
    );
    let rps = config
        .limits
        .requests_per_second
        .unwrap_or(DEFAULT_REQUESTS_PER_SECOND);
    // Each search provider has its own rate: it protects that provider, not the web sites.
    let search_limit = |name: &str, default: f64| {
        let rate = config.search.requests_per_second.unwrap_or(default);
        Some(Arc::new(
            RateLimit::new(name).rate(rate, "[search] requests_per_second"),
        ))
    };
    let mut lines = Vec::new();
    let mut index = None;

    let search_provider: Arc<dyn Search> = match search {
        SearchProvider::Searxng => {
            let (url, from) = match config::var(env, env::SEARXNG_URL) {
                Some(u) => (u, "SEARXNG_URL"),
                None => (
                    config.search.searxng_url.clone().unwrap_or_default(),
                    "expanse.toml [search] searxng_url",
                ),
            };
            lines.push(format!(
                "search = searxng at {} (from {from})",
                redactor.url(&url)
            ));
            Arc::new(SearxngSearch::new(
                client.clone(),
                &url,
                search_limit("searxng", DEFAULT_SEARCH_REQUESTS_PER_SECOND),
            )?)
        }
        SearchProvider::Brave => {
            let key = required(env, env::BRAVE_API_KEY, "search.provider = \"brave\"")?;
            let base = config
                .search
                .brave_url
                .clone()
                .unwrap_or_else(|| brave::BRAVE_BASE.into());
            lines.push(format!(
                "search = brave at {} (key from BRAVE_API_KEY)",
                redactor.url(&base)
            ));
            Arc::new(BraveSearch::new(
                client.clone(),
                &base,
                key,
                search_limit("brave", DEFAULT_BRAVE_REQUESTS_PER_SECOND),
            )?)
        }
        SearchProvider::Brightdata => {
            let key = required(
                env,
                env::BRIGHTDATA_API_KEY,
                "search.provider = \"brightdata\"",
            )?;
            let zone = required(
                env,
                env::BRIGHTDATA_SERP_ZONE,
                "search.provider = \"brightdata\"",
            )?;
            let base = brightdata_base(config);
            lines.push(format!(
                "search = brightdata SERP zone {zone} at {} (key from BRIGHTDATA_API_KEY)",
                redactor.url(&base)
            ));
            Arc::new(BrightDataSearch::new(
                client.clone(),
                &base,
                key,
                zone,
                search_limit("brightdata", DEFAULT_SEARCH_REQUESTS_PER_SECOND),
            )?)
        }
        SearchProvider::Local => {
            let (s, info) = local::LocalSearch::open(corpus, index_root)?;
            lines.push(format!(
                "search = local corpus {} ({} documents; no web search is configured)",
                corpus.display(),
                info.documents
            ));
            index = Some(info);
            Arc::new(s)
        }
    };

    let corpus_fetch = Some(local::LocalFetch::new(corpus.to_path_buf()));
    let fetch_provider: Arc<dyn Fetch> = match fetch {
        FetchProvider::Direct => {
            lines.push(format!(
                "fetch = direct HTTP with main-content extraction ({}){}{}",
                extract::Extractor::CHOSEN.name(),
                if config.fetch.provider.is_some() {
                    ""
                } else {
                    ", the default with web search"
                },
                if allow_private {
                    "; pages on private addresses allowed"
                } else {
                    ""
                }
            ));
            // Pages are limited per web site by the client (politeness), not as a whole.
            Arc::new(RoutedFetch::new(
                corpus_fetch,
                Arc::new(DirectFetch::new(client.clone(), None)),
            ))
        }
        FetchProvider::Brightdata => {
            let key = required(
                env,
                env::BRIGHTDATA_API_KEY,
                "fetch.provider = \"brightdata\"",
            )?;
            let zone = required(
                env,
                env::BRIGHTDATA_UNLOCKER_ZONE,
                "fetch.provider = \"brightdata\"",
            )?;
            let base = brightdata_base(config);
            lines.push(format!(
                "fetch = brightdata Web Unlocker zone {zone} at {} (BRIGHTDATA_UNLOCKER_ZONE), then main-content extraction",
                redactor.url(&base)
            ));
            Arc::new(RoutedFetch::new(
                corpus_fetch,
                Arc::new(UnlockerFetch::new(
                    client.clone(),
                    &base,
                    key,
                    zone,
                    // Bright Data fetches the sites; its API is one endpoint, paced as a whole
                    // at the per-site page rate.
                    Some(Arc::new(
                        RateLimit::new("brightdata unlocker")
                            .rate(rps, "[limits] requests_per_second"),
                    )),
                )?),
            ))
        }
        FetchProvider::Local => {
            lines.push(format!("fetch = local corpus {}", corpus.display()));
            Arc::new(local::LocalFetch::new(corpus.to_path_buf()))
        }
    };

    let mut model_writer = None;
    let writer: Arc<dyn Writer> = match model_writer_for(config, env, &client)? {
        Some((w, line)) => {
            lines.push(line);
            model_writer = Some(w.clone());
            w
        }
        None => {
            lines.push(
                "writer = extractive (no model is configured: set OPENAI_MODEL, or [model] model in expanse.toml)".into(),
            );
            Arc::new(local::ExtractiveWriter)
        }
    };

    let description = lines.join("\n");
    Ok(Selection {
        providers: Providers {
            search: search_provider,
            fetch: fetch_provider,
            writer,
            description: lines.join("; "),
        },
        description,
        index,
        model: model_writer,
    })
}

fn offline_selection(
    corpus: &Path,
    index_root: &Path,
    why: &str,
) -> Result<Selection, ResearchError> {
    let (providers, info) = offline(corpus, index_root, why)?;
    Ok(Selection {
        description: providers.description.clone(),
        providers,
        index: Some(info),
        model: None,
    })
}

/// The search provider: as configured, else the first one the environment makes usable.
fn search_choice(config: &Config, env: EnvLookup<'_>) -> Result<SearchProvider, ResearchError> {
    if let Some(p) = config.search.provider {
        if p == SearchProvider::Searxng
            && config::var(env, env::SEARXNG_URL).is_none()
            && config.search.searxng_url.is_none()
        {
            return Err(ResearchError::Config(
                "search.provider = \"searxng\" needs SEARXNG_URL or [search] searxng_url".into(),
            ));
        }
        return Ok(p);
    }
    Ok(
        if config::var(env, env::SEARXNG_URL).is_some() || config.search.searxng_url.is_some() {
            SearchProvider::Searxng
        } else if config::var(env, env::BRAVE_API_KEY).is_some() {
            SearchProvider::Brave
        } else if config::var(env, env::BRIGHTDATA_API_KEY).is_some()
            && config::var(env, env::BRIGHTDATA_SERP_ZONE).is_some()
        {
            SearchProvider::Brightdata
        } else {
            SearchProvider::Local
        },
    )
}

/// The fetcher: as configured, else Web Unlocker when it is set up, direct HTTP with web
/// search, and the local corpus otherwise.
fn fetch_choice(
    config: &Config,
    env: EnvLookup<'_>,
    search: SearchProvider,
) -> Result<FetchProvider, ResearchError> {
    if let Some(p) = config.fetch.provider {
        return Ok(p);
    }
    let unlocker = config::var(env, env::BRIGHTDATA_API_KEY).is_some()
        && config::var(env, env::BRIGHTDATA_UNLOCKER_ZONE).is_some();
    Ok(match search {
        SearchProvider::Local => FetchProvider::Local,
        _ if unlocker => FetchProvider::Brightdata,
        _ => FetchProvider::Direct,
    })
}

fn required(env: EnvLookup<'_>, name: &str, why: &str) -> Result<String, ResearchError> {
    config::var(env, name)
        .ok_or_else(|| ResearchError::Config(format!("{why} needs {name} in the environment")))
}

fn brightdata_base(config: &Config) -> String {
    config
        .search
        .brightdata_url
        .clone()
        .unwrap_or_else(|| brightdata::BRIGHTDATA_BASE.into())
}

/// The configured model's writer on `client`, with the line saying which model and where (None:
/// no model is configured).
pub fn model_writer_for(
    config: &Config,
    env: EnvLookup<'_>,
    client: &Arc<HttpClient>,
) -> Result<Option<(Arc<OpenAiWriter>, String)>, ResearchError> {
    let Some(model) = config::var(env, env::OPENAI_MODEL).or_else(|| config.model.model.clone())
    else {
        return Ok(None);
    };
    let base = config::var(env, env::OPENAI_BASE_URL)
        .or_else(|| config.model.base_url.clone())
        .unwrap_or_else(|| openai::OPENAI_BASE.into());
    let key = config::var(env, env::OPENAI_API_KEY);
    let mut options = WriterOptions::new(&base, &model, key.clone());
    if let Some(c) = config.model.context_chars {
        options.context_chars = c;
    }
    if config.model.temperature.is_some() {
        options.temperature = config.model.temperature;
    }
    options.max_tokens = config.model.max_tokens;
    if let Some(t) = config.model.timeout_secs {
        options.timeout = Duration::from_secs(t.max(1));
    }
    if let Some(t) = config.model.idle_timeout_secs {
        options.idle_timeout = Duration::from_secs(t.max(1));
    }
    let m = &config.model;
    options.max_answer_bytes = m.max_answer_bytes.unwrap_or(options.max_answer_bytes);
    options.max_event_bytes = m.max_event_bytes.unwrap_or(options.max_event_bytes);
    options.max_stream_bytes = m.max_stream_bytes.unwrap_or(options.max_stream_bytes);
    // The model server's own limits: it is not a web site, so no per-host cap applies.
    let mut limit = RateLimit::new("the model server").concurrency(
        m.concurrency.unwrap_or(DEFAULT_MODEL_CONCURRENCY),
        "[model] concurrency",
    );
    if let Some(r) = m.requests_per_second {
        limit = limit.rate(r, "[model] requests_per_second");
    }
    let line = format!(
        "writer = openai-compatible model {model} at {} ({}, {} context characters)",
        client.redactor().url(&base),
        if key.is_some() {
            "key from OPENAI_API_KEY"
        } else {
            "no API key"
        },
        options.context_chars
    );
    let w = Arc::new(OpenAiWriter::new(
        client.clone(),
        options,
        Some(Arc::new(limit)),
    )?);
    Ok(Some((w, line)))
}

/// HTTP options from `[limits]` and `[fetch] allow_private`, with the process environment's
/// `EXPANSE_ALLOW_PRIVATE_URLS`.
pub fn http_options(config: &Config) -> HttpOptions {
    http_options_in(config, &config::process_env)
}

/// HTTP options from `[limits]`, `[fetch] allow_private` and `EXPANSE_ALLOW_PRIVATE_URLS` in `env`.
pub fn http_options_in(config: &Config, env: EnvLookup<'_>) -> HttpOptions {
    let mut o = HttpOptions {
        allow_private: config.fetch.allow_private.unwrap_or(false)
            || config::flag(env, env::EXPANSE_ALLOW_PRIVATE_URLS),
        ..HttpOptions::default()
    };
    let l = &config.limits;
    if let Some(r) = l.requests_per_second {
        o.per_host_rate = Some(r);
    }
    if let Some(t) = l.timeout_secs {
        o.timeout = Duration::from_secs(t.max(1));
    }
    if let Some(t) = l.connect_timeout_secs {
        o.connect_timeout = Duration::from_secs(t.max(1));
    }
    if let Some(b) = l.max_body_bytes {
        o.max_body_bytes = b;
    }
    if let Some(c) = l.per_host_concurrency {
        o.per_host_concurrency = c.max(1);
    }
    if let Some(a) = l.attempts {
        o.attempts = a.max(1);
    }
    o
}

/// `base` with `path` appended as a path segment list (a trailing slash on `base` or not).
pub(crate) fn join(provider: &str, base: &str, path: &str) -> Result<Url, ResearchError> {
    let base = base.trim();
    let mut url = Url::parse(base).map_err(|e| {
        ResearchError::Config(format!(
            "{provider}: `{}` is not a URL: {e}",
            Redactor::default().url(base)
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ResearchError::Config(format!(
            "{provider}: `{}` is not an http(s) URL",
            Redactor::default().url(base)
        )));
    }
    {
        let mut segments = url.path_segments_mut().map_err(|_| {
            ResearchError::Config(format!("{provider}: `{base}` cannot take a path"))
        })?;
        segments.pop_if_empty();
        segments.extend(path.split('/'));
    }
    url.set_query(None);
    Ok(url)
}

/// Only http(s) pages are fetched from the web.
pub(crate) fn check_web_url(provider: &str, url: &str) -> Result<(), ResearchError> {
    match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(ResearchError::Provider {
            provider: provider.into(),
            message: format!("{} is not an http(s) address", Redactor::default().url(url)),
        }),
    }
}

/// An HTTP failure as a provider error, with secrets removed.
pub(crate) fn provider_error(client: &HttpClient, provider: &str, e: HttpError) -> ResearchError {
    ResearchError::Provider {
        provider: provider.into(),
        message: client.redact(&e.to_string()),
    }
}

/// JSON of the expected shape, or an error naming the provider and what was wrong.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    client: &HttpClient,
    provider: &str,
    body: &[u8],
) -> Result<T, ResearchError> {
    serde_json::from_slice(body).map_err(|e| {
        let start: String = String::from_utf8_lossy(body).chars().take(120).collect();
        ResearchError::Provider {
            provider: provider.into(),
            message: format!(
                "unexpected answer (not the JSON this provider returns): {e}; it starts with {:?}",
                // The client knows the configured keys: a server echoing one is still redacted.
                client.redact(&start)
            ),
        }
    })
}

/// A page body as a [`Page`]: HTML through main-content extraction, PDF through text
/// extraction, text and markdown as they are ([`extract::Kind::of`] decides), on the
/// extraction thread rather than the async workers. A page that fails is
/// [`ResearchError::Unreadable`], naming it.
pub(crate) async fn decode_page(
    provider: &str,
    url: &str,
    fetched: client::Fetched,
) -> Result<Page, ResearchError> {
    let fail = |e: extract::ExtractError| ResearchError::Unreadable {
        provider: provider.into(),
        url: Redactor::default().url(url),
        reason: e.to_string(),
    };
    let kind = extract::Kind::of(fetched.content_type.as_deref(), &fetched.body).map_err(fail)?;
    let charset = fetched
        .content_type
        .as_deref()
        .and_then(extract::charset_of);
    extract::extract_document_async(fetched.body, kind, url.to_string(), charset)
        .await
        .map_err(fail)
}

/// A search answer's results as ranked hits: web addresses only (an engine's internal links
/// cannot be fetched), the first `limit`, titles and snippets as plain text.
pub(crate) fn web_hits(
    results: impl IntoIterator<Item = (String, String, Option<String>)>,
    limit: usize,
) -> Vec<Hit> {
    results
        .into_iter()
        .filter(|(url, _, _)| url.starts_with("http://") || url.starts_with("https://"))
        .take(limit)
        .map(|(url, title, snippet)| Hit {
            title: plain_snippet(&title),
            snippet: plain_snippet(snippet.as_deref().unwrap_or("")),
            url,
        })
        .collect()
}

/// A search snippet as plain text: tags removed (Brave marks matches with `<strong>`), the
/// common entities decoded, whitespace collapsed.
pub fn plain_snippet(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&nbsp;", " ")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join() {
        assert_eq!(
            join("x", "http://h:1/", "search").unwrap().as_str(),
            "http://h:1/search"
        );
        assert_eq!(
            join("x", "http://h/v1", "chat/completions")
                .unwrap()
                .as_str(),
            "http://h/v1/chat/completions"
        );
        assert_eq!(
            join("x", "http://h/v1/", "chat/completions")
                .unwrap()
                .as_str(),
            "http://h/v1/chat/completions"
        );
        assert!(join("x", "ftp://h", "a").is_err());
        assert!(join("x", "not a url", "a").is_err());
    }

    #[test]
    fn snippets_are_plain() {
        assert_eq!(
            plain_snippet("The <strong>ZeRO</strong> &amp; more\n text"),
            "The ZeRO & more text"
        );
    }
}
