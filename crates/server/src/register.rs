//! The negotiation register's read paths: rounds, agenda points (with each party's position),
//! a point's history, documents. Signed reads, confidential to the parties and the intermediary
//! (`access::record_audience`), each disclosure in the read audit; the JSON is
//! `corridor_core::views::register`'s.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use corridor_core::access::Audience;
use corridor_core::negotiation::{Basket, Document, Point, PointStatus, Round};
use corridor_core::views::register as view;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Who;
use crate::log::Log;
use crate::problem::Problem;
use crate::queries::{query, storage};
use crate::running::readable;

type Shared = Arc<Log>;

/// The routes, all behind the signed-read check.
pub fn routes(log: Shared) -> Router<Shared> {
    Router::new()
        .route("/v1/rounds", get(rounds))
        .route("/v1/points", get(points))
        .route("/v1/points/{id}", get(point))
        .route("/v1/points/{id}/history", get(history))
        .route("/v1/documents", get(documents))
        .route("/v1/documents/{id}", get(document))
        .route("/v1/documents/{id}/bundle", get(bundle))
        .route_layer(axum::middleware::from_fn_with_state(
            log,
            crate::queries::members_only,
        ))
}

/// `GET /v1/points` filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointFilter {
    basket: Option<String>,
    status: Option<String>,
}

fn bad(field: &str, why: &str) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid-field",
        format!("{field}: {why}"),
    )
}

fn not_found(what: &str, id: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("no {what} {id:?} that you may read"),
    )
}

/// One record of `kind` if the reader may read it (else not found: no id is confirmed to
/// someone who may not read it).
async fn one<T: serde::de::DeserializeOwned>(
    log: &Log,
    who: &Who,
    kind: &str,
    id: &str,
) -> Result<(T, Audience), Problem> {
    crate::running::readable_one(log, who, kind, id)
        .await?
        .ok_or_else(|| not_found(kind, id))
}

async fn rounds(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
) -> Result<Response, Problem> {
    let mut list = readable::<Round>(&log, &who, "round").await?;
    list.sort_by_key(|(r, _)| r.number);
    let disclosed: Vec<_> = list
        .iter()
        .map(|(r, a)| (format!("round {}", r.id), a.clone()))
        .collect();
    crate::auth::audit(&log, &who, "/v1/rounds", &disclosed).await?;
    let out: Vec<Value> = list
        .iter()
        .map(|(r, _)| view::round(r, log.genesis()))
        .collect();
    Ok(Json(json!({"rounds": out})).into_response())
}

async fn points(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    q: Result<Query<PointFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let f: PointFilter = query(q)?;
    let basket = match f.basket.as_deref() {
        None => None,
        Some(b) => Some(
            serde_json::from_value::<Basket>(json!(b))
                .map_err(|_| bad("basket", "one of military, humanitarian, political"))?,
        ),
    };
    let status = match f.status.as_deref() {
        None => None,
        Some(s) => Some(PointStatus::parse(s).ok_or_else(|| {
            bad(
                "status",
                "one of open, mutual-understanding, agreed-text, rejected, deferred",
            )
        })?),
    };
    let list = readable::<Point>(&log, &who, "point").await?;
    let mut disclosed = Vec::new();
    let out: Vec<Value> = list
        .iter()
        .filter(|(p, _)| basket.is_none_or(|b| p.basket == b))
        .filter(|(p, _)| status.is_none_or(|s| p.status == s))
        .map(|(p, a)| {
            disclosed.push((format!("point {}", p.id), a.clone()));
            view::point(p, log.genesis())
        })
        .collect();
    crate::auth::audit(&log, &who, "/v1/points", &disclosed).await?;
    Ok(Json(json!({"points": out})).into_response())
}

async fn point(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (p, a) = one::<Point>(&log, &who, "point", &id).await?;
    let path = format!("/v1/points/{id}");
    crate::auth::audit(&log, &who, &path, &[(format!("point {id}"), a)]).await?;
    Ok(Json(view::point(&p, log.genesis())).into_response())
}

async fn history(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (p, a) = one::<Point>(&log, &who, "point", &id).await?;
    let path = format!("/v1/points/{id}/history");
    crate::auth::audit(&log, &who, &path, &[(format!("point {id}"), a)]).await?;
    Ok(Json(view::point_history(&p)).into_response())
}

