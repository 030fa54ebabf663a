//! The negotiation register (#19): rounds in order, points with versions, positions by a
//! party's own people, agreed text only when every party accepted, documents of agreed points
//! signed by signatories over the exact version, revisions voiding signatures, joint
//! publication; each bad input refused with its own code and nothing written.

use super::*;

fn setup() -> Harness {
    let mut h = Harness::new();
    for (admin, seed, actor, role, key) in [
        (3, "ua/admin", "ua/c", "coordinator", 10),
        (3, "ua/admin", "ua/sign", "signatory", 21),
        (4, "ru/admin", "ru/c", "coordinator", 11),
        (4, "ru/admin", "ru/sign", "signatory", 23),
    ] {
        h.submit(&kp(admin), seed, register(actor, role, &kp(key)))
            .unwrap();
    }
    h
}

fn round(id: &str, n: u32, starts: &str, local: &str) -> Value {
    json!({"type": "round.record", "round": id, "number": n, "starts": starts,
        "starts_local": {"local": local, "zone": "Europe/Moscow"},
        "venue": {"en": "Belovezhskaya Pushcha", "uk": "Біловезька пуща", "ru": "Беловежская пуща"},
        "format": "in-person",
        "delegations": {"ua": [{"name": "D. Arakhamia", "role": "head"}],
                        "ru": [{"name": "V. Medinsky", "role": "head"}]}})
}

fn position(point: &str, version: u32, party: &str, stance: &str) -> Value {
    json!({"type": "point.position", "point": point, "version": version, "party": party,
        "round": "r2", "stance": stance, "text": format!("{party} {stance}")})
}

/// Submit and expect refusal with `code`, with nothing changed.
fn refused(h: &mut Harness, seed: u8, actor: &str, body: Value, code: &str) {
    let before = h.state.register.clone();
    let e = h.submit(&kp(seed), actor, body).unwrap_err();
    assert_eq!(e.code(), code, "{e}");
    assert_eq!(h.state.register, before, "a refusal writes nothing");
}

