//! Direct page fetch: an HTTP GET, then main-content extraction (HTML, PDF) to markdown; and the router that
//! sends `corpus://` addresses to the local corpus and the rest to the web fetcher.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::{Method, Url, header};

use super::client::{Call, Dest, Expect, HttpClient, HttpError, RateLimit};
use super::{BROWSER_ACCEPT, BROWSER_ACCEPT_LANGUAGE, check_web_url, decode_page, provider_error};
use crate::research::local::{LocalFetch, SCHEME};
use crate::research::{Fetch, LogSink, Page, ResearchError};

const NAME: &str = "direct";

/// Fetches pages straight from their sites.
pub struct DirectFetch {
    client: Arc<HttpClient>,
    limit: Option<Arc<RateLimit>>,
}

impl DirectFetch {
    /// A fetcher on the shared client with the fetch provider's rate limit.
    pub fn new(client: Arc<HttpClient>, limit: Option<Arc<RateLimit>>) -> DirectFetch {
        DirectFetch { client, limit }
    }
}

#[async_trait]
impl Fetch for DirectFetch {
    fn name(&self) -> &str {
        NAME
    }

    async fn fetch(&self, url: &str, log: &LogSink) -> Result<Page, ResearchError> {
        check_web_url(NAME, url)?;
        let parsed = Url::parse(url)
            .map_err(|e| provider_error(&self.client, NAME, HttpError::Url(e.to_string())))?;
        let request = self
            .client
            .request(Method::GET, parsed)
            .header(header::ACCEPT, BROWSER_ACCEPT)
            .header(header::ACCEPT_LANGUAGE, BROWSER_ACCEPT_LANGUAGE);
        let call = Call {
            log,
            limit: self.limit.as_deref(),
        };
        let fetched = self
            .client
            .send(request, call, Expect::Page, Dest::Page)
            .await
            .map_err(|e| match e.status() {
                Some(404 | 410) => ResearchError::NotFound {
                    provider: NAME.into(),
                    what: self.client.redactor().url(url),
                },
                _ => provider_error(&self.client, NAME, e),
            })?;
        let url = fetched.url.to_string();
        decode_page(NAME, &url, fetched).await
    }
}

/// Sends `corpus://` addresses to the local corpus (when there is one) and the rest to the web.
pub struct RoutedFetch {
    corpus: Option<LocalFetch>,
    web: Arc<dyn Fetch>,
}

impl RoutedFetch {
    /// A router over an optional corpus and a web fetcher.
    pub fn new(corpus: Option<LocalFetch>, web: Arc<dyn Fetch>) -> RoutedFetch {
        RoutedFetch { corpus, web }
    }
}

#[async_trait]
impl Fetch for RoutedFetch {
    fn name(&self) -> &str {
        self.web.name()
    }

    fn cache_key(&self, url: &str) -> String {
        match &self.corpus {
            Some(local) if url.starts_with(SCHEME) => local.cache_key(url),
            _ => self.web.cache_key(url),
        }
    }

    async fn fetch(&self, url: &str, log: &LogSink) -> Result<Page, ResearchError> {
        match &self.corpus {
            Some(local) if url.starts_with(SCHEME) => local.fetch(url, log).await,
            _ => self.web.fetch(url, log).await,
        }
    }
}
