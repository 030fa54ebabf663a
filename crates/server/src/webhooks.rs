//! Webhooks: alerts posted to an address a member chose, for systems that cannot hold a stream
//! open (a duty officer's pager gateway, a coordination team's chat).
//!
//! A member adds a webhook with a signed `POST /v1/webhooks?url=…` (the signature covers the
//! query, so the address is what the member signed). From then on every alert that becomes true
//! and that the member may read is posted to it as JSON, once, by the instance that sequences
//! (so a cluster posts each alert once). The payload follows Standard Webhooks
//! (<https://www.standardwebhooks.com/>) with its asymmetric scheme: headers `webhook-id`,
//! `webhook-timestamp` and `webhook-signature: v1a,<base64 Ed25519 signature over
//! "{id}.{timestamp}.{body}">`, signed with the server's **webhook key** (never the log key: a
//! webhook signature must not be mistakable for anything the log vouches for), published at
//! `GET /v1/webhooks/key` as `whpk_<base64>`. A failed attempt is retried with doubling delays;
//! every attempt is written to the delivery log (`GET /v1/webhooks/{id}/deliveries`), and every
//! confidential alert to the read audit before it leaves, as for any read.
//!
//! Addresses: `https` only, and never to a loopback, private, link-local or otherwise
//! non-public address (the server must not become a way into the network it runs in), checked
//! when the webhook is added and again, after resolving the name, before every attempt; the
//! connection goes to the address checked. `corridor serve --webhook-allow-private` lifts both
//! rules for a deployment whose receivers sit on its own network.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use corridor_core::access::Reader;
use corridor_core::alerts::Alert;
use corridor_core::crypto::{Keypair, b64, sha256};
use corridor_storage::{Delivery, Webhook};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast;

use crate::auth::{Who, audit};
use crate::log::Log;
use crate::problem::Problem;
use crate::queries::storage;

type Shared = Arc<Log>;

/// Most webhooks in force per actor.
pub const MAX_PER_ACTOR: usize = 5;
/// Longest address accepted.
const MAX_URL: usize = 2048;

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// Signs every payload.
    pub key: Keypair,
    /// Allow plain `http` and non-public addresses (receivers on the deployment's own network,
    /// tests on loopback).
    pub allow_private: bool,
    /// Delay before the second attempt; doubled before each further one.
    pub first_retry: Duration,
    /// Attempts in all before giving up.
    pub attempts: u32,
    /// How long one attempt may take.
    pub timeout: Duration,
}

