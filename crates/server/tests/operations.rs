//! Operations over HTTP (#16): an evacuation with aid notified for an agreed window,
//! acknowledged by the parties (one overdue), moved, received with some damage; units'
//! confirmations; a bilateral thread; the report in JSON and HXL-tagged CSV; every refusal a
//! problem document that writes nothing; and the privacy walk: no plate, no thread text, no unit
//! identity on any read path of a reader that may not read it.
//!
//! People: as in the agreement scenario (`icrc/admin` 1, `ua/admin` 3, `ru/admin` 4, `ua/c` 10,
//! `ru/c` 11), the Red Cross's member `urcs/m` (26), units `ua/unit-1` (20) and `ru/unit-1` (22),
//! the intermediary's observer `icrc/obs` (25), and a second organisation, `msf`, whose admin
//! (6) takes part in none of it.

mod common;

use std::collections::BTreeSet;

use common::scenario::*;
use common::*;
use corridor_core::genesis;
use reqwest::StatusCode;
use serde_json::{Value, json};

const WINDOW: &str = "w-5-march";
const OP: &str = "urcs/op-1";
const PLATE: &str = "AA-PLATE-SECRET-77";
const THREAD_TEXT: &str = "THREAD-SECRET: the gathering point moves to the school yard";
const UA_UNIT: (&str, u8) = ("ua/unit-1", 20);
const RU_UNIT: (&str, u8) = ("ru/unit-1", 22);

/// The test genesis with a second organisation, `msf` (admin key 6).
fn two_organisations() -> genesis::SignedGenesis {
    let mut g = common::genesis();
    g.document.organisations.push(genesis::Body {
        id: "msf".into(),
        names: genesis::Names {
            en: "MSF".into(),
            uk: "MSF".into(),
            ru: "MSF".into(),
        },
        admin_key: kp(6).public().id(),
    });
    g.signatures.clear();
    for (signer, seed) in [("icrc", 1), ("ua", 3), ("ru", 4)] {
        g.sign(signer, &kp(seed)).unwrap();
    }
    g
}

fn notify_body() -> Value {
    json!({"type": "operation.notify", "operation": OP, "window": WINDOW, "kind": "both",
        "vehicles": [{"type": "bus", "plate": PLATE, "markings": "Red Cross emblem, white"}],
        "consignments": [{"tracking": "RC-1", "category": "medicine", "item": "insulin",
                          "quantity": 400, "unit": "box"}],
        "evacuee_capacity": 50,
        "departure": "2022-03-05T08:00:00Z", "arrival": "2022-03-05T11:00:00Z"})
}

