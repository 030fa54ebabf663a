//! Evidence files: the files behind an incident report's salted commitments, uploaded after the
//! report and read only by the report's audience.
//!
//! Contract: `POST /v1/evidence?incident=ID&salt=HEX64&sha256=HEX64` with the file's bytes as
//! the body (`application/octet-stream`), and `GET /v1/evidence/{sha256}`. Both are signed
//! requests (RFC 9421, [`crate::auth`]) by a member of the log.
//!
//! Why the file's hash and salt travel in the query: corridor's signature profile covers the
//! method, path and query, never the body. With the SHA-256 in the signed query and the server
//! refusing a body of another hash, the signature binds the bytes too, and a captured upload
//! cannot be replayed with another file. The salt is there so the server can open the report's
//! commitment ([`corridor_core::incident::commitment`]) and know which report the file belongs
//! to; it reaches only the server, never the log, so the accused party, who reads the report,
//! still cannot test which photo the source holds.
//!
//! An upload is checked, cheapest refusal first, and each refusal writes nothing:
//! 1. the query: `incident`, and `salt` and `sha256` as 64 hex digits (`invalid-query`);
//! 2. the uploader may read the incident (`evidence-outside-audience`, 403). An incident that
//!    does not exist answers the same: a different answer would tell another side, by guessing
//!    ids, that a confidential report exists (as the core's `unknown-incident` does);
//! 3. the report commits to this file with this salt in some version, the first or a correction
//!    (`evidence-not-committed`, 400): the report is recorded in the log first, so nothing is
//!    stored that the log does not vouch for;
//! 4. the body is `application/octet-stream` (`unsupported-media-type`) and at most
//!    [`crate::Log::evidence_max_bytes`] long (`evidence-too-large`, 413), counted as it is read
//!    so no more than the limit is ever held;
//! 5. its SHA-256 is the one signed (`evidence-hash-mismatch`, 400).
//!
//! Then the file and its link to the incident are stored in one durable transaction before the
//! answer (201, or 200 for the same upload again): an acknowledged upload survives a crash.
//! Files are content-addressed: the same file for two reports is stored once, linked twice.
//!
//! A read answers the file only to a reader who may read at least one incident it is linked
//! to, and 404 `evidence-unknown` otherwise, whether or not the file is there: telling "not
//! yours" from "absent" would let the accused test which files a source holds by their hashes.
//! Every read is in the read audit before the bytes leave.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use corridor_core::access::{Audience, record_audience};
use corridor_core::incident::{commitment, hex};
use corridor_storage::{EvidenceFile, EvidenceLink};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{ReadFacts, Who};
use crate::log::Log;
use crate::problem::Problem;
use crate::queries::{query, storage};

type Shared = Arc<Log>;

/// The default largest evidence file: 20 MiB, a set of phone photos or a short video clip.
/// Larger files are better handed over outside the log's server; the limit bounds what one
/// request makes the server hold in memory and store.
pub const DEFAULT_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// The routes, both behind the signed-request check.
pub fn routes(log: Shared) -> Router<Shared> {
    Router::new()
        .route("/v1/evidence", post(upload))
        .route("/v1/evidence/{sha256}", get(download))
        .route_layer(axum::middleware::from_fn_with_state(
            log,
            crate::queries::members_only,
        ))
}

/// The query of an upload.
#[derive(Debug, Default, Deserialize)]
struct Upload {
    incident: Option<String>,
    salt: Option<String>,
    sha256: Option<String>,
}

fn bad_query(detail: String) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid-query", detail)
}

/// 32 bytes from 64 hex digits (either case).
fn hex32(text: &str) -> Option<[u8; 32]> {
    let b = text.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// A required 32-byte hex parameter of the upload query.
fn hex_param(name: &str, value: Option<&str>) -> Result<[u8; 32], Problem> {
    let v = value.ok_or_else(|| {
        bad_query(format!(
            "{name}= is missing: upload to /v1/evidence?incident=ID&salt=HEX64&sha256=HEX64"
        ))
    })?;
    hex32(v).ok_or_else(|| {
        bad_query(format!(
            "{name}={v:?}: give 32 bytes as 64 hex digits{}",
            if name == "sha256" {
                " (the SHA-256 of the file's bytes)"
            } else {
                " (the salt the commitment in the report was made with)"
            }
        ))
    })
}

/// The answer to an upload by someone the incident's audience does not admit, or of an
/// incident that does not exist: the same, so no side learns of another's reports by asking.
fn outside(id: &str) -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "evidence-outside-audience",
        format!(
            "no incident {id:?} that you may read in this log: evidence is uploaded by those who read its report (the reporter's side, the accused party, the intermediary)"
        ),
    )
}

/// The incident's row and audience, if the reader may read it.
async fn readable_incident(
    log: &Log,
    who: &Who,
    id: &str,
) -> Result<Option<(Value, Audience)>, Problem> {
    let Some(row) = log
        .db()
        .projection_row("incident", id)
        .await
        .map_err(storage)?
    else {
        return Ok(None);
    };
    let directory = log.directory();
    let facts = ReadFacts::new(&directory, log.genesis());
    let audience = record_audience(&facts, "incident", &row.body);
    Ok(who.may_read(&audience).then_some((row.body, audience)))
}

