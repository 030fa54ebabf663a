//! Queries over agreements: corridors, windows, settlements, declarations, GeoJSON, and a
//! time-resolution helper for clients that must sign UTC instants.
//!
//! Records come from the projection tables (written with each entry, rebuildable from the log);
//! statuses are computed here, at request time, as a pure function of the records and the
//! instant asked about (default: the log's clock), so a window opens and closes without any new
//! entry.
//!
//! Every query but the time helper needs a signed request (see [`crate::auth`]).
//!
//! Contract: `GET /v1/corridors`, `GET /v1/corridors/{id}`, `GET /v1/windows` with `status=`,
//! `corridor=`, `party=`, `settlement=`, `at=`; `GET /v1/corridors.geojson`. `at` is an RFC 3339
//! instant with an offset, or a local date-time with `zone=` (and `offset=` inside a DST fold).
//! An offset's `+` typed as is in a URL arrives as a space (form decoding); it is read as `+`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use corridor_core::Rejection;
use corridor_core::access::{Audience, record_audience};
use corridor_core::agreement::{Corridor, CorridorVersion, Declaration, Settlement, Window};
use corridor_core::incident::Incident;
use corridor_core::views;
use corridor_core::views::incidents::{
    self as incident_views, IncidentFilter, IncidentQuery, counts,
};
use jiff::Timestamp;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::{ReadFacts, Who};
use crate::log::Log;
use crate::problem::Problem;

type Shared = Arc<Log>;

/// The query routes. All but `/v1/time/resolve` (a pure conversion) are for members of the log:
/// proposals that no party has agreed to yet, and incident reports, are not for the public,
/// which reads the agreed corridors on the public pages.
pub fn routes(log: Shared) -> Router<Shared> {
    Router::new()
        .route("/v1/corridors", get(corridors))
        .route("/v1/corridors.geojson", get(geojson))
        .route("/v1/corridors/{id}", get(corridor))
        .route("/v1/windows", get(windows))
        .route("/v1/settlements", get(settlements))
        .route("/v1/declarations", get(declarations))
        .route("/v1/incidents", get(incidents))
        .route("/v1/incidents.geojson", get(incidents_geojson))
        .route("/v1/incidents/{*id}", get(incident))
        .route("/v1/audit/reads", get(audit_reads))
        .route("/v1/me", get(me))
        .route_layer(axum::middleware::from_fn_with_state(log, members_only))
        .route("/v1/time/resolve", get(resolve))
}

/// `GET /v1/me`: whom the signing key acts for (actor, affiliation, role, name), and the
/// parties with their names and zones. The console reads it to offer a person their role's work
/// and to show times in each party's zone; the server still decides every command itself.
async fn me(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
) -> Result<Response, Problem> {
    let Who::Actor(actor, key) = &who else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "auth-required",
            "GET /v1/me needs a signed request",
        ));
    };
    let g = log.genesis();
    Ok(Json(json!({
        "actor": actor,
        "key": key,
        "origin": g.origin,
        "exercise": g.exercise,
        "parties": g.parties.iter().map(|p| json!({"id": p.id, "names": p.names, "zone": p.zone})).collect::<Vec<_>>(),
        "intermediary": g.intermediary.id,
        "organisations": g.organisations.iter().map(|o| &o.id).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// Require a signed request by an active key of a registered actor, and hand the reader to the
/// handler (as an extension).
pub(crate) async fn members_only(
    State(log): State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<Response, Problem> {
    use axum::extract::FromRequestParts;
    let (mut parts, body) = req.into_parts();
    // The address and the actor's read limits are applied in the signature check, before the
    // nonce is spent; an unsigned request is refused here at no cost.
    let who = Who::from_request_parts(&mut parts, &log).await?;
    who.member()?;
    parts.extensions.insert(who);
    Ok(next
        .run(axum::extract::Request::from_parts(parts, body))
        .await)
}

/// Which page of the read audit.
#[derive(Debug, Deserialize)]
struct AuditPage {
    #[serde(default)]
    after: u64,
    #[serde(default = "default_audit_limit")]
    limit: u64,
}

fn default_audit_limit() -> u64 {
    500
}

/// The read audit: who read confidential data, when, and what. The intermediary's staff see
/// every record; a party's admin and coordinators, and an organisation's admin, see the records
/// of reads of data that concerns their own side. Others may not inspect it.
async fn audit_reads(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    q: Result<Query<AuditPage>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    use corridor_core::command::Role;
    let Query(page) = q.map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            format!("{}; after and limit are unsigned integers", e.body_text()),
        )
    })?;
    let actor = who.member()?;
    let all = actor.role == Role::Intermediary;
    let own = matches!(
        actor.role,
        Role::PartyAdmin | Role::Coordinator | Role::OrganisationAdmin
    );
    if !all && !own {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "audit-not-allowed",
            format!(
                "the read audit is for the intermediary and for the admins and coordinators of the side concerned; {} is a {}",
                actor.id,
                actor.role.as_str()
            ),
        ));
    }
    let side = actor.affiliation.id().to_string();
    let limit = page.limit.min(1000);
    let mut out = Vec::new();
    let mut after = page.after;
    // Scan forward until a page of visible records is full or the trail ends.
    loop {
        let batch = log.db().reads(after, limit).await.map_err(storage)?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        let full = batch.len() as u64 == limit;
        out.extend(
            batch
                .into_iter()
                .filter(|r| all || r.concerned.contains(&side))
                .map(|r| {
                    json!({"seq": r.seq, "at": r.at, "actor": r.actor, "key": r.key,
                           "path": r.path, "items": r.items, "concerned": r.concerned})
                }),
        );
        if out.len() as u64 >= limit || !full {
            break;
        }
    }
    if out.len() as u64 > limit {
        out.truncate(limit as usize);
        after = out.last().and_then(|r| r["seq"].as_u64()).unwrap_or(after);
    }
    Ok(Json(json!({"reads": out, "next_after": after})).into_response())
}