fn at_point(op: &str, event: &str, at: &str, extra: Value) -> Value {
    let mut v = json!({"type": "operation.move", "operation": op, "event": event,
        "occurred_at": at, "location": {"lat_e7": 506300000, "lon_e7": 299000000}});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

/// The log on 5 March 2022 at 06:00 UTC: the scenario, an agreed window for 07:00–17:00, the
/// people, the operation notified and acknowledged by Ukraine only, the units' confirmations, a
/// thread of Ukraine and the intermediary with one message Ukraine acknowledged.
async fn fixture() -> Server {
    let s = Server::start_with_genesis_at(two_organisations(), "2022-03-05T06:00:00Z").await;
    setup(&s).await;
    let hash = propose_complete(
        &s,
        WINDOW,
        1,
        window_terms("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z", json!({})),
    )
    .await;
    agree(&s, WINDOW, &hash).await;
    s.run_now(
        &kp(5),
        "urcs/admin",
        register_body("urcs/m", "organisation-member", &kp(26)),
    )
    .await;
    s.run_now(
        &kp(3),
        "ua/admin",
        register_body(UA_UNIT.0, "unit", &kp(UA_UNIT.1)),
    )
    .await;
    s.run_now(
        &kp(4),
        "ru/admin",
        register_body(RU_UNIT.0, "unit", &kp(RU_UNIT.1)),
    )
    .await;
    s.run_now(&kp(1), ICRC, register_body("icrc/obs", "observer", &kp(25)))
        .await;
    s.run_now(&kp(26), "urcs/m", notify_body()).await;
    s.run_now(
        &kp(10),
        UA,
        json!({"type": "operation.ack", "operation": OP, "party": "ua"}),
    )
    .await;
    for (actor, seed) in [UA_UNIT, RU_UNIT] {
        s.run_now(
            &kp(seed),
            actor,
            json!({"type": "unit.confirm", "window": WINDOW, "version_hash": hash}),
        )
        .await;
    }
    s.run_now(
        &kp(10),
        UA,
        json!({"type": "thread.open", "thread": "ua/t-1", "corridor": CORRIDOR,
        "participants": [], "subject": "Gathering point"}),
    )
    .await;
    s.run_now(
        &kp(1),
        ICRC,
        json!({"type": "message.send", "thread": "ua/t-1", "message": "m1",
        "text": THREAD_TEXT, "ack_required": ["ua"]}),
    )
    .await;
    s.run_now(
        &kp(10),
        UA,
        json!({"type": "message.ack", "thread": "ua/t-1", "message": "m1"}),
    )
    .await;
    s
}

/// Send a command that must be refused with `code`, and check nothing was written.
async fn refused(s: &Server, key: u8, actor: &str, body: Value, code: &str) {
    let before = s.snapshot().await;
    let status = match code {
        "role-not-allowed" => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    s.post_now(&kp(key), actor, body)
        .await
        .expect_problem(status, code);
    assert_eq!(
        s.snapshot().await,
        before,
        "refused with {code}, yet written"
    );
}

#[tokio::test]
async fn an_operation_runs_through_an_agreed_window_and_is_accounted_for() {
    let s = fixture().await;
    // The operation as the notifier sees it: Ukraine acknowledged, Russia pending, then overdue
    // an hour after the notification (the genesis policy's delay), with no new entry.
    let op = s
        .get_as(&kp(26), &format!("/v1/operations/{OP}"))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(
        op["acknowledgements"]["ua"]["status"], "acknowledged",
        "{op}"
    );
    assert_eq!(op["acknowledgements"]["ru"]["status"], "pending", "{op}");
    assert_eq!(op["vehicles"][0]["plate"], PLATE);
    assert!(
        op["departure"]["Europe/Moscow"]
            .as_str()
            .unwrap()
            .starts_with("2022-03-05T11:00:00+03:00"),
        "{op}"
    );
    let later = s
        .get_as(
            &kp(26),
            &format!("/v1/operations/{OP}?at=2022-03-05T08:00:00Z"),
        )
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(
        later["acknowledgements"]["ru"]["status"], "overdue",
        "{later}"
    );
    let list = s
        .get_as(&kp(11), "/v1/operations?at=2022-03-05T08:00:00Z")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(list["operations"][0]["overdue"], true, "{list}");
    // Percent-encoded ids read the same.
    let encoded = s
        .get_as(&kp(11), "/v1/operations/urcs%2Fop-1")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(encoded["id"], OP);

    // Movement with evacuees, a stop, the arrival, receipts with damage, the outcome.
    let now = s.now();
    let t = format!("{}Z", &now[..19]);
    s.run_now(
        &kp(26),
        "urcs/m",
        at_point(
            OP,
            "departed",
            &t,
            json!({
        "evacuees": {"adults": 30, "children": 12, "elderly": 5, "disabled": 1, "wounded": 2},
        "voluntary": true, "destination": "berestianka"}),
        ),
    )
    .await;
    s.run_now(
        &kp(26),
        "urcs/m",
        at_point(
            OP,
            "stopped",
            &t,
            json!({"reason": "inspection at the checkpoint"}),
        ),
    )
    .await;
    s.run_now(&kp(26), "urcs/m", at_point(OP, "resumed", &t, json!({})))
        .await;
    s.run_now(
        &kp(26),
        "urcs/m",
        at_point(
            OP,
            "arrived",
            &t,
            json!({
        "evacuees": {"adults": 30, "children": 12, "elderly": 5, "disabled": 1, "wounded": 2}}),
        ),
    )
    .await;
    s.run_now(
        &kp(26),
        "urcs/m",
        json!({"type": "operation.receive", "operation": OP,
        "receipts": [{"tracking": "RC-1", "delivered": 380, "damaged": 20, "lost": 0}]}),
    )
    .await;
    s.run_now(
        &kp(26),
        "urcs/m",
        json!({"type": "operation.outcome", "operation": OP,
        "outcome": "facilitated", "reason": "passed with one inspection"}),
    )
    .await;
    let op = s
        .get_as(&kp(10), &format!("/v1/operations/{OP}"))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(op["progress"], "arrived");
    assert_eq!(op["timeline"].as_array().unwrap().len(), 4);
    assert_eq!(op["timeline"][1]["reason"], "inspection at the checkpoint");
    assert_eq!(op["evacuees"]["departed"]["total"], 50);
    assert_eq!(op["evacuees"]["arrived"]["children"], 12);
    assert_eq!(op["manifest"][0]["damaged"], 20);
    assert_eq!(op["outcome"]["outcome"], "facilitated");

    // The report: JSON per window, CSV with the HXL row under the header.
    let report = s
        .get_as(&kp(1), "/v1/reports/operations")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(report["windows"][0]["window"], WINDOW);
    assert_eq!(report["windows"][0]["evacuees_arrived"], 50);
    let csv = s.get_as(&kp(1), "/v1/reports/operations.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.mime().starts_with("text/csv"), "{}", csv.mime());
    let text = csv.text();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("operation,notifier,window")
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("#activity+code,#org+code")
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with("urcs/op-1,urcs,w-5-march"), "{row}");
    assert!(
        row.contains(",RC-1,medicine,insulin,box,400,380,20,0,50,50"),
        "{row}"
    );
    assert!(row.contains(",ua,ru,") || row.contains(",ua,,"), "{row}");
}

#[tokio::test]
async fn bad_operations_are_refused_with_their_own_codes_and_write_nothing() {
    let s = fixture().await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = notify_body();
        v["operation"] = json!("urcs/op-2");
        v["consignments"][0]["tracking"] = json!("RC-2");
        f(&mut v);
        v
    };
    // A window proposed and never agreed takes no operation.
    s.run_now(
        &kp(1),
        ICRC,
        json!({"type": "window.propose", "window": "w-6-march",
        "corridor": CORRIDOR, "corridor_version": 1,
        "terms": window_terms("2022-03-06T07:00:00Z", "2022-03-06T17:00:00Z", json!({}))}),
    )
    .await;
    let cases: Vec<(&str, Value)> = vec![
        ("unknown-window", with(&|v| v["window"] = json!("w-none"))),
        (
            "window-not-agreed",
            with(&|v| {
                v["window"] = json!("w-6-march");
                v["departure"] = json!("2022-03-06T08:00:00Z");
                v["arrival"] = json!("2022-03-06T11:00:00Z");
            }),
        ),
        (
            "outside-window",
            with(&|v| v["arrival"] = json!("2022-03-05T18:00:00Z")),
        ),
        (
            "arrival-before-departure",
            with(&|v| v["arrival"] = json!("2022-03-05T07:30:00Z")),
        ),
        (
            "quantity-out-of-range",
            with(&|v| v["consignments"][0]["quantity"] = json!(0)),
        ),
        (
            "quantity-out-of-range",
            with(&|v| v["consignments"][0]["quantity"] = json!(-3)),
        ),
        (
            "quantity-out-of-range",
            with(&|v| v["consignments"][0]["quantity"] = json!(2_000_000_000i64)),
        ),
        (
            "unknown-unit-of-measure",
            with(&|v| v["consignments"][0]["unit"] = json!("tons")),
        ),
        (
            "tracking-number-duplicate",
            with(&|v| v["consignments"][0]["tracking"] = json!("RC-1")),
        ),
    ];
    for (code, body) in cases {
        refused(&s, 26, "urcs/m", body, code).await;
    }
    let t = format!("{}Z", &s.now()[..19]);
    // A point far from the route; arrival before departure; counts that do not add up.
    let mut far = at_point(
        OP,
        "departed",
        &t,
        json!({"evacuees": {"adults": 1, "children": 0,
        "elderly": 0, "disabled": 0, "wounded": 0}, "voluntary": true, "destination": "berestianka"}),
    );
    far["location"] = json!({"lat_e7": 508000000, "lon_e7": 299000000});
    refused(&s, 26, "urcs/m", far, "point-off-route").await;
    refused(
        &s,
        26,
        "urcs/m",
        at_point(OP, "arrived", &t, json!({})),
        "arrival-before-departure",
    )
    .await;
    s.run_now(
        &kp(26),
        "urcs/m",
        at_point(
            OP,
            "departed",
            &t,
            json!({"evacuees": {"adults": 10,
        "children": 0, "elderly": 0, "disabled": 0, "wounded": 0}, "voluntary": true,
        "destination": "berestianka"}),
        ),
    )
    .await;
    refused(
        &s,
        26,
        "urcs/m",
        at_point(
            OP,
            "checkpoint",
            &t,
            json!({"evacuees": {"adults": 9,
        "children": 0, "elderly": 0, "disabled": 0, "wounded": 0}}),
        ),
        "evacuee-count-mismatch",
    )
    .await;
    // Acknowledgement by a party not required (an organisation is no party) or twice.
    refused(
        &s,
        10,
        UA,
        json!({"type": "operation.ack", "operation": OP, "party": "ua"}),
        "ack-repeated",
    )
    .await;
    refused(
        &s,
        5,
        "urcs/admin",
        json!({"type": "operation.ack", "operation": OP, "party": "ua"}),
        "role-not-allowed",
    )
    .await;
    // A message to a thread the sender is not part of.
    refused(
        &s,
        11,
        RU,
        json!({"type": "message.send", "thread": "ua/t-1", "message": "m2",
        "text": "let us in"}),
        "not-a-participant",
    )
    .await;
    refused(
        &s,
        22,
        RU_UNIT.0,
        json!({"type": "message.send", "thread": "ua/t-1", "message": "m2",
        "text": "unit speaking"}),
        "role-not-allowed",
    )
    .await;
}

#[tokio::test]
async fn units_are_named_to_their_own_party_and_counted_for_the_other() {
    let s = fixture().await;
    let path = format!("/v1/windows/{WINDOW}/receipts");
    let ua = s.get_as(&kp(10), &path).await.expect_json(StatusCode::OK);
    let terms = &ua["parties"]["ua"]["notices"][0];
    assert_eq!(terms["notice"], "terms", "{ua}");
    assert_eq!(terms["confirmed"][0]["unit"], UA_UNIT.0, "{ua}");
    assert!(
        terms["confirmed"][0]["at"]["Europe/Kyiv"].is_string(),
        "{ua}"
    );
    let ru_for_ua = &ua["parties"]["ru"]["notices"][0];
    assert_eq!(ru_for_ua["confirmed_count"], 1, "{ua}");
    assert!(ru_for_ua.get("confirmed").is_none(), "{ua}");
    assert!(!ua.to_string().contains(RU_UNIT.0), "{ua}");
    // A withdrawal is a new notice: nobody has confirmed it yet.
    s.run_now(
        &kp(11),
        RU,
        json!({"type": "window.withdraw", "window": WINDOW, "party": "ru",
        "reason": "no guarantee for the gathering point", "public_reason": "shelling"}),
    )
    .await;
    let ru = s.get_as(&kp(11), &path).await.expect_json(StatusCode::OK);
    let suspension = &ru["parties"]["ru"]["notices"][1];
    assert_eq!(suspension["kind"], "withdraw", "{ru}");
    assert_eq!(suspension["pending"][0], RU_UNIT.0, "{ru}");
    assert_eq!(
        ru["parties"]["ua"]["notices"][1]["pending_count"], 1,
        "{ru}"
    );
    assert!(!ru.to_string().contains(UA_UNIT.0), "{ru}");
}

/// Every read path, as every reader: the plate only to the operation's audience, the thread's
/// text only to its participants, a unit's identity only to its own party (and the
/// intermediary's staff). Generated from a table of secrets and who may see each.
#[tokio::test]
async fn no_reader_finds_a_plate_a_thread_or_a_unit_it_may_not_read() {
    let s = fixture().await;
    let size = s.snapshot().await.tree_size;
    // Reader, seed (None: the public).
    let readers: &[(&str, Option<u8>)] = &[
        ("ua/c", Some(10)),
        ("ru/c", Some(11)),
        ("ua/unit-1", Some(UA_UNIT.1)),
        ("ru/unit-1", Some(RU_UNIT.1)),
        ("icrc/admin", Some(1)),
        ("icrc/obs", Some(25)),
        ("urcs/m", Some(26)),
        ("msf/admin", Some(6)),
        ("public", None),
    ];
    let ua_unit_key = kp(UA_UNIT.1).public().id();
    let ru_unit_key = kp(RU_UNIT.1).public().id();
    // Secret, and the readers that may see it.
    let secrets: Vec<(&str, &[&str])> = vec![
        (
            PLATE,
            &[
                "ua/c",
                "ru/c",
                "ua/unit-1",
                "ru/unit-1",
                "icrc/admin",
                "urcs/m",
            ],
        ),
        (THREAD_TEXT, &["ua/c", "ua/unit-1", "icrc/admin"]),
        (UA_UNIT.0, &["ua/c", "ua/unit-1", "icrc/admin"]),
        (&ua_unit_key, &["ua/c", "ua/unit-1", "icrc/admin"]),
        (RU_UNIT.0, &["ru/c", "ru/unit-1", "icrc/admin"]),
        (&ru_unit_key, &["ru/c", "ru/unit-1", "icrc/admin"]),
    ];
    let paths = [
        format!("/v1/log/entries?start=0&end={size}"),
        format!("/v1/log/leaves?start=0&end={size}"),
        "/v1/log/head".into(),
        "/v1/log/checkpoint".into(),
        "/v1/operations".into(),
        format!("/v1/operations/{OP}"),
        format!("/v1/windows/{WINDOW}/receipts"),
        "/v1/windows".into(),
        "/v1/corridors".into(),
        "/v1/incidents".into(),
        "/v1/threads".into(),
        "/v1/threads/ua/t-1".into(),
        "/v1/reports/operations".into(),
        "/v1/reports/operations.csv".into(),
        "/v1/alerts".into(),
        "/v1/audit/reads".into(),
        "/metrics".into(),
        "/status.json".into(),
        "/feeds/atom.xml".into(),
        "/feeds/cap.xml".into(),
        "/en/".into(),
        format!("/en/corridors/{CORRIDOR}/"),
    ];
    let mut failures = Vec::new();
    let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (reader, seed) in readers {
        for path in &paths {
            let r = match seed {
                Some(k) => s.get_as(&kp(*k), path).await,
                None => s.get_public(path).await,
            };
            let body = r.text();
            for (secret, allowed) in &secrets {
                if body.contains(*secret) {
                    if allowed.contains(reader) {
                        seen.insert((reader, secret));
                    } else {
                        failures.push(format!("{reader} reads {secret:?} at {path}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Not vacuous: each secret reaches someone allowed to read it.
    for (secret, allowed) in &secrets {
        assert!(
            allowed.iter().any(|r| seen.contains(&(*r, *secret))),
            "nobody read {secret:?}: the walk did not reach it"
        );
    }
}
