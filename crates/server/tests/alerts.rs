//! Alerts over HTTP (#16 item 5): a member asks for a stream token with a signed request, opens
//! the stream with it, and receives the alerts it may read as they become true — an
//! acknowledgement falling overdue with no entry at all, a message in a thread it takes part
//! in — and nothing it may not read; every confidential alert sent is in the read audit; a
//! forged or unsigned request gets no stream.
//!
//! The clock runs at 600× (ten exercise minutes a second), so the hour's acknowledgement delay
//! passes in six seconds.

mod common;

use std::time::Duration;

use common::scenario::*;
use common::*;
use corridor_core::crypto::Keypair;
use reqwest::StatusCode;
use serde_json::{Value, json};

const OP: &str = ALERT_OP;

/// Open an alert stream as `key`'s actor.
async fn open_stream(s: &Server, key: &Keypair) -> reqwest::Response {
    let t = s
        .signed(key, "POST", "/v1/alerts/token")
        .await
        .expect_json(StatusCode::CREATED);
    let stream = t["stream"].as_str().unwrap();
    let resp = s
        .http
        .get(format!("{}{stream}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    resp
}

/// Read alert events until one with `id` arrives; returns the ids of every alert read.
async fn read_until(resp: &mut reqwest::Response, buf: &mut String, id: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            let data: String = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if data.is_empty() {
                continue;
            }
            assert!(event.contains("event: alert"), "{event}");
            let v: Value = serde_json::from_str(&data).unwrap();
            let got = v["id"].as_str().unwrap().to_string();
            assert!(
                event.contains(&format!("id: {got}")),
                "the event id is the alert id: {event}"
            );
            seen.push(got.clone());
            if got == id {
                return seen;
            }
        }
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no alert {id} in time; saw {seen:?}"))
            .unwrap()
            .expect("the alert stream ended");
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

#[tokio::test]
async fn members_receive_the_alerts_they_may_read_as_they_become_true() {
    let s = Server::start_with_clock("2022-03-05T04:00:00Z", 600.0).await;
    alert_window(&s).await;

    // Tokens need a signed request; a forged token opens nothing.
    s.signed(&kp(99), "POST", "/v1/alerts/token")
        .await
        .expect_problem(StatusCode::UNAUTHORIZED, "auth-unknown-key");
    let unsigned = s
        .http
        .post(format!("{}/v1/alerts/token", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let t = s
        .signed(&kp(11), "POST", "/v1/alerts/token")
        .await
        .expect_json(StatusCode::CREATED);
    let token = t["token"].as_str().unwrap();
    let (payload, tag) = token.split_once('.').unwrap();
    let forged_payload = hex(&serde_json::to_vec(
        &json!({"a": "ua/c", "k": kp(10).public().id(), "e": u64::MAX / 2}),
    )
    .unwrap());
    for bad in [
        format!("{forged_payload}.{tag}"),
        format!("{payload}.{}", "00".repeat(32)),
        "nonsense".to_string(),
    ] {
        s.get_public(&format!("/v1/alerts/stream?token={bad}"))
            .await
            .expect_problem(StatusCode::UNAUTHORIZED, "stream-token-invalid");
    }
    s.get_public("/v1/alerts/stream")
        .await
        .expect_problem(StatusCode::UNAUTHORIZED, "stream-token-invalid");
    s.get_public("/v1/alerts")
        .await
        .expect_problem(StatusCode::UNAUTHORIZED, "auth-required");

    let mut ru = open_stream(&s, &kp(11)).await;
    let mut ua = open_stream(&s, &kp(10)).await;
    let (mut ru_buf, mut ua_buf) = (String::new(), String::new());

    // Ukraine's thread with the intermediary: a message Russia must never hear of.
    ukraines_thread(&s).await;
    let seen = read_until(&mut ua, &mut ua_buf, "message/ua/t-1#m1").await;
    assert_eq!(seen, ["message/ua/t-1#m1"]);
    assert!(!ua_buf.contains(ALERT_MESSAGE));

    // An operation Ukraine acknowledges and Russia does not: overdue an exercise hour later,
    // without any entry.
    operation_russia_does_not_acknowledge(&s).await;
    let overdue = format!("ack-overdue/{OP}/ru");
    let seen = read_until(&mut ru, &mut ru_buf, &overdue).await;
    assert_eq!(
        seen,
        std::slice::from_ref(&overdue),
        "Russia hears nothing of Ukraine's thread"
    );
    assert!(!ru_buf.contains("ua/t-1") && !ru_buf.contains(ALERT_PLATE));
    read_until(&mut ua, &mut ua_buf, &overdue).await;

    // The list holds it too, for readers of the operation only.
    let now = s
        .get_as(&kp(11), "/v1/alerts")
        .await
        .expect_json(StatusCode::OK);
    let ids: Vec<&str> = now["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [overdue.as_str()]);
    assert_eq!(now["alerts"][0]["party"], "ru");
    assert!(now["alerts"][0]["since"]["utc"].is_string());

    // Every confidential alert sent is in the read audit, naming the reader.
    let audit = s
        .get_as(&kp(1), "/v1/audit/reads")
        .await
        .expect_json(StatusCode::OK);
    let text = audit.to_string();
    for (reader, item) in [
        ("ru/c", format!("alert {overdue}")),
        ("ua/c", "alert message/ua/t-1#m1".to_string()),
    ] {
        assert!(
            audit["reads"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["actor"] == reader
                    && r["path"] == "/v1/alerts/stream"
                    && r["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|i| i == &json!(item))),
            "no audit record of {reader} receiving {item}: {text}"
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