impl WebhookOptions {
    /// Defaults: six attempts over about five minutes (10 s, 20 s, 40 s, 80 s, 160 s apart).
    pub fn new(key: Keypair) -> Self {
        WebhookOptions {
            key,
            allow_private: false,
            first_retry: Duration::from_secs(10),
            attempts: 6,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The running webhook service.
#[derive(Debug)]
pub struct Webhooks {
    opts: WebhookOptions,
}

impl Webhooks {
    /// Start delivering alerts from `log`'s hub.
    pub fn start(log: Arc<Log>, opts: WebhookOptions) -> Arc<Webhooks> {
        let w = Arc::new(Webhooks { opts });
        let hub = log.alerts();
        let rx = hub.subscribe();
        let me = w.clone();
        tokio::spawn(async move { me.run(log, rx).await });
        w
    }

    /// The public key receivers check signatures with, in Standard Webhooks' form.
    pub fn public_key(&self) -> String {
        format!("whpk_{}", b64(self.opts.key.public().as_bytes()))
    }

    async fn run(self: Arc<Self>, log: Shared, mut rx: broadcast::Receiver<Arc<Vec<Alert>>>) {
        self.catch_up(&log).await;
        loop {
            let batch = match rx.recv().await {
                Ok(b) => b,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "webhook delivery fell behind the alerts");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if !log.is_sequencer() {
                continue;
            }
            for hook in live_hooks(&log, "alerts not posted").await {
                self.spawn_deliveries(&log, &hook, batch.iter());
            }
        }
    }

    /// On start: post what became true since each webhook was added and has no final attempt in
    /// the delivery log (the server was down, or stopped between retries), so nothing a member
    /// subscribed to is lost to a restart. Alerts that stopped being true meanwhile (an overdue
    /// acknowledgement since given) are not posted late.
    async fn catch_up(self: &Arc<Self>, log: &Shared) {
        let hub = log.alerts();
        hub.ready().await;
        if !log.is_sequencer() {
            return;
        }
        let now = hub.current();
        for hook in live_hooks(log, "no catch-up").await {
            let mut done = std::collections::BTreeSet::new();
            let mut after = 0;
            loop {
                match log.db().deliveries(&hook.id, after, 1000).await {
                    Ok(page) if !page.is_empty() => {
                        after = page.last().map_or(after, |d| d.seq);
                        done.extend(page.into_iter().filter(Delivery::is_final).map(|d| d.alert));
                    }
                    Ok(_) => break,
                    Err(e) => {
                        tracing::error!(error = %e, webhook = %hook.id, "cannot read the delivery log; no catch-up");
                        break;
                    }
                }
            }
            self.spawn_deliveries(log, &hook, now.iter().filter(|a| !done.contains(&a.id)));
        }
    }

    /// Post each of `alerts` that arose once `hook` existed (a webhook added later does not
    /// receive what was already true), each delivery a task of its own.
    fn spawn_deliveries<'a>(
        self: &Arc<Self>,
        log: &Shared,
        hook: &Webhook,
        alerts: impl Iterator<Item = &'a Alert>,
    ) {
        for alert in alerts.filter(|a| a.since >= hook.created_at) {
            let (me, log, hook, alert) = (self.clone(), log.clone(), hook.clone(), alert.clone());
            tokio::spawn(async move { me.deliver(&log, &hook, &alert).await });
        }
    }

    /// Post one alert to one webhook, retrying; every attempt goes to the delivery log.
    async fn deliver(&self, log: &Log, hook: &Webhook, alert: &Alert) {
        let directory = log.directory();
        let Some(actor) = directory.actors.get(&hook.actor).cloned() else {
            return;
        };
        if !directory.actor_in_force(&actor.id)
            || actor.role == corridor_core::command::Role::Recovery
            || !alert.audience.admits(Reader::Actor(&actor))
        {
            return;
        }
        let who = Who::Actor(actor, format!("webhook {}", hook.id));
        let item = (format!("alert {}", alert.id), alert.audience.clone());
        if let Err(p) = audit(log, &who, &format!("webhook {}", hook.id), &[item]).await {
            tracing::error!(webhook = %hook.id, detail = %p.detail, "alert not posted: the read audit failed");
            return;
        }
        let body = json!({
            "type": format!("alert.{}", alert.kind()),
            "timestamp": corridor_core::time::format_log_time(log.clock().now()),
            "data": alert.to_json(log.genesis()),
        })
        .to_string();
        let id = format!(
            "msg_{}",
            crate::alerts::hex(&sha256(&[hook.id.as_bytes(), b"\n", alert.id.as_bytes()])[..16])
        );
        let mut delay = self.opts.first_retry;
        for attempt in 1..=self.opts.attempts {
            let (status, error) = match self.post(&hook.url, &id, &body).await {
                Ok(s) if (200..300).contains(&s) => (Some(s), None),
                Ok(s) => (Some(s), Some(format!("the receiver answered {s}"))),
                Err(e) => (None, Some(e)),
            };
            let outcome = if error.is_none() {
                "delivered"
            } else if attempt == self.opts.attempts {
                "gave-up"
            } else {
                "retrying"
            };
            let d = Delivery {
                seq: 0,
                webhook: hook.id.clone(),
                alert: alert.id.clone(),
                attempt,
                at: corridor_core::time::format_log_time(log.clock().now()),
                outcome: outcome.into(),
                http_status: status,
                error,
            };
            if let Err(e) = log.db().record_delivery(&d).await {
                tracing::error!(error = %e, webhook = %hook.id, "cannot write the delivery log");
            }
            metrics::counter!("corridor_webhook_attempts_total", "outcome" => outcome).increment(1);
            if d.is_final() {
                return;
            }
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2);
        }
    }

    /// One attempt: check the address again, connect to the address checked, post.
    async fn post(&self, url: &str, id: &str, body: &str) -> Result<u16, String> {
        let parsed = check_url(url, self.opts.allow_private).map_err(|p| p.detail)?;
        let host = parsed.host_str().unwrap_or_default().to_string();
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        let addr = addrs
            .iter()
            .find(|a| self.opts.allow_private || is_public(a.ip()))
            .copied()
            .ok_or_else(|| format!("{host} resolves to no public address"))?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.opts.timeout)
            .resolve(&host, addr)
            .build()
            .map_err(|e| e.to_string())?;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let signature = self
            .opts
            .key
            .sign(format!("{id}.{timestamp}.{body}").as_bytes());
        let resp = client
            .post(parsed)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", format!("v1a,{}", b64(&signature)))
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| format!("cannot post: {e}"))?;
        Ok(resp.status().as_u16())
    }
}