/// The incident reports `who` may read (the reporter's side, the accused party, the
/// intermediary), each with its reporter's side and its audience, in id order. Only these are
/// ever listed, counted or flagged for this reader.
pub(crate) async fn readable_incidents(
    log: &Log,
    who: &Who,
) -> Result<Vec<(Incident, String, Audience)>, Problem> {
    let rows = log
        .db()
        .projection_rows_of("incident")
        .await
        .map_err(storage)?;
    let directory = log.directory();
    let facts = ReadFacts::new(&directory, log.genesis());
    let mut out = Vec::new();
    for r in rows {
        let audience = record_audience(&facts, "incident", &r.body);
        if !who.may_read(&audience) {
            continue;
        }
        let incident: Incident = serde_json::from_value(r.body).map_err(|e| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "projection-corrupt",
                format!("incident/{}: {e}; run `corridor rebuild`", r.id),
            )
        })?;
        let side = directory
            .actors
            .get(&incident.reporter)
            .map(|a| a.affiliation.id().to_string())
            .unwrap_or_default();
        out.push((incident, side, audience));
    }
    Ok(out)
}

/// The readable reports a filter admits, after the read audit has recorded them.
async fn chosen_incidents(
    log: &Log,
    who: &Who,
    path: &str,
    q: Result<Query<IncidentQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Vec<(Incident, String)>, Problem> {
    let filter = IncidentFilter::parse(&query(q)?).map_err(bad_query)?;
    let mut disclosed = Vec::new();
    let mut chosen = Vec::new();
    for (incident, side, audience) in readable_incidents(log, who).await? {
        if filter.admits(&incident, &side) {
            disclosed.push((format!("incident {}", incident.id), audience));
            chosen.push((incident, side));
        }
    }
    crate::auth::audit(log, who, path, &disclosed).await?;
    Ok(chosen)
}

const CLAIMS_NOTE: &str = "each report is a claim by its reporter, never a finding; the accused party's answers and the intermediary's status stand beside it";

/// Incident reports the reader may read, narrowed by `corridor=`, `window=`, `party=`,
/// `category=`, `status=`, `bbox=`, `from=`, `to=`, with counts per side of claims made and
/// received among them.
async fn incidents(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    q: Result<Query<IncidentQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let chosen = chosen_incidents(&log, &who, "/v1/incidents", q).await?;
    let counts = counts(chosen.iter().map(|(i, s)| (i, s.as_str())));
    Ok(Json(json!({
        "note": CLAIMS_NOTE,
        "counts": counts,
        "incidents": chosen.into_iter().map(|(i, _)| i).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// The same reports as GeoJSON points, for a map.
async fn incidents_geojson(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    q: Result<Query<IncidentQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let chosen = chosen_incidents(&log, &who, "/v1/incidents.geojson", q).await?;
    let mut body = incident_views::geojson(chosen.iter().map(|(i, s)| (i, s.as_str())));
    body["note"] = json!(CLAIMS_NOTE);
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
        body.to_string(),
    )
        .into_response())
}

/// One report with every version, the answers, the intermediary's statuses and its matches.
/// A report the reader may not read is answered as one that does not exist, so the accused of
/// one report cannot probe for others.
async fn incident(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let unknown = || {
        Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-incident",
            format!("no incident {id:?} that you may read"),
        )
    };
    let row = log
        .db()
        .projection_row("incident", &id)
        .await
        .map_err(storage)?
        .ok_or_else(unknown)?;
    let directory = log.directory();
    let facts = ReadFacts::new(&directory, log.genesis());
    let audience = record_audience(&facts, "incident", &row.body);
    if !who.may_read(&audience) {
        return Err(unknown());
    }
    crate::auth::audit(
        &log,
        &who,
        &format!("/v1/incidents/{id}"),
        &[(format!("incident {id}"), audience)],
    )
    .await?;
    let mut body = row.body;
    body["note"] = json!(CLAIMS_NOTE);
    Ok(Json(body).into_response())
}

/// Filters shared by the list endpoints.
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    status: Option<String>,
    pub(crate) corridor: Option<String>,
    party: Option<String>,
    settlement: Option<String>,
    at: Option<String>,
    zone: Option<String>,
    offset: Option<String>,
    version: Option<u32>,
    /// Operations and threads of this window (`/v1/operations`, reports).
    pub(crate) window: Option<String>,
    /// Threads about this operation (`/v1/threads`).
    pub(crate) operation: Option<String>,
}

fn bad_query(r: Rejection) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, r.code(), r.to_string())
}