/// Whether some version of the incident (the report or a correction) carries `c`. Every
/// version is kept, so a commitment once recorded stays openable after a correction.
fn committed(incident: &Value, c: &str) -> bool {
    incident["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["evidence"].as_array())
        .flatten()
        .any(|e| e.as_str() == Some(c))
}

async fn upload(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    q: Result<Query<Upload>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let actor = who.member()?.clone();
    let q = query(q)?;
    let id = q
        .incident
        .as_deref()
        .filter(|i| !i.is_empty())
        .ok_or_else(|| {
            bad_query(
                "incident= is missing: upload to /v1/evidence?incident=ID&salt=HEX64&sha256=HEX64"
                    .into(),
            )
        })?;
    let salt = hex_param("salt", q.salt.as_deref())?;
    let sha = hex_param("sha256", q.sha256.as_deref())?;
    let (incident, _) = readable_incident(&log, &who, id)
        .await?
        .ok_or_else(|| outside(id))?;
    let c = commitment(&salt, &sha);
    if !committed(&incident, &c) {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "evidence-not-committed",
            format!(
                "no version of incident {id:?} commits to this file with this salt (commitment {c}): record the report or a correction carrying the commitment first, then upload the file with the salt it was made with"
            ),
        ));
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/octet-stream") {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!("send the file's bytes as application/octet-stream, not {ct:?}"),
        ));
    }
    let limit = log.evidence_max_bytes();
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "evidence-too-large",
            format!(
                "an evidence file may be at most {limit} bytes on this server; nothing was stored"
            ),
        )
        .with(json!({"limit_bytes": limit}))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let bytes = crate::http::read_body(
        body,
        usize::try_from(limit).unwrap_or(usize::MAX),
        too_large,
    )
    .await?;
    let got = corridor_core::crypto::sha256(&[&bytes]);
    if got != sha {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "evidence-hash-mismatch",
            format!(
                "the body's SHA-256 is {}, not the {} signed in the query: the file changed, or was cut short; nothing was stored",
                hex(&got),
                hex(&sha)
            ),
        ));
    }
    let size = bytes.len();
    let file = EvidenceFile {
        sha256: hex(&sha),
        bytes,
    };
    let link = EvidenceLink {
        sha256: file.sha256.clone(),
        incident: id.to_string(),
        salt: hex(&salt),
        commitment: c.clone(),
        uploader: actor.id.clone(),
        at: corridor_core::time::format_log_time(log.clock().now()),
    };
    let new = log.db().put_evidence(&file, &link).await.map_err(|e| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage-unavailable",
            format!("the file was not stored ({e}); upload it again later"),
        )
    })?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({"sha256": file.sha256, "incident": id, "commitment": c, "size": size})),
    )
        .into_response())
}

fn unknown(sha: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "evidence-unknown",
        format!(
            "no evidence file {sha:?} that you may read (a file is named by the SHA-256 of its bytes, 64 hex digits, and read by the readers of a report it was uploaded for)"
        ),
    )
}

async fn download(
    State(log): State<Shared>,
    Extension(who): Extension<Who>,
    Path(sha): Path<String>,
) -> Result<Response, Problem> {
    let Some(bytes) = hex32(&sha) else {
        return Err(unknown(&sha));
    };
    let sha = hex(&bytes);
    let mut disclosed = Vec::new();
    for link in log.db().evidence_links(&sha).await.map_err(storage)? {
        if let Some((_, audience)) = readable_incident(&log, &who, &link.incident).await? {
            disclosed.push((
                format!("evidence {sha} (incident {})", link.incident),
                audience,
            ));
        }
    }
    if disclosed.is_empty() {
        return Err(unknown(&sha));
    }
    let file = log
        .db()
        .evidence(&sha)
        .await
        .map_err(storage)?
        .ok_or_else(|| unknown(&sha))?;
    crate::auth::audit(&log, &who, &format!("/v1/evidence/{sha}"), &disclosed).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{sha}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        file,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex32_takes_64_digits_of_either_case_only() {
        let h = "00ff".repeat(16);
        assert_eq!(hex32(&h).unwrap()[..2], [0x00, 0xff]);
        assert_eq!(hex32(&h.to_uppercase()), hex32(&h));
        assert!(hex32(&h[1..]).is_none());
        assert!(hex32(&format!("{}g", &h[1..])).is_none());
        assert!(hex32(&format!("{h}00")).is_none());
        assert!(hex32(&format!("+{}", &h[1..])).is_none());
    }

    #[test]
    fn a_commitment_in_any_version_counts() {
        let body = json!({"versions": [{"evidence": ["a"]}, {"evidence": []}]});
        assert!(committed(&body, "a"));
        assert!(!committed(&body, "b"));
        assert!(!committed(&json!({}), "a"));
    }
}
