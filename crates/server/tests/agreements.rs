//! Agreements over HTTP, against a real server with a real SQLite file: settlements, corridor
//! versions, ceasefire windows, consents to a version hash, statuses that follow the clock
//! without new entries, local times across zones and DST, unilateral declarations, and every
//! refusal as a problem document with its own code that writes nothing.
//!
//! The scenario is the March 2022 Borodianka → Berestianka corridor: settlements from
//! `scenario/settlements.csv`, the route from `scenario/borodianka-berestianka.geojson`.
//! People: the intermediary's admin `icrc/admin` (key 1), the party admins `ua/admin` (3) and
//! `ru/admin` (4), and one coordinator per party, `ua/c` (10) and `ru/c` (11).

mod common;

use std::time::{Duration, Instant};

use common::scenario::*;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Send `envelope`; it must be refused with `status` and `code`, and the log must hold exactly
/// what it held before.
async fn refused(s: &Server, envelope: &[u8], status: StatusCode, code: &str) -> Value {
    let before = s.snapshot().await;
    let p = s.post(envelope).await.expect_problem(status, code);
    assert_eq!(
        s.snapshot().await,
        before,
        "refused with {code}, yet written"
    );
    p
}

/// Sign `body` now as `actor` with key `key`; it must be refused with a 422 rule `code`.
async fn refused_rule(s: &Server, key: u8, actor: &str, body: Value, code: &str) -> Value {
    let env = s.sign_now(&kp(key), actor, body);
    refused(s, &env, StatusCode::UNPROCESSABLE_ENTITY, code).await
}

/// A GET that must be a problem document with this status and code.
async fn bad_get(s: &Server, path: &str, status: StatusCode, code: &str) -> Value {
    s.get(path).await.expect_problem(status, code)
}

// ---------------------------------------------------------------------------------------------
// 1. The whole lifecycle

