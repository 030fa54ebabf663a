//! The HTTP API (axum). The paths are a contract other tools rely on:
//!
//! - `POST /v1/commands` — a signed envelope; reply: the signed receipt (201, or 200 when the
//!   same bytes were already accepted);
//! - `GET /v1/log/checkpoint` — the latest signed note; `GET /v1/log/head` — the same as JSON;
//! - `GET /v1/log/leaves?start=&end=` — public leaf data;
//! - `GET /v1/log/entries?start=&end=` — full entries for a signed request by a member of the
//!   log: each entry the reader's audience admits in full, the others as leaf data only
//!   (`withheld`), so every reader can still check every leaf against the tree;
//! - `GET /v1/log/proof/inclusion?index=&size=`, `GET /v1/log/proof/consistency?from=&to=`;
//! - `GET /healthz`, `GET /readyz`, `GET /metrics`, `GET /v1/openapi.json`.
//!
//! Every error is an RFC 9457 problem document (see [`crate::problem`]), including a bad query
//! string (`invalid-query`), an unknown path (`not-found`), a wrong method (`method-not-allowed`)
//! and a request body that cannot be read (`body-unreadable`). On a simulated clock every reply
//! carries a `Corridor-Clock: simulated` header, so an exercise is never mistaken for the real
//! thing.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use axum::body::{Body, HttpBody};
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use corridor_core::access::{Audience, GENESIS_AUDIENCE, affiliation_of, entry_audience};
use corridor_core::command::Body as CommandBody;
use corridor_core::crypto::b64;
use corridor_core::entry::DisclosedEntry;
use corridor_core::envelope::SignedCommand;
use corridor_core::merkle::ProofError;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::{ReadFacts, Who};
use crate::limits::Peer;
use crate::log::{Log, SubmitError};
use crate::problem::Problem;

/// Largest accepted command envelope. Commands are a few hundred bytes to a few KiB; this bounds
/// what one request can make the server hold.
pub const MAX_BODY: usize = 64 * 1024;
/// Most leaves or entries in one page.
pub const MAX_PAGE: u64 = 1000;

type Shared = Arc<Log>;

fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Tests start several servers in one process: only the first installs the recorder.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// The API router for a running log.
pub fn router(log: Shared) -> Router {
    metrics_handle();
    // Start building the public site now, not on the first reader's request.
    log.public();
    Router::new()
        .route("/v1/commands", post(submit))
        .route("/v1/log/checkpoint", get(checkpoint))
        .route("/v1/log/head", get(head))
        .route("/v1/log/leaves", get(leaves))
        .route("/v1/log/entries", get(entries))
        .route("/v1/log/proof/inclusion", get(inclusion))
        .route("/v1/log/proof/consistency", get(consistency))
        .route("/v1/openapi.json", get(openapi))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/v1/cluster", get(cluster))
        .route("/metrics", get(|| async { metrics_handle().render() }))
        .merge(crate::queries::routes(log.clone()))
        .merge(crate::running::routes(log.clone()))
        .merge(crate::alerts::routes(log.clone()))
        .merge(crate::webhooks::routes(log.clone()))
        .merge(crate::evidence::routes(log.clone()))
        .merge(crate::register::routes(log.clone()))
        // The public site: `/` picks a language; `/events` streams status changes; every other
        // GET that no API route takes is looked up among the prebuilt public files.
        .route("/", get(crate::public::root))
        .route("/events", get(crate::public::events))
        // The coordinator console: a page that signs in the browser with a key kept there.
        .route("/console", get(crate::console::redirect))
        .route("/console/", get(crate::console::index))
        .route("/console/{*path}", get(crate::console::file))
        // After every route: it applies to the routes already added. axum keeps the `Allow`
        // header on the reply.
        .method_not_allowed_fallback(|req: Request| async move {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                format!(
                    "{} is not allowed on {}; see /v1/openapi.json",
                    req.method(),
                    req.uri().path()
                ),
            )
        })
        .fallback(|state: State<Shared>, req: Request| async move {
            if req.method() == axum::http::Method::GET || req.method() == axum::http::Method::HEAD {
                return crate::public::file(state, req).await;
            }
            Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "no such path; see /v1/openapi.json",
            )
            .into_response()
        })
        .layer(middleware::from_fn_with_state(log.clone(), clock_header))
        .with_state(log)
}

