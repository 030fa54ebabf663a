//! The HTTP API against a real server on loopback with a real SQLite file: every refusal is an
//! RFC 9457 problem document with its own code and writes nothing; the same bytes twice give the
//! same receipt; receipts, checkpoints and proofs verify with the genesis's log key; and commands
//! signed by non-Rust signers (Node, Python) are accepted byte for byte.
//!
//! The harness is in `common/mod.rs`; every reply it reads is also checked for the
//! `corridor-clock: simulated` header.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::{Keypair, b64, unb64};
use corridor_core::entry::{DisclosedEntry, Entry, EntryHeader};
use corridor_core::envelope::SignedCommand;
use corridor_core::merkle::{Hash, MemoryTree, verify_consistency, verify_inclusion};
use corridor_core::receipt::SignedReceipt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------------------------
// Helpers

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn hash(field: &str, s: &str) -> Hash {
    unb64(field, s).unwrap().try_into().unwrap()
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| hash("proof", h.as_str().unwrap()))
        .collect()
}

/// The leaf hash a client recomputes from its receipt and the envelope it sent: the entry header
/// is rebuilt from the receipt (index, time) and the command (type, actor, key), the commitment
/// from the receipt's salt and the command's bytes and signature.
fn leaf_from_receipt(r: &SignedReceipt, envelope: &[u8]) -> String {
    let cmd = SignedCommand::parse(envelope, ORIGIN).unwrap();
    let salt: [u8; 32] = unb64("salt", &r.receipt.salt).unwrap().try_into().unwrap();
    let e = Entry::new(
        r.receipt.index,
        r.receipt.time.clone(),
        cmd.body.type_name(),
        &cmd.actor,
        &cmd.key.id(),
        &cmd.id,
        salt,
        cmd.command_bytes.clone(),
        cmd.signature.to_vec(),
    );
    b64(&e.leaf_hash())
}

/// Everything a submitter can check on its own: the log key's signature, the fields, the leaf.
fn check_receipt(s: &Server, r: &SignedReceipt, envelope: &[u8]) {
    r.verify(&s.log_key())
        .expect("the receipt verifies with the genesis's log key");
    let cmd = SignedCommand::parse(envelope, ORIGIN).unwrap();
    assert_eq!(r.receipt.log, ORIGIN);
    assert_eq!(r.receipt.actor, cmd.actor);
    assert_eq!(r.receipt.command_id, cmd.id);
    assert_eq!(r.receipt.max_merge_delay_ms, MMD.as_millis() as i64);
    assert_eq!(r.receipt.leaf_hash, leaf_from_receipt(r, envelope));
    // A forged receipt does not verify.
    let mut forged = r.clone();
    forged.receipt.index += 1;
    assert!(forged.verify(&s.log_key()).is_err());
}

/// The inclusion proof of `index` at the checkpoint's size verifies against its root.
async fn check_inclusion(s: &Server, index: u64, leaf_hash_b64: &str, cp: &Checkpoint) {
    let r = s
        .get(&format!(
            "/v1/log/proof/inclusion?index={index}&size={}",
            cp.size
        ))
        .await;
    let p = r.expect_json(StatusCode::OK);
    assert_eq!(p["index"], index);
    assert_eq!(p["size"], cp.size);
    assert_eq!(p["leaf_hash"], leaf_hash_b64);
    let leaf = hash("leaf_hash", leaf_hash_b64);
    verify_inclusion(&leaf, index, cp.size, &hashes(&p["proof"]), &cp.root)
        .unwrap_or_else(|e| panic!("inclusion of {index} at {} fails: {e}", cp.size));
    // The same proof does not verify another leaf.
    let mut other = leaf;
    other[0] ^= 1;
    assert!(verify_inclusion(&other, index, cp.size, &hashes(&p["proof"]), &cp.root).is_err());
}

/// The consistency proof between two checkpoints verifies.
async fn check_consistency(s: &Server, old: &Checkpoint, new: &Checkpoint) {
    let r = s
        .get(&format!(
            "/v1/log/proof/consistency?from={}&to={}",
            old.size, new.size
        ))
        .await;
    let p = r.expect_json(StatusCode::OK);
    assert_eq!(p["from"], old.size);
    assert_eq!(p["to"], new.size);
    let proof = hashes(&p["proof"]);
    verify_consistency(old.size, new.size, &old.root, &new.root, &proof).unwrap_or_else(|e| {
        panic!(
            "consistency {} -> {} does not verify: {e}",
            old.size, new.size
        )
    });
    if old.size < new.size {
        let mut wrong = old.root;
        wrong[0] ^= 1;
        assert!(verify_consistency(old.size, new.size, &wrong, &new.root, &proof).is_err());
    }
}

/// A signed envelope's text with the signature's first byte flipped (still valid base64).
fn flip_signature(envelope: &[u8]) -> Vec<u8> {
    let t = text(envelope);
    let v: Value = serde_json::from_str(&t).unwrap();
    let sig = v["signature"].as_str().unwrap();
    let mut raw = unb64("signature", sig).unwrap();
    raw[0] ^= 1;
    t.replace(sig, &b64(&raw)).into_bytes()
}