#[tokio::test]
async fn lifecycle_from_settlements_to_an_agreed_window_read_in_every_zone() {
    let s = Server::start().await;
    setup(&s).await;

    let r = s.get("/v1/settlements").await.expect_json(StatusCode::OK);
    let list = r["settlements"].as_array().unwrap();
    assert_eq!(list.len(), 14, "every row of scenario/settlements.csv");
    let b = list.iter().find(|x| x["id"] == "berestianka").unwrap();
    assert_eq!(
        b["location"],
        json!({"lat_e7": 505900000, "lon_e7": 298300000})
    );
    assert_eq!(b["names"]["uk"], "Берестянка");
    assert_eq!(b["approximate"], true);

    // "From 10:00 Moscow time" on 5 March 2022, resolved to UTC before signing.
    let r = s
        .get("/v1/time/resolve?local=2022-03-05T10:00&zone=Europe/Moscow")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(r["utc"], "2022-03-05T07:00:00Z");
    assert_eq!(r["local"]["Europe/Kyiv"], "2022-03-05T09:00:00+02:00");
    assert_eq!(r["local"]["Europe/Moscow"], "2022-03-05T10:00:00+03:00");
    let start = r["utc"].as_str().unwrap().to_string();

    let mut terms = window_terms(&start, "2022-03-05T17:00:00Z", json!({}));
    terms["start_local"] = json!({"local": "2022-03-05T10:00", "zone": "Europe/Moscow"});
    s.run_now(
        &kp(1),
        ICRC,
        json!({"type": "window.propose", "window": "w1", "corridor": CORRIDOR,
               "corridor_version": 1, "terms": terms}),
    )
    .await;
    let w = window_now(&s, "w1").await;
    assert_eq!(w["status"], "proposed");
    assert_eq!(w["version"], 1);
    assert_eq!(w["proposer"], ICRC);
    assert_eq!(w["consents"]["ua"]["consented"], false);

    // Each party states its own guarantee: each amendment is a new version with a new hash.
    let mut hashes = vec![w["version_hash"].as_str().unwrap().to_string()];
    for (key, actor, party, text, base) in [(10, UA, "ua", G_UA, 1), (11, RU, "ru", G_RU, 2)] {
        let w = window_now(&s, "w1").await;
        let mut t = terms.clone();
        t["guarantees"] = w["guarantees"].clone();
        t["guarantees"][party] = json!(text);
        s.run_now(
            &kp(key),
            actor,
            json!({"type": "window.amend", "window": "w1", "base_version": base,
                   "corridor_version": 1, "terms": t}),
        )
        .await;
        let w = window_now(&s, "w1").await;
        assert_eq!(w["version"], base + 1);
        hashes.push(w["version_hash"].as_str().unwrap().to_string());
    }
    hashes.dedup();
    assert_eq!(
        hashes.len(),
        3,
        "every version has its own hash: {hashes:?}"
    );
    let hash = hashes[2].clone();

    // One consent is not an agreement.
    s.run_now(&kp(10), UA, consent("w1", "ua", &hash)).await;
    let w = window_now(&s, "w1").await;
    assert_eq!(w["status"], "proposed");
    assert_eq!(w["consents"]["ua"]["consented"], true);
    assert_eq!(w["consents"]["ua"]["actor"], UA);
    assert_eq!(w["consents"]["ru"]["consented"], false);
    s.run_now(&kp(11), RU, consent("w1", "ru", &hash)).await;

    let list = windows(&s, &format!("?corridor={CORRIDOR}")).await;
    assert_eq!(ids(&list), ["w1"]);
    let w = &list[0];
    assert_eq!(w["status"], "agreed", "{w}");
    assert_eq!(w["version_hash"], hash.as_str());
    assert_eq!(w["start"], "2022-03-05T07:00:00Z");
    assert_eq!(w["end"], "2022-03-05T17:00:00Z");
    assert_eq!(
        w["local"]["Europe/Kyiv"]["start"],
        "2022-03-05T09:00:00+02:00"
    );
    assert_eq!(
        w["local"]["Europe/Moscow"]["start"],
        "2022-03-05T10:00:00+03:00"
    );
    assert_eq!(
        w["local"]["Europe/Kyiv"]["end"],
        "2022-03-05T19:00:00+02:00"
    );
    assert_eq!(
        w["stated_start"],
        json!({"local": "2022-03-05T10:00", "zone": "Europe/Moscow"})
    );
    assert_eq!(w["guarantees"], both_guarantees());
    assert_eq!(w["consents"]["ru"]["consented"], true);
    assert!(w["as_of"].as_str().unwrap().starts_with("2022-03-03T14:5"));
    assert_eq!(
        ids(&windows(&s, "?party=ru&settlement=borodianka").await),
        ["w1"]
    );
    assert!(windows(&s, "?settlement=kyiv").await.is_empty());
    assert!(windows(&s, "?corridor=elsewhere").await.is_empty());

    // Inside the window (10:30 Moscow time) it is active; the log's clock is on 3 March, so
    // nothing is active now. The offset's `+` may arrive percent-encoded or, as typed, raw.
    for q in [
        "?at=2022-03-05T10:30:00+03:00",
        "?at=2022-03-05T10:30:00%2B03:00",
        "?at=2022-03-05T07:30:00Z",
        "?at=2022-03-05T10:30&zone=Europe/Moscow",
    ] {
        let r = s.get(&format!("/v1/windows{q}")).await;
        let r = r.expect_json(StatusCode::OK);
        assert_eq!(r["as_of"], "2022-03-05T07:30:00.000000Z", "{q}");
        let list = r["windows"].as_array().unwrap();
        assert_eq!(ids(list), ["w1"], "{q}");
        assert_eq!(list[0]["status"], "active", "{q}");
    }
    assert!(
        windows(&s, "?at=2022-03-05T06:59:59Z").await.is_empty(),
        "not yet"
    );
    assert!(
        windows(&s, "?at=2022-03-05T17:00:00Z").await.is_empty(),
        "over"
    );
    assert!(windows(&s, "?status=active").await.is_empty());
    assert_eq!(ids(&windows(&s, "?status=agreed").await), ["w1"]);

    // The map: one feature per corridor, as GeoJSON.
    let r = s.get("/v1/corridors.geojson").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.mime(), "application/geo+json");
    let g = r.json();
    assert_eq!(g["type"], "FeatureCollection");
    let f = &g["features"].as_array().unwrap()[0];
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["geometry"]["type"], "LineString");
    assert_eq!(f["geometry"]["coordinates"][0], json!([29.922, 50.6451]));
    assert_eq!(f["geometry"]["coordinates"][3], json!([29.83, 50.59]));
    assert_eq!(f["properties"]["status"], "agreed");
    assert_eq!(f["properties"]["buffer_m"], 500);
    let r = s.get("/v1/corridors.geojson?at=2022-03-05T08:00:00Z").await;
    assert_eq!(r.json()["features"][0]["properties"]["status"], "active");

    // The corridor with its version, instructions and windows.
    let c = s
        .get(&format!("/v1/corridors/{CORRIDOR}"))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(c["id"], CORRIDOR);
    assert_eq!(c["version"], 1);
    assert_eq!(c["latest_version"], 1);
    assert_eq!(c["status"], "agreed");
    assert_eq!(
        c["instructions"]["gather"]["en"],
        "Central square, Borodianka"
    );
    assert_eq!(c["origin"]["names"]["en"], "Borodianka");
    assert_eq!(c["destination"]["zone"], "Europe/Kyiv");
    assert_eq!(c["route"]["type"], "LineString");
    assert_eq!(c["windows"][0]["id"], "w1");
    let all = s.get("/v1/corridors").await.expect_json(StatusCode::OK);
    assert_eq!(all["corridors"][0]["id"], CORRIDOR);

    // An amended corridor is a new version; the old one stays readable.
    let mut t2 = corridor_terms();
    t2["instructions"]["gather"] = names("Railway station, Borodianka");
    s.run_now(
        &kp(1),
        ICRC,
        json!({"type": "corridor.amend", "corridor": CORRIDOR, "base_version": 1, "terms": t2}),
    )
    .await;
    let c = s
        .get(&format!("/v1/corridors/{CORRIDOR}"))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(c["version"], 2);
    assert_eq!(
        c["instructions"]["gather"]["en"],
        "Railway station, Borodianka"
    );
    let old = s
        .get(&format!("/v1/corridors/{CORRIDOR}?version=1"))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(old["id"], CORRIDOR, "{old}");
    assert_eq!(old["version"], 1, "{old}");
    assert_eq!(old["latest_version"], 2, "{old}");
    assert_eq!(
        old["instructions"]["gather"]["en"],
        "Central square, Borodianka"
    );
    assert_eq!(old["versions"].as_array().unwrap().len(), 2);
    bad_get(
        &s,
        &format!("/v1/corridors/{CORRIDOR}?version=3"),
        StatusCode::NOT_FOUND,
        "unknown-version",
    )
    .await;
    // The agreed window keeps the corridor version it was agreed on.
    let w = window_now(&s, "w1").await;
    assert_eq!(w["status"], "agreed");
    assert_eq!(w["corridor_version"], 1);

    // A window across 27 March 2022: Kyiv moves from +02:00 to +03:00 inside it; Moscow does not.
    s.run_now(
        &kp(1),
        ICRC,
        json!({"type": "window.propose", "window": "w-dst", "corridor": CORRIDOR,
               "corridor_version": 2,
               "terms": window_terms("2022-03-26T20:00:00Z", "2022-03-27T08:00:00Z", json!({}))}),
    )
    .await;
    let list = windows(&s, &format!("?corridor={CORRIDOR}&status=proposed")).await;
    assert_eq!(ids(&list), ["w-dst"]);
    let local = &list[0]["local"];
    assert_eq!(local["Europe/Kyiv"]["start"], "2022-03-26T22:00:00+02:00");
    assert_eq!(local["Europe/Kyiv"]["end"], "2022-03-27T11:00:00+03:00");
    assert_eq!(local["Europe/Moscow"]["start"], "2022-03-26T23:00:00+03:00");
    assert_eq!(local["Europe/Moscow"]["end"], "2022-03-27T11:00:00+03:00");
}