async fn documents(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
) -> Result<Response, Problem> {
    let list = readable::<Document>(&log, &who, "document").await?;
    let disclosed: Vec<_> = list
        .iter()
        .map(|(d, a)| (format!("document {}", d.id), a.clone()))
        .collect();
    crate::auth::audit(&log, &who, "/v1/documents", &disclosed).await?;
    let out: Vec<Value> = list
        .iter()
        .map(|(d, _)| view::document(d, log.genesis()))
        .collect();
    Ok(Json(json!({"documents": out})).into_response())
}

async fn document(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (d, a) = one::<Document>(&log, &who, "document", &id).await?;
    let path = format!("/v1/documents/{id}");
    crate::auth::audit(&log, &who, &path, &[(format!("document {id}"), a)]).await?;
    Ok(Json(view::document(&d, log.genesis())).into_response())
}

/// `GET /v1/documents/{id}/bundle`: a document every party signed, with the entries, proofs and
/// checkpoint that `corridor verify-document` checks offline against the genesis fingerprint
/// (`corridor_verify::bundle`). The entries: the genesis, every log-key rotation, each party's
/// signature, each signatory's registration, and the registration of every key on the way from
/// a signatory's key back to a party admin key the genesis names.
async fn bundle(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (d, a) = one::<Document>(&log, &who, "document", &id).await?;
    let b = assemble_bundle(&log, &d).await?;
    let path = format!("/v1/documents/{id}/bundle");
    crate::auth::audit(&log, &who, &path, &[(format!("document {id}"), a)]).await?;
    Ok(Json(b).into_response())
}

/// The bundle of `d`, every party's signature included, against the latest checkpoint (the
/// public site offers it for each published document too).
pub(crate) async fn assemble_bundle(
    log: &Log,
    d: &Document,
) -> Result<corridor_verify::bundle::Bundle, Problem> {
    use corridor_core::entry::DisclosedEntry;
    let id = &d.id;
    if !d.signed_by_all {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "document-not-signed",
            format!("{id:?} is not signed by every party yet: a bundle proves a signed document"),
        ));
    }
    let head = log.head().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no-checkpoint",
            "no checkpoint has been published yet",
        )
    })?;
    let size = head.checkpoint.size;
    let db = log.db();
    let entry = |i: u64| async move {
        db.entries(i, i + 1)
            .await
            .map_err(storage)?
            .pop()
            .ok_or_else(|| corrupt_index(i))
    };
    let mut wanted = std::collections::BTreeSet::from([0u64]);
    for (epoch, _) in log.log_keys().iter().skip(1) {
        wanted.insert(epoch.from_size - 1);
    }
    for seal in d.signatures.values() {
        let i = seal.by.at_index;
        wanted.insert(i);
        let actor = db
            .projection_row("actor", &seal.by.actor)
            .await
            .map_err(storage)?
            .ok_or_else(|| corrupt_index(i))?;
        wanted.insert(actor.body["registered_at"].as_u64().unwrap_or(0));
        // Follow the signing key back through whoever registered it.
        let mut key = entry(i).await?.key;
        for _ in 0..16 {
            let row = db
                .projection_row("key", &key)
                .await
                .map_err(storage)?
                .ok_or_else(|| corrupt_index(i))?;
            let at = row.body["registered_at"].as_u64().unwrap_or(0);
            if at == 0 {
                break;
            }
            wanted.insert(at);
            key = entry(at).await?.key;
        }
    }
    if wanted.iter().any(|i| *i >= size) {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no-checkpoint",
            "the latest signature is not covered by a checkpoint yet; ask again in a second",
        )
        .with_header("retry-after", "1"));
    }
    let mut entries = Vec::new();
    let mut proofs = Vec::new();
    for i in &wanted {
        let e = entry(*i).await?;
        let proof = log
            .with_tree(|t| t.inclusion_proof(*i, size))
            .map_err(|e| corrupt_index_why(*i, &e.to_string()))?;
        proofs.push(corridor_verify::bundle::proof_lines(&proof));
        entries.push(DisclosedEntry::from(&e));
    }
    let checkpoint = log.served_note(&head);
    Ok(corridor_verify::bundle::Bundle {
        format: corridor_verify::bundle::FORMAT.into(),
        origin: log.origin().to_string(),
        document: id.clone(),
        version: d.latest().clone(),
        entries,
        proofs,
        checkpoint,
    })
}

fn corrupt_index(i: u64) -> Problem {
    corrupt_index_why(i, "a record names an entry the log does not hold")
}

fn corrupt_index_why(i: u64, why: &str) -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "projection-corrupt",
        format!("entry {i}: {why}; run `corridor verify`"),
    )
}