/// Chunked transfer encoding of `body`, in 8 KiB chunks, with the final empty chunk.
fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(8192) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A reply read off a raw socket: status, headers (lowercased names), body.
struct RawReply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl RawReply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// POST to /v1/commands over a raw socket with `Transfer-Encoding: chunked` and no
/// Content-Length (reqwest cannot stream a body without its `stream` feature); `framed_body`
/// is sent as is, so it can also be broken framing.
async fn post_chunked_raw(addr: SocketAddr, framed_body: &[u8]) -> RawReply {
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = b"POST /v1/commands HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                    Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\
                    Connection: close\r\n\r\n"
        .to_vec();
    req.extend_from_slice(framed_body);
    let (mut rd, mut wr) = sock.split();
    // The server may answer and close before reading everything: write and read concurrently,
    // and ignore a write that fails because the server already hung up.
    let write = async {
        let _ = wr.write_all(&req).await;
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
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut reply = RawReply {
        status,
        headers,
        body: String::new(),
    };
    reply.body = if reply
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        rest.to_string()
    };
    reply
}

/// Require a raw reply to be a problem document with this status and code.
fn expect_raw_problem(r: &RawReply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert!(
        r.header("corridor-clock")
            .is_some_and(|v| v.starts_with("simulated")),
        "{:?}",
        r.headers
    );
    let p: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(p["code"], code, "{p}");
    assert_eq!(p["status"], status, "{p}");
}

/// Register `actor` (role coordinator) with key `key` as the ua admin.
async fn register_ua(s: &Server, actor: &str, key: &Keypair) {
    s.run(&kp(3), "ua/admin", register_body(actor, "coordinator", key))
        .await;
}

// ---------------------------------------------------------------------------------------------
// 1. Bad input: one case per code, each a problem document, none writes anything.