pub(crate) fn query<T: DeserializeOwned + Default>(
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, Problem> {
    q.map(|Query(t)| t)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))
}

/// A query string decodes `+` to a space, so `at=2022-03-05T10:30:00+03:00` or `offset=+03:00`
/// typed as is arrives as `... 03:00`. A space is never valid before an offset's `HH:MM`, so
/// read it as the `+` that was meant.
fn plus_restored(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let n = b.len();
    let offset_like = n >= 6
        && b[n - 6] == b' '
        && b[n - 5..n - 3].iter().all(u8::is_ascii_digit)
        && b[n - 3] == b':'
        && b[n - 2..].iter().all(u8::is_ascii_digit);
    if offset_like {
        Cow::Owned(format!("{}+{}", &text[..n - 6], &text[n - 5..]))
    } else {
        Cow::Borrowed(text)
    }
}

/// An instant from `at` (RFC 3339 with offset, or local date-time with `zone`).
pub(crate) fn instant(log: &Log, f: &Filter) -> Result<Timestamp, Problem> {
    let offset = f.offset.as_deref().map(plus_restored);
    match (&f.at, &f.zone) {
        (None, _) => Ok(log.clock().now()),
        (Some(at), None) => plus_restored(at).parse::<Timestamp>().map_err(|e| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-instant",
                format!("at={at:?}: give an RFC 3339 instant with an offset (2022-03-05T10:00:00+03:00), or a local date-time with zone= ({e})"),
            )
        }),
        (Some(at), Some(zone)) => {
            corridor_core::localtime::resolve(at, zone, offset.as_deref()).map_err(bad_query)
        }
    }
}

pub(crate) fn storage(e: corridor_storage::DbError) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "storage-unavailable",
        e.to_string(),
    )
}

pub(crate) async fn load<T: DeserializeOwned>(log: &Log, kind: &str) -> Result<Vec<T>, Problem> {
    let rows = log.db().projection_rows_of(kind).await.map_err(storage)?;
    rows.into_iter()
        .map(|r| {
            serde_json::from_value(r.body).map_err(|e| {
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "projection-corrupt",
                    format!("{kind}/{}: {e}; run `corridor rebuild`", r.id),
                )
            })
        })
        .collect()
}

struct World {
    settlements: BTreeMap<String, Settlement>,
    corridors: BTreeMap<String, Corridor>,
    windows: Vec<Window>,
}

async fn world(log: &Log) -> Result<World, Problem> {
    let settlements = load::<Settlement>(log, "settlement").await?;
    let corridors = load::<Corridor>(log, "corridor").await?;
    Ok(World {
        settlements: settlements.into_iter().map(|s| (s.id.clone(), s)).collect(),
        corridors: corridors.into_iter().map(|c| (c.id.clone(), c)).collect(),
        windows: load::<Window>(log, "window").await?,
    })
}