// ---------------------------------------------------------------------------------------------
// 2. Statuses follow the clock, without new entries

/// Poll `GET /v1/windows` (at the log's clock) until `window` has status `until`; return every
/// distinct status seen, in order.
async fn watch(s: &Server, window: &str, until: &str, limit: Duration) -> Vec<String> {
    let started = Instant::now();
    let mut seen: Vec<String> = Vec::new();
    loop {
        let st = window_now(s, window).await["status"]
            .as_str()
            .unwrap()
            .to_string();
        if seen.last() != Some(&st) {
            seen.push(st.clone());
        }
        if st == until {
            return seen;
        }
        assert!(
            started.elapsed() < limit,
            "{window} never became {until} (seen {seen:?}; clock {})",
            s.now()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn statuses_follow_a_fast_clock_without_new_entries() {
    // 600 × real time: a simulated minute is 0.1 s. The window opens 10 simulated minutes after
    // the start (1 s; the set-up takes well under a simulated minute) and closes 20 minutes later
    // (2 s more).
    let s = Server::start_with_clock("2022-03-05T06:00:00Z", 600.0).await;
    setup(&s).await;
    let hash = propose_complete(
        &s,
        "w-fast",
        1,
        window_terms("2022-03-05T06:10:00Z", "2022-03-05T06:30:00Z", json!({})),
    )
    .await;
    agree(&s, "w-fast", &hash).await;
    assert!(
        s.now().as_str() < "2022-03-05T06:09",
        "set-up too slow for this clock: {}",
        s.now()
    );
    let w = window_now(&s, "w-fast").await;
    assert_eq!(w["status"], "agreed", "{w}");

    // It opens with no new entry.
    let before = s.snapshot().await;
    let seen = watch(&s, "w-fast", "active", Duration::from_secs(5)).await;
    assert_eq!(seen, ["agreed", "active"]);
    assert_eq!(s.snapshot().await, before, "the window opened by itself");
    let w = window_now(&s, "w-fast").await;
    assert!(w["as_of"].as_str().unwrap() >= "2022-03-05T06:10:00", "{w}");
    assert_eq!(ids(&windows(&s, "?status=active").await), ["w-fast"]);

    // Inside the window consent can no longer be taken back: suspend instead.
    refused_rule(
        &s,
        11,
        RU,
        json!({"type": "window.withdraw", "window": "w-fast", "party": "ru",
               "reason": "changed our mind"}),
        "withdrawal-after-start",
    )
    .await;
    s.run_now(
        &kp(10),
        UA,
        json!({"type": "window.suspend", "window": "w-fast", "party": "ua",
               "reason": "shelling at the gathering point"}),
    )
    .await;
    let w = window_now(&s, "w-fast").await;
    assert_eq!(w["status"], "suspended");
    assert_eq!(w["status_reason"], "shelling at the gathering point");
    let c = s
        .get(&format!("/v1/corridors/{CORRIDOR}"))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(c["status"], "suspended");

    // The intermediary cannot resume for a party; one party alone does not resume it.
    refused_rule(
        &s,
        1,
        ICRC,
        json!({"type": "window.resume", "window": "w-fast", "party": "ua", "version_hash": hash}),
        "intermediary-cannot-act-for-party",
    )
    .await;
    s.run_now(
        &kp(10),
        UA,
        json!({"type": "window.resume", "window": "w-fast", "party": "ua", "version_hash": hash}),
    )
    .await;
    let w = window_now(&s, "w-fast").await;
    assert_eq!(w["status"], "suspended", "resumed by ua only: {w}");
    s.run_now(
        &kp(11),
        RU,
        json!({"type": "window.resume", "window": "w-fast", "party": "ru", "version_hash": hash}),
    )
    .await;
    let w = window_now(&s, "w-fast").await;
    assert_eq!(w["status"], "active", "resumed by every party: {w}");

    // It closes with no new entry.
    let before = s.snapshot().await;
    let seen = watch(&s, "w-fast", "completed", Duration::from_secs(6)).await;
    assert_eq!(seen, ["active", "completed"]);
    assert_eq!(s.snapshot().await, before, "the window closed by itself");
    assert!(windows(&s, "?status=active").await.is_empty());
    assert_eq!(ids(&windows(&s, "?status=completed").await), ["w-fast"]);
    // A closed window takes no more acts.
    refused_rule(
        &s,
        10,
        UA,
        json!({"type": "window.suspend", "window": "w-fast", "party": "ua", "reason": "late"}),
        "not-active",
    )
    .await;
}

#[tokio::test]
async fn status_at_any_instant_before_inside_and_after() {
    let s = Server::start().await;
    setup(&s).await;
    let hash = propose_complete(
        &s,
        "w1",
        1,
        window_terms("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z", json!({})),
    )
    .await;
    let status_at = |at: &'static str| {
        let s = &s;
        async move {
            let r = s
                .get(&format!("/v1/corridors/{CORRIDOR}?at={at}"))
                .await
                .expect_json(StatusCode::OK);
            r["windows"][0]["status"].as_str().unwrap().to_string()
        }
    };
    // Not agreed: proposed until the start, then expired.
    assert_eq!(status_at("2022-03-05T06:59:59Z").await, "proposed");
    assert_eq!(status_at("2022-03-05T07:00:00Z").await, "expired");
    agree(&s, "w1", &hash).await;
    let before = s.snapshot().await;
    for (at, want) in [
        ("2022-03-05T06:59:59Z", "agreed"),
        ("2022-03-05T07:00:00Z", "active"),
        ("2022-03-05T16:59:59Z", "active"),
        ("2022-03-05T17:00:00Z", "completed"),
        ("2022-03-06T00:00:00Z", "completed"),
    ] {
        assert_eq!(status_at(at).await, want, "at {at}");
        let list = windows(&s, &format!("?at={at}&status={want}")).await;
        assert_eq!(ids(&list), ["w1"], "at {at}");
        assert_eq!(list[0]["status"], want);
    }
    // Before the window was proposed there was nothing to list.
    let r = s
        .get(&format!("/v1/corridors/{CORRIDOR}?at=2022-03-03T14:00:00Z"))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(r["windows"], json!([]), "{r}");
    assert_eq!(r["status"], "closed");
    assert!(
        windows(&s, "?at=2022-03-03T14:00:00Z&status=proposed")
            .await
            .is_empty()
    );
    assert_eq!(s.snapshot().await, before, "queries write nothing");
}

#[tokio::test]
async fn a_consent_to_a_superseded_version_is_refused() {
    let s = Server::start().await;
    setup(&s).await;
    let v3 = propose_complete(
        &s,
        "w1",
        1,
        window_terms("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z", json!({})),
    )
    .await;
    s.run_now(&kp(10), UA, consent("w1", "ua", &v3)).await;
    // The intermediary shortens the window: version 4, whose hash needs fresh consents.
    let t = window_terms(
        "2022-03-05T07:00:00Z",
        "2022-03-05T15:00:00Z",
        both_guarantees(),
    );
    s.run_now(
        &kp(1),
        ICRC,
        json!({"type": "window.amend", "window": "w1", "base_version": 3,
               "corridor_version": 1, "terms": t}),
    )
    .await;
    let w = window_now(&s, "w1").await;
    assert_eq!(w["version"], 4);
    let v4 = w["version_hash"].as_str().unwrap().to_string();
    assert_ne!(v3, v4);
    assert_eq!(
        w["consents"]["ua"]["consented"], false,
        "ua consented to version 3 only"
    );
    let p = refused_rule(&s, 11, RU, consent("w1", "ru", &v3), "superseded-version").await;
    assert!(p["detail"].as_str().unwrap().contains(&v4), "{p}");
    refused_rule(
        &s,
        11,
        RU,
        consent("w1", "ru", "bm90IGEgdmVyc2lvbiBoYXNo"),
        "unknown-version",
    )
    .await;
    // A stale amendment is refused too: no silent overwrite of a concurrent one.
    refused_rule(
        &s,
        1,
        ICRC,
        json!({"type": "window.amend", "window": "w1", "base_version": 3,
               "corridor_version": 1, "terms": t}),
        "stale-version",
    )
    .await;
    agree(&s, "w1", &v4).await;
    assert_eq!(window_now(&s, "w1").await["status"], "agreed");
}

// ---------------------------------------------------------------------------------------------
// 3. Bad input: each its own problem code, nothing written

fn propose_corridor(id: &str, terms: Value) -> Value {
    json!({"type": "corridor.propose", "corridor": id, "terms": terms})
}

#[tokio::test]
async fn bad_corridors_are_refused_and_write_nothing() {
    let s = Server::start().await;
    setup(&s).await;
    let with = |field: &str, v: Value| {
        let mut t = corridor_terms();
        t[field] = v;
        propose_corridor("c-bad", t)
    };
    let p = |lon: i64, lat: i64| json!([lon, lat]);

    // A GeoJSON object where the integer pair list belongs: not a route at all.
    let geo = json!({"type": "LineString", "coordinates": [[299220000, 506451000], [298300000, 505900000]]});
    refused(
        &s,
        &s.sign_now(&kp(1), ICRC, with("route", geo)),
        StatusCode::BAD_REQUEST,
        "invalid-field",
    )
    .await;
    let mut t = corridor_terms();
    t.as_object_mut().unwrap().remove("route");
    refused(
        &s,
        &s.sign_now(&kp(1), ICRC, propose_corridor("c-bad", t)),
        StatusCode::BAD_REQUEST,
        "missing-field",
    )
    .await;
    // Three numbers in a point.
    refused(
        &s,
        &s.sign_now(
            &kp(1),
            ICRC,
            with(
                "route",
                json!([[299220000, 506451000, 0], [298300000, 505900000, 0]]),
            ),
        ),
        StatusCode::BAD_REQUEST,
        "invalid-field",
    )
    .await;
    // Floats: signed data carries integers of 1e-7 degree only.
    refused(
        &s,
        &s.sign_now(
            &kp(1),
            ICRC,
            with("route", json!([[29.922, 50.6451], [29.83, 50.59]])),
        ),
        StatusCode::BAD_REQUEST,
        "float-not-allowed",
    )
    .await;
    // Geometry the rules refuse.
    let too_many: Vec<Value> = (0..1001)
        .map(|i| p(299220000 - i * 100, 506451000))
        .collect();
    for (why, route) in [
        ("no point", json!([])),
        ("one point", json!([p(299220000, 506451000)])),
        (
            "two equal points",
            json!([p(299220000, 506451000), p(299220000, 506451000)]),
        ),
        (
            "latitude beyond 90°",
            json!([p(299220000, 906451000), p(298300000, 505900000)]),
        ),
        (
            "longitude beyond 180°",
            json!([p(1_800_000_001, 506451000), p(298300000, 505900000)]),
        ),
        (
            "3300 km, over the 1000 km limit",
            json!([p(0, 0), p(300000000, 0)]),
        ),
        ("1001 points", Value::Array(too_many)),
    ] {
        let before = s.snapshot().await;
        let r = s
            .post(&s.sign_now(&kp(1), ICRC, with("route", route)))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{why}: {}",
            r.text()
        );
        r.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-geometry");
        assert_eq!(s.snapshot().await, before, "{why}");
    }
    for buffer in [0, 49, 20_001, -500] {
        refused_rule(
            &s,
            1,
            ICRC,
            with("buffer_m", json!(buffer)),
            "buffer-out-of-range",
        )
        .await;
    }
    refused_rule(
        &s,
        1,
        ICRC,
        with("origin", json!("atlantis")),
        "unknown-settlement",
    )
    .await;
    refused_rule(
        &s,
        1,
        ICRC,
        with("destination", json!("atlantis")),
        "unknown-settlement",
    )
    .await;
    refused_rule(
        &s,
        1,
        ICRC,
        propose_corridor(CORRIDOR, corridor_terms()),
        "corridor-exists",
    )
    .await;
    refused_rule(
        &s,
        1,
        ICRC,
        json!({"type": "corridor.amend", "corridor": CORRIDOR, "base_version": 2,
               "terms": corridor_terms()}),
        "stale-version",
    )
    .await;
    // Settlements are the intermediary's to import.
    let settlements = json!({"type": "settlement.import", "settlements": [
        {"id": "atlantis", "names": names("Atlantis"),
         "location": {"lat_e7": 0, "lon_e7": 0}, "zone": "Europe/Kyiv"}]});
    refused(
        &s,
        &s.sign_now(&kp(10), UA, settlements.clone()),
        StatusCode::FORBIDDEN,
        "role-not-allowed",
    )
    .await;
    let mut bad_zone = settlements;
    bad_zone["settlements"][0]["zone"] = json!("Europe/Atlantis");
    refused_rule(&s, 1, ICRC, bad_zone, "unknown-zone").await;

    // The edges of the ranges are accepted.
    let mut t = corridor_terms();
    t["buffer_m"] = json!(50);
    t["route"] = json!([p(299220000, 506451000), p(299220001, 506451000)]);
    s.run_now(&kp(1), ICRC, propose_corridor("c-narrow", t))
        .await;
    let c = s
        .get("/v1/corridors/c-narrow")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(c["buffer_m"], 50);
}

fn propose_window(id: &str, terms: Value) -> Value {
    json!({"type": "window.propose", "window": id, "corridor": CORRIDOR,
           "corridor_version": 1, "terms": terms})
}

#[tokio::test]
async fn bad_windows_and_local_times_are_refused_and_write_nothing() {
    let s = Server::start().await;
    setup(&s).await;
    let w = |start: &str, end: &str| propose_window("w-bad", window_terms(start, end, json!({})));
    refused_rule(
        &s,
        1,
        ICRC,
        w("2022-03-05T17:00:00Z", "2022-03-05T07:00:00Z"),
        "end-before-start",
    )
    .await;
    refused_rule(
        &s,
        1,
        ICRC,
        w("2022-03-05T07:00:00Z", "2022-03-05T07:00:00Z"),
        "end-before-start",
    )
    .await;
    // The genesis policy allows 72 hours.
    refused_rule(
        &s,
        1,
        ICRC,
        w("2022-03-05T07:00:00Z", "2022-03-08T07:00:01Z"),
        "window-too-long",
    )
    .await;
    refused_rule(
        &s,
        1,
        ICRC,
        w("2022-03-01T07:00:00Z", "2022-03-01T17:00:00Z"),
        "window-in-past",
    )
    .await;
    refused_rule(
        &s,
        1,
        ICRC,
        w("2022-03-03T14:00:00Z", "2022-03-03T18:00:00Z"),
        "window-in-past",
    )
    .await;
    refused(
        &s,
        &s.sign_now(
            &kp(1),
            ICRC,
            w("2022-03-05T10:00:00+03:00", "2022-03-05T17:00:00Z"),
        ),
        StatusCode::BAD_REQUEST,
        "invalid-field",
    )
    .await;
    let mut t = window_terms("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z", json!({}));
    t["start_local"] = json!({"local": "2022-03-05T10:00", "zone": "Europe/Atlantis"});
    refused_rule(&s, 1, ICRC, propose_window("w-bad", t), "unknown-zone").await;
    let mut t = window_terms("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z", json!({}));
    t["required_parties"] = json!(["ua", "by"]);
    refused_rule(&s, 1, ICRC, propose_window("w-bad", t), "unknown-party").await;
    // A ceasefire binds every party: a window that one party alone would agree is refused at
    // proposal (it would otherwise be published as agreed on that party's word).
    let mut t = window_terms("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z", json!({}));
    t["required_parties"] = json!(["ua"]);
    refused_rule(
        &s,
        1,
        ICRC,
        propose_window("w-bad", t),
        "window-missing-party",
    )
    .await;
    // Only a party states its own guarantee.
    refused_rule(
        &s,
        1,
        ICRC,
        propose_window(
            "w-bad",
            window_terms(
                "2022-03-05T07:00:00Z",
                "2022-03-05T17:00:00Z",
                json!({"ua": G_UA}),
            ),
        ),
        "guarantee-of-another-party",
    )
    .await;
    let mut unknown = w("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z");
    unknown["corridor"] = json!("nowhere");
    refused_rule(&s, 1, ICRC, unknown, "unknown-corridor").await;
    let mut later = w("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z");
    later["corridor_version"] = json!(2);
    refused_rule(&s, 1, ICRC, later, "unknown-version").await;
    // Exactly 72 hours is allowed.
    s.run_now(
        &kp(1),
        ICRC,
        w("2022-03-05T07:00:00Z", "2022-03-08T07:00:00Z"),
    )
    .await;
    assert_eq!(window_now(&s, "w-bad").await["status"], "proposed");

    // Local times: an unknown zone, a time that does not exist, a time that exists twice.
    let r = bad_get(
        &s,
        "/v1/time/resolve?local=2022-03-05T10:00&zone=Europe/Atlantis",
        StatusCode::BAD_REQUEST,
        "unknown-zone",
    )
    .await;
    assert!(r["detail"].as_str().unwrap().contains("Europe/Atlantis"));
    // 27 March 2022: Kyiv's clocks jump from 03:00 to 04:00.
    bad_get(
        &s,
        "/v1/time/resolve?local=2022-03-27T03:30&zone=Europe/Kyiv",
        StatusCode::BAD_REQUEST,
        "local-time-in-gap",
    )
    .await;
    // 30 October 2022: they go back from 04:00 to 03:00; the offset says which 03:30.
    bad_get(
        &s,
        "/v1/time/resolve?local=2022-10-30T03:30&zone=Europe/Kyiv",
        StatusCode::BAD_REQUEST,
        "local-time-ambiguous",
    )
    .await;
    for (offset, utc) in [
        ("%2B03:00", "2022-10-30T00:30:00Z"),
        ("+03:00", "2022-10-30T00:30:00Z"),
        ("%2B02:00", "2022-10-30T01:30:00Z"),
    ] {
        let r = s
            .get(&format!(
                "/v1/time/resolve?local=2022-10-30T03:30&zone=Europe/Kyiv&offset={offset}"
            ))
            .await
            .expect_json(StatusCode::OK);
        assert_eq!(r["utc"], utc, "offset={offset}");
    }
    bad_get(
        &s,
        "/v1/time/resolve?local=2022-10-30T03:30&zone=Europe/Kyiv&offset=%2B05:00",
        StatusCode::BAD_REQUEST,
        "offset-mismatch",
    )
    .await;
    bad_get(
        &s,
        "/v1/time/resolve?local=2022-03-05T10:00",
        StatusCode::BAD_REQUEST,
        "invalid-query",
    )
    .await;
    bad_get(
        &s,
        "/v1/time/resolve?local=ten%20o%27clock&zone=Europe/Moscow",
        StatusCode::BAD_REQUEST,
        "invalid-field",
    )
    .await;
    // The same rules for a local `at` in queries.
    bad_get(
        &s,
        "/v1/windows?at=2022-03-27T03:30&zone=Europe/Kyiv",
        StatusCode::BAD_REQUEST,
        "local-time-in-gap",
    )
    .await;
    bad_get(
        &s,
        "/v1/windows?at=2022-10-30T03:30&zone=Europe/Kyiv",
        StatusCode::BAD_REQUEST,
        "local-time-ambiguous",
    )
    .await;
    bad_get(
        &s,
        "/v1/windows?at=2022-03-05T10:00&zone=Mars/Olympus",
        StatusCode::BAD_REQUEST,
        "unknown-zone",
    )
    .await;
}

/// The stated local start must be a real local time, and the same instant as the signed UTC
/// start: otherwise the public reads two different opening times for one window.
#[tokio::test]
async fn stated_local_times_must_exist_and_match_the_signed_instant() {
    let s = Server::start().await;
    setup(&s).await;
    let with_local = |start: &str, local: &str, zone: &str| {
        let mut t = window_terms(start, "2022-03-27T12:00:00Z", json!({}));
        t["start_local"] = json!({"local": local, "zone": zone});
        propose_window("w-local", t)
    };
    refused_rule(
        &s,
        1,
        ICRC,
        with_local("2022-03-27T01:00:00Z", "2022-03-27T03:30", "Europe/Kyiv"),
        "local-time-in-gap",
    )
    .await;
    refused_rule(
        &s,
        1,
        ICRC,
        with_local("2022-03-27T07:00:00Z", "2022-03-27T08:00", "Europe/Moscow"),
        "local-time-mismatch",
    )
    .await;
}

#[tokio::test]
async fn consents_are_refused_unless_the_partys_own_on_a_complete_current_version() {
    let s = Server::start().await;
    setup(&s).await;
    // Coordinators and party admins act here; the intermediary proposes.
    s.run_now(
        &kp(1),
        ICRC,
        propose_window(
            "w1",
            window_terms("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z", json!({})),
        ),
    )
    .await;
    let v1 = window_now(&s, "w1").await["version_hash"]
        .as_str()
        .unwrap()
        .to_string();
    // No guarantees yet: the completeness gate refuses any consent, and says what is missing.
    let p = refused_rule(&s, 10, UA, consent("w1", "ua", &v1), "incomplete-proposal").await;
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("guarantee of ua") && detail.contains("guarantee of ru"),
        "{p}"
    );

    // A corridor without who may leave, reception or instructions: incomplete too.
    let mut t = corridor_terms();
    for k in [
        "who_may_leave",
        "aid_may_enter",
        "reception",
        "instructions",
    ] {
        t.as_object_mut().unwrap().remove(k);
    }
    s.run_now(&kp(10), UA, propose_corridor("c-sketch", t))
        .await;
    let mut wt = window_terms(
        "2022-03-06T07:00:00Z",
        "2022-03-06T09:00:00Z",
        json!({"ua": G_UA}),
    );
    s.run_now(
        &kp(10),
        UA,
        json!({"type": "window.propose", "window": "w-sketch", "corridor": "c-sketch",
               "corridor_version": 1, "terms": wt.clone()}),
    )
    .await;
    wt["guarantees"] = both_guarantees();
    s.run_now(
        &kp(11),
        RU,
        json!({"type": "window.amend", "window": "w-sketch", "base_version": 1,
               "corridor_version": 1, "terms": wt}),
    )
    .await;
    let h = window_now(&s, "w-sketch").await["version_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let p = refused_rule(
        &s,
        11,
        RU,
        consent("w-sketch", "ru", &h),
        "incomplete-proposal",
    )
    .await;
    let detail = p["detail"].as_str().unwrap();
    for m in [
        "who_may_leave",
        "aid_may_enter",
        "reception",
        "instructions",
    ] {
        assert!(detail.contains(m), "{detail} names {m}");
    }
    assert!(!detail.contains("guarantee"), "{detail}");

    // Complete it, then the identity rules.
    let mut t = window_terms(
        "2022-03-05T07:00:00Z",
        "2022-03-05T17:00:00Z",
        json!({"ua": G_UA}),
    );
    s.run_now(
        &kp(10),
        UA,
        json!({"type": "window.amend", "window": "w1", "base_version": 1,
               "corridor_version": 1, "terms": t.clone()}),
    )
    .await;
    t["guarantees"] = both_guarantees();
    s.run_now(
        &kp(11),
        RU,
        json!({"type": "window.amend", "window": "w1", "base_version": 2,
               "corridor_version": 1, "terms": t}),
    )
    .await;
    let v3 = window_now(&s, "w1").await["version_hash"]
        .as_str()
        .unwrap()
        .to_string();
    // A person of one party cannot consent for the other.
    refused_rule(&s, 10, UA, consent("w1", "ru", &v3), "not-your-party").await;
    refused_rule(
        &s,
        4,
        "ru/admin",
        consent("w1", "ua", &v3),
        "not-your-party",
    )
    .await;
    // The intermediary never consents on a party's behalf.
    refused_rule(
        &s,
        1,
        ICRC,
        consent("w1", "ua", &v3),
        "intermediary-cannot-act-for-party",
    )
    .await;
    // An older version of the same window.
    refused_rule(&s, 10, UA, consent("w1", "ua", &v1), "superseded-version").await;
    refused_rule(&s, 10, UA, consent("w-none", "ua", &v3), "unknown-window").await;
    // A key that is not the actor's.
    refused(
        &s,
        &s.sign_now(&kp(11), UA, consent("w1", "ua", &v3)),
        StatusCode::FORBIDDEN,
        "key-actor-mismatch",
    )
    .await;
    // The party's admin may consent for its own party; then once is enough.
    s.run_now(&kp(3), "ua/admin", consent("w1", "ua", &v3))
        .await;
    refused_rule(&s, 10, UA, consent("w1", "ua", &v3), "already-consented").await;
    let w = window_now(&s, "w1").await;
    assert_eq!(w["status"], "proposed");
    assert_eq!(w["consents"]["ua"]["actor"], "ua/admin");
    // Only after consent may it be withdrawn; the proposer cannot cancel once a party consented.
    refused_rule(
        &s,
        11,
        RU,
        json!({"type": "window.withdraw", "window": "w1", "party": "ru", "reason": "no"}),
        "no-consent",
    )
    .await;
    refused_rule(
        &s,
        1,
        ICRC,
        json!({"type": "window.cancel", "window": "w1", "reason": "no"}),
        "has-consents",
    )
    .await;
    s.run_now(&kp(11), RU, consent("w1", "ru", &v3)).await;
    assert_eq!(window_now(&s, "w1").await["status"], "agreed");
}