/// Refusals of the envelope itself, before the sequencer sees it.
#[tokio::test]
async fn malformed_envelopes_are_problems_and_write_nothing() {
    let s = Server::start().await;
    let admin = kp(3);
    let ok = sign(&admin, "ua/admin", "c-1", report_body("ua/inc-1"));
    let ok_text = text(&ok);
    let other_log = common::sign_with_origin(
        &admin,
        "other.test/log",
        "ua/admin",
        "c-1",
        report_body("ua/inc-1"),
    );
    let mut float = report_body("ua/inc-1");
    float["location"]["lat_e7"] = json!(1.5);
    let oversized = {
        let mut b = report_body("ua/inc-1");
        b["description"] = json!("x".repeat(70 * 1024));
        sign(&admin, "ua/admin", "c-1", b)
    };
    assert!(oversized.len() > corridor_server::http::MAX_BODY);

    type Case = (
        &'static str,
        Option<&'static str>,
        Vec<u8>,
        StatusCode,
        &'static str,
    );
    let json_ct = Some("application/json");
    let cases: Vec<Case> = vec![
        (
            "truncated JSON",
            json_ct,
            ok[..ok.len() / 2].to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed-json",
        ),
        (
            "a space before the first member",
            json_ct,
            ok_text
                .replacen("{\"command\"", "{ \"command\"", 1)
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "non-canonical-json",
        ),
        (
            "the actor member twice",
            json_ct,
            ok_text
                .replacen(
                    "{\"command\":{\"actor\":\"ua/admin\",",
                    "{\"command\":{\"actor\":\"ua/admin\",\"actor\":\"ua/admin\",",
                    1,
                )
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "duplicate-key",
        ),
        (
            "lat_e7: 1.5",
            json_ct,
            sign(&admin, "ua/admin", "c-1", float),
            StatusCode::BAD_REQUEST,
            "float-not-allowed",
        ),
        (
            "text/plain",
            Some("text/plain"),
            ok.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            "no content type",
            None,
            ok.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            "70 KiB with Content-Length",
            json_ct,
            oversized.clone(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
        ),
        (
            "unknown body type",
            json_ct,
            sign(
                &admin,
                "ua/admin",
                "c-1",
                json!({"type": "corridor.teleport", "to": "Kyiv"}),
            ),
            StatusCode::BAD_REQUEST,
            "unknown-command-type",
        ),
        (
            "incident.respond without text",
            json_ct,
            sign(
                &admin,
                "ua/admin",
                "c-1",
                json!({"type": "incident.respond", "incident": "ua/inc-1"}),
            ),
            StatusCode::BAD_REQUEST,
            "missing-field",
        ),
        (
            "envelope without signature",
            json_ct,
            ok_text
                .split_once(",\"signature\"")
                .map(|(cmd, _)| format!("{cmd}}}"))
                .unwrap()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "missing-field",
        ),
        (
            "v: 2",
            json_ct,
            ok_text.replacen("\"v\":1}", "\"v\":2}", 1).into_bytes(),
            StatusCode::BAD_REQUEST,
            "unsupported-version",
        ),
        (
            "a flipped signature bit",
            json_ct,
            flip_signature(&ok),
            StatusCode::UNAUTHORIZED,
            "bad-signature",
        ),
        (
            "signed for another log",
            json_ct,
            other_log.clone(),
            StatusCode::BAD_REQUEST,
            "wrong-log",
        ),
        (
            "signed for another log, claiming ours",
            json_ct,
            text(&other_log)
                .replace(
                    "\"log\":\"other.test/log\"",
                    &format!("\"log\":\"{ORIGIN}\""),
                )
                .into_bytes(),
            StatusCode::UNAUTHORIZED,
            "bad-signature",
        ),
    ];
    for (what, ct, body, status, code) in cases {
        let before = s.snapshot().await;
        let r = s.send(Method::POST, "/v1/commands", ct, Some(body)).await;
        let p = r.expect_problem(status, code);
        assert_eq!(s.snapshot().await, before, "{what} wrote something");
        if code == "body-too-large" {
            assert_eq!(p["limit_bytes"], corridor_server::http::MAX_BODY, "{p}");
        }
    }

    // Over the limit without a Content-Length: chunked, so only counting can catch it.
    let before = s.snapshot().await;
    let r = post_chunked_raw(s.addr, &chunked(&oversized)).await;
    expect_raw_problem(&r, 413, "body-too-large");
    assert_eq!(s.snapshot().await, before);

    // Broken chunked framing is an unreadable body, not a body over the limit.
    let r = post_chunked_raw(s.addr, b"5\r\n{\"a\":\r\nzz\r\n").await;
    expect_raw_problem(&r, 400, "body-unreadable");
    assert_eq!(s.snapshot().await, before);

    // A chunked body under the limit is read in full and accepted: the limit is what refused.
    let r = post_chunked_raw(s.addr, &chunked(&ok)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(s.snapshot().await.db_size, before.db_size + 1);
}

/// Refusals by the state at sequencing: keys, roles, ids, clocks.
#[tokio::test]
async fn refusals_at_sequencing_are_problems_and_write_nothing() {
    let s = Server::start().await;
    register_ua(&s, "ua/coord-1", &kp(10)).await;
    register_ua(&s, "ua/coord-2", &kp(12)).await;
    register_ua(&s, "ua/coord-3", &kp(13)).await;
    s.run(
        &kp(3),
        "ua/admin",
        json!({"type": "key.revoke", "key": kp(13).public().id(), "reason": "phone lost"}),
    )
    .await;
    let first = sign(&kp(10), "ua/coord-1", "report-1", report_body("ua/inc-1"));
    s.accept(&first).await;
    let ten_minutes_early = "2022-03-03T14:40:00Z";

    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "a key nobody registered",
            sign(&kp(20), "ua/coord-1", "c-1", report_body("ua/inc-2")),
            StatusCode::FORBIDDEN,
            "unknown-key",
        ),
        (
            "a revoked key",
            sign(&kp(13), "ua/coord-3", "c-1", report_body("ua/inc-2")),
            StatusCode::FORBIDDEN,
            "key-revoked",
        ),
        (
            "coord-1's key claiming to be coord-2",
            sign(&kp(10), "ua/coord-2", "c-1", report_body("ua/inc-2")),
            StatusCode::FORBIDDEN,
            "key-actor-mismatch",
        ),
        (
            "a coordinator registering people",
            sign(
                &kp(10),
                "ua/coord-1",
                "c-1",
                register_body("ua/coord-9", "coordinator", &kp(19)),
            ),
            StatusCode::FORBIDDEN,
            "role-not-allowed",
        ),
        (
            "report-1 again with other bytes",
            sign(&kp(10), "ua/coord-1", "report-1", report_body("ua/inc-2")),
            StatusCode::CONFLICT,
            "command-id-conflict",
        ),
        (
            "a client clock ten minutes slow",
            sign_at(
                &kp(10),
                "ua/coord-1",
                "c-1",
                ten_minutes_early,
                report_body("ua/inc-2"),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "clock-skew",
        ),
        (
            "an incident id already reported",
            sign(&kp(10), "ua/coord-1", "c-1", report_body("ua/inc-1")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "incident-exists",
        ),
    ];
    for (what, body, status, code) in cases {
        let before = s.snapshot().await;
        let p = s.post(&body).await.expect_problem(status, code);
        assert_eq!(s.snapshot().await, before, "{what} wrote something");
        if code == "clock-skew" {
            assert_eq!(p["limit_s"], 300, "{p}");
            assert!(p["server_time"].is_string(), "{p}");
        }
    }
    // The same commands, correctly made, are accepted: each refusal was for its stated reason.
    s.run(&kp(10), "ua/coord-1", report_body("ua/inc-2")).await;
}

/// Proof and page requests out of range, query-string garbage, unknown paths and methods.
#[tokio::test]
async fn bad_reads_are_problems() {
    let s = Server::start().await;
    register_ua(&s, "ua/coord-1", &kp(10)).await;
    s.run(&kp(10), "ua/coord-1", report_body("ua/inc-1")).await;
    let n = s.snapshot().await.tree_size;
    assert_eq!(n, 3);

    let bad = StatusCode::BAD_REQUEST;
    let cases: Vec<(Method, String, StatusCode, &str)> = vec![
        // Inclusion: index >= size, size > tree.
        (
            Method::GET,
            format!("/v1/log/proof/inclusion?index={n}&size={n}"),
            bad,
            "proof-out-of-range",
        ),
        (
            Method::GET,
            format!("/v1/log/proof/inclusion?index=0&size={}", n + 1),
            bad,
            "proof-out-of-range",
        ),
        (
            Method::GET,
            "/v1/log/proof/inclusion?index=0&size=0".into(),
            bad,
            "proof-out-of-range",
        ),
        // Consistency: from = 0, from > to, to > tree.
        (
            Method::GET,
            format!("/v1/log/proof/consistency?from=0&to={n}"),
            bad,
            "proof-out-of-range",
        ),
        (
            Method::GET,
            format!("/v1/log/proof/consistency?from={n}&to={}", n - 1),
            bad,
            "proof-out-of-range",
        ),
        (
            Method::GET,
            format!("/v1/log/proof/consistency?from=1&to={}", n + 1),
            bad,
            "proof-out-of-range",
        ),
        // Pages: start >= end, end > tree.
        (
            Method::GET,
            "/v1/log/leaves?start=2&end=1".into(),
            bad,
            "range-out-of-range",
        ),
        (
            Method::GET,
            "/v1/log/leaves?start=1&end=1".into(),
            bad,
            "range-out-of-range",
        ),
        (
            Method::GET,
            format!("/v1/log/leaves?start=0&end={}", n + 1),
            bad,
            "range-out-of-range",
        ),
        (
            Method::GET,
            format!("/v1/log/entries?start={n}&end={}", n + 5),
            bad,
            "range-out-of-range",
        ),
        // Query strings: missing, non-numeric, negative, fractional, too large, empty.
        (Method::GET, "/v1/log/leaves".into(), bad, "invalid-query"),
        (
            Method::GET,
            "/v1/log/leaves?start=0".into(),
            bad,
            "invalid-query",
        ),
        (
            Method::GET,
            "/v1/log/leaves?start=zero&end=2".into(),
            bad,
            "invalid-query",
        ),
        (
            Method::GET,
            "/v1/log/entries?start=-1&end=2".into(),
            bad,
            "invalid-query",
        ),
        (
            Method::GET,
            "/v1/log/entries?end=2".into(),
            bad,
            "invalid-query",
        ),
        (
            Method::GET,
            "/v1/log/proof/inclusion?index=0".into(),
            bad,
            "invalid-query",
        ),
        (
            Method::GET,
            "/v1/log/proof/inclusion?index=x&size=1".into(),
            bad,
            "invalid-query",
        ),
        (
            Method::GET,
            "/v1/log/proof/inclusion?index=0&size=18446744073709551616".into(),
            bad,
            "invalid-query",
        ),
        (
            Method::GET,
            "/v1/log/proof/consistency?from=1".into(),
            bad,
            "invalid-query",
        ),
        (
            Method::GET,
            "/v1/log/proof/consistency?from=1&to=1.5".into(),
            bad,
            "invalid-query",
        ),
        (
            Method::GET,
            "/v1/log/proof/consistency?from=&to=1".into(),
            bad,
            "invalid-query",
        ),
        // Paths and methods.
        (
            Method::GET,
            "/v1/nope".into(),
            StatusCode::NOT_FOUND,
            "not-found",
        ),
        (
            Method::GET,
            "/nowhere".into(),
            StatusCode::NOT_FOUND,
            "not-found",
        ),
        (
            Method::POST,
            "/".into(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
        ),
        (
            Method::POST,
            "/v1/log/nope".into(),
            StatusCode::NOT_FOUND,
            "not-found",
        ),
        (
            Method::GET,
            "/v1/commands".into(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
        ),
        (
            Method::DELETE,
            "/v1/log/head".into(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
        ),
    ];
    for (method, path, status, code) in cases {
        let before = s.snapshot().await;
        // Reads are signed, as a member's client signs them: the problem is the query's.
        let r = if method == Method::GET {
            s.get(&path).await
        } else {
            s.send(method.clone(), &path, None, None).await
        };
        r.expect_problem(status, code);
        if status == StatusCode::METHOD_NOT_ALLOWED {
            let allow = r
                .headers
                .get("allow")
                .map(|v| v.to_str().unwrap().to_string());
            let want = if path == "/v1/commands" {
                "POST"
            } else {
                "GET,HEAD"
            };
            assert_eq!(allow.as_deref(), Some(want), "{method} {path}");
        }
        assert_eq!(
            s.snapshot().await,
            before,
            "{method} {path} wrote something"
        );
    }
    // Unknown extra parameters are ignored; the valid edges are served.
    s.get(&format!("/v1/log/leaves?start=0&end={n}&x=1"))
        .await
        .expect_json(StatusCode::OK);
    s.get(&format!("/v1/log/proof/consistency?from={n}&to={n}"))
        .await
        .expect_json(StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// 2. Idempotency.

#[tokio::test]
async fn same_bytes_twice_give_the_same_receipt() {
    let s = Server::start().await;
    let env = sign(&kp(3), "ua/admin", "c-1", report_body("ua/inc-1"));
    let before = s.snapshot().await;
    let first = s.post(&env).await;
    let r1 = first.expect_receipt(StatusCode::CREATED);
    let second = s.post(&env).await;
    second.expect_receipt(StatusCode::OK);
    assert_eq!(
        first.body, second.body,
        "the repeated receipt is byte-identical"
    );
    let after = s.snapshot().await;
    assert_eq!(after.db_size, before.db_size + 1);
    assert_eq!(after.tree_size, before.tree_size + 1);
    check_receipt(&s, &r1, &env);

    // Still the same receipt after other commands were sequenced (read back from storage).
    s.run(&kp(3), "ua/admin", report_body("ua/inc-2")).await;
    let third = s.post(&env).await;
    third.expect_receipt(StatusCode::OK);
    assert_eq!(first.body, third.body);

    // Same (actor, id), different bytes: a conflict, nothing written.
    let before = s.snapshot().await;
    let other = sign(&kp(3), "ua/admin", "c-1", report_body("ua/inc-3"));
    s.post(&other)
        .await
        .expect_problem(StatusCode::CONFLICT, "command-id-conflict");
    assert_eq!(s.snapshot().await, before);
    // The id is per actor: another actor may use it.
    s.accept(&sign(&kp(4), "ru/admin", "c-1", report_body("ru/inc-3")))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_copies_make_one_entry() {
    let s = Arc::new(Server::start().await);
    let env = sign(&kp(3), "ua/admin", "c-1", report_body("ua/inc-1"));
    let before = s.snapshot().await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let s = s.clone();
            let env = env.clone();
            tokio::spawn(async move {
                let r = s.post(&env).await;
                (r.status, r.text())
            })
        })
        .collect();
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.unwrap());
    }
    let created = replies
        .iter()
        .filter(|(st, _)| *st == StatusCode::CREATED)
        .count();
    let repeated = replies
        .iter()
        .filter(|(st, _)| *st == StatusCode::OK)
        .count();
    assert_eq!((created, repeated), (1, 15), "{replies:?}");
    assert!(
        replies.iter().all(|(_, b)| *b == replies[0].1),
        "all receipts are byte-identical"
    );
    let after = s.snapshot().await;
    assert_eq!(after.db_size, before.db_size + 1);
    assert_eq!(after.tree_size, before.tree_size + 1);
    let r: SignedReceipt = serde_json::from_str(&replies[0].1).unwrap();
    check_receipt(&s, &r, &env);
}

// ---------------------------------------------------------------------------------------------
// 3. Receipts, checkpoints and proofs.

#[tokio::test]
async fn receipts_checkpoints_and_proofs_verify() {
    let s = Server::start().await;
    // The first checkpoint is published at start-up and covers the genesis.
    let (cp1, _) = s.checkpoint().await;
    assert_eq!(cp1.size, 1);

    let env = sign(&kp(3), "ua/admin", "c-1", report_body("ua/inc-1"));
    let r = s.accept(&env).await;
    check_receipt(&s, &r, &env);
    assert_eq!(r.receipt.index, 1);
    let env2 = sign(&kp(4), "ru/admin", "c-1", report_body("ru/inc-2"));
    let r2 = s.accept(&env2).await;
    check_receipt(&s, &r2, &env2);

    let cp3 = s.checkpoint_covering(3).await;
    assert_eq!(cp3.size, 3);
    check_inclusion(&s, 1, &r.receipt.leaf_hash, &cp3).await;
    check_inclusion(&s, 2, &r2.receipt.leaf_hash, &cp3).await;

    // The JSON head says the same as the note.
    let head = s.get("/v1/log/head").await.expect_json(StatusCode::OK);
    assert_eq!(head["origin"], ORIGIN);
    assert_eq!(head["size"], 3);
    assert_eq!(head["root"], b64(&cp3.root));
    assert_eq!(head["log_key"], kp(2).public().id());
    assert_eq!(head["exercise"], true);
    assert_eq!(head["clock"]["simulated"], true);
    Checkpoint::verify(head["note"].as_str().unwrap(), ORIGIN, &s.log_key()).unwrap();

    let mut receipts = vec![(r, env), (r2, env2)];
    for i in 0..3 {
        let env = sign(
            &kp(3),
            "ua/admin",
            &format!("more-{i}"),
            report_body(&format!("ua/more-{i}")),
        );
        let r = s.accept(&env).await;
        check_receipt(&s, &r, &env);
        receipts.push((r, env));
    }
    let cp6 = s.checkpoint_covering(6).await;
    assert_eq!(cp6.size, 6);
    for (r, _) in &receipts {
        check_inclusion(&s, r.receipt.index, &r.receipt.leaf_hash, &cp6).await;
    }
    check_consistency(&s, &cp1, &cp3).await;
    check_consistency(&s, &cp3, &cp6).await;
    check_consistency(&s, &cp1, &cp6).await;
    check_consistency(&s, &cp6, &cp6).await;

    // One more entry, so the proofs below are at historical sizes, below the tree's.
    s.run(&kp(3), "ua/admin", report_body("ua/inc-7")).await;
    assert_eq!(s.snapshot().await.tree_size, 7);
    check_consistency(&s, &cp1, &cp3).await;
    check_consistency(&s, &cp3, &cp6).await;
    check_inclusion(&s, 1, &receipts[0].0.receipt.leaf_hash, &cp3).await;
    check_inclusion(&s, 4, &receipts[3].0.receipt.leaf_hash, &cp6).await;
}

// ---------------------------------------------------------------------------------------------
// 4. Entries and leaves.

#[tokio::test]
async fn entries_and_leaves_match_their_commitments() {
    let s = Server::start().await;
    let mut sent = vec![];
    register_ua(&s, "ua/coord-1", &kp(10)).await;
    for i in 0..3 {
        let env = sign(
            &kp(10),
            "ua/coord-1",
            &format!("r-{i}"),
            report_body(&format!("ua/inc-{i}")),
        );
        sent.push((s.accept(&env).await, env));
    }
    let cp = s.checkpoint_covering(5).await;
    assert_eq!(cp.size, 5);

    // Entries, to a member allowed to read them all (the intermediary): full disclosure, each
    // consistent with its commitment.
    let v = s
        .get("/v1/log/entries?start=0&end=5")
        .await
        .expect_json(StatusCode::OK);
    let entries: Vec<DisclosedEntry> = serde_json::from_value(v["entries"].clone()).unwrap();
    assert_eq!(entries.len(), 5);
    let entries: Vec<Entry> = entries.iter().map(|d| d.to_entry().unwrap()).collect();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.header.index, i as u64);
        assert!(e.commitment_matches(), "entry {i}: commitment mismatch");
    }
    assert_eq!(entries[0].entry_type, "genesis");
    assert_eq!(entries[0].command, genesis().canonical());
    assert!(entries[0].signature.is_empty());
    for (r, env) in &sent {
        let e = &entries[r.receipt.index as usize];
        let cmd = SignedCommand::parse(env, ORIGIN).unwrap();
        assert_eq!(
            e.command, cmd.command_bytes,
            "stored bytes are the signed bytes"
        );
        assert_eq!(e.signature, cmd.signature.to_vec());
        assert_eq!(b64(&e.salt), r.receipt.salt);
        assert_eq!(b64(&e.leaf_hash()), r.receipt.leaf_hash);
    }

    // Leaves: public header data whose hash is the RFC 9162 leaf hash of its canonical form.
    let v = s
        .get("/v1/log/leaves?start=0&end=5")
        .await
        .expect_json(StatusCode::OK);
    let leaves = v["leaves"].as_array().unwrap();
    assert_eq!(leaves.len(), 5);
    let mut tree = MemoryTree::new();
    for (i, l) in leaves.iter().enumerate() {
        assert_eq!(l["index"], i);
        let fields: BTreeSet<&str> = l["leaf"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            BTreeSet::from(["index", "time", "commitment"]),
            "leaf {i} has exactly the header's fields: who acted and how stay in the commitment"
        );
        let header: EntryHeader = serde_json::from_value(l["leaf"].clone()).unwrap();
        assert_eq!(header, entries[i].header);
        assert_eq!(l["leaf_hash"], b64(&header.leaf_hash()));
        tree.push(header.leaf_hash());
    }
    assert_eq!(
        tree.root(),
        cp.root,
        "the leaves make the checkpoint's root"
    );

    // A page in the middle.
    let v = s
        .get("/v1/log/leaves?start=2&end=4")
        .await
        .expect_json(StatusCode::OK);
    let idx: Vec<u64> = v["leaves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, vec![2, 3]);
}

// ---------------------------------------------------------------------------------------------
// 5. Operations: clock header, health, metrics, OpenAPI.

/// The workspace's `crates/` folder, whose sources the lists below are read from.
fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A source file without its unit tests (`#[cfg(test)]` modules close every file that has one),
/// so a code or route a test merely mentions does not count as one the program has.
fn source_without_tests(path: &Path) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match s.find("#[cfg(test)]") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Every `.rs` file under `dir`, test folders and `tests.rs` files left out.
fn rust_sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if p.is_dir() {
                if name != "tests" {
                    stack.push(p);
                }
            } else if name.ends_with(".rs") && name != "tests.rs" {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The text of the call whose opening parenthesis is just before `from`, up to its closing one
/// (string literals are skipped, so a parenthesis in one does not count).
fn call_arguments(s: &str, from: usize) -> &str {
    let bytes = s.as_bytes();
    let (mut depth, mut i, mut in_str) = (1, from, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'(' if !in_str => depth += 1,
            b')' if !in_str => {
                depth -= 1;
                if depth == 0 {
                    return &s[from..i];
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unclosed call at byte {from}");
}

/// The `n`th argument (from 0) of a call's argument text: split at the commas outside
/// parentheses, brackets, braces and string literals.
fn nth_argument(args: &str, n: usize) -> &str {
    let (mut depth, mut in_str, mut escaped) = (0i32, false, false);
    let (mut start, mut index) = (0, 0);
    for (i, c) in args.char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                if index == n {
                    return &args[start..i];
                }
                index += 1;
                start = i + 1;
            }
            _ => {}
        }
    }
    assert_eq!(index, n, "no argument {n} in ({args})");
    &args[start..]
}

/// The string literals in an expression that look like problem codes (lower-case words joined
/// by hyphens).
fn string_literals(expr: &str) -> Vec<&str> {
    expr.split('"')
        .skip(1)
        .step_by(2)
        .filter(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .collect()
}

/// The string literal `text` starts with (after white space), if it does.
fn leading_literal(text: &str) -> Option<&str> {
    let t = text.trim_start().strip_prefix('"')?;
    Some(&t[..t.find('"')?])
}

/// Every route the server's router declares, read from the `.route("PATH", METHOD(...))` calls
/// in its source, as (method, path). Read from the source rather than kept by hand, so a route
/// added to the router without a line in openapi.json fails `health_metrics_and_openapi`.
fn declared_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for file in rust_sources(&crates_dir().join("server/src")) {
        let s = source_without_tests(&file);
        for (at, _) in s.match_indices(".route(") {
            let args = call_arguments(&s, at + ".route(".len());
            let path = leading_literal(args).unwrap_or_else(|| {
                panic!("{}: a route whose path is not a literal", file.display())
            });
            let handlers = &args[args.find(',').unwrap() + 1..];
            let mut found = false;
            for method in ["get", "post", "put", "patch", "delete"] {
                let call = format!("{method}(");
                let starts = handlers.trim_start().starts_with(&call);
                if starts || handlers.contains(&format!(".{call}")) {
                    routes.insert((method.to_string(), path.to_string()));
                    found = true;
                }
            }
            assert!(found, "{}: no method for route {path}", file.display());
        }
    }
    routes
}

/// Routes of the public site rather than the API: `/` picks a language by redirect and
/// `/events` is the server-sent event stream of `status.json`, both described with the public
/// pages in the README, not in the API's OpenAPI document.
const PUBLIC_SITE_ROUTES: &[&str] = &["/", "/events", "/console", "/console/", "/console/{*path}"];

#[tokio::test]
async fn health_metrics_and_openapi() {
    let s = Server::start().await;
    let r = s.get("/healthz").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "ok"));
    let r = s.get("/readyz").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "ready"));

    s.run(&kp(3), "ua/admin", report_body("ua/inc-1")).await;
    let r = s.get("/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text().contains("corridor_commands_accepted_total"),
        "{}",
        r.text()
    );

    let spec = s.get("/v1/openapi.json").await.expect_json(StatusCode::OK);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    let routes: Vec<(String, String)> = declared_routes()
        .into_iter()
        .filter(|(_, p)| !PUBLIC_SITE_ROUTES.contains(&p.as_str()))
        .collect();
    // The parse found the router (a broken parse that finds nothing would pass below).
    assert!(
        routes.contains(&("post".into(), "/v1/commands".into()))
            && routes.contains(&("get".into(), "/v1/windows".into())),
        "{routes:?}"
    );
    let documented: BTreeSet<&str> = paths.keys().map(String::as_str).collect();
    let served: BTreeSet<&str> = routes.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(
        documented, served,
        "openapi.json documents exactly the served routes"
    );
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            assert!(
                routes.contains(&(method.clone(), path.clone())),
                "openapi.json documents {method} {path}, which the router does not serve"
            );
        }
    }
    for (method, path) in &routes {
        assert!(
            paths[path.as_str()].get(method).is_some(),
            "openapi.json lacks {method} {path}"
        );
        // The router really serves the path (a bad query or method is fine, a 404 is not).
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = s.send(m, path, None, None).await;
        // A path parameter may name nothing (404 unknown-corridor); the route itself exists.
        let unrouted = r.status == StatusCode::NOT_FOUND
            && serde_json::from_str::<serde_json::Value>(&r.text())
                .map(|p| p["code"] == "not-found")
                .unwrap_or(true);
        assert!(!unrouted, "{method} {path} is not routed");
    }
}

