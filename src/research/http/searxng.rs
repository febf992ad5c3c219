//! SearXNG search: `GET {base}/search?q=…&format=json` on a self-hosted or shared instance.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::{Method, Url, header};
use serde::Deserialize;

use super::client::{Call, Dest, Expect, HttpClient, RateLimit};
use super::{BROWSER_ACCEPT, BROWSER_ACCEPT_LANGUAGE, parse_json, provider_error, web_hits};
use crate::research::{Hit, LogSink, ResearchError, Search};

const NAME: &str = "searxng";

/// Search through a SearXNG instance's JSON API.
pub struct SearxngSearch {
    client: Arc<HttpClient>,
    endpoint: Url,
    limit: Option<Arc<RateLimit>>,
}

#[derive(Deserialize)]
struct Response {
    results: Vec<Result_>,
    #[serde(default)]
    unresponsive_engines: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Result_ {
    url: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    content: Option<String>,
}

impl SearxngSearch {
    /// A search against the instance at `base` (e.g. `http://127.0.0.1:8888`).
    pub fn new(
        client: Arc<HttpClient>,
        base: &str,
        limit: Option<Arc<RateLimit>>,
    ) -> Result<SearxngSearch, ResearchError> {
        let endpoint = super::join(NAME, base, "search")?;
        Ok(SearxngSearch {
            client,
            endpoint,
            limit,
        })
    }
}

#[async_trait]
impl Search for SearxngSearch {
    fn name(&self) -> &str {
        NAME
    }

    async fn search(
        &self,
        query: &str,
        limit: usize,
        log: &LogSink,
    ) -> Result<Vec<Hit>, ResearchError> {
        let mut url = self.endpoint.clone();
        url.query_pairs_mut()
            .append_pair("q", query)
            .append_pair("format", "json")
            .append_pair("pageno", "1");
        // SearXNG's bot limiter turns away clients that do not look like a browser.
        let request = self
            .client
            .request(Method::GET, url)
            .header(header::ACCEPT, BROWSER_ACCEPT)
            .header(header::ACCEPT_LANGUAGE, BROWSER_ACCEPT_LANGUAGE);
        let call = Call {
            log,
            limit: self.limit.as_deref(),
        };
        let fetched = self
            .client
            .send(request, call, Expect::Any, Dest::Endpoint)
            .await
            .map_err(|e| match e.status() {
                Some(403) => ResearchError::Provider {
                    provider: NAME.into(),
                    message: format!(
                        "{e} — does the instance allow the JSON format (search.formats: [html, json] in its settings.yml)?"
                    ),
                },
                _ => provider_error(&self.client, NAME, e),
            })?;
        let response: Response = parse_json(&self.client, NAME, &fetched.body)?;
        if response.results.is_empty() && !response.unresponsive_engines.is_empty() {
            let engines: Vec<String> = response
                .unresponsive_engines
                .iter()
                .map(|e| match e {
                    serde_json::Value::Array(a) => a
                        .iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => other.to_string(),
                })
                .collect();
            log(&format!(
                "searxng: no results; engines that did not answer: {}",
                engines.join(", ")
            ));
        }
        Ok(web_hits(
            response
                .results
                .into_iter()
                .map(|r| (r.url, r.title, r.content)),
            limit,
        ))
    }
}