#[tokio::test]
async fn agreed_windows_on_one_corridor_never_overlap() {
    let s = Server::start().await;
    setup(&s).await;
    let terms = |a: &str, b: &str| window_terms(a, b, json!({}));
    let h1 = propose_complete(
        &s,
        "w1",
        1,
        terms("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z"),
    )
    .await;
    agree(&s, "w1", &h1).await;
    let h2 = propose_complete(
        &s,
        "w2",
        1,
        terms("2022-03-05T16:00:00Z", "2022-03-05T20:00:00Z"),
    )
    .await;
    // The first consent completes nothing, so it is taken; the last would agree an overlap.
    s.run_now(&kp(10), UA, consent("w2", "ua", &h2)).await;
    let p = refused_rule(&s, 11, RU, consent("w2", "ru", &h2), "overlapping-window").await;
    assert!(p["detail"].as_str().unwrap().contains("w1"), "{p}");
    assert_eq!(window_now(&s, "w2").await["status"], "proposed");
    // A window that starts when the other ends does not overlap it.
    let h3 = propose_complete(
        &s,
        "w3",
        1,
        terms("2022-03-05T17:00:00Z", "2022-03-05T20:00:00Z"),
    )
    .await;
    agree(&s, "w3", &h3).await;
    let agreed = windows(&s, "?status=agreed").await;
    assert_eq!(ids(&agreed), ["w1", "w3"]);
    // Withdrawal before the start is final, and frees nothing retroactively.
    s.run_now(
        &kp(10),
        UA,
        json!({"type": "window.withdraw", "window": "w2", "party": "ua", "reason": "overlaps w1"}),
    )
    .await;
    let w = window_now(&s, "w2").await;
    assert_eq!(w["status"], "withdrawn");
    assert_eq!(w["status_reason"], "overlaps w1");
    refused_rule(&s, 10, UA, consent("w2", "ua", &h2), "window-closed").await;
}