/// Every problem code the program can produce, read from its source: the arms of each `code()`
/// that maps an error type to its code (`corridor_jcs::StrictError`, `Rejection`,
/// `httpsig::AuthError`), every `Rejection::rule("code", ..)` and every
/// `Problem::new(status, "code", ..)`. Read from the source rather than kept by hand (a hand-kept
/// list missed `recovery-vote-repeated`), so a new code without a line in openapi.json fails
/// `openapi_lists_every_problem_code`.
fn produced_codes() -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    let root = crates_dir();
    let code_fns = ["jcs/src/lib.rs", "core/src/error.rs", "core/src/httpsig.rs"];
    for file in code_fns {
        let s = source_without_tests(&root.join(file));
        let at = s
            .find("pub fn code(&self) -> &'static str {")
            .unwrap_or_else(|| panic!("{file} has no `fn code`"));
        let body = &s[at..at + s[at..].find("\n    }\n").unwrap()];
        let before = codes.len();
        for arm in body.split("=> ").skip(1) {
            if let Some(code) = leading_literal(arm) {
                codes.insert(code.to_string());
            }
        }
        assert!(codes.len() > before, "no codes read from {file}");
    }
    for dir in ["jcs/src", "core/src", "server/src"] {
        for file in rust_sources(&root.join(dir)) {
            let s = source_without_tests(&file);
            for needle in ["Rejection::rule(", "Problem::new("] {
                for (at, _) in s.match_indices(needle) {
                    let args = call_arguments(&s, at + needle.len());
                    // The status comes first in `Problem::new`.
                    let code = match needle {
                        "Problem::new(" => nth_argument(args, 1),
                        _ => nth_argument(args, 0),
                    };
                    let found = string_literals(code);
                    // A code that is not a literal (`r.code()`) is one of the `code()`
                    // functions' above; one chosen by a condition has its literals in it.
                    assert!(
                        !found.is_empty() || code.contains(".code()"),
                        "{}: a code that is neither literals nor a `code()`: {needle}{args})",
                        file.display()
                    );
                    codes.extend(found.into_iter().map(str::to_string));
                }
            }
        }
    }
    codes
}

