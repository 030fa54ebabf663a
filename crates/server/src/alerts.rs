//! Alerts for members: what [`corridor_core::alerts`] computes, delivered to the people it
//! concerns.
//!
//! The [`AlertHub`] recomputes the alerts after every batch that changed what runs through
//! windows (the sequencer's `running` snapshot) and when the clock reaches the next instant an
//! alert may become true without an entry (an acknowledgement falls overdue, a window's lead
//! begins). Whatever the new computation holds that the previous one did not is sent, once, to
//! every open member stream; each stream passes on only the alerts its actor may read.
//!
//! Routes:
//!
//! - `GET /v1/alerts` — a signed read: the alerts true now that the reader may read.
//! - `POST /v1/alerts/token` — a signed request: a token for one stream, good for
//!   [`TOKEN_TTL`], bound to the actor and the key that signed. A browser's `EventSource` cannot
//!   sign its request, so it opens the stream with this token instead; the token is checked when
//!   the stream opens, and the key it was issued for is checked again before every alert.
//! - `GET /v1/alerts/stream?token=…[&since=…]` — server-sent events, `event: alert`, one JSON
//!   alert per event, from the moment of connection (with `since`, first the alerts true now that
//!   became true at or after that instant, to resume after a reconnection).
//!
//! Nothing here goes to the public `/events`: that stream carries the public `status.json` only.
//! Every alert confined to some sides is written to the read audit before it is sent, like any
//! confidential read; if the record cannot be written, the stream ends instead.
//!
//! The token is an HMAC over (actor, key, expiry) under a key derived from the log key's seed
//! with a label of its own, so every instance of a cluster (all hold the log key) accepts a token
//! any of them issued, and no token is ever stored.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use corridor_core::access::{Audience, Reader};
use corridor_core::alerts::{Alert, alerts, next_change};
use corridor_core::crypto::sha256;
use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast;

use crate::auth::{Who, audit};
use crate::log::Log;
use crate::problem::Problem;

type Shared = Arc<Log>;

/// How long a stream token may be used to open a stream (real time, not the exercise clock: it
/// is a transport credential). `EventSource` reconnects with the same address, so a token must
/// outlive a short outage; after this the client asks for a new one.
pub const TOKEN_TTL: Duration = Duration::from_secs(300);
/// Most open alert streams per actor: a few browser tabs and a CLI, not a flood.
pub const MAX_STREAMS_PER_ACTOR: usize = 4;
/// How many recomputations a stream may fall behind before it is dropped (it reconnects with
/// `since`).
const BACKLOG: usize = 16;
/// The label of the token key's derivation: nothing else is ever keyed with it.
const TOKEN_KEY_LABEL: &[u8] = b"corridor/v1/alert-stream-token-key\n";

/// The alerts of the moment and the stream of new ones.
#[derive(Debug)]
pub struct AlertHub {
    current: RwLock<Arc<Vec<Alert>>>,
    fresh: broadcast::Sender<Arc<Vec<Alert>>>,
    ready: tokio::sync::watch::Sender<bool>,
    streams: Arc<Mutex<HashMap<String, usize>>>,
    closing: tokio::sync::watch::Sender<bool>,
}

impl AlertHub {
    /// Compute the alerts now and keep them current in a background task.
    pub fn start(log: Arc<Log>) -> Arc<AlertHub> {
        let (fresh, _) = broadcast::channel(BACKLOG);
        let hub = Arc::new(AlertHub {
            current: RwLock::default(),
            fresh,
            ready: tokio::sync::watch::Sender::new(false),
            streams: Arc::default(),
            closing: tokio::sync::watch::Sender::new(false),
        });
        let h = hub.clone();
        tokio::spawn(async move { h.run(log).await });
        hub
    }

    /// The alerts of the latest computation.
    pub fn current(&self) -> Arc<Vec<Alert>> {
        self.current.read().expect("not poisoned").clone()
    }

