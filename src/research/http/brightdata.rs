//! Bright Data: SERP API search (Google results as parsed JSON) and the Web Unlocker fetcher,
//! both through `POST {base}/request` with Bearer auth.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::{Method, Url, header};
use serde::Deserialize;

use super::client::{Call, Dest, Expect, HttpClient, HttpError, RateLimit};
use super::{decode_page, parse_json, provider_error, web_hits};
use crate::research::{Fetch, Hit, LogSink, Page, ResearchError, Search};

/// The public API's base URL.
pub const BRIGHTDATA_BASE: &str = "https://api.brightdata.com";
const SERP: &str = "brightdata";
const UNLOCKER: &str = "brightdata unlocker";

/// One Bright Data zone reached through the `/request` endpoint.
struct Zone {
    client: Arc<HttpClient>,
    endpoint: Url,
    key: String,
    zone: String,
    limit: Option<Arc<RateLimit>>,
}

impl Zone {
    fn new(
        provider: &str,
        client: Arc<HttpClient>,
        base: &str,
        key: String,
        zone: String,
        limit: Option<Arc<RateLimit>>,
    ) -> Result<Zone, ResearchError> {
        Ok(Zone {
            endpoint: super::join(provider, base, "request")?,
            client,
            key,
            zone,
            limit,
        })
    }

    async fn request(
        &self,
        target: &str,
        expect: Expect,
        log: &LogSink,
    ) -> Result<super::client::Fetched, HttpError> {
        let body = serde_json::json!({ "zone": self.zone, "url": target, "format": "raw" });
        let request = self
            .client
            .request(Method::POST, self.endpoint.clone())
            .bearer_auth(&self.key)
            .header(header::ACCEPT, "*/*")
            .json(&body);
        let call = Call {
            log,
            limit: self.limit.as_deref(),
        };
        self.client
            .send(request, call, expect, Dest::Endpoint)
            .await
    }
}

/// Google results through Bright Data's SERP API, parsed by Bright Data (`brd_json=1`).
pub struct BrightDataSearch {
    zone: Zone,
    google: String,
}

#[derive(Deserialize)]
struct SerpResponse {
    #[serde(default)]
    organic: Option<Vec<Organic>>,
}

#[derive(Deserialize)]
struct Organic {
    link: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    rank: Option<u32>,
}

impl BrightDataSearch {
    /// A search through `zone` with this API key against `base` ([`BRIGHTDATA_BASE`] outside tests).
    pub fn new(
        client: Arc<HttpClient>,
        base: &str,
        key: String,
        zone: String,
        limit: Option<Arc<RateLimit>>,
    ) -> Result<BrightDataSearch, ResearchError> {
        Ok(BrightDataSearch {
            zone: Zone::new(SERP, client, base, key, zone, limit)?,
            google: "https://www.google.com/search".into(),
        })
    }
}

#[async_trait]
impl Search for BrightDataSearch {
    fn name(&self) -> &str {
        SERP
    }

    async fn search(
        &self,
        query: &str,
        limit: usize,
        log: &LogSink,
    ) -> Result<Vec<Hit>, ResearchError> {
        let mut target = Url::parse(&self.google).map_err(|e| ResearchError::Provider {
            provider: SERP.into(),
            message: e.to_string(),
        })?;
        target
            .query_pairs_mut()
            .append_pair("q", query)
            .append_pair("brd_json", "1");
        let fetched = self
            .zone
            .request(target.as_str(), Expect::Any, log)
            .await
            .map_err(|e| provider_error(&self.zone.client, SERP, e))?;
        let response: SerpResponse = parse_json(&self.zone.client, SERP, &fetched.body)?;
        let Some(mut organic) = response.organic else {
            return Err(ResearchError::Provider {
                provider: SERP.into(),
                message: "the answer has no `organic` results: is the zone a SERP API zone, and does the request keep brd_json=1?".into(),
            });
        };
        // Bright Data numbers results from 1; keep page order when a rank is missing.
        organic.sort_by_key(|o| o.rank.unwrap_or(u32::MAX));
        Ok(web_hits(
            organic
                .into_iter()
                .map(|o| (o.link, o.title, o.description)),
            limit,
        ))
    }
}

/// Pages fetched through Bright Data's Web Unlocker, then reduced to their main content.
pub struct UnlockerFetch {
    zone: Zone,
}

impl UnlockerFetch {
    /// A fetcher through `zone` with this API key against `base` ([`BRIGHTDATA_BASE`] outside tests).
    pub fn new(
        client: Arc<HttpClient>,
        base: &str,
        key: String,
        zone: String,
        limit: Option<Arc<RateLimit>>,
    ) -> Result<UnlockerFetch, ResearchError> {
        Ok(UnlockerFetch {
            zone: Zone::new(UNLOCKER, client, base, key, zone, limit)?,
        })
    }
}

#[async_trait]
impl Fetch for UnlockerFetch {
    fn name(&self) -> &str {
        UNLOCKER
    }

    async fn fetch(&self, url: &str, log: &LogSink) -> Result<Page, ResearchError> {
        super::check_web_url(UNLOCKER, url)?;
        let fetched = self
            .zone
            .request(url, Expect::Page, log)
            .await
            .map_err(|e| provider_error(&self.zone.client, UNLOCKER, e))?;
        decode_page(UNLOCKER, url, fetched).await
    }
}
