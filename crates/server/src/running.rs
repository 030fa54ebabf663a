//! What runs through a window, for the people who run it: operations, unit confirmations,
//! threads and the operations report. Every route is a signed read; every record is filtered by
//! its audience ([`corridor_core::access::record_audience`]) and every confidential read is
//! audited before the bytes leave, as for incidents.
//!
//! Contract: `GET /v1/operations` (`window=`, `corridor=`, `at=`), `GET /v1/operations/{id}`,
//! `GET /v1/windows/{id}/receipts`, `GET /v1/threads` (`corridor=`, `operation=`),
//! `GET /v1/threads/{id}`, `GET /v1/reports/operations` (JSON) and
//! `GET /v1/reports/operations.csv` (HXL-tagged). Ids holding a `/` (operations and threads are
//! `<side>/<name>`) may be sent as they are or percent-encoded.
//!
//! A record the reader may not read answers exactly as one that does not exist (404), so no
//! side learns of another's operations or threads by asking.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use corridor_core::access::{Audience, record_audience};
use corridor_core::agreement::Window;
use corridor_core::chain::{PartyConfirmations, confirmations_id};
use corridor_core::channel::{Message, Thread};
use corridor_core::command::Role;
use corridor_core::operation::Operation;
use corridor_core::views::running as view;
use corridor_storage::StoredRow;
use serde_json::{Value, json};

use crate::auth::{ReadFacts, Who};
use crate::log::Log;
use crate::problem::Problem;
use crate::queries::{Filter, instant, query, storage};

type Shared = Arc<Log>;

/// The routes, all behind the signed-read check.
pub fn routes(log: Shared) -> Router<Shared> {
    Router::new()
        .route("/v1/operations", get(operations))
        .route("/v1/operations/{*id}", get(operation))
        .route("/v1/windows/{id}/receipts", get(receipts))
        .route("/v1/threads", get(threads))
        .route("/v1/threads/{*id}", get(thread))
        .route("/v1/reports/operations", get(report_json))
        .route("/v1/reports/operations.csv", get(report_csv))
        .route_layer(axum::middleware::from_fn_with_state(
            log,
            crate::queries::members_only,
        ))
}

fn corrupt(kind: &str, id: &str, e: serde_json::Error) -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "projection-corrupt",
        format!("{kind}/{id}: {e}; run `corridor rebuild`"),
    )
}

fn not_found(what: &str, id: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("no {what} {id:?} that you may read"),
    )
}

/// The rows of `kind` the reader may read, typed, with their audiences.
pub(crate) async fn readable<T: serde::de::DeserializeOwned>(
    log: &Log,
    who: &Who,
    kind: &str,
) -> Result<Vec<(T, Audience)>, Problem> {
    let rows = log.db().projection_rows_of(kind).await.map_err(storage)?;
    let directory = log.directory();
    let facts = ReadFacts::new(&directory, log.genesis());
    let mut out = Vec::new();
    for r in rows {
        let audience = record_audience(&facts, kind, &r.body);
        if who.may_read(&audience) {
            let t = serde_json::from_value(r.body).map_err(|e| corrupt(kind, &r.id, e))?;
            out.push((t, audience));
        }
    }
    Ok(out)
}

/// One row of `kind` if the reader may read it.
pub(crate) async fn readable_one<T: serde::de::DeserializeOwned>(
    log: &Log,
    who: &Who,
    kind: &str,
    id: &str,
) -> Result<Option<(T, Audience)>, Problem> {
    let Some(StoredRow { body, .. }) = log.db().projection_row(kind, id).await.map_err(storage)?
    else {
        return Ok(None);
    };
    let directory = log.directory();
    let facts = ReadFacts::new(&directory, log.genesis());
    let audience = record_audience(&facts, kind, &body);
    if !who.may_read(&audience) {
        return Ok(None);
    }
    let t = serde_json::from_value(body).map_err(|e| corrupt(kind, id, e))?;
    Ok(Some((t, audience)))
}