    /// New alerts from now on, in batches (webhook delivery).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<Alert>>> {
        self.fresh.subscribe()
    }

    /// Wait for the first computation.
    pub async fn ready(&self) {
        let mut r = self.ready.subscribe();
        let _ = r.wait_for(|v| *v).await;
    }

    /// End every alert stream (on shutdown).
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }

    async fn run(self: Arc<Self>, log: Arc<Log>) {
        let mut running = log.running();
        loop {
            let r = running.borrow_and_update().clone();
            let at = log.clock().now();
            let computed =
                tokio::task::spawn_blocking(move || (alerts(&r, at), next_change(&r, at))).await;
            let Ok((list, next)) = computed else {
                tracing::error!("computing alerts failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            let first = !*self.ready.borrow();
            let fresh: Vec<Alert> = {
                let before = self.current();
                let known: BTreeSet<&str> = before.iter().map(|a| a.id.as_str()).collect();
                list.iter()
                    .filter(|a| !known.contains(a.id.as_str()))
                    .cloned()
                    .collect()
            };
            *self.current.write().expect("not poisoned") = Arc::new(list);
            // What was true when the server started is not news: a member reads it with
            // `GET /v1/alerts` or resumes a stream with `since`.
            if !first && !fresh.is_empty() {
                metrics::counter!("corridor_alerts_raised_total").increment(fresh.len() as u64);
                let _ = self.fresh.send(Arc::new(fresh));
            }
            self.ready.send_replace(true);
            let wait = next.map_or(Duration::from_secs(3600), |t| log.clock().real_until(t));
            tokio::select! {
                changed = running.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                _ = tokio::time::sleep(wait.saturating_add(Duration::from_millis(5))) => {}
            }
        }
    }
}

/// The routes: the list and the token behind the signed-read check, the stream behind its
/// token.
pub fn routes(log: Shared) -> Router<Shared> {
    Router::new()
        .route("/v1/alerts", get(list))
        .route("/v1/alerts/token", post(token))
        .route_layer(axum::middleware::from_fn_with_state(
            log,
            crate::queries::members_only,
        ))
        .route("/v1/alerts/stream", get(stream))
}

/// Whether `who` may receive `alert`, and if it is confidential, the audit line for it.
fn disclosed(alert: &Alert) -> (String, Audience) {
    (format!("alert {}", alert.id), alert.audience.clone())
}

async fn list(State(log): State<Shared>, Extension(who): Extension<Who>) -> Response {
    let hub = log.alerts();
    hub.ready().await;
    let now = hub.current();
    let mine: Vec<&Alert> = now.iter().filter(|a| who.may_read(&a.audience)).collect();
    let items: Vec<_> = mine.iter().map(|a| disclosed(a)).collect();
    if let Err(p) = audit(&log, &who, "/v1/alerts", &items).await {
        return p.into_response();
    }
    let genesis = log.genesis();
    Json(json!({
        "at": corridor_core::views::running::instant(
            genesis,
            &corridor_core::time::format_log_time(log.clock().now())
        ),
        "alerts": mine.iter().map(|a| a.to_json(genesis)).collect::<Vec<_>>(),
    }))
    .into_response()
}

/// What a token vouches for.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Grant {
    /// The actor.
    a: String,
    /// The key that signed the request for the token.
    k: String,
    /// Expiry, Unix seconds.
    e: u64,
}

/// Lower-case hex: tokens and ids that travel in query strings and headers.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The token MAC key of a log: derived from its log key's seed under a label of its own.
fn token_key(log: &Log) -> [u8; 32] {
    sha256(&[TOKEN_KEY_LABEL, &log.token_seed()])
}

fn mac(key: &[u8; 32], payload: &[u8]) -> Hmac<sha2::Sha256> {
    let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    m.update(payload);
    m
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A token for `grant`: the payload and its MAC, hex, joined by a dot (safe in a query string).
fn issue(key: &[u8; 32], grant: &Grant) -> String {
    let payload = serde_json::to_vec(grant).expect("grants serialize");
    let tag = mac(key, &payload).finalize().into_bytes();
    format!("{}.{}", hex(&payload), hex(&tag))
}

/// A token that is not one of ours, or names a key no longer in force.
fn token_invalid(detail: &str) -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "stream-token-invalid",
        detail.to_string(),
    )
}

/// The grant a token carries, if its MAC holds and it has not expired at `now` (Unix seconds).
fn check(key: &[u8; 32], token: &str, now: u64) -> Result<Grant, Problem> {
    let invalid = || {
        token_invalid(
            "this is not a stream token of this log; ask POST /v1/alerts/token for one with a signed request",
        )
    };
    let (payload, tag) = token.split_once('.').ok_or_else(invalid)?;
    let (payload, tag) = (
        unhex(payload).ok_or_else(invalid)?,
        unhex(tag).ok_or_else(invalid)?,
    );
    mac(key, &payload)
        .verify_slice(&tag)
        .map_err(|_| invalid())?;
    let grant: Grant = serde_json::from_slice(&payload).map_err(|_| invalid())?;
    if grant.e <= now {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "stream-token-expired",
            "this stream token has expired; ask POST /v1/alerts/token for a new one",
        ));
    }
    Ok(grant)
}

async fn token(State(log): State<Shared>, Extension(who): Extension<Who>) -> Response {
    let Who::Actor(actor, key) = &who else {
        return crate::auth::auth_problem(&corridor_core::httpsig::AuthError::Missing)
            .into_response();
    };
    let expires = unix_now() + TOKEN_TTL.as_secs();
    let t = issue(
        &token_key(&log),
        &Grant {
            a: actor.id.clone(),
            k: key.clone(),
            e: expires,
        },
    );
    (
        StatusCode::CREATED,
        Json(json!({
            "token": t,
            "actor": actor.id,
            "expires_in_s": TOKEN_TTL.as_secs(),
            "stream": format!("/v1/alerts/stream?token={t}"),
        })),
    )
        .into_response()
}

/// The query of the stream.
#[derive(Debug, Deserialize)]
struct StreamQuery {
    token: String,
    #[serde(default)]
    since: Option<String>,
}

/// The actor of a grant if it and its key are still in force.
fn in_force(log: &Log, grant: &Grant) -> Option<corridor_core::state::Actor> {
    log.directory().key_in_force(&grant.a, &grant.k).cloned()
}

