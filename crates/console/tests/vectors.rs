//! The shared vectors: what the Rust core signs and checks, written to `vectors.json`, and the
//! console's scripts checked against them in Node (`vectors.mjs`).
//!
//! The file is committed so a reviewer sees the exact bytes, and so the browser test can use it
//! without a Rust step; this test fails when the core and the file disagree (run it with
//! `CORRIDOR_BLESS=1` to rewrite the file after a deliberate change, and read the diff).

use std::path::{Path, PathBuf};
use std::process::Command;

use corridor_core::backup;
use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::{Keypair, PublicKey, b64};
use corridor_core::envelope::{SignedCommand, envelope_bytes, prove_key, signing_message};
use corridor_core::httpsig;
use corridor_core::merkle::{MemoryTree, leaf_hash};
use corridor_core::receipt::Receipt;
use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

const ORIGIN: &str = "corridor.exercise.example/log";

fn seed(n: u8) -> [u8; 32] {
    std::array::from_fn(|i| n.wrapping_mul(31).wrapping_add(i as u8))
}

fn nfc(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.nfc().collect()),
        Value::Array(a) => Value::Array(a.iter().map(nfc).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.nfc().collect(), nfc(v))).collect())
        }
        other => other.clone(),
    }
}

fn command_vector(n: u8, actor: &str, id: &str, time: &str, body: Value) -> Value {
    let key = Keypair::from_seed(seed(n));
    let command = nfc(&json!({
        "actor": actor, "body": body, "id": id, "key": key.public().id(),
        "log": ORIGIN, "time": time, "v": 1,
    }));
    let command_bytes = corridor_jcs::canonicalize(&command);
    let message = signing_message(ORIGIN, &command_bytes);
    let signature = key.sign(&message);
    let envelope = envelope_bytes(&command_bytes, &signature);
    // The core takes it: the bytes are canonical, the fields well-formed, the signature good.
    SignedCommand::parse(&envelope, ORIGIN).expect("the core accepts the vector's envelope");
    json!({
        "seed": b64(&key.seed()),
        "public": key.public().id(),
        "actor": actor, "id": id, "time": time, "body": body,
        "command": String::from_utf8(command_bytes).unwrap(),
        "message": b64(&message),
        "signature": b64(&signature),
        "envelope": String::from_utf8(envelope).unwrap(),
    })
}

fn commands() -> Value {
    json!([
        command_vector(
            1,
            "ua/coord-kyiv-oblast",
            "c-1",
            "2022-03-05T08:00:00Z",
            json!({
                "type": "window.consent", "window": "borodianka-2022-03-05", "party": "ua",
                "version_hash": "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
            })
        ),
        // Cyrillic, a decomposed "й" (и + U+0306) the page must bring to NFC, an emoji (a
        // surrogate pair in UTF-16: key order and escaping differ from UTF-8 there), a tab,
        // a quote and a backslash, and the largest accuracy the log takes.
        command_vector(
            2,
            "ru/coord-1",
            "c-2",
            "2022-03-05T09:30:00.250Z",
            json!({
                "type": "incident.report", "incident": "ru/i-1", "occurred_at": "2022-03-05T09:10:00Z",
                "location": {"lat_e7": 506083000, "lon_e7": 299400000}, "accuracy_m": 50000,
                "category": "shelling",
                "description": "Обстріл біля мосту\u{0438}\u{0306} 🚑\t\"квадрат\" \\ 7",
                "evidence": [],
            })
        ),
        command_vector(
            3,
            "ua/admin",
            "reg-1",
            "2022-03-03T10:00:00Z",
            json!({
                "type": "actor.register", "actor": "ua/coord-2", "role": "coordinator",
                "key": Keypair::from_seed(seed(9)).public().id(),
                "key_proof": prove_key(&Keypair::from_seed(seed(9)), ORIGIN, "ua/coord-2"),
                "name": "Координатор, Київська область",
            })
        ),
        // Keys the page must order by UTF-16 code units (U+10000 sorts before U+FFFF there,
        // after it in UTF-8) and bring to NFC ("e" + U+0301 becomes "é").
        command_vector(
            4,
            "ua/coord-kyiv-oblast",
            "w-1",
            "2022-03-04T06:00:00Z",
            json!({
                "type": "window.propose", "window": "w-1", "corridor": "borodianka-berestianka",
                "corridor_version": 1,
                "terms": {
                    "start": "2022-03-05T07:00:00Z", "end": "2022-03-05T15:00:00Z",
                    "required_parties": ["ru", "ua"],
                    "guarantees": {"ua": "гарантуємо", "é": "1", "e\u{301}z": "2", "\u{10000}": "3", "\u{ffff}": "4"},
                },
            })
        ),
    ])
}

fn key_proofs() -> Value {
    let key = Keypair::from_seed(seed(4));
    json!([{
        "seed": b64(&key.seed()), "public": key.public().id(), "actor": "ua/coord-2",
        "proof": prove_key(&key, ORIGIN, "ua/coord-2"),
    }])
}