/// The webhooks not removed; on a storage error, none (logged with what is skipped).
async fn live_hooks(log: &Shared, skipped: &str) -> Vec<Webhook> {
    match log.db().webhooks().await {
        Ok(h) => h.into_iter().filter(|h| h.removed_at.is_none()).collect(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the webhooks; {skipped}");
            Vec::new()
        }
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local (cloud
/// metadata lives there), shared, documentation, multicast or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

fn refused(detail: String) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "webhook-url-refused", detail)
}

/// A webhook address as accepted: absolute `https` (or `http` when private addresses are
/// allowed), a host, no credentials, and if the host is an address, a public one.
pub fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, Problem> {
    if url.len() > MAX_URL {
        return Err(refused(format!(
            "the address is longer than {MAX_URL} characters"
        )));
    }
    let u = reqwest::Url::parse(url).map_err(|e| refused(format!("{url:?}: {e}")))?;
    match u.scheme() {
        "https" => {}
        "http" if allow_private => {}
        s => {
            return Err(refused(format!(
                "{s}: alerts are posted over https only (alerts are confidential)"
            )));
        }
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(refused(
            "put no credentials in the address; verify the webhook-signature header instead".into(),
        ));
    }
    let Some(host) = u.host() else {
        return Err(refused(format!("{url:?} names no host")));
    };
    let ip = match host {
        url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
        url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
        url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::from([127, 0, 0, 1]))
        }
        url::Host::Domain(_) => None,
    };
    if let Some(ip) = ip
        && !allow_private
        && !is_public(ip)
    {
        return Err(refused(format!(
            "{ip} is not a public address; a server may not post into its own network unless started with --webhook-allow-private"
        )));
    }
    Ok(u)
}

/// The routes: the key is public; the rest are signed requests of the webhook's own actor.
pub fn routes(log: Shared) -> Router<Shared> {
    Router::new()
        .route("/v1/webhooks", post(add).get(list))
        .route("/v1/webhooks/{id}", delete(remove))
        .route("/v1/webhooks/{id}/deliveries", get(deliveries))
        .route_layer(axum::middleware::from_fn_with_state(
            log,
            crate::queries::members_only,
        ))
        .route("/v1/webhooks/key", get(key))
}

fn service(log: &Log) -> Result<Arc<Webhooks>, Problem> {
    log.webhooks().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhooks-off",
            "this server does not post webhooks (it was started without a webhook key)",
        )
    })
}

fn not_found(id: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("you have no webhook {id:?}"),
    )
}