/// Codes the API never sends, each with the reason: they come from checking what is already
/// stored or published, which the server does only at start-up (a refusal there stops it) and
/// `corridor verify`, the CLI and monitors do on their side.
const NOT_SENT_BY_THE_API: &[(&str, &str)] = &[
    ("not-genesis", "replay of stored entries"),
    ("index-gap", "replay of stored entries"),
    ("time-not-increasing", "replay of stored entries"),
    ("header-mismatch", "replay of stored entries"),
    ("commitment-mismatch", "replay of stored entries"),
    ("checkpoint-invalid", "a client checking a signed note"),
    (
        "genesis-unsigned",
        "the genesis checked when a log is created",
    ),
    (
        "genesis-signature-invalid",
        "the genesis checked when a log is created",
    ),
];

#[tokio::test]
async fn openapi_lists_every_problem_code() {
    let s = Server::start().await;
    let spec = s.get("/v1/openapi.json").await.expect_json(StatusCode::OK);
    let listed: BTreeSet<&str> =
        spec["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
    let produced = produced_codes();
    // The parse found codes of each kind (a parse that finds nothing would pass below).
    for code in [
        "duplicate-key",
        "bad-signature",
        "auth-stale",
        "recovery-vote-repeated",
        "method-not-allowed",
    ] {
        assert!(produced.contains(code), "{code} not read from the source");
    }
    let not_sent: BTreeSet<&str> = NOT_SENT_BY_THE_API.iter().map(|(c, _)| *c).collect();
    for code in &not_sent {
        assert!(
            produced.contains(*code),
            "{code} is no longer produced: drop it from NOT_SENT_BY_THE_API"
        );
    }
    let missing: Vec<&str> = produced
        .iter()
        .map(String::as_str)
        .filter(|c| !listed.contains(c) && !not_sent.contains(c))
        .collect();
    assert!(missing.is_empty(), "openapi.json lacks codes {missing:?}");
    let unknown: Vec<&&str> = listed.iter().filter(|c| !produced.contains(**c)).collect();
    assert!(
        unknown.is_empty(),
        "openapi.json lists codes nothing produces: {unknown:?}"
    );
}

/// The clock header is on every kind of reply, errors included (the harness checks it on every
/// reply; this covers the kinds the other tests might not reach).
#[tokio::test]
async fn every_reply_says_the_clock_is_simulated() {
    let s = Server::start().await;
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/openapi.json",
        "/v1/log/checkpoint",
        "/v1/log/head",
        "/v1/log/leaves?start=0&end=1",
        "/v1/log/entries?start=0&end=1",
        "/v1/log/proof/inclusion?index=0&size=1",
        "/v1/log/proof/consistency?from=1&to=1",
        "/v1/log/leaves?start=x",
        "/nowhere",
    ] {
        s.get(path).await; // `send` asserts the header
    }
    s.send(
        Method::POST,
        "/v1/commands",
        Some("text/plain"),
        Some(b"x".to_vec()),
    )
    .await;
    s.post(b"{").await;
    let head = s.get("/v1/log/head").await.expect_json(StatusCode::OK);
    assert!(
        head["clock"]["now"]
            .as_str()
            .unwrap()
            .starts_with("2022-03-03T14:5"),
        "{head}"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Non-Rust signers.

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/interop")
}

fn runs(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Skip (with instructions) when a tool is missing, except under `CI=true`, where it fails.
fn skip(what: &str, missing: &[String]) -> bool {
    if missing.is_empty() {
        return false;
    }
    let msg = format!("{what}: {}", missing.join("; "));
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg} (CI=true: missing interoperability tools are a failure)");
    }
    eprintln!("SKIPPED {msg}");
    true
}

