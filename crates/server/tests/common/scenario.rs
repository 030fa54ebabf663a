//! The March 2022 agreement scenario over HTTP, shared by the agreement and public-site tests:
//! settlements from `scenario/settlements.csv`, the Borodianka → Berestianka route from
//! `scenario/borodianka-berestianka.geojson`, and helpers to propose and agree windows.
//! People: the intermediary's admin `icrc/admin` (key 1), the party admins `ua/admin` (3) and
//! `ru/admin` (4), and one coordinator per party, `ua/c` (10) and `ru/c` (11).

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;

pub const ICRC: &str = "icrc/admin";
pub const UA: &str = "ua/c";
pub const RU: &str = "ru/c";
pub const CORRIDOR: &str = "borodianka-berestianka";
pub const G_UA: &str = "Ukraine will not fire on the route or the gathering point";
pub const G_RU: &str = "Russia will not fire on the route or the gathering point";

// ---------------------------------------------------------------------------------------------
// Scenario

pub fn scenario(file: &str) -> String {
    let path = format!("{}/../../scenario/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn names(s: &str) -> Value {
    json!({"en": s, "uk": s, "ru": s})
}

/// The scenario's route: GeoJSON degrees to integer 1e-7 degrees, digit for digit (signed data
/// carries no floats).
pub fn route() -> Value {
    let f: Value = serde_json::from_str(&scenario("borodianka-berestianka.geojson")).unwrap();
    assert_eq!(f["geometry"]["type"], "LineString");
    let e7 = |n: &Value| {
        corridor_core::hxl::degrees_e7(&n.to_string())
            .unwrap_or_else(|| panic!("{n} is not a coordinate"))
    };
    let points: Vec<Value> = f["geometry"]["coordinates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!([e7(&p[0]), e7(&p[1])]))
        .collect();
    assert_eq!(points[0], json!([299220000, 506451000]), "Borodianka first");
    Value::Array(points)
}

/// Complete corridor terms: everything the completeness gate asks for.
pub fn corridor_terms() -> Value {
    json!({
        "names": {"en": "Borodianka – Berestianka", "uk": "Бородянка – Берестянка",
                  "ru": "Бородянка – Берестянка"},
        "route": route(),
        "buffer_m": 500,
        "origin": "borodianka",
        "destination": "berestianka",
        "checkpoints": [{"names": names("Checkpoint at the Berestianka turn"),
                         "location": {"lat_e7": 506300000, "lon_e7": 299000000}}],
        "purpose": "evacuation",
        "who_may_leave": names("Civilians, on foot or in private cars"),
        "aid_may_enter": true,
        "reception": names("School No. 1, Berestianka"),
        "instructions": {"bring": names("Documents, water, medicines"),
                         "gather": names("Central square, Borodianka"),
                         "if_suspended": names("Return to shelter and wait for news")},
        "binding_language": "uk",
    })
}

pub fn window_terms(start: &str, end: &str, guarantees: Value) -> Value {
    json!({"start": start, "end": end, "required_parties": ["ua", "ru"], "guarantees": guarantees})
}

pub fn both_guarantees() -> Value {
    json!({"ua": G_UA, "ru": G_RU})
}

pub fn consent(window: &str, party: &str, hash: &str) -> Value {
    json!({"type": "window.consent", "window": window, "party": party, "version_hash": hash})
}

/// The coordinators, the scenario's settlements and the complete corridor at version 1.
pub async fn setup(s: &Server) {
    s.run_now(
        &kp(3),
        "ua/admin",
        register_body(UA, "coordinator", &kp(10)),
    )
    .await;
    s.run_now(
        &kp(4),
        "ru/admin",
        register_body(RU, "coordinator", &kp(11)),
    )
    .await;
    let settlements =
        corridor_core::hxl::parse_settlements(&scenario("settlements.csv"), "Europe/Kyiv").unwrap();
    s.run_now(
        &kp(1),
        ICRC,
        json!({"type": "settlement.import", "settlements": settlements}),
    )
    .await;
    s.run_now(
        &kp(1),
        ICRC,
        json!({"type": "corridor.propose", "corridor": CORRIDOR, "terms": corridor_terms()}),
    )
    .await;
}

/// The intermediary proposes `window` with `terms` (no guarantees); each party then amends to
/// state its own guarantee. Returns the resulting version hash, as `GET /v1/windows` shows it.
pub async fn propose_complete(
    s: &Server,
    window: &str,
    corridor_version: u32,
    terms: Value,
) -> String {
    let mut t = terms;
    t["guarantees"] = json!({});
    s.run_now(
        &kp(1),
        ICRC,
        json!({"type": "window.propose", "window": window, "corridor": CORRIDOR,
               "corridor_version": corridor_version, "terms": t}),
    )
    .await;
    t["guarantees"] = json!({"ua": G_UA});
    s.run_now(
        &kp(10),
        UA,
        json!({"type": "window.amend", "window": window, "base_version": 1,
               "corridor_version": corridor_version, "terms": t}),
    )
    .await;
    t["guarantees"] = both_guarantees();
    s.run_now(
        &kp(11),
        RU,
        json!({"type": "window.amend", "window": window, "base_version": 2,
               "corridor_version": corridor_version, "terms": t}),
    )
    .await;
    let w = window_now(s, window).await;
    assert_eq!(w["version"], 3, "{w}");
    assert_eq!(w["guarantees"], both_guarantees(), "{w}");
    w["version_hash"].as_str().unwrap().to_string()
}

/// Both parties consent to `hash`.
pub async fn agree(s: &Server, window: &str, hash: &str) {
    s.run_now(&kp(10), UA, consent(window, "ua", hash)).await;
    s.run_now(&kp(11), RU, consent(window, "ru", hash)).await;
}

/// The windows a query lists.
pub async fn windows(s: &Server, query: &str) -> Vec<Value> {
    let r = s.get(&format!("/v1/windows{query}")).await;
    r.expect_json(StatusCode::OK)["windows"]
        .as_array()
        .unwrap()
        .clone()
}

/// One window as `GET /v1/windows` shows it now.
pub async fn window_now(s: &Server, id: &str) -> Value {
    windows(s, "")
        .await
        .into_iter()
        .find(|w| w["id"] == id)
        .unwrap_or_else(|| panic!("GET /v1/windows does not list {id}"))
}

pub fn ids(list: &[Value]) -> Vec<&str> {
    list.iter().map(|w| w["id"].as_str().unwrap()).collect()
}

/// The alert scenario's window: agreed for 5 March 2022, 10:00–20:00 UTC, with the Red Cross's
/// member `urcs/m` (seed 26) registered.
pub const ALERT_WINDOW: &str = "w-5-march";
/// The alert scenario's operation.
pub const ALERT_OP: &str = "urcs/op-1";
/// Text of the message in Ukraine's thread, which no one outside it may receive.
pub const ALERT_MESSAGE: &str = "MESSAGE-SECRET";
/// Plate of the operation's truck, which no alert may carry.
pub const ALERT_PLATE: &str = "AA-PLATE-1";

/// The people, an agreed window ([`ALERT_WINDOW`]) and the Red Cross's member.
pub async fn alert_window(s: &Server) {
    setup(s).await;
    let hash = propose_complete(
        s,
        ALERT_WINDOW,
        1,
        window_terms("2022-03-05T10:00:00Z", "2022-03-05T20:00:00Z", json!({})),
    )
    .await;
    agree(s, ALERT_WINDOW, &hash).await;
    s.run_now(
        &kp(5),
        "urcs/admin",
        register_body("urcs/m", "organisation-member", &kp(26)),
    )
    .await;
}

/// Ukraine's thread `ua/t-1` with the intermediary, holding message `m1` ([`ALERT_MESSAGE`]).
pub async fn ukraines_thread(s: &Server) {
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
        "text": ALERT_MESSAGE, "ack_required": ["ua"]}),
    )
    .await;
}

/// [`ALERT_OP`] notified and acknowledged by Ukraine only: Russia's acknowledgement falls
/// overdue an exercise hour later.
pub async fn operation_russia_does_not_acknowledge(s: &Server) {
    s.run_now(
        &kp(26),
        "urcs/m",
        json!({"type": "operation.notify", "operation": ALERT_OP, "window": ALERT_WINDOW,
            "kind": "aid-delivery",
            "vehicles": [{"type": "truck", "plate": ALERT_PLATE, "markings": "Red Cross emblem"}],
            "consignments": [{"tracking": "RC-1", "category": "food", "item": "flour",
                              "quantity": 400, "unit": "kg"}],
            "evacuee_capacity": 0,
            "departure": "2022-03-05T11:00:00Z", "arrival": "2022-03-05T13:00:00Z"}),
    )
    .await;
    s.run_now(
        &kp(10),
        UA,
        json!({"type": "operation.ack", "operation": ALERT_OP, "party": "ua"}),
    )
    .await;
}
