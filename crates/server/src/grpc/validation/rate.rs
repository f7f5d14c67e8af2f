//! Per-caller limits on how many documents are validated per second.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// A token bucket per caller address; disabled when built without a rate.
// TODO: key by API key once callers authenticate; an address is shared behind NAT.
#[derive(Debug, Clone, Default)]
pub struct CallerRateLimiter {
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

impl CallerRateLimiter {
    /// Allows `per_second` documents per caller, with bursts of one second's worth;
    /// `0` disables the limit.
    pub fn new(per_second: u32) -> Self {
        let limiter = NonZeroU32::new(per_second)
            .map(|rate| Arc::new(RateLimiter::keyed(Quota::per_second(rate))));
        Self { limiter }
    }

    /// Admits `documents` for `caller` or says when to retry. Callers of unknown
    /// address share no bucket and are admitted.
    pub fn admit(&self, caller: Option<IpAddr>, documents: u32) -> Result<(), ApiError> {
        let (Some(limiter), Some(caller)) = (&self.limiter, caller) else {
            return Ok(());
        };
        let Some(count) = NonZeroU32::new(documents) else {
            return Ok(());
        };
        match limiter.check_key_n(&caller, count) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(ApiError::ResourceExhausted(format!(
                    "caller {caller} is over its validation rate; retry in {} ms",
                    wait.as_millis().max(1)
                )))
            }
            Err(_) => Err(ApiError::ResourceExhausted(format!(
                "{documents} documents exceed the validation rate burst for one call"
            ))),
        }
    }

    /// Forgets callers whose buckets are full again, bounding memory.
    pub fn forget_idle_callers(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
        }
    }
}