fn window_matches(w: &Window, world: &World, f: &Filter, at: Timestamp) -> bool {
    let Some((status, _)) = w.status_at(at) else {
        return false;
    };
    if f.at.is_some() && f.status.is_none() && status.as_str() != "active" {
        // `at=` alone asks what was open then.
        return false;
    }
    if f.status.as_deref().is_some_and(|s| s != status.as_str()) {
        return false;
    }
    if f.corridor.as_deref().is_some_and(|c| c != w.corridor) {
        return false;
    }
    let v = w.version_at(at).unwrap_or_else(|| w.latest());
    if f.party
        .as_deref()
        .is_some_and(|p| !v.terms.required_parties.iter().any(|x| x == p))
    {
        return false;
    }
    if let Some(s) = &f.settlement {
        let touches = world
            .corridors
            .get(&w.corridor)
            .and_then(|c| c.versions.iter().find(|x| x.version == v.corridor_version))
            .is_some_and(|cv| &cv.terms.origin == s || &cv.terms.destination == s);
        if !touches {
            return false;
        }
    }
    true
}

const STATUSES: &[&str] = &[
    "proposed",
    "agreed",
    "active",
    "suspended",
    "completed",
    "withdrawn",
    "cancelled",
    "expired",
];

fn check_status(f: &Filter) -> Result<(), Problem> {
    if let Some(s) = &f.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            format!("status={s:?}: one of {}", STATUSES.join(", ")),
        ));
    }
    Ok(())
}

async fn windows(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let f = query(q)?;
    check_status(&f)?;
    let at = instant(&log, &f)?;
    let world = world(&log).await?;
    let readable = readable_incidents(&log, &who).await?;
    let list: Vec<Value> = world
        .windows
        .iter()
        .filter(|w| window_matches(w, &world, &f, at))
        .map(|w| {
            let mut v = views::window(
                w,
                &world.settlements,
                world.corridors.get(&w.corridor),
                log.genesis(),
                at,
            );
            v["incident_flags"] = json!(incident_views::flags(
                readable.iter().map(|(i, _, _)| i),
                &w.corridor,
                Some(&w.id)
            ));
            v
        })
        .collect();
    Ok(
        Json(json!({"as_of": corridor_core::time::format_log_time(at), "windows": list}))
            .into_response(),
    )
}

/// A corridor version (the latest unless asked otherwise) with the corridor's status and windows.
fn corridor_summary(
    c: &Corridor,
    cv: &CorridorVersion,
    world: &World,
    log: &Log,
    at: Timestamp,
) -> Value {
    let mut v = views::corridor_version(c, cv, &world.settlements);
    // Only windows that existed at `at`, as `/v1/windows` lists them: a window proposed later
    // has no status then.
    let mine: Vec<&Window> = world
        .windows
        .iter()
        .filter(|w| w.corridor == c.id && w.status_at(at).is_some())
        .collect();
    v["status"] = json!(views::corridor_status(mine.iter().copied(), at));
    v["windows"] = json!(
        mine.iter()
            .map(|w| views::window(w, &world.settlements, Some(c), log.genesis(), at))
            .collect::<Vec<_>>()
    );
    v
}

async fn corridors(
    State(log): State<Shared>,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let f = query(q)?;
    check_status(&f)?;
    let at = instant(&log, &f)?;
    let world = world(&log).await?;
    let list: Vec<Value> = world
        .corridors
        .values()
        .filter(|c| f.corridor.as_deref().is_none_or(|id| c.id == id))
        .filter(|c| {
            let t = &c.latest().terms;
            f.settlement
                .as_deref()
                .is_none_or(|s| t.origin == s || t.destination == s)
        })
        .filter(|c| {
            if f.status.is_none() && f.party.is_none() {
                return true;
            }
            world
                .windows
                .iter()
                .any(|w| w.corridor == c.id && window_matches(w, &world, &f, at))
        })
        .map(|c| corridor_summary(c, c.latest(), &world, &log, at))
        .collect();
    Ok(
        Json(json!({"as_of": corridor_core::time::format_log_time(at), "corridors": list}))
            .into_response(),
    )
}