async fn key(State(log): State<Shared>) -> Result<Response, Problem> {
    let w = service(&log)?;
    Ok(Json(json!({
        "key": w.public_key(),
        "algorithm": "ed25519",
        "scheme": "Standard Webhooks v1a: signature over \"{webhook-id}.{webhook-timestamp}.{body}\"",
    }))
    .into_response())
}

/// The query of `POST /v1/webhooks`.
#[derive(Debug, Deserialize)]
struct AddQuery {
    url: String,
}

async fn add(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    q: Result<Query<AddQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let w = service(&log)?;
    let actor = who.member()?.clone();
    let Query(q) = q.map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            format!("{}; give ?url=https://… (percent-encoded)", e.body_text()),
        )
    })?;
    let url = check_url(&q.url, w.opts.allow_private)?;
    let hooks = log.db().webhooks().await.map_err(storage)?;
    let mine = hooks
        .iter()
        .filter(|h| h.actor == actor.id && h.removed_at.is_none())
        .count();
    if mine >= MAX_PER_ACTOR {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "webhooks-full",
            format!(
                "{} has {MAX_PER_ACTOR} webhooks already; remove one first",
                actor.id
            ),
        ));
    }
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).expect("the operating system provides randomness");
    let hook = Webhook {
        id: format!("wh-{}", crate::alerts::hex(&raw)),
        actor: actor.id.clone(),
        url: url.to_string(),
        created_at: corridor_core::time::format_log_time(log.clock().now()),
        removed_at: None,
    };
    log.db().add_webhook(&hook).await.map_err(storage)?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": hook.id, "url": hook.url, "created_at": hook.created_at,
                    "key": w.public_key()}),
        ),
    )
        .into_response())
}

async fn list(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
) -> Result<Response, Problem> {
    service(&log)?;
    let actor = who.member()?;
    let hooks = log.db().webhooks().await.map_err(storage)?;
    let mine: Vec<_> = hooks
        .iter()
        .filter(|h| h.actor == actor.id && h.removed_at.is_none())
        .map(|h| json!({"id": h.id, "url": h.url, "created_at": h.created_at}))
        .collect();
    Ok(Json(json!({"webhooks": mine})).into_response())
}

async fn remove(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    service(&log)?;
    let actor = who.member()?;
    let at = corridor_core::time::format_log_time(log.clock().now());
    if log
        .db()
        .remove_webhook(&id, &actor.id, &at)
        .await
        .map_err(storage)?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_found(&id))
    }
}

async fn deliveries(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    service(&log)?;
    let actor = who.member()?;
    let hooks = log.db().webhooks().await.map_err(storage)?;
    if !hooks.iter().any(|h| h.id == id && h.actor == actor.id) {
        return Err(not_found(&id));
    }
    let list = log.db().deliveries(&id, 0, 1000).await.map_err(storage)?;
    let out: Vec<_> = list
        .iter()
        .map(|d| {
            json!({"seq": d.seq, "alert": d.alert, "attempt": d.attempt, "at": d.at,
                   "outcome": d.outcome, "http_status": d.http_status, "error": d.error})
        })
        .collect();
    Ok(Json(json!({"webhook": id, "deliveries": out})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_and_https_unless_private_is_allowed() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2a00:1450:4001::1", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        let code = |u: &str, p| check_url(u, p).err().map(|e| e.code);
        assert_eq!(code("https://hooks.example.org/x", false), None);
        for bad in [
            "http://hooks.example.org/x",
            "ftp://hooks.example.org/x",
            "https://user:pw@hooks.example.org/x",
            "https://127.0.0.1/x",
            "https://[::1]/x",
            "https://localhost/x",
            "https://169.254.169.254/latest/meta-data",
            "not a url",
        ] {
            assert_eq!(code(bad, false), Some("webhook-url-refused"), "{bad}");
        }
        assert_eq!(code("http://127.0.0.1:9/x", true), None);
        assert_eq!(code("ftp://127.0.0.1/x", true), Some("webhook-url-refused"));
    }
}
