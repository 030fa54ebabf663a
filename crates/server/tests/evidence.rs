//! Evidence files over HTTP (`POST /v1/evidence`, `GET /v1/evidence/{sha256}`): a file a
//! recorded report commits to is stored once, content-addressed, and read back byte for byte
//! by the report's audience only; every bad upload is its own problem code and stores nothing.

mod common;

use std::net::SocketAddr;

use common::*;
use corridor_core::crypto::{Keypair, sha256};
use corridor_core::incident::{commitment, hex};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The readers: `(actor, role, key seed, admin seed, admin)`.
const PEOPLE: &[(&str, &str, u8, u8, &str)] = &[
    ("ua/coord", "coordinator", 10, 3, "ua/admin"),
    ("ru/coord", "coordinator", 11, 4, "ru/admin"),
    ("urcs/member", "organisation-member", 13, 5, "urcs/admin"),
];

const UA: u8 = 10;
const RU: u8 = 11;
const URCS: u8 = 13;

/// A photo, as far as the server can tell.
fn photo(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 3) as u8).collect()
}

async fn fixture() -> Server {
    let s = Server::start().await;
    for (actor, role, seed, admin, admin_id) in PEOPLE {
        s.run(
            &kp(*admin),
            admin_id,
            register_body(actor, role, &kp(*seed)),
        )
        .await;
    }
    s
}

/// Record a report by ua/coord accusing ru that commits to `commitments`.
async fn report(s: &Server, incident: &str, commitments: &[String]) {
    let mut body = report_body(incident);
    body["evidence"] = json!(commitments);
    s.run(&kp(UA), "ua/coord", body).await;
}