fn reads() -> Value {
    let key = Keypair::from_seed(seed(5));
    let cases = [
        (
            "GET",
            "/v1/windows?status=proposed&zone=Europe/Kyiv",
            1646470800_i64,
            "0123456789abcdef0123456789abcdef",
        ),
        (
            "GET",
            "/v1/log/entries",
            1646301600,
            "fedcba9876543210fedcba9876543210",
        ),
    ];
    Value::Array(
        cases
            .iter()
            .map(|(method, pq, created, nonce)| {
                let (path, query) = match pq.split_once('?') {
                    Some((p, q)) => (p, Some(q)),
                    None => (*pq, None),
                };
                let target = httpsig::Target {
                    method,
                    path,
                    query,
                };
                let (input, signature) = httpsig::sign(&key, ORIGIN, target, *created, nonce);
                let signed = httpsig::verify(ORIGIN, target, &input, &signature)
                    .expect("the core checks its own signed read");
                assert_eq!(signed.key, key.public());
                json!({
                    "seed": b64(&key.seed()), "public": key.public().id(), "method": method,
                    "path_and_query": pq, "created": created, "nonce": nonce,
                    "signature_input": input, "signature": signature,
                })
            })
            .collect(),
    )
}

fn tree(n: u64) -> MemoryTree {
    let mut t = MemoryTree::new();
    t.extend((0..n).map(|i| leaf_hash(format!("entry {i}").as_bytes())));
    t
}

fn consistency() -> Value {
    let t = tree(13);
    let mut out = Vec::new();
    for (from, to) in [
        (1, 1),
        (1, 2),
        (2, 5),
        (3, 7),
        (4, 8),
        (6, 8),
        (5, 13),
        (7, 13),
        (8, 13),
        (13, 13),
    ] {
        let proof = t.consistency_proof(from, to).unwrap();
        let (r1, r2) = (t.root_at(from).unwrap(), t.root_at(to).unwrap());
        assert!(corridor_core::merkle::verify_consistency(from, to, &r1, &r2, &proof).is_ok());
        let proof: Vec<String> = proof.iter().map(|h| b64(h)).collect();
        out.push(json!({"size1": from, "size2": to, "root1": b64(&r1), "root2": b64(&r2), "proof": proof, "valid": true}));
        // The same proof against another old root, and a proof with a hash changed, must fail.
        let other = t.root_at(if from > 1 { from - 1 } else { 2 }).unwrap();
        out.push(json!({"size1": from, "size2": to, "root1": b64(&other), "root2": b64(&r2), "proof": proof, "valid": false}));
        if let Some(first) = proof.first() {
            let mut bent = proof.clone();
            bent[0] = b64(&leaf_hash(first.as_bytes()));
            out.push(json!({"size1": from, "size2": to, "root1": b64(&r1), "root2": b64(&r2), "proof": bent, "valid": false}));
        }
    }
    Value::Array(out)
}

fn notes() -> Value {
    let log = Keypair::from_seed(seed(6));
    let other = Keypair::from_seed(seed(7));
    let t = tree(13);
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: 13,
        root: t.root(),
    };
    let note = cp.sign(&log);
    let both = cp.sign_by(&[&other, &log]);
    let forged = cp.sign(&other);
    let tampered = note.replacen("\n13\n", "\n12\n", 1);
    for (n, ok) in [
        (&note, true),
        (&both, true),
        (&forged, false),
        (&tampered, false),
    ] {
        assert_eq!(
            Checkpoint::verify(n, ORIGIN, &log.public()).is_ok(),
            ok,
            "{n}"
        );
    }
    json!({
        "log_key": log.public().id(), "size": 13, "root": b64(&t.root()),
        "valid": [note, both], "invalid": [forged, tampered],
    })
}

fn receipts() -> Value {
    let log = Keypair::from_seed(seed(6));
    let r = Receipt {
        log: ORIGIN.into(),
        index: 42,
        leaf_hash: b64(&leaf_hash(b"x")),
        time: "2022-03-05T08:00:01.000123Z".into(),
        salt: b64(&[7; 16]),
        max_merge_delay_ms: 1000,
        actor: "ua/coord-kyiv-oblast".into(),
        command_id: "c-1".into(),
    }
    .sign(&log);
    r.verify(&log.public()).unwrap();
    let mut forged = serde_json::to_value(&r).unwrap();
    forged["receipt"]["index"] = json!(43);
    json!({"log_key": log.public().id(), "valid": r, "invalid": forged})
}

fn backups() -> Value {
    let key = Keypair::from_seed(seed(8));
    let file = backup::encrypt(
        &key.seed(),
        Some("ua/coord-2"),
        "пароль é",
        100_000,
        [3; 16],
        [4; 12],
    );
    let opened =
        backup::decrypt(&file, "пароль e\u{301}").expect("NFC: the same passphrase opens it");
    assert_eq!(opened.public(), key.public());
    assert!(backup::decrypt(&file, "пароль").is_err());
    json!([{
        "seed": b64(&key.seed()), "public": key.public().id(), "actor": "ua/coord-2",
        "passphrase": "пароль é", "wrong_passphrase": "пароль",
        "salt": b64(&[3; 16]), "nonce": b64(&[4; 12]), "iterations": 100_000, "file": file,
    }])
}

