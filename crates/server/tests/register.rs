//! The negotiation register over HTTP (#19): the parties and the intermediary read rounds,
//! points with each party's position, a point's history with its word-level diff, and documents
//! with who signed which version; an organisation reads none of it (and learns no id); a bad
//! filter and a forged position are refused with their codes.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn position(party: &str, version: u32, stance: &str) -> Value {
    json!({"type": "point.position", "point": "h-1", "version": version, "party": party,
        "round": "round-2", "stance": stance, "text": format!("{party} {stance}")})
}

#[tokio::test]
async fn the_register_is_read_by_the_parties_and_the_intermediary_only() {
    let s = Server::start().await;
    for (admin, by, actor, role, key) in [
        (3, "ua/admin", "ua/c", "coordinator", 10),
        (3, "ua/admin", "ua/sign", "signatory", 21),
        (4, "ru/admin", "ru/c", "coordinator", 11),
        (4, "ru/admin", "ru/sign", "signatory", 23),
    ] {
        s.run(&kp(admin), by, register_body(actor, role, &kp(key)))
            .await;
    }
    s.run(&kp(1), "icrc/admin", json!({"type": "round.record", "round": "round-2", "number": 2,
        "starts": "2022-03-03T14:50:00Z",
        "starts_local": {"local": "2022-03-03T17:50", "zone": "Europe/Moscow"},
        "venue": {"en": "Belovezhskaya Pushcha", "uk": "Біловезька пуща", "ru": "Беловежская пуща"},
        "format": "in-person",
        "delegations": {"ua": [{"name": "Head", "role": "head"}], "ru": [{"name": "Head", "role": "head"}]},
        "outcome": "Humanitarian corridors agreed",
        "communique": [{"lang": "ru", "text": "Достигнута договоренность", "original": true},
                       {"lang": "en", "text": "Agreement was reached", "original": false}]}))
        .await;
    s.run(
        &kp(1),
        "icrc/admin",
        json!({"type": "point.propose", "point": "h-1",
        "basket": "humanitarian", "round": "round-2",
        "text": {"en": "Humanitarian corridors for civilians"}}),
    )
    .await;
    s.run(&kp(10), "ua/c", json!({"type": "point.revise", "point": "h-1", "base_version": 1,
        "round": "round-2", "text": {"en": "Humanitarian corridors for civilians with guarantees"}}))
        .await;
    // A position for the other party is refused and written nowhere.
    let forged = sign(&kp(10), "ua/c", &s.next_id(), position("ru", 2, "accepts"));
    s.post(&forged)
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "position-other-party");
    s.run(&kp(10), "ua/c", position("ua", 2, "accepts")).await;
    s.run(&kp(11), "ru/c", position("ru", 2, "accepts")).await;
    s.run(
        &kp(1),
        "icrc/admin",
        json!({"type": "point.status", "point": "h-1", "version": 2,
        "round": "round-2", "status": "agreed-text"}),
    )
    .await;
    s.run(
        &kp(1),
        "icrc/admin",
        json!({"type": "document.draft", "document": "protocol-1",
        "title": {"en": "Protocol"}, "points": ["h-1"], "binding_language": "en",
        "text": {"en": "The parties agree on humanitarian corridors."}}),
    )
    .await;

    let rounds = s
        .get_as(&kp(11), "/v1/rounds")
        .await
        .expect_json(StatusCode::OK);
    let r = &rounds["rounds"][0];
    assert_eq!(
        r["starts"]["local"]["Europe/Kyiv"], "2022-03-03T16:50:00+02:00",
        "{r}"
    );
    assert_eq!(r["communique"][0]["original"], true);
    let points = s
        .get_as(&kp(10), "/v1/points?basket=humanitarian&status=agreed-text")
        .await
        .expect_json(StatusCode::OK);
    let p = &points["points"][0];
    assert_eq!(
        (p["id"].as_str(), p["version"].as_u64()),
        (Some("h-1"), Some(2))
    );
    assert_eq!(p["positions"]["ru"]["stance"], "accepts", "{p}");
    let history = s
        .get_as(&kp(11), "/v1/points/h-1/history")
        .await
        .expect_json(StatusCode::OK);
    let changes = &history["versions"][1]["changes"]["en"];
    assert!(
        changes.as_array().unwrap().iter().any(|c| c["added"]
            .as_str()
            .is_some_and(|t| t.contains("guarantees"))),
        "{changes}"
    );
    let doc = s
        .get("/v1/documents/protocol-1")
        .await
        .expect_json(StatusCode::OK);
    let hash = doc["hash"].as_str().unwrap().to_string();
    assert_eq!(doc["awaiting_signature"], json!(["ua", "ru"]));
    for (seed, actor, party) in [(21, "ua/sign", "ua"), (23, "ru/sign", "ru")] {
        s.run(
            &kp(seed),
            actor,
            json!({"type": "document.sign", "document": "protocol-1",
            "party": party, "version_hash": hash}),
        )
        .await;
    }
    let doc = s
        .get_as(&kp(10), "/v1/documents/protocol-1")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(doc["signed_by_all"], true, "{doc}");
    assert_eq!(doc["signatures"]["ru"]["by"]["actor"], "ru/sign");

    // The bundle verifies offline against the genesis fingerprint, and each lie in a copy of
    // it is named.
    bundle_checks(&s).await;

    // Both parties agree to publish it: the public site shows it with its bundle.
    let doc = s
        .get("/v1/documents/protocol-1")
        .await
        .expect_json(StatusCode::OK);
    let hash = doc["hash"].as_str().unwrap().to_string();
    for (seed, actor, party) in [(10, "ua/c", "ua"), (11, "ru/c", "ru")] {
        s.run(
            &kp(seed),
            actor,
            json!({"type": "document.publish", "document": "protocol-1",
            "party": party, "version_hash": hash}),
        )
        .await;
    }
    let mut page = String::new();
    let mut bundle = None;
    for _ in 0..50 {
        let r = s.get_public("/en/documents/protocol-1/").await;
        if r.status == StatusCode::OK {
            page = r.text();
            let b = s.get_public("/en/documents/protocol-1/bundle.json").await;
            if b.status == StatusCode::OK {
                bundle = Some(b.json());
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(page.contains("English — binding text"), "{page}");
    let bundle: corridor_verify::bundle::Bundle =
        serde_json::from_value(bundle.expect("the published bundle")).unwrap();
    let fp = corridor_core::genesis::fingerprint(&genesis().document);
    corridor_verify::bundle::verify(&bundle, &fp).unwrap();
    let front = s.get_public("/en/").await.text();
    assert!(front.contains("documents/protocol-1/"), "{front}");

    // The organisation reads nothing of it and learns no id.
    let org = s
        .get_as(&kp(5), "/v1/points")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(org["points"], json!([]));
    let org = s
        .get_as(&kp(5), "/v1/rounds")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(org["rounds"], json!([]));
    // A published document is public; how it was negotiated is not.
    s.get_as(&kp(5), "/v1/documents/protocol-1")
        .await
        .expect_json(StatusCode::OK);
    s.get_as(&kp(5), "/v1/points/h-1/history")
        .await
        .expect_problem(StatusCode::NOT_FOUND, "not-found");
    // Nor does the public.
    assert_eq!(
        s.get_public("/v1/points").await.status,
        StatusCode::UNAUTHORIZED
    );
    // A bad filter names the field.
    s.get("/v1/points?basket=naval")
        .await
        .expect_problem(StatusCode::BAD_REQUEST, "invalid-field");
    // Every disclosure of the register is in the read audit.
    let audit = s.get("/v1/audit/reads").await.expect_json(StatusCode::OK);
    let text = audit.to_string();
    assert!(
        text.contains("document protocol-1") && text.contains("point h-1"),
        "{text}"
    );
}

async fn bundle_checks(s: &Server) {
    use corridor_verify::bundle::{Bundle, BundleError, verify};
    // The last signature is covered by a checkpoint within the merge delay.
    let mut b = None;
    for _ in 0..50 {
        let r = s.get_as(&kp(21), "/v1/documents/protocol-1/bundle").await;
        if r.status == StatusCode::OK {
            b = Some(r.json());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let bundle: Bundle = serde_json::from_value(b.expect("a bundle")).unwrap();
    let fp = corridor_core::genesis::fingerprint(&genesis().document);
    let proven = verify(&bundle, &fp).unwrap();
    assert_eq!(proven.signed["ru"].0, "ru/sign");
    assert_eq!(proven.signed["ua"].0, "ua/sign");
    // Another genesis.
    let other = "0000-0000-0000-0000-0000-0000-0000-0000";
    assert!(matches!(
        verify(&bundle, other),
        Err(BundleError::Genesis { .. })
    ));
    // A proof that does not verify.
    let mut bad = bundle.clone();
    let last = bad.proofs.len() - 1;
    bad.proofs[last][0] = corridor_core::crypto::b64(&[9; 32]);
    assert!(
        matches!(verify(&bad, &fp), Err(BundleError::Proof { .. })),
        "{:?}",
        verify(&bad, &fp)
    );
    // A checkpoint signed by another key.
    let mut bad = bundle.clone();
    let cp = corridor_core::checkpoint::Checkpoint::verify(
        &bundle.checkpoint,
        &bundle.origin,
        &s.log_key(),
    )
    .unwrap();
    bad.checkpoint = cp.sign(&kp(99));
    assert!(matches!(verify(&bad, &fp), Err(BundleError::Checkpoint(_))));
    // A signatory's registration left out: its key no longer chains to the genesis.
    let mut bad = bundle.clone();
    let reg = bad
        .entries
        .iter()
        .position(|e| e.entry_type == "actor.register" && e.command["body"]["actor"] == "ru/sign")
        .expect("the registration of ru/sign is in the bundle");
    bad.entries.remove(reg);
    bad.proofs.remove(reg);
    assert!(
        matches!(verify(&bad, &fp), Err(BundleError::KeyChain { .. })),
        "{:?}",
        verify(&bad, &fp)
    );
    // A party's signature left out.
    let mut bad = bundle.clone();
    let sig = bad
        .entries
        .iter()
        .position(|e| e.entry_type == "document.sign" && e.actor == "ru/sign")
        .unwrap();
    bad.entries.remove(sig);
    bad.proofs.remove(sig);
    assert!(matches!(verify(&bad, &fp), Err(BundleError::Document(_))));
    // The text changed after signing.
    let mut bad = bundle.clone();
    bad.version
        .text
        .insert("en".into(), "The parties agree on nothing.".into());
    assert!(matches!(verify(&bad, &fp), Err(BundleError::Document(_))));
    // A signature entry's bytes altered: it no longer makes its leaf, or verify.
    let mut bad = bundle.clone();
    bad.entries[sig].command["body"]["party"] = json!("ua");
    assert!(verify(&bad, &fp).is_err());
}
