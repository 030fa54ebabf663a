//! Several server instances on one shared database (PostgreSQL), one log.
//!
//! The log must stay one linear sequence whatever the number of instances, so exactly one of
//! them sequences at a time: the holder of the database's *sequencer lease*. The lease has a
//! term (renewed every third of it) and an *epoch* raised by every takeover; every append checks,
//! in its own transaction, that its epoch is still the lease's (see `corridor-storage`), so a
//! sequencer that was paused, partitioned or slow to notice cannot write after a standby took
//! over. Dense indices under the primary key remain the last guard.
//!
//! The other instances are *followers*. They serve reads, proofs, checkpoints, the public site
//! and its live events from their own copy of the state, which they keep by reading what the
//! sequencer committed: at once when told of an append (NATS JetStream when configured, else
//! PostgreSQL `LISTEN`/`NOTIFY`; both carry only the new size, never data), and by a slow poll
//! in case a notice is lost. A command sent to a follower is checked there (signature, limits)
//! and forwarded as the same bytes to the sequencer, whose answer (the receipt, or the problem)
//! goes back unchanged; the client sees no difference. Followers try to take the lease every third
//! of its term, so a standby takes over within one term of the sequencer's death.
//!
//! Why no fork is possible: a checkpoint is signed only from a tree of committed entries (the
//! sequencer extends its tree after the commit; a follower reads committed rows), the entries up
//! to any size are the same rows for everyone, and the log is written with synchronous commit
//! (synchronous replication in production), so no promoted replica lacks an entry a checkpoint
//! covers. Two checkpoints of one size are then byte-identical, and any two are consistent.

use std::net::IpAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use corridor_core::crypto::{b64, sha256, unb64};
use serde::Serialize;

use crate::log::Log;
use crate::problem::Problem;

/// Header naming the client address a follower forwarded a command for.
pub const FORWARDED_FOR: &str = "corridor-forwarded-for";
/// Header with the follower's signature (by the log key) over the forwarded body and address.
pub const FORWARDED_SIGNATURE: &str = "corridor-forwarded-signature";

/// How this instance takes part in a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The API base URL other instances forward commands to, e.g. `http://10.0.0.5:8080`.
    pub url: String,
    /// The lease term: a standby takes over within about this long after the sequencer dies.
    pub lease_ttl: Duration,
    /// How often a follower looks for entries it was not told of.
    pub poll: Duration,
    /// A NATS server to announce appends through (JetStream), instead of PostgreSQL
    /// `LISTEN`/`NOTIFY`.
    pub nats: Option<String>,
}

impl ClusterOptions {
    /// Options for an instance reachable at `url`, with a 5 s lease and a 2 s poll.
    pub fn at(url: impl Into<String>) -> Self {
        ClusterOptions {
            url: url.into(),
            lease_ttl: Duration::from_secs(5),
            poll: Duration::from_secs(2),
            nats: None,
        }
    }
}

/// This instance's part right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum Role {
    /// It holds the lease in this epoch and appends.
    Sequencer {
        /// The lease epoch.
        epoch: u64,
    },
    /// It follows the log and forwards commands to the sequencer, if one is known.
    Follower {
        /// The sequencer's API base URL.
        sequencer: Option<String>,
    },
}

/// A running instance's cluster settings.
pub(crate) struct Cluster {
    /// This process's name in the lease: fresh per process, so a restart starts a new epoch.
    pub holder: String,
    pub options: ClusterOptions,
    pub http: reqwest::Client,
    pub nats: Option<crate::nats::Announcer>,
}

impl Cluster {
    pub fn new(options: ClusterOptions, nats: Option<crate::nats::Announcer>) -> Cluster {
        let mut id = [0u8; 9];
        getrandom::fill(&mut id).expect("the operating system provides randomness");
        let host = std::env::var("HOSTNAME").unwrap_or_default();
        Cluster {
            holder: format!("{host}:{}:{}", std::process::id(), b64(&id)),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            options,
            nats,
        }
    }

    pub fn ttl_ms(&self) -> u64 {
        self.options.lease_ttl.as_millis() as u64
    }
}

fn forward_message(origin: &str, client: &str, body: &[u8]) -> Vec<u8> {
    format!(
        "corridor/v1/forward\n{origin}\n{client}\n{}",
        b64(&sha256(&[body]))
    )
    .into_bytes()
}

/// The client address of a command forwarded by a fellow instance, if the request carries one
/// signed by the current log key (only instances hold it). The sequencer counts the request
/// against that address, not against the follower's.
pub fn forwarded_client(log: &Log, headers: &HeaderMap, body: &[u8]) -> Option<IpAddr> {
    let client = headers.get(FORWARDED_FOR)?.to_str().ok()?;
    let sig = unb64(
        "signature",
        headers.get(FORWARDED_SIGNATURE)?.to_str().ok()?,
    )
    .ok()?;
    let key = log.log_key_at(log.with_tree(|t| t.size()));
    key.verify(&forward_message(log.origin(), client, body), &sig)
        .ok()?;
    client.parse().ok()
}

fn unavailable(why: String) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "sequencer-unavailable",
        format!(
            "resend the same bytes in a moment: if the command was written you get its original receipt ({why})"
        ),
    )
    .with_retry_after(1)
}

/// Send a command that this follower checked to the sequencer, as the same bytes, and hand
/// back its answer unchanged.
pub async fn forward(log: &Log, body: Bytes, client: Option<IpAddr>) -> Response {
    let Some(cluster) = log.cluster() else {
        return unavailable("this instance is not in a cluster".into()).into_response();
    };
    let Role::Follower {
        sequencer: Some(url),
    } = log.role()
    else {
        return unavailable("no instance holds the sequencer lease right now".into())
            .into_response();
    };
    let client = client.map(|a| a.to_string()).unwrap_or_default();
    let sig = log.sign_as_log(&forward_message(log.origin(), &client, &body));
    let sent = cluster
        .http
        .post(format!("{}/v1/commands", url.trim_end_matches('/')))
        .header(header::CONTENT_TYPE, "application/json")
        .header(FORWARDED_FOR, client)
        .header(FORWARDED_SIGNATURE, b64(&sig))
        .body(body)
        .send()
        .await;
    let answer = match sent {
        Ok(r) => r,
        Err(e) => {
            metrics::counter!("corridor_forward_failures_total").increment(1);
            return unavailable(format!("the sequencer at {url} did not answer: {e}"))
                .into_response();
        }
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut headers = HeaderMap::new();
    for name in [header::CONTENT_TYPE, header::RETRY_AFTER] {
        if let Some(v) = answer
            .headers()
            .get(name.as_str())
            .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
        {
            headers.insert(name, v);
        }
    }
    match answer.bytes().await {
        Ok(bytes) => {
            metrics::counter!("corridor_commands_forwarded_total").increment(1);
            (status, headers, bytes).into_response()
        }
        Err(e) => unavailable(format!("the sequencer's answer was cut off: {e}")).into_response(),
    }
}