async fn clock_header(State(log): State<Shared>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if let Some(v) = clock_header_value(log.clock()) {
        resp.headers_mut().insert("corridor-clock", v);
    }
    resp
}

/// The `Corridor-Clock` header of every reply on a simulated clock (none on the real clock), so
/// an exercise is never mistaken for the real thing. Also written by the event streams served
/// outside axum ([`crate::serve`](mod@crate::serve)).
pub fn clock_header_value(clock: &crate::Clock) -> Option<HeaderValue> {
    if !clock.is_simulated() {
        return None;
    }
    let now = corridor_core::time::format_log_time(clock.now());
    HeaderValue::from_str(&format!("simulated; now={now}; exercise")).ok()
}

async fn submit(State(log): State<Shared>, req: Request) -> Result<Response, Problem> {
    let peer = crate::limits::peer_of(req.extensions());
    // A fellow instance forwarding a command has counted its client's address already.
    let forwarded = req.headers().contains_key(crate::cluster::FORWARDED_FOR);
    if !forwarded {
        log.limits().address(peer)?;
    }
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!("send the signed envelope as application/json, not {ct:?}"),
        ));
    }
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("a command envelope may be at most {MAX_BODY} bytes"),
        )
        .with(json!({"limit_bytes": MAX_BODY}))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    let headers = req.headers().clone();
    // Shared bytes: forwarding keeps them while the signature is checked.
    let bytes = axum::body::Bytes::from(read_body(req.into_body(), MAX_BODY, too_large).await?);
    let vouched = forwarded && crate::cluster::forwarded_client(&log, &headers, &bytes).is_some();
    if forwarded && !vouched {
        log.limits().address(peer)?;
    }
    let raw = bytes.clone();
    // The signature check (about 50 µs) runs here, on the async worker: every worker takes
    // requests, so all cores share the checks, and a hand-off to the blocking pool and back
    // cost more in latency than the check itself (BENCHMARKS.md, "Ingest").
    let cmd = log.parse(&bytes).map_err(|r| {
        metrics::counter!("corridor_commands_rejected_total", "code" => r.code()).increment(1);
        Problem::rejection(&r)
    })?;
    log.limits().command(&cmd.actor)?;
    if !log.is_sequencer() {
        if vouched {
            // Forwarded to an instance that no longer sequences: no second hop.
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "sequencer-unavailable",
                "resend the same bytes in a moment: the sequencer is changing over",
            )
            .with_retry_after(1));
        }
        return Ok(crate::cluster::forward(&log, raw, peer).await);
    }
    match log.submit(cmd).await {
        Ok(a) => {
            let status = if a.duplicate {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok((status, Json(a.receipt)).into_response())
        }
        Err(SubmitError::Rejected(r)) => Err(Problem::rejection(&r)),
        Err(SubmitError::Unavailable(why)) => Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage-unavailable",
            format!("nothing was written; resend the same bytes later ({why})"),
        )),
    }
}

/// Read a request body of at most `limit` bytes (whatever the framing: a lying or absent
/// Content-Length is caught by counting, and no more than `limit` bytes are ever held), telling
/// a body over the limit (`too_large`) apart from one that could not be read at all (broken
/// chunked framing, a client that hung up) and from one that did not arrive within the body
/// timeout of the accept loop.
pub(crate) async fn read_body(
    mut body: Body,
    limit: usize,
    too_large: impl Fn() -> Problem,
) -> Result<Vec<u8>, Problem> {
    let mut buf = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            if crate::serve::is_body_timeout(&e) {
                // A body sent too slowly (`corridor serve --body-timeout-ms`): nothing more is
                // read from this connection.
                return Problem::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body-timeout",
                    "the request body did not arrive in time; nothing was done",
                )
                .with_header("connection", "close");
            }
            Problem::new(
                StatusCode::BAD_REQUEST,
                "body-unreadable",
                format!("the request body could not be read: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(too_large());
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf)
}