async fn corridor(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    Path(id): Path<String>,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let f = query(q)?;
    let at = instant(&log, &f)?;
    let world = world(&log).await?;
    let c = world.corridors.get(&id).ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-corridor",
            format!("no corridor {id:?}"),
        )
    })?;
    // `?version=N` reads an older version, in the same shape as the latest.
    let cv = match f.version {
        None => c.latest(),
        Some(n) => c.versions.iter().find(|x| x.version == n).ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "unknown-version",
                format!("corridor {id} has no version {n}"),
            )
        })?,
    };
    let mut v = corridor_summary(c, cv, &world, &log, at);
    v["as_of"] = json!(corridor_core::time::format_log_time(at));
    // Flags: how many reports this reader may read were matched to the corridor and to each
    // of its windows (counts only; the reports themselves are read, and audited, through
    // /v1/incidents?corridor=).
    let readable = readable_incidents(&log, &who).await?;
    let reports = || readable.iter().map(|(i, _, _)| i);
    v["incident_flags"] = json!(incident_views::flags(reports(), &c.id, None));
    if let Some(windows) = v["windows"].as_array_mut() {
        for w in windows {
            let wid = w["id"].as_str().unwrap_or_default().to_string();
            w["incident_flags"] = json!(incident_views::flags(reports(), &c.id, Some(&wid)));
        }
    }
    // Which agreed points of the talks this corridor and its windows implement ("agreed in
    // round 2, point h-1"), for readers of the register only, and audited as register reads.
    let points =
        crate::running::readable::<corridor_core::negotiation::Point>(&log, &who, "point").await?;
    let mut disclosed = Vec::new();
    let mut agreed_in = |pred: &dyn Fn(&corridor_core::negotiation::Point) -> bool| {
        let mut out = Vec::new();
        for (p, a) in points.iter().filter(|(p, _)| pred(p)) {
            disclosed.push((format!("point {}", p.id), a.clone()));
            out.push(corridor_core::views::register::agreed_in(p));
        }
        out
    };
    v["agreed_in"] = json!(agreed_in(&|p| p.corridors.contains(&c.id)));
    if let Some(windows) = v["windows"].as_array_mut() {
        for w in windows {
            let wid = w["id"].as_str().unwrap_or_default().to_string();
            w["agreed_in"] = json!(agreed_in(&|p| p.windows.contains(&wid)));
        }
    }
    if !disclosed.is_empty() {
        let path = format!("/v1/corridors/{id}");
        crate::auth::audit(&log, &who, &path, &disclosed).await?;
    }
    Ok(Json(v).into_response())
}

async fn geojson(
    State(log): State<Shared>,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let f = query(q)?;
    let at = instant(&log, &f)?;
    let world = world(&log).await?;
    let corridors: Vec<Corridor> = world.corridors.into_values().collect();
    let body = views::corridors_geojson(&corridors, &world.windows, at);
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
        body.to_string(),
    )
        .into_response())
}

async fn settlements(State(log): State<Shared>) -> Result<Response, Problem> {
    let list = load::<Settlement>(&log, "settlement").await?;
    Ok(Json(json!({"settlements": list})).into_response())
}

async fn declarations(
    State(log): State<Shared>,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let f = query(q)?;
    let list: Vec<Declaration> = load::<Declaration>(&log, "declaration")
        .await?
        .into_iter()
        .filter(|d| f.corridor.is_none() || d.corridor == f.corridor)
        .filter(|d| f.party.as_deref().is_none_or(|p| d.party == p))
        .collect();
    Ok(Json(json!({
        "note": "each declaration is one party's own statement, not a jointly agreed window",
        "declarations": list,
    }))
    .into_response())
}

/// Resolve a local time to UTC before signing: `local=2022-03-05T10:00&zone=Europe/Moscow`.
#[derive(Debug, Default, Deserialize)]
pub struct Resolve {
    local: Option<String>,
    zone: Option<String>,
    offset: Option<String>,
}

async fn resolve(
    State(log): State<Shared>,
    q: Result<Query<Resolve>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let r = query(q)?;
    let (Some(local), Some(zone)) = (&r.local, &r.zone) else {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            "give local=YYYY-MM-DDTHH:MM and zone=IANA/Zone (and offset=+HH:MM inside a DST fold)",
        ));
    };
    let offset = r.offset.as_deref().map(plus_restored);
    let t = corridor_core::localtime::resolve(local, zone, offset.as_deref()).map_err(bad_query)?;
    let zones = views::zones(log.genesis(), None);
    let mut shown = serde_json::Map::new();
    for z in zones.iter().chain(std::iter::once(zone)) {
        if let Ok(s) = corridor_core::localtime::show(t, z) {
            shown.insert(z.clone(), json!(s));
        }
    }
    Ok(Json(json!({"utc": t.to_string(), "local": shown})).into_response())
}