fn matches(op: &Operation, f: &Filter) -> bool {
    f.window.as_deref().is_none_or(|w| op.window == w)
        && f.corridor.as_deref().is_none_or(|c| op.corridor == c)
}

async fn operations(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let f = query(q)?;
    let at = instant(&log, &f)?;
    let ops = readable::<Operation>(&log, &who, "operation").await?;
    let mut disclosed = Vec::new();
    let list: Vec<Value> = ops
        .iter()
        .filter(|(op, _)| matches(op, &f))
        .map(|(op, audience)| {
            disclosed.push((format!("operation {}", op.id), audience.clone()));
            view::operation_summary(op, log.genesis(), at)
        })
        .collect();
    crate::auth::audit(&log, &who, "/v1/operations", &disclosed).await?;
    Ok(Json(json!({
        "as_of": corridor_core::time::format_log_time(at),
        "operations": list,
    }))
    .into_response())
}

async fn operation(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    Path(id): Path<String>,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let f = query(q)?;
    let at = instant(&log, &f)?;
    let (op, audience) = readable_one::<Operation>(&log, &who, "operation", &id)
        .await?
        .ok_or_else(|| not_found("operation", &id))?;
    let path = format!("/v1/operations/{id}");
    crate::auth::audit(&log, &who, &path, &[(format!("operation {id}"), audience)]).await?;
    Ok(Json(view::operation(&op, log.genesis(), at)).into_response())
}

/// A window's unit confirmations: by name for the reader's own party (and for the
/// intermediary), as counts for every other party.
async fn receipts(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let reader = who.member()?;
    let w = log
        .db()
        .projection_row("window", &id)
        .await
        .map_err(storage)?
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "unknown-window",
                format!("no window {id:?}"),
            )
        })?;
    let w: Window = serde_json::from_value(w.body).map_err(|e| corrupt("window", &id, e))?;
    let directory = log.directory();
    // Each party's units: unit actors with a key still in force.
    let units = corridor_core::alerts::units_by_party(directory.actors.values(), |id| {
        directory.actor_in_force(id)
    });
    let mut records: BTreeMap<String, PartyConfirmations> = BTreeMap::new();
    let mut readable = BTreeSet::new();
    let mut disclosed = Vec::new();
    for p in &w.latest().terms.required_parties {
        let audience = Audience::of([p.as_str()]);
        let named = who.may_read(&audience) && reader.role != Role::Observer;
        let rid = confirmations_id(p, &w.id);
        if let Some(row) = log
            .db()
            .projection_row("confirmation", &rid)
            .await
            .map_err(storage)?
        {
            let r: PartyConfirmations =
                serde_json::from_value(row.body).map_err(|e| corrupt("confirmation", &rid, e))?;
            records.insert(p.clone(), r);
        }
        if named {
            readable.insert(p.clone());
            disclosed.push((format!("unit confirmations {rid}"), audience));
        }
    }
    let path = format!("/v1/windows/{id}/receipts");
    crate::auth::audit(&log, &who, &path, &disclosed).await?;
    Ok(Json(view::receipts(
        &w,
        log.genesis(),
        &units,
        &records,
        &readable,
    ))
    .into_response())
}

async fn threads(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let f = query(q)?;
    let list = readable::<Thread>(&log, &who, "thread").await?;
    let mut disclosed = Vec::new();
    let out: Vec<Value> = list
        .iter()
        .filter(|(t, _)| f.corridor.is_none() || t.corridor == f.corridor)
        .filter(|(t, _)| f.operation.is_none() || t.operation == f.operation)
        .map(|(t, audience)| {
            disclosed.push((format!("thread {}", t.id), audience.clone()));
            json!({"id": t.id, "subject": t.subject, "corridor": t.corridor,
                   "operation": t.operation, "participants": t.participants,
                   "messages": t.messages, "opened_at": t.at_time})
        })
        .collect();
    crate::auth::audit(&log, &who, "/v1/threads", &disclosed).await?;
    Ok(Json(json!({"threads": out})).into_response())
}