async fn checkpoint(State(log): State<Shared>) -> Result<Response, Problem> {
    let head = log.head().ok_or_else(no_head)?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        log.served_note(&head),
    )
        .into_response())
}

fn no_head() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no-checkpoint",
        "no checkpoint has been published yet",
    )
}

async fn head(State(log): State<Shared>) -> Result<Response, Problem> {
    let head = log.head().ok_or_else(no_head)?;
    Ok(Json(json!({
        "origin": head.checkpoint.origin,
        "size": head.checkpoint.size,
        "root": b64(&head.checkpoint.root),
        "note": log.served_note(&head),
        "log_key": log.log_key_at(head.checkpoint.size).id(),
        // What the genesis says about witnesses, and the latest co-signed checkpoint (maybe
        // older than the head). Clients count the co-signatures themselves.
        "witnesses": log.genesis().witnesses,
        "witnessed": log.cosigned().map(|c| json!({"size": c.checkpoint.size, "note": c.note})),
        "log_keys": log.log_keys().iter().map(|(e, handover)| json!({
            "key": e.key, "from_size": e.from_size, "handover": handover,
        })).collect::<Vec<_>>(),
        "exercise": log.genesis().exercise,
        "clock": {
            "simulated": log.clock().is_simulated(),
            "now": corridor_core::time::format_log_time(log.clock().now()),
        },
    }))
    .into_response())
}

/// A query string, like axum's [`Query`], but refused with an `invalid-query` problem document
/// instead of axum's plain-text rejection, so clients see one error format everywhere.
struct Params<T>(T);

impl<S, T> FromRequestParts<S> for Params<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Params(v)),
            Err(e) => Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                format!(
                    "{}; the parameters are unsigned integers, see /v1/openapi.json",
                    e.body_text()
                ),
            )),
        }
    }
}

#[derive(Deserialize)]
struct Range {
    start: u64,
    end: u64,
}

fn check_range(r: &Range, size: u64) -> Result<(), Problem> {
    if r.start >= r.end || r.end > size || r.end - r.start > MAX_PAGE {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "range-out-of-range",
            format!(
                "need start < end <= {size} (the tree size) and at most {MAX_PAGE} per page; got start={} end={}",
                r.start, r.end
            ),
        ));
    }
    Ok(())
}

fn storage(e: corridor_storage::DbError) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "storage-unavailable",
        e.to_string(),
    )
}

async fn leaves(
    State(log): State<Shared>,
    Peer(peer): Peer,
    Params(r): Params<Range>,
) -> Result<Response, Problem> {
    log.limits().address(peer)?;
    check_range(&r, log.with_tree(|t| t.size()))?;
    let entries = log.db().entries(r.start, r.end).await.map_err(storage)?;
    let leaves: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({
                "index": e.header.index,
                "leaf": e.header,
                "leaf_hash": b64(&e.leaf_hash()),
            })
        })
        .collect();
    Ok(Json(json!({ "leaves": leaves })).into_response())
}