/// Counts an actor's open streams; released when the stream ends.
struct Slot {
    streams: Arc<Mutex<HashMap<String, usize>>>,
    actor: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.streams.lock().expect("not poisoned");
        if let Some(n) = s.get_mut(&self.actor) {
            *n -= 1;
            if *n == 0 {
                s.remove(&self.actor);
            }
        }
    }
}

struct Streaming {
    log: Shared,
    grant: Grant,
    rx: broadcast::Receiver<Arc<Vec<Alert>>>,
    closing: tokio::sync::watch::Receiver<bool>,
    queue: VecDeque<Alert>,
    _slot: Slot,
}

impl Streaming {
    /// The next alert this actor may read, audited; `None` ends the stream (key revoked, fell
    /// behind, audit unavailable, server closing).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(alert) = self.queue.pop_front() {
                let actor = in_force(&self.log, &self.grant)?;
                if actor.role == corridor_core::command::Role::Recovery
                    || !alert.audience.admits(Reader::Actor(&actor))
                {
                    continue;
                }
                let who = Who::Actor(actor, self.grant.k.clone());
                audit(&self.log, &who, "/v1/alerts/stream", &[disclosed(&alert)])
                    .await
                    .ok()?;
                let data = alert.to_json(self.log.genesis()).to_string();
                return Some(Event::default().event("alert").id(alert.id).data(data));
            }
            tokio::select! {
                got = self.rx.recv() => match got {
                    Ok(batch) => self.queue.extend(batch.iter().cloned()),
                    // Fell behind or the hub is gone: the client reconnects with `since`.
                    Err(_) => return None,
                },
                _ = self.closing.wait_for(|c| *c) => return None,
            }
        }
    }
}

async fn stream(
    State(log): State<Shared>,
    q: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return token_invalid("give ?token=… from POST /v1/alerts/token").into_response();
    };
    let grant = match check(&token_key(&log), &q.token, unix_now()) {
        Ok(g) => g,
        Err(p) => return p.into_response(),
    };
    if in_force(&log, &grant).is_none() {
        return token_invalid("the key this token was issued for is no longer in force")
            .into_response();
    }
    let since: Option<Timestamp> = match q.since.as_deref().map(str::parse) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                format!("since: {e}; give an RFC 3339 instant such as 2022-03-05T06:00:00Z"),
            )
            .into_response();
        }
    };
    let hub = log.alerts();
    {
        let mut s = hub.streams.lock().expect("not poisoned");
        let n = s.entry(grant.a.clone()).or_default();
        if *n >= MAX_STREAMS_PER_ACTOR {
            return Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-streams",
                format!(
                    "{} has {MAX_STREAMS_PER_ACTOR} alert streams open already; close one first",
                    grant.a
                ),
            )
            .into_response();
        }
        *n += 1;
    }
    let slot = Slot {
        streams: hub.streams.clone(),
        actor: grant.a.clone(),
    };
    // Subscribe before reading the current alerts, so nothing falls between the two.
    let rx = hub.fresh.subscribe();
    hub.ready().await;
    let queue: VecDeque<Alert> = match since {
        Some(t) => hub
            .current()
            .iter()
            .filter(|a| a.since.parse::<Timestamp>().is_ok_and(|s| s >= t))
            .cloned()
            .collect(),
        None => VecDeque::new(),
    };
    let streaming = Streaming {
        log: log.clone(),
        grant,
        rx,
        closing: hub.closing.subscribe(),
        queue,
        _slot: slot,
    };
    let events = futures_util::stream::unfold(streaming, |mut s| async move {
        let e = s.next().await?;
        Some((Ok::<_, Infallible>(e), s))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(crate::public::HEARTBEAT_AFTER))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_holds_its_grant_until_it_expires_and_only_under_its_key() {
        let key = [7u8; 32];
        let grant = Grant {
            a: "ru/c".into(),
            k: "KEY".into(),
            e: 1_000,
        };
        let t = issue(&key, &grant);
        assert_eq!(check(&key, &t, 999).unwrap(), grant);
        assert_eq!(
            check(&key, &t, 1_000).unwrap_err().code,
            "stream-token-expired"
        );
        assert_eq!(
            check(&[8u8; 32], &t, 999).unwrap_err().code,
            "stream-token-invalid",
            "another log's key"
        );
        // Another grant under the same tag.
        let (_, tag) = t.split_once('.').unwrap();
        let other = hex(&serde_json::to_vec(&Grant {
            a: "ua/c".into(),
            ..grant
        })
        .unwrap());
        assert_eq!(
            check(&key, &format!("{other}.{tag}"), 999)
                .unwrap_err()
                .code,
            "stream-token-invalid"
        );
    }

    #[test]
    fn hex_round_trips_and_refuses_odd_input() {
        let b = [0u8, 1, 0xab, 0xff];
        assert_eq!(unhex(&hex(&b)).unwrap(), b);
        assert!(unhex("abc").is_none());
        assert!(unhex("zz").is_none());
    }
}
