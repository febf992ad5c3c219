//! Per-host and per-provider limits: requests a second and at once, and the note a wait earns.

use super::*;

/// A provider's own limits: requests a second and, optionally, requests in flight at once.
/// Pages get one per web site from the client; providers pass theirs in each [`Call`].
pub struct RateLimit {
    name: String,
    rate: Option<(f64, String, governor::DefaultDirectRateLimiter)>,
    slots: Option<(usize, String, Arc<Semaphore>)>,
}

impl RateLimit {
    /// At most `per_second` requests a second on average (fractions allowed), with a burst of
    /// one second's worth; `None` when `per_second` is not a positive number.
    pub fn per_second(per_second: f64) -> Option<Arc<RateLimit>> {
        let limit = RateLimit::new("the provider").rate(per_second, "its rate limit");
        limit.rate.is_some().then(|| Arc::new(limit))
    }

    /// No limit yet, for `name` (shown in "waiting for …" lines).
    pub fn new(name: &str) -> RateLimit {
        RateLimit {
            name: name.to_string(),
            rate: None,
            slots: None,
        }
    }

    /// Adds a rate of `per_second` requests a second (ignored unless a positive number);
    /// `setting` names where it is configured, for the waiting line.
    pub fn rate(mut self, per_second: f64, setting: &str) -> RateLimit {
        if !per_second.is_finite() || per_second <= 0.0 {
            return self;
        }
        // A rate so low its period overflows a Duration is ignored like a non-positive one.
        let Ok(period) = Duration::try_from_secs_f64(1.0 / per_second) else {
            return self;
        };
        let burst = NonZeroU32::new(per_second.ceil().clamp(1.0, 10_000.0) as u32);
        let quota = governor::Quota::with_period(period).zip(burst);
        if let Some((quota, burst)) = quota {
            self.rate = Some((
                per_second,
                setting.to_string(),
                governor::RateLimiter::direct(quota.allow_burst(burst)),
            ));
        }
        self
    }

    /// Adds a cap of `n` requests in flight at once (at least one); `setting` as for [`RateLimit::rate`].
    pub fn concurrency(mut self, n: usize, setting: &str) -> RateLimit {
        let n = n.max(1);
        self.slots = Some((n, setting.to_string(), Arc::new(Semaphore::new(n))));
        self
    }

    /// The name shown in "waiting for …" lines.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits until the rate allows a request (the concurrency cap is taken by the client).
    pub async fn ready(&self) {
        if let Some((_, _, limiter)) = &self.rate {
            limiter.until_ready().await;
        }
    }

    /// Takes a slot (when capped), then waits for the rate; a wait longer than
    /// [`WAIT_NOTE_AFTER`] is announced once through `note`.
    pub(super) async fn pass(
        &self,
        note: &(dyn Fn(&str) + Sync),
    ) -> Result<Option<OwnedSemaphorePermit>, HttpError> {
        let begun = Instant::now();
        let mut noted = false;
        let permit = match &self.slots {
            Some((n, setting, sem)) => {
                let permit = announce(WAIT_NOTE_AFTER, sem.clone().acquire_owned(), || {
                    noted = true;
                    note(&format!(
                        "waiting for {}: {n} requests already in flight ({setting})",
                        self.name
                    ));
                })
                .await
                .map_err(|_| HttpError::Transport("a request limiter was closed".into()))?;
                Some(permit)
            }
            None => None,
        };
        if let Some((rps, setting, limiter)) = &self.rate {
            let left = WAIT_NOTE_AFTER.saturating_sub(begun.elapsed());
            announce(left, limiter.until_ready(), || {
                if !noted {
                    note(&format!(
                        "waiting for {}: at most {rps} requests a second ({setting})",
                        self.name
                    ));
                }
            })
            .await;
        }
        Ok(permit)
    }
}

/// `work`'s output; `note` runs once if it takes longer than `after`.
pub(super) async fn announce<F: std::future::Future>(
    after: Duration,
    work: F,
    note: impl FnOnce(),
) -> F::Output {
    let mut work = std::pin::pin!(work);
    tokio::select! {
        biased;
        out = &mut work => return out,
        _ = tokio::time::sleep(after) => note(),
    }
    work.await
}