async fn entries(
    State(log): State<Shared>,
    who: Who,
    Params(r): Params<Range>,
) -> Result<Response, Problem> {
    // The signature check applied the address and read limits (`Who`).
    who.member()?;
    check_range(&r, log.with_tree(|t| t.size()))?;
    let entries = log.db().entries(r.start, r.end).await.map_err(storage)?;
    let origin = log.origin();
    let commands: Vec<Option<SignedCommand>> = entries
        .iter()
        .map(|e| {
            (e.header.index > 0)
                .then(|| {
                    SignedCommand::parse_stored(&e.command, &e.signature, origin, false, None).ok()
                })
                .flatten()
        })
        .collect();
    let directory = log.directory();
    let mut facts = ReadFacts::new(&directory, log.genesis());
    for c in commands.iter().flatten() {
        // Messages are read by their thread's participants: look the threads up.
        let thread = match &c.body {
            CommandBody::MessageSend(b) => Some(&b.thread),
            CommandBody::MessageAck(b) => Some(&b.thread),
            _ => None,
        };
        if let Some(t) = thread
            && !facts.threads.contains_key(t)
            && let Some(row) = log
                .db()
                .projection_row("thread", t)
                .await
                .map_err(storage)?
        {
            let participants = row.body["participants"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            facts.threads.insert(t.clone(), participants);
        }
        // Everything recorded about a report is read by the report's audience.
        let incident = match &c.body {
            CommandBody::IncidentRespond(b) => Some(&b.incident),
            CommandBody::IncidentCorrect(b) => Some(&b.incident),
            CommandBody::IncidentVerify(b) => Some(&b.incident),
            CommandBody::IncidentDuplicate(b) => Some(&b.incident),
            _ => None,
        };
        if let Some(id) = incident
            && !facts.incidents.contains_key(id)
            && let Some(row) = log
                .db()
                .projection_row("incident", id)
                .await
                .map_err(storage)?
        {
            let s = |f: &str| row.body.get(f).and_then(|v| v.as_str()).map(str::to_string);
            facts.incidents.insert(
                id.clone(),
                (s("reporter").unwrap_or_default(), s("accused_party")),
            );
        }
    }
    let mut disclosed = Vec::new();
    let out: Vec<Value> = entries
        .iter()
        .zip(&commands)
        .map(|(e, c)| {
            let audience = match c {
                _ if e.header.index == 0 => GENESIS_AUDIENCE,
                Some(c) => entry_audience(&facts, &c.actor, &c.body),
                // Unreadable bytes (never stored by this server): the narrowest audience.
                None => Audience::of([affiliation_of(&e.actor)]),
            };
            if who.may_read(&audience) {
                disclosed.push((format!("entry {}", e.header.index), audience));
                json!(DisclosedEntry::from(e))
            } else {
                json!({
                    "index": e.header.index,
                    "withheld": true,
                    "leaf": e.header,
                    "leaf_hash": b64(&e.leaf_hash()),
                })
            }
        })
        .collect();
    let path = format!("/v1/log/entries?start={}&end={}", r.start, r.end);
    crate::auth::audit(&log, &who, &path, &disclosed).await?;
    Ok(Json(json!({ "entries": out })).into_response())
}

fn proof_problem(e: ProofError) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "proof-out-of-range", e.to_string())
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    size: u64,
}

async fn inclusion(
    State(log): State<Shared>,
    Params(q): Params<InclusionQuery>,
) -> Result<Response, Problem> {
    let (proof, leaf) = log
        .with_tree(|t| {
            t.inclusion_proof(q.index, q.size)
                .map(|p| (p, t.leaf(q.index)))
        })
        .map_err(proof_problem)?;
    Ok(Json(json!({
        "index": q.index,
        "size": q.size,
        "leaf_hash": leaf.map(|h| b64(&h)),
        "proof": proof.iter().map(|h| b64(h)).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    from: u64,
    to: u64,
}

async fn consistency(
    State(log): State<Shared>,
    Params(q): Params<ConsistencyQuery>,
) -> Result<Response, Problem> {
    let proof = log
        .with_tree(|t| t.consistency_proof(q.from, q.to))
        .map_err(proof_problem)?;
    Ok(Json(json!({
        "from": q.from,
        "to": q.to,
        "proof": proof.iter().map(|h| b64(h)).collect::<Vec<_>>(),
    }))
    .into_response())
}

async fn readyz(State(log): State<Shared>) -> Result<&'static str, Problem> {
    log.db().size().await.map_err(storage)?;
    log.head().ok_or_else(no_head)?;
    Ok("ready")
}

/// `GET /v1/cluster`: this instance's part (sequencer in an epoch, or follower and whom it
/// forwards to), for operators and load balancers.
async fn cluster(State(log): State<Shared>) -> Response {
    let mut v = serde_json::to_value(log.role()).expect("a role serializes");
    v["clustered"] = json!(log.db().shared());
    Json(v).into_response()
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}