/// A signed `POST /v1/evidence?query` carrying `body` as `content_type`.
async fn post(
    s: &Server,
    key: Option<&Keypair>,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Reply {
    let path = "/v1/evidence";
    let mut req = s
        .http
        .post(format!("{}{path}?{query}", s.base))
        .header("content-type", content_type)
        .body(body);
    if let Some(key) = key {
        let target = corridor_core::httpsig::Target {
            method: "POST",
            path,
            query: Some(query),
        };
        let created = s.log.clock().now().as_second();
        let (input, signature) =
            corridor_core::httpsig::sign(key, ORIGIN, target, created, &s.nonce());
        req = req
            .header("signature-input", input)
            .header("signature", signature);
    }
    let resp = req.send().await.unwrap();
    let reply = Reply {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp.bytes().await.unwrap().to_vec(),
        what: format!("POST {path}?{query}"),
    };
    check_clock_header(&reply.headers, &reply.what);
    reply
}

fn query(incident: &str, salt: &[u8; 32], sha: &[u8; 32]) -> String {
    format!("incident={incident}&salt={}&sha256={}", hex(salt), hex(sha))
}

/// Upload `file` for `incident` with `salt`, signed with `key`.
async fn upload(s: &Server, key: u8, incident: &str, salt: &[u8; 32], file: &[u8]) -> Reply {
    let sha = sha256(&[file]);
    post(
        s,
        Some(&kp(key)),
        &query(incident, salt, &sha),
        "application/octet-stream",
        file.to_vec(),
    )
    .await
}

/// Nothing stored under this content address.
async fn nothing_stored(s: &Server, sha: &[u8; 32]) {
    let sha = hex(sha);
    assert_eq!(s.log.db().evidence(&sha).await.unwrap(), None, "{sha}");
    assert!(s.log.db().evidence_links(&sha).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_reporter_uploads_and_the_audience_alone_reads_it_back() {
    let s = fixture().await;
    let file = photo(100_000);
    let sha = sha256(&[&file]);
    let salt = [7u8; 32];
    let c = commitment(&salt, &sha);
    report(&s, "ua/inc-1", std::slice::from_ref(&c)).await;

    let stored = upload(&s, UA, "ua/inc-1", &salt, &file)
        .await
        .expect_json(StatusCode::CREATED);
    let answer =
        json!({"sha256": hex(&sha), "incident": "ua/inc-1", "commitment": c, "size": 100_000});
    assert_eq!(stored, answer);
    // The same upload again: the same answer, 200, nothing new.
    let again = upload(&s, UA, "ua/inc-1", &salt, &file)
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(again, answer);
    assert_eq!(
        s.log.db().evidence_links(&hex(&sha)).await.unwrap().len(),
        1
    );

    // The reporter's side and the accused party read it, byte for byte, never cached or sniffed.
    let path = format!("/v1/evidence/{}", hex(&sha));
    for reader in [UA, RU, 1] {
        let r = s.get_as(&kp(reader), &path).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.body, file, "read back bytes-identical");
        let h = |n: &str| r.headers.get(n).unwrap().to_str().unwrap().to_string();
        assert_eq!(h("content-type"), "application/octet-stream");
        assert!(h("content-disposition").starts_with("attachment"));
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("cache-control"), "private, no-store");
    }
    // Upper-case hex names the same file.
    let r = s
        .get_as(
            &kp(UA),
            &path
                .to_uppercase()
                .replace("/V1/EVIDENCE/", "/v1/evidence/"),
        )
        .await;
    assert_eq!(r.body, file);

    // Outside the audience the file is exactly as absent as a file nobody uploaded.
    let outside = s
        .get_as(&kp(URCS), &path)
        .await
        .expect_problem(StatusCode::NOT_FOUND, "evidence-unknown");
    let absent_sha = hex(&sha256(&[b"never uploaded"]));
    let absent = s
        .get_as(&kp(UA), &format!("/v1/evidence/{absent_sha}"))
        .await
        .expect_problem(StatusCode::NOT_FOUND, "evidence-unknown");
    assert_eq!(
        outside["detail"].as_str().unwrap().replace(&hex(&sha), "X"),
        absent["detail"].as_str().unwrap().replace(&absent_sha, "X")
    );
    s.get_as(&kp(UA), "/v1/evidence/not-a-hash")
        .await
        .expect_problem(StatusCode::NOT_FOUND, "evidence-unknown");
    // Unsigned: refused before anything is looked up.
    s.get_public(&path)
        .await
        .expect_problem(StatusCode::UNAUTHORIZED, "auth-required");

    // Every read is in the read audit, for each side concerned.
    let audit = s.get("/v1/audit/reads").await.expect_json(StatusCode::OK);
    let item = format!("evidence {} (incident ua/inc-1)", hex(&sha));
    let reads: Vec<&Value> = audit["reads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["items"] == json!([item]))
        .collect();
    // Four reads (ua, ru, icrc, ua again) × two sides concerned (ua, ru).
    assert_eq!(reads.len(), 8, "{audit}");
    assert!(
        reads
            .iter()
            .any(|r| r["actor"] == "ru/coord" && r["concerned"] == json!(["ua"]))
    );

    // The same file for another report: linked again, stored once; a reader of either reads it.
    let salt2 = [8u8; 32];
    let mut body = report_body("ru/inc-9");
    body["accused_party"] = json!("ua");
    body["evidence"] = json!([commitment(&salt2, &sha)]);
    s.run(&kp(RU), "ru/coord", body).await;
    upload(&s, RU, "ru/inc-9", &salt2, &file)
        .await
        .expect_json(StatusCode::CREATED);
    let links = s.log.db().evidence_links(&hex(&sha)).await.unwrap();
    assert_eq!(
        links
            .iter()
            .map(|l| l.incident.as_str())
            .collect::<Vec<_>>(),
        ["ru/inc-9", "ua/inc-1"]
    );
    assert_eq!(links[0].uploader, "ru/coord");
    assert_eq!(links[1].uploader, "ua/coord");
}

#[tokio::test]
async fn outsiders_and_strangers_to_the_incident_are_refused_alike() {
    let s = fixture().await;
    let file = photo(2_000);
    let sha = sha256(&[&file]);
    let salt = [1u8; 32];
    report(&s, "ua/inc-1", &[commitment(&salt, &sha)]).await;
    // The Red Cross does not read ua's report against ru: refused, and refused the same way
    // as for a report that does not exist, so it cannot probe for one by id.
    let p = upload(&s, URCS, "ua/inc-1", &salt, &file)
        .await
        .expect_problem(StatusCode::FORBIDDEN, "evidence-outside-audience");
    let q = upload(&s, URCS, "ua/inc-404", &salt, &file)
        .await
        .expect_problem(StatusCode::FORBIDDEN, "evidence-outside-audience");
    assert_eq!(
        p["detail"].as_str().unwrap().replace("inc-1", "X"),
        q["detail"].as_str().unwrap().replace("inc-404", "X")
    );
    nothing_stored(&s, &sha).await;
    // Unsigned: 401 with the signature the server asks for.
    let r = post(
        &s,
        None,
        &query("ua/inc-1", &salt, &sha),
        "application/octet-stream",
        file.clone(),
    )
    .await;
    r.expect_problem(StatusCode::UNAUTHORIZED, "auth-required");
    assert!(r.headers.contains_key("accept-signature"));
    nothing_stored(&s, &sha).await;
    // The accused party is in the audience: it may upload what the report commits to.
    upload(&s, RU, "ua/inc-1", &salt, &file)
        .await
        .expect_json(StatusCode::CREATED);
}

/// A bad upload: what it is, its query, content type and body, and the expected answer.
type Case = (
    &'static str,
    String,
    &'static str,
    Vec<u8>,
    StatusCode,
    &'static str,
);

#[tokio::test]
async fn bad_uploads_are_each_their_own_problem_and_store_nothing() {
    let s = fixture().await;
    s.log.set_evidence_max_bytes(4096);
    let big = photo(4097);
    let fits = photo(4096);
    let salt = [2u8; 32];
    let (big_sha, fits_sha) = (sha256(&[&big]), sha256(&[&fits]));
    let other = b"another photo".to_vec();
    let other_sha = sha256(&[&other]);
    report(
        &s,
        "ua/inc-1",
        &[
            commitment(&salt, &big_sha),
            commitment(&salt, &fits_sha),
            commitment(&salt, &other_sha),
        ],
    )
    .await;
    let before = s.snapshot().await;
    let octets = "application/octet-stream";
    let good = query("ua/inc-1", &salt, &fits_sha);
    let cases: Vec<Case> = vec![
        (
            "one byte over the limit",
            query("ua/inc-1", &salt, &big_sha),
            octets,
            big.clone(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "evidence-too-large",
        ),
        (
            "bytes other than the hash signed",
            good.clone(),
            octets,
            other.clone(),
            StatusCode::BAD_REQUEST,
            "evidence-hash-mismatch",
        ),
        (
            "a file cut short",
            good.clone(),
            octets,
            fits[..4000].to_vec(),
            StatusCode::BAD_REQUEST,
            "evidence-hash-mismatch",
        ),
        (
            "a salt the report was not made with",
            query("ua/inc-1", &[3u8; 32], &fits_sha),
            octets,
            fits.clone(),
            StatusCode::BAD_REQUEST,
            "evidence-not-committed",
        ),
        (
            "a file the report does not commit to",
            query("ua/inc-1", &salt, &sha256(&[b"x"])),
            octets,
            b"x".to_vec(),
            StatusCode::BAD_REQUEST,
            "evidence-not-committed",
        ),
        (
            "a salt of 31 bytes",
            format!(
                "incident=ua/inc-1&salt={}&sha256={}",
                hex(&[2u8; 31]),
                hex(&fits_sha)
            ),
            octets,
            fits.clone(),
            StatusCode::BAD_REQUEST,
            "invalid-query",
        ),
        (
            "a hash that is not hex",
            format!(
                "incident=ua/inc-1&salt={}&sha256={}",
                hex(&salt),
                "zz".repeat(32)
            ),
            octets,
            fits.clone(),
            StatusCode::BAD_REQUEST,
            "invalid-query",
        ),
        (
            "no incident",
            format!("salt={}&sha256={}", hex(&salt), hex(&fits_sha)),
            octets,
            fits.clone(),
            StatusCode::BAD_REQUEST,
            "invalid-query",
        ),
        (
            "as JSON",
            good.clone(),
            "application/json",
            fits.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
    ];
    for (what, q, ct, body, status, code) in cases {
        let r = post(&s, Some(&kp(UA)), &q, ct, body).await;
        let p = r.expect_problem(status, code);
        if code == "evidence-too-large" {
            assert_eq!(p["limit_bytes"], 4096, "{p}");
        }
        for sha in [&big_sha, &fits_sha, &other_sha] {
            nothing_stored(&s, sha).await;
        }
        assert_eq!(s.snapshot().await, before, "{what} wrote to the log");
    }
    // Over the limit with no Content-Length (chunked): counted as it is read.
    let r = post_chunked(&s, &kp(UA), &query("ua/inc-1", &salt, &big_sha), &big).await;
    assert_eq!(r.0, 413, "{}", r.1);
    assert_eq!(
        serde_json::from_str::<Value>(&r.1).unwrap()["code"],
        "evidence-too-large"
    );
    nothing_stored(&s, &big_sha).await;
    s.get_as(&kp(UA), &format!("/v1/evidence/{}", hex(&big_sha)))
        .await
        .expect_problem(StatusCode::NOT_FOUND, "evidence-unknown");
    // Chunked under the limit is read whole; exactly the limit is allowed.
    let r = post_chunked(&s, &kp(UA), &good, &fits).await;
    assert_eq!(r.0, 201, "{}", r.1);
    assert_eq!(
        s.log.db().evidence(&hex(&fits_sha)).await.unwrap(),
        Some(fits.clone())
    );
}

/// A correction may add evidence; what an earlier version committed to stays uploadable.
#[tokio::test]
async fn every_version_of_a_report_vouches_for_its_evidence() {
    let s = fixture().await;
    let (first, added) = (photo(10), photo(20));
    let salt = [4u8; 32];
    let c1 = commitment(&salt, &sha256(&[&first]));
    report(&s, "ua/inc-1", std::slice::from_ref(&c1)).await;
    upload(&s, UA, "ua/inc-1", &salt, &added)
        .await
        .expect_problem(StatusCode::BAD_REQUEST, "evidence-not-committed");
    let mut correction = report_body("ua/inc-1");
    correction["type"] = json!("incident.correct");
    correction.as_object_mut().unwrap().remove("accused_party");
    correction["reason"] = json!("the second photo");
    correction["evidence"] = json!([commitment(&salt, &sha256(&[&added]))]);
    s.run(&kp(UA), "ua/coord", correction).await;
    for file in [&first, &added] {
        upload(&s, UA, "ua/inc-1", &salt, file)
            .await
            .expect_json(StatusCode::CREATED);
    }
}

/// POST with `Transfer-Encoding: chunked` over a raw socket (reqwest cannot stream a body
/// without its `stream` feature); returns the status and body.
async fn post_chunked(s: &Server, key: &Keypair, query: &str, body: &[u8]) -> (u16, String) {
    let target = corridor_core::httpsig::Target {
        method: "POST",
        path: "/v1/evidence",
        query: Some(query),
    };
    let created = s.log.clock().now().as_second();
    let (input, signature) = corridor_core::httpsig::sign(key, ORIGIN, target, created, &s.nonce());
    let mut req = format!(
        "POST /v1/evidence?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\
         Signature-Input: {input}\r\nSignature: {signature}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(1000) {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    raw_exchange(s.addr, &req).await
}

async fn raw_exchange(addr: SocketAddr, req: &[u8]) -> (u16, String) {
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = sock.split();
    // The server may answer and close before reading everything.
    let write = async {
        let _ = wr.write_all(req).await;
    };
    let read = async {
        let mut buf = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(5), rd.read_to_end(&mut buf)).await;
        buf
    };
    let ((), raw) = tokio::join!(write, read);
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP reply: {raw:?}"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    // The reply is sent with a Content-Length, or chunked: take the JSON object either way.
    let body = match (rest.find('{'), rest.rfind('}')) {
        (Some(a), Some(b)) => rest[a..=b].to_string(),
        _ => rest.to_string(),
    };
    (status, body)
}