// ---------------------------------------------------------------------------------------------
// 4. Unilateral declarations

#[tokio::test]
async fn a_declaration_is_one_partys_statement_never_a_window() {
    let s = Server::start().await;
    setup(&s).await;
    let text = json!({
        "en": "We will observe a ceasefire on this route from 10:00 Moscow time",
        "uk": "Ми дотримуватимемося режиму тиші на цьому маршруті з 10:00 за московським часом",
        "ru": "Мы будем соблюдать режим тишины на этом маршруте с 10:00 по московскому времени",
    });
    s.run_now(
        &kp(11),
        RU,
        json!({"type": "declaration.publish", "declaration": "d1", "corridor": CORRIDOR,
               "start": "2022-03-05T07:00:00Z", "text": text}),
    )
    .await;
    let r = s.get("/v1/declarations").await.expect_json(StatusCode::OK);
    assert!(r["note"].as_str().unwrap().contains("one party"), "{r}");
    let list = r["declarations"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let d = &list[0];
    assert_eq!(d["id"], "d1");
    assert_eq!(d["party"], "ru");
    assert_eq!(d["actor"], RU);
    assert_eq!(d["corridor"], CORRIDOR);
    assert_eq!(d["start"], "2022-03-05T07:00:00Z");
    assert_eq!(d["text"], text);
    let r = s
        .get(&format!("/v1/declarations?party=ru&corridor={CORRIDOR}"))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(r["declarations"].as_array().unwrap().len(), 1);
    for q in ["?party=ua", "?corridor=elsewhere"] {
        let r = s
            .get(&format!("/v1/declarations{q}"))
            .await
            .expect_json(StatusCode::OK);
        assert!(r["declarations"].as_array().unwrap().is_empty(), "{q}");
    }

    // Never a window, whatever is asked; the corridor stays closed.
    for q in [
        "",
        "?status=agreed",
        "?status=proposed",
        "?at=2022-03-05T08:00:00Z",
        "?party=ru",
    ] {
        assert!(windows(&s, q).await.is_empty(), "/v1/windows{q}");
    }
    let c = s
        .get(&format!("/v1/corridors/{CORRIDOR}?at=2022-03-05T08:00:00Z"))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(c["status"], "closed");
    assert_eq!(c["windows"], json!([]));
    let g = s.get("/v1/corridors.geojson?at=2022-03-05T08:00:00Z").await;
    assert_eq!(g.json()["features"][0]["properties"]["status"], "closed");

    // Only a party's own people declare; the rules still hold.
    let body = |id: &str, end: Option<&str>| {
        let mut b = json!({"type": "declaration.publish", "declaration": id,
                           "start": "2022-03-05T07:00:00Z", "text": names("A statement")});
        if let Some(e) = end {
            b["end"] = json!(e);
        }
        b
    };
    refused(
        &s,
        &s.sign_now(&kp(1), ICRC, body("d2", None)),
        StatusCode::FORBIDDEN,
        "role-not-allowed",
    )
    .await;
    refused_rule(&s, 10, UA, body("d1", None), "declaration-exists").await;
    refused_rule(
        &s,
        10,
        UA,
        body("d2", Some("2022-03-05T06:00:00Z")),
        "end-before-start",
    )
    .await;
    let mut elsewhere = body("d2", None);
    elsewhere["corridor"] = json!("nowhere");
    refused_rule(&s, 10, UA, elsewhere, "unknown-corridor").await;
}

// ---------------------------------------------------------------------------------------------
// 5. Query errors

#[tokio::test]
async fn bad_queries_are_problem_documents() {
    let s = Server::start().await;
    setup(&s).await;
    for path in ["/v1/windows?status=bogus", "/v1/corridors?status=bogus"] {
        let p = bad_get(&s, path, StatusCode::BAD_REQUEST, "invalid-query").await;
        assert!(p["detail"].as_str().unwrap().contains("agreed"), "{p}");
    }
    for path in [
        "/v1/windows?at=garbage",
        "/v1/corridors?at=garbage",
        "/v1/corridors.geojson?at=garbage",
        &format!("/v1/corridors/{CORRIDOR}?at=garbage"),
        // A local time needs its zone.
        "/v1/windows?at=2022-03-05T10:30",
    ] {
        bad_get(&s, path, StatusCode::BAD_REQUEST, "invalid-instant").await;
    }
    let p = bad_get(
        &s,
        "/v1/corridors/nope",
        StatusCode::NOT_FOUND,
        "unknown-corridor",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("nope"));
    bad_get(
        &s,
        &format!("/v1/corridors/{CORRIDOR}?version=two"),
        StatusCode::BAD_REQUEST,
        "invalid-query",
    )
    .await;
    bad_get(
        &s,
        "/v1/time/resolve?local=2022-03-05T10:00&zone=Europe/Kyiv&offset=soon",
        StatusCode::BAD_REQUEST,
        "invalid-field",
    )
    .await;
    // Filters that match nothing are an empty list, not an error.
    let r = s
        .get("/v1/corridors?settlement=kyiv")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(r["corridors"], json!([]));
    let r = s
        .get("/v1/corridors?corridor=nope")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(r["corridors"], json!([]), "the corridor filter applies");
    let r = s
        .get(&format!("/v1/corridors?corridor={CORRIDOR}"))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(r["corridors"][0]["id"], CORRIDOR);
}
