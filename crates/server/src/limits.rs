//! Abuse limits: per actor (all its keys together) on commands and on expensive signed reads,
//! per client address on the
//! write path and the expensive read paths. The numbers come from the genesis policy
//! ([`corridor_core::genesis::RateLimits`]), never from server configuration alone, so the
//! operator cannot quietly throttle one party's coordinators.
//!
//! A refused request gets a `429 rate-limited` problem document with `Retry-After`, and writes
//! nothing. The public pages, `status.json`, `/events`, checkpoints and proofs are not limited:
//! they are precomputed or microseconds of work and must hold a crowd. The counters use the
//! real monotonic clock (abuse happens in real time, even during an exercise on a simulated
//! clock) and are per server instance. The address is the TCP peer: behind a reverse proxy,
//! limit by address at the proxy.
//!
//! The arithmetic is the `governor` crate's (GCRA, a burst of one minute's worth).

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

use axum::http::StatusCode;
use corridor_core::genesis::RateLimits;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde_json::json;

use crate::problem::Problem;

/// One keyed limit, or none (0 in the policy).
struct Limit<K: Hash + Eq + Clone> {
    what: &'static str,
    per_minute: u32,
    limiter: Option<DefaultKeyedRateLimiter<K>>,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    fn new(what: &'static str, per_minute: u32) -> Self {
        Limit {
            what,
            per_minute,
            limiter: NonZeroU32::new(per_minute)
                .map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))),
        }
    }

    fn check(&self, key: &K) -> Result<(), Problem> {
        let Some(l) = &self.limiter else {
            return Ok(());
        };
        l.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            metrics::counter!("corridor_rate_limited_total", "limit" => self.what).increment(1);
            Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                format!(
                    "more than {} {} per minute; nothing was done: retry after {seconds} s",
                    self.per_minute, self.what
                ),
            )
            .with(json!({"limit": self.what, "per_minute": self.per_minute}))
            .with_retry_after(seconds.max(1))
        })
    }

    fn forget_idle(&self) {
        if let Some(l) = &self.limiter {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// The limits of a running server.
pub struct Limits {
    commands_per_actor: Limit<String>,
    reads_per_actor: Limit<String>,
    requests_per_address: Limit<IpAddr>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits").finish_non_exhaustive()
    }
}

impl Limits {
    /// The limits of a genesis policy.
    pub fn new(p: &RateLimits) -> Self {
        Limits {
            commands_per_actor: Limit::new(
                "commands by one actor",
                p.commands_per_actor_per_minute,
            ),
            reads_per_actor: Limit::new("signed reads by one actor", p.reads_per_actor_per_minute),
            requests_per_address: Limit::new(
                "requests from one address",
                p.requests_per_address_per_minute,
            ),
        }
    }

    /// A command by `actor` (checked after its signature, so nobody can spend another
    /// actor's allowance).
    pub fn command(&self, actor: &str) -> Result<(), Problem> {
        self.commands_per_actor.check(&actor.to_string())
    }

    /// A signed read of an expensive path by `actor`.
    pub fn read(&self, actor: &str) -> Result<(), Problem> {
        self.reads_per_actor.check(&actor.to_string())
    }

    /// A request to the write path or an expensive read path from `address` (none known: not
    /// limited by address).
    pub fn address(&self, address: Option<IpAddr>) -> Result<(), Problem> {
        match address {
            Some(a) => self.requests_per_address.check(&a),
            None => Ok(()),
        }
    }

    /// Drop the counters of keys and addresses that are back to a full allowance, so memory
    /// follows the active clients, not every client ever seen.
    pub fn forget_idle(&self) {
        self.commands_per_actor.forget_idle();
        self.reads_per_actor.forget_idle();
        self.requests_per_address.forget_idle();
    }
}

/// The client's address, when the server was started with connection info (it always is by
/// `corridor serve`; an embedding without it is not limited by address).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Peer, Self::Rejection> {
        Ok(Peer(peer_of(&parts.extensions)))
    }
}

/// The peer address in a request's extensions.
pub fn peer_of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}