/// GeoJSON files and the route the core reads from each (`null`: refused), so an uploaded file
/// gives the page the same signed route as `corridor corridor propose --route` gives the CLI:
/// decimals exact up to seven places, rounding past that, half away from zero.
fn routes() -> Value {
    let texts = [
        include_str!("../../../scenario/borodianka-berestianka.geojson").to_string(),
        r#"{"type":"LineString","coordinates":[[29.123456789,50.00000005],[29.12345675,50.1],[29.92205,50.6451]]}"#.into(),
        r#"{"type":"LineString","coordinates":[[-0.00000005,51.5],[-0.00000015,51.50000025],[1e-7,51.6],[-0.1234567,51.7]]}"#.into(),
        r#"{"type":"Feature","properties":{"id":"x"},"geometry":{"type":"LineString","coordinates":[[30,50],[30.5,50]]}}"#.into(),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[29.9,50.6]}},{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[29.9,50.6],[29.8,50.5]]}}]}"#.into(),
        r#"{"type":"LineString","coordinates":[[180.00000001,0],[179.99,0]]}"#.into(),
        r#"{"type":"LineString","coordinates":[[180.0000001,0],[179.99,0]]}"#.into(),
        r#"{"type":"LineString","coordinates":[[29.9,50.6],[29.9,50.6]]}"#.into(),
        r#"{"type":"LineString","coordinates":[["29.9",50.6],[29.8,50.5]]}"#.into(),
        r#"{"type":"Point","coordinates":[29.9,50.6]}"#.into(),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[29.9,50.6],[29.8,50.5]]}},{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[29.7,50.6],[29.8,50.5]]}}]}"#.into(),
    ];
    let out: Vec<Value> = texts
        .into_iter()
        .map(|text| {
            let v: Value = serde_json::from_str(&text).unwrap();
            let route = corridor_core::agreement::route_from_geojson(&v).ok();
            json!({"geojson": text, "route": route})
        })
        .collect();
    assert!(out.iter().filter(|r| r["route"].is_null()).count() >= 5);
    json!(out)
}

/// Identifiers and whether the core takes each as an id and as an actor id, so the forms'
/// `pattern` attributes (`assets/js/ids.js`) refuse exactly what the server would.
fn ids() -> Value {
    use corridor_core::ids::{check_actor_id, check_id};
    let long = format!("ua/{}", "a".repeat(125));
    let longer = format!("ua/{}", "a".repeat(126));
    let cases = [
        "ua/coord-kyiv",
        "ua",
        "borodianka-2022-03-05",
        "a.b_c:d@e-f",
        "ua/coord/extra",
        "ua//coord",
        "/ua",
        "ua/",
        "-ua",
        "ua/-coord",
        "ua/coord 1",
        "ua/коорд",
        "ua\\coord",
        "ua/coord\n",
        "",
        "Z9/0",
        "ua/co-ord_2.x",
        &long,
        &longer,
    ];
    json!(cases
        .iter()
        .map(|id| json!({"id": id, "id_ok": check_id("f", id).is_ok(), "actor_ok": check_actor_id("f", id).is_ok()}))
        .collect::<Vec<_>>())
}

fn vectors() -> Value {
    let _ = PublicKey::parse; // (the key ids in the file are `PublicKey::id`)
    json!({
        "about": "Generated by crates/console/tests/vectors.rs from the Rust core; the console's scripts must give the same bytes. Do not edit by hand.",
        "origin": ORIGIN,
        "commands": commands(),
        "key_proofs": key_proofs(),
        "reads": reads(),
        "consistency": consistency(),
        "notes": notes(),
        "receipts": receipts(),
        "backups": backups(),
        "routes": routes(),
        "ids": ids(),
    })
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

#[test]
fn the_committed_vectors_are_what_the_core_produces() {
    let file = dir().join("vectors.json");
    let fresh = serde_json::to_string_pretty(&vectors()).unwrap() + "\n";
    if std::env::var("CORRIDOR_BLESS").as_deref() == Ok("1") {
        std::fs::write(&file, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == fresh,
        "crates/console/vectors.json differs from what the core produces now; if the change is \
         deliberate, rerun with CORRIDOR_BLESS=1 and review the diff"
    );
}

#[test]
fn the_console_scripts_give_the_cores_bytes_in_node() {
    if Command::new("node").arg("--version").output().is_err() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true and node is not installed: the console's scripts cannot be checked");
        }
        eprintln!("skipping the console vectors in Node: node is not installed");
        return;
    }
    let out = Command::new("node")
        .arg(dir().join("tests/vectors.mjs"))
        .arg(dir().join("vectors.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the console's scripts disagree with the core:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("vectors: all passed"), "{stdout}\n{stderr}");
}