async fn thread(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (t, audience) = readable_one::<Thread>(&log, &who, "thread", &id)
        .await?
        .ok_or_else(|| not_found("thread", &id))?;
    let prefix = format!("{id}#");
    let mut messages: Vec<Message> = Vec::new();
    for r in log
        .db()
        .projection_rows_of("message")
        .await
        .map_err(storage)?
    {
        if r.id.starts_with(&prefix) {
            messages
                .push(serde_json::from_value(r.body).map_err(|e| corrupt("message", &r.id, e))?);
        }
    }
    messages.sort_by_key(|m| m.at_index);
    let refs: Vec<&Message> = messages.iter().collect();
    let path = format!("/v1/threads/{id}");
    crate::auth::audit(&log, &who, &path, &[(format!("thread {id}"), audience)]).await?;
    Ok(Json(view::thread(&t, &refs, log.genesis())).into_response())
}

/// The operations the reader may read that match the filter, with the audit entries.
async fn report_ops(
    log: &Log,
    who: &Who,
    f: &Filter,
) -> Result<(Vec<Operation>, Vec<(String, Audience)>), Problem> {
    let mut ops = Vec::new();
    let mut disclosed = Vec::new();
    for (op, audience) in readable::<Operation>(log, who, "operation").await? {
        if matches(&op, f) {
            disclosed.push((format!("operation {}", op.id), audience));
            ops.push(op);
        }
    }
    Ok((ops, disclosed))
}

/// Per window and per operation: planned against delivered, evacuees, the movement timeline
/// and the acknowledgements.
async fn report_json(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let f = query(q)?;
    let at = instant(&log, &f)?;
    let (ops, disclosed) = report_ops(&log, &who, &f).await?;
    crate::auth::audit(&log, &who, "/v1/reports/operations", &disclosed).await?;
    let mut windows: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for op in &ops {
        windows
            .entry(op.window.as_str())
            .or_default()
            .push(view::operation(op, log.genesis(), at));
    }
    let windows: Vec<Value> = windows
        .into_iter()
        .map(|(w, ops)| {
            let n = |f: &dyn Fn(&Value) -> i64| ops.iter().map(f).sum::<i64>();
            json!({
                "window": w,
                "operations": ops.len(),
                "evacuees_departed": n(&|o| o["evacuees"]["departed"]["total"].as_i64().unwrap_or(0)),
                "evacuees_arrived": n(&|o| o["evacuees"]["arrived"]["total"].as_i64().unwrap_or(0)),
                "consignments_sent": n(&|o| o["manifest"].as_array().map_or(0, |m| m.len() as i64)),
                "consignments_received": n(&|o| o["manifest"].as_array().map_or(0, |m| m.iter().filter(|c| !c["delivered"].is_null()).count() as i64)),
                "detail": ops,
            })
        })
        .collect();
    Ok(Json(json!({
        "as_of": corridor_core::time::format_log_time(at),
        "windows": windows,
    }))
    .into_response())
}

/// The same as CSV with an HXL hashtag row under the header, for HDX and the cluster's
/// spreadsheets.
async fn report_csv(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let f = query(q)?;
    let at = instant(&log, &f)?;
    let (ops, disclosed) = report_ops(&log, &who, &f).await?;
    crate::auth::audit(&log, &who, "/v1/reports/operations.csv", &disclosed).await?;
    let refs: Vec<&Operation> = ops.iter().collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "report-failed",
            e.to_string(),
        )
    };
    w.write_record(view::REPORT_COLUMNS.iter().map(|(name, _)| *name))
        .map_err(err)?;
    w.write_record(view::REPORT_COLUMNS.iter().map(|(_, tag)| *tag))
        .map_err(err)?;
    for row in view::report_rows(&refs, log.genesis(), at) {
        w.write_record(&row).map_err(err)?;
    }
    let bytes = w.into_inner().map_err(|e| err(e.into_error().into()))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response())
}