#[test]
fn the_register_from_rounds_to_a_published_document() {
    let mut h = setup();
    h.submit(
        &kp(1),
        "icrc/admin",
        round("r1", 1, "2022-02-28T09:00:00Z", "2022-02-28T12:00"),
    )
    .unwrap();
    h.submit(
        &kp(1),
        "icrc/admin",
        round("r2", 2, "2022-03-03T14:50:00Z", "2022-03-03T17:50"),
    )
    .unwrap();
    // A round dated before the previous one, and a stated local time that is not the instant.
    refused(
        &mut h,
        1,
        "icrc/admin",
        round("r0", 3, "2022-03-01T09:00:00Z", "2022-03-01T12:00"),
        "round-out-of-order",
    );
    refused(
        &mut h,
        1,
        "icrc/admin",
        round("r3", 3, "2022-03-07T09:00:00Z", "2022-03-07T09:00"),
        "local-time-mismatch",
    );
    // Points in two baskets.
    h.submit(
        &kp(1),
        "icrc/admin",
        json!({"type": "point.propose", "point": "h-1",
        "basket": "humanitarian", "round": "r2",
        "text": {"ru": "Гуманитарные коридоры", "uk": "Гуманітарні коридори"}}),
    )
    .unwrap();
    h.submit(
        &kp(11),
        "ru/c",
        json!({"type": "point.propose", "point": "m-1",
        "basket": "military", "round": "r2", "text": {"ru": "Прекращение огня"}}),
    )
    .unwrap();
    // A position for the other party; agreed text before every party accepted.
    refused(
        &mut h,
        10,
        "ua/c",
        position("h-1", 1, "ru", "accepts"),
        "position-other-party",
    );
    h.submit(&kp(10), "ua/c", position("h-1", 1, "ua", "accepts"))
        .unwrap();
    let agree = json!({"type": "point.status", "point": "h-1", "version": 1, "round": "r2",
        "status": "agreed-text"});
    refused(&mut h, 1, "icrc/admin", agree.clone(), "point-not-accepted");
    h.submit(&kp(11), "ru/c", position("h-1", 1, "ru", "reserves"))
        .unwrap();
    refused(&mut h, 1, "icrc/admin", agree.clone(), "point-not-accepted");
    h.submit(&kp(11), "ru/c", position("h-1", 1, "ru", "accepts"))
        .unwrap();
    h.submit(&kp(1), "icrc/admin", agree.clone()).unwrap();
    // The military point stays open with both positions.
    h.submit(&kp(10), "ua/c", position("m-1", 1, "ua", "rejects"))
        .unwrap();
    h.submit(&kp(11), "ru/c", position("m-1", 1, "ru", "accepts"))
        .unwrap();
    let m1 = &h.state.register.points["m-1"];
    assert_eq!(m1.status, PointStatusKind::Open);
    assert_eq!(m1.current_positions().len(), 2);
    // A document of a point that is not agreed text; then of the agreed one.
    let draft = |points: Value, text: &str| {
        json!({"type": "document.draft", "document": "protocol-1",
        "title": {"ru": "Протокол", "en": "Protocol"}, "points": points, "binding_language": "ru",
        "text": {"ru": text, "en": "translation"}})
    };
    refused(
        &mut h,
        1,
        "icrc/admin",
        draft(json!(["h-1", "m-1"]), "текст"),
        "document-point-not-agreed",
    );
    let mut no_binding = draft(json!(["h-1"]), "текст");
    no_binding["binding_language"] = json!("uk");
    refused(
        &mut h,
        1,
        "icrc/admin",
        no_binding,
        "document-binding-text-missing",
    );
    h.submit(
        &kp(1),
        "icrc/admin",
        draft(json!(["h-1"]), "Стороны договорились"),
    )
    .unwrap();
    let v1 = h.state.register.documents["protocol-1"]
        .latest()
        .hash
        .clone();
    let sign = |party: &str, hash: &str| {
        json!({"type": "document.sign", "document": "protocol-1",
        "party": party, "version_hash": hash})
    };
    // A coordinator is not a signatory; a signatory signs for its own party only.
    refused(
        &mut h,
        10,
        "ua/c",
        sign("ua", &v1),
        "document-signatory-only",
    );
    refused(&mut h, 21, "ua/sign", sign("ru", &v1), "not-your-party");
    refused(
        &mut h,
        21,
        "ua/sign",
        sign("ua", "AAAA"),
        "document-hash-mismatch",
    );
    h.submit(&kp(21), "ua/sign", sign("ua", &v1)).unwrap();
    // A revision voids the signature; signing the superseded version is refused.
    let mut revise = draft(json!(["h-1"]), "Стороны договорились о коридорах");
    revise["type"] = json!("document.revise");
    revise["base_version"] = json!(1);
    h.submit(&kp(1), "icrc/admin", revise).unwrap();
    let d = &h.state.register.documents["protocol-1"];
    assert!(d.signatures.is_empty() && d.voided.len() == 1);
    let v2 = d.latest().hash.clone();
    refused(
        &mut h,
        23,
        "ru/sign",
        sign("ru", &v1),
        "document-version-superseded",
    );
    // Publication needs every signature.
    let publish = |party: &str, hash: &str| {
        json!({"type": "document.publish",
        "document": "protocol-1", "party": party, "version_hash": hash})
    };
    refused(
        &mut h,
        10,
        "ua/c",
        publish("ua", &v2),
        "document-not-signed",
    );
    h.submit(&kp(21), "ua/sign", sign("ua", &v2)).unwrap();
    h.submit(&kp(23), "ru/sign", sign("ru", &v2)).unwrap();
    assert!(h.state.register.documents["protocol-1"].signed_by_all);
    h.submit(&kp(10), "ua/c", publish("ua", &v2)).unwrap();
    assert!(!h.state.register.documents["protocol-1"].published);
    h.submit(&kp(11), "ru/c", publish("ru", &v2)).unwrap();
    assert!(h.state.register.documents["protocol-1"].published);
    // A revised point goes back to open, and a document with the old version can no longer
    // be signed: the agreed text it names is not the point's text any more.
    h.submit(
        &kp(11),
        "ru/c",
        json!({"type": "point.revise", "point": "h-1", "base_version": 1,
        "round": "r2", "text": {"ru": "Гуманитарные коридоры с гарантиями"}}),
    )
    .unwrap();
    let p = &h.state.register.points["h-1"];
    assert_eq!((p.latest().version, p.status), (2, PointStatusKind::Open));
    refused(
        &mut h,
        10,
        "ua/c",
        position("h-1", 1, "ua", "accepts"),
        "register-version-superseded",
    );
    // The whole register replays to the same state, and its rows are the parties' only.
    assert_eq!(h.replay(), h.state);
    let rows: Vec<_> = h
        .state
        .projection_rows()
        .filter(|r| r.kind == ProjectionKind::Point)
        .collect();
    assert_eq!(rows.len(), 2);
}

use crate::negotiation::PointStatus as PointStatusKind;