/// Register an actor for `seed`, have `program script` sign an incident report for it, submit
/// it, and check the receipt; the envelope must also equal the Rust signer's byte for byte.
async fn round_trip(program: &str, script: &Path, seed: u8, actor: &str) {
    let s = Server::start().await;
    let key = kp(seed);
    register_ua(&s, actor, &key).await;
    let body = report_body(&format!("ua/{program}-incident"));
    let command = json!({"v": 1, "log": ORIGIN, "id": format!("{program}-1"), "actor": actor,
        "time": T0, "body": body});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("command.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&command).unwrap()).unwrap();
    let seed_hex: String = key.seed().iter().map(|b| format!("{b:02x}")).collect();
    let out = tokio::process::Command::new(program)
        .arg(script)
        .arg(&seed_hex)
        .arg(ORIGIN)
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {}: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let envelope = out.stdout;
    assert_eq!(
        text(&envelope),
        text(&sign(&key, actor, &format!("{program}-1"), body)),
        "{program} and Rust sign the same command to the same bytes"
    );
    let before = s.snapshot().await;
    let r = s.accept(&envelope).await;
    check_receipt(&s, &r, &envelope);
    assert_eq!(s.snapshot().await.db_size, before.db_size + 1);
    let cp = s.checkpoint_covering(r.receipt.index + 1).await;
    check_inclusion(&s, r.receipt.index, &r.receipt.leaf_hash, &cp).await;
}

#[tokio::test]
async fn node_signer_round_trip() {
    let dir = interop_dir();
    let mut missing = Vec::new();
    if !runs("node", &["--version"]) {
        missing.push(
            "`node` (Node.js >= 20) is not on PATH: install it, then run `npm ci --prefix tools/interop`"
                .to_string(),
        );
    }
    if !dir.join("node_modules/canonicalize/package.json").is_file() {
        missing.push(format!(
            "npm package `canonicalize` is not installed in {}: run `npm ci --prefix tools/interop`",
            dir.display()
        ));
    }
    if skip("Node signer round trip", &missing) {
        return;
    }
    round_trip("node", &dir.join("sign.mjs"), 30, "ua/field-node").await;
}

#[tokio::test]
async fn python_signer_round_trip() {
    let dir = interop_dir();
    let script = dir.join("sign.py");
    let mut missing = Vec::new();
    // Under CI=true a missing script fails like a missing tool, instead of passing silently.
    if !script.is_file() {
        missing.push(format!("{} does not exist", script.display()));
    }
    if !runs("python3", &["--version"]) {
        missing.push(
            "`python3` is not on PATH: install Python 3, then run \
             `scripts/test.sh`, which installs tools/interop/requirements.txt into tools/interop/.venv and puts it first on PATH"
                .to_string(),
        );
    } else if !runs("python3", &["-c", "import rfc8785, cryptography"]) {
        missing.push(
            "Python modules `rfc8785` and `cryptography` are not importable: run \
             `scripts/test.sh`, which installs tools/interop/requirements.txt into tools/interop/.venv and puts it first on PATH"
                .to_string(),
        );
    }
    if skip("Python signer round trip", &missing) {
        return;
    }
    round_trip("python3", &script, 31, "ua/field-python").await;
}
