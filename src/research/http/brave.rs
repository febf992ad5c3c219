//! Brave Search API: `GET {base}/res/v1/web/search?q=…&count=N` with the `X-Subscription-Token` header.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::{Method, Url, header};
use serde::Deserialize;

use super::client::{Call, Dest, Expect, HttpClient, RateLimit};
use super::{parse_json, provider_error, web_hits};
use crate::research::{Hit, LogSink, ResearchError, Search};

const NAME: &str = "brave";
/// The public API's base URL.
pub const BRAVE_BASE: &str = "https://api.search.brave.com";
/// Brave returns at most this many web results per request.
const MAX_COUNT: usize = 20;

/// Search through the Brave Search API.
pub struct BraveSearch {
    client: Arc<HttpClient>,
    endpoint: Url,
    key: String,
    limit: Option<Arc<RateLimit>>,
}

#[derive(Deserialize)]
struct Response {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    web: Option<Web>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Web {
    #[serde(default)]
    results: Vec<WebResult>,
}

#[derive(Deserialize)]
struct WebResult {
    url: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: Option<String>,
}

impl BraveSearch {
    /// A search with this API key against `base` ([`BRAVE_BASE`] outside tests).
    pub fn new(
        client: Arc<HttpClient>,
        base: &str,
        key: String,
        limit: Option<Arc<RateLimit>>,
    ) -> Result<BraveSearch, ResearchError> {
        let endpoint = super::join(NAME, base, "res/v1/web/search")?;
        Ok(BraveSearch {
            client,
            endpoint,
            key,
            limit,
        })
    }
}

#[async_trait]
impl Search for BraveSearch {
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
            .append_pair("count", &limit.clamp(1, MAX_COUNT).to_string());
        let request = self
            .client
            .request(Method::GET, url)
            .header(header::ACCEPT, "application/json")
            .header("X-Subscription-Token", &self.key);
        let call = Call {
            log,
            limit: self.limit.as_deref(),
        };
        let fetched = self
            .client
            .send(request, call, Expect::Any, Dest::Endpoint)
            .await
            .map_err(|e| provider_error(&self.client, NAME, e))?;
        let response: Response = parse_json(&self.client, NAME, &fetched.body)?;
        if response.kind.as_deref() == Some("ErrorResponse") || response.error.is_some() {
            let detail = response
                .error
                .as_ref()
                .and_then(|e| super::client::json_error_message(&serde_json::json!({ "error": e })))
                .unwrap_or_else(|| "an error response without detail".into());
            return Err(ResearchError::Provider {
                provider: NAME.into(),
                message: self.client.redact(&detail),
            });
        }
        let results = response.web.map(|w| w.results).unwrap_or_default();
        Ok(web_hits(
            results.into_iter().map(|r| (r.url, r.title, r.description)),
            limit,
        ))
    }
}
