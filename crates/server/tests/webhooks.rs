//! Webhooks over HTTP (#16 item 5): a member adds a webhook with a signed request; alerts it may
//! read are posted to it, signed with the webhook key (Standard Webhooks, v1a) and never with
//! the log key; a failed attempt is retried and every attempt is in the delivery log; an alert
//! the member may not read never goes out; addresses inside the server's network are refused
//! unless the server allows them; only the webhook's own actor lists, reads or removes it.
//!
//! The receiver is an axum server on loopback (allowed here with `allow_private`). The clock
//! runs at 600×, so the hour's acknowledgement delay passes in six seconds.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use common::scenario::*;
use common::*;
use corridor_core::crypto::{PublicKey, unb64};
use corridor_server::webhooks::WebhookOptions;
use reqwest::StatusCode;
use serde_json::Value;

const OP: &str = ALERT_OP;

/// What the receiver got: path, headers, body.
type Inbox = Arc<Mutex<Vec<(String, HeaderMap, String)>>>;

/// A receiver that fails the first post to `/hook/ru` with a 500 and takes everything else.
async fn receiver() -> (String, Inbox) {
    let inbox: Inbox = Arc::default();
    async fn take(
        State(inbox): State<Inbox>,
        uri: axum::http::Uri,
        headers: HeaderMap,
        body: String,
    ) -> AxumStatus {
        let mut i = inbox.lock().unwrap();
        let first_ru = uri.path() == "/hook/ru" && !i.iter().any(|(p, _, _)| p == "/hook/ru");
        i.push((uri.path().to_string(), headers, body));
        if first_ru {
            AxumStatus::INTERNAL_SERVER_ERROR
        } else {
            AxumStatus::NO_CONTENT
        }
    }
    let app = axum::Router::new()
        .route("/hook/{who}", axum::routing::post(take))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), inbox)
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Check a delivery's Standard Webhooks signature with the published key.
fn verify(key: &PublicKey, headers: &HeaderMap, body: &str) {
    let id = headers["webhook-id"].to_str().unwrap();
    let ts = headers["webhook-timestamp"].to_str().unwrap();
    let sig = headers["webhook-signature"].to_str().unwrap();
    let sig = unb64("sig", sig.strip_prefix("v1a,").expect("v1a scheme")).unwrap();
    key.verify(format!("{id}.{ts}.{body}").as_bytes(), &sig)
        .expect("signed with the published webhook key");
}

#[tokio::test]
async fn alerts_reach_webhooks_signed_retried_logged_and_only_for_their_readers() {
    let s = Server::start_with_clock("2022-03-05T04:00:00Z", 600.0).await;
    // Before the service starts: a clear refusal, not a silent drop.
    s.get_public("/v1/webhooks/key")
        .await
        .expect_problem(StatusCode::SERVICE_UNAVAILABLE, "webhooks-off");
    let webhook_key = kp(77);
    let mut opts = WebhookOptions::new(webhook_key.clone());
    opts.allow_private = true;
    opts.first_retry = Duration::from_millis(50);
    opts.attempts = 3;
    s.log.start_webhooks(opts);
    let published = s
        .get_public("/v1/webhooks/key")
        .await
        .expect_json(StatusCode::OK);
    let key_text = published["key"].as_str().unwrap();
    let key = PublicKey::from_bytes(
        unb64("key", key_text.strip_prefix("whpk_").unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(key, webhook_key.public());
    assert_ne!(key, s.log_key(), "never the log key");

    alert_window(&s).await;

    let (base, inbox) = receiver().await;
    // Bad addresses and unsigned requests are refused.
    s.signed(
        &kp(11),
        "POST",
        &format!("/v1/webhooks?url={}", enc("ftp://127.0.0.1/x")),
    )
    .await
    .expect_problem(StatusCode::BAD_REQUEST, "webhook-url-refused");
    s.signed(&kp(11), "POST", "/v1/webhooks")
        .await
        .expect_problem(StatusCode::BAD_REQUEST, "invalid-query");
    let unsigned = s
        .http
        .post(format!("{}/v1/webhooks?url={}", s.base, enc(&base)))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let ru_hook = s
        .signed(
            &kp(11),
            "POST",
            &format!("/v1/webhooks?url={}", enc(&format!("{base}/hook/ru"))),
        )
        .await
        .expect_json(StatusCode::CREATED);
    let ua_hook = s
        .signed(
            &kp(10),
            "POST",
            &format!("/v1/webhooks?url={}", enc(&format!("{base}/hook/ua"))),
        )
        .await
        .expect_json(StatusCode::CREATED);
    let (ru_id, ua_id) = (
        ru_hook["id"].as_str().unwrap(),
        ua_hook["id"].as_str().unwrap(),
    );
    assert_eq!(ru_hook["key"], key_text);
    // Each actor sees and manages its own webhooks only.
    let listed = s
        .signed(&kp(11), "GET", "/v1/webhooks")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    assert_eq!(listed["webhooks"][0]["id"], ru_id);
    s.signed(&kp(10), "GET", &format!("/v1/webhooks/{ru_id}/deliveries"))
        .await
        .expect_problem(StatusCode::NOT_FOUND, "not-found");
    s.signed(&kp(10), "DELETE", &format!("/v1/webhooks/{ru_id}"))
        .await
        .expect_problem(StatusCode::NOT_FOUND, "not-found");

    // Ukraine's thread with the intermediary, and an operation Russia does not acknowledge.
    ukraines_thread(&s).await;
    operation_russia_does_not_acknowledge(&s).await;

    // Wait for the overdue acknowledgement to reach Russia's webhook (after one failure).
    let overdue = format!("ack-overdue/{OP}/ru");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let done = inbox
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _, b)| p == "/hook/ru" && b.contains(&overdue))
            .count()
            >= 2
            && inbox
                .lock()
                .unwrap()
                .iter()
                .any(|(p, _, b)| p == "/hook/ua" && b.contains(&overdue));
        if done {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no deliveries in time: {:?}",
            inbox.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = inbox.lock().unwrap().clone();
    for (path, headers, body) in &got {
        verify(&key, headers, body);
        let v: Value = serde_json::from_str(body).unwrap();
        assert!(v["type"].as_str().unwrap().starts_with("alert."), "{v}");
        assert!(
            !body.contains(ALERT_MESSAGE) && !body.contains(ALERT_PLATE),
            "{body}"
        );
        if path == "/hook/ru" {
            assert!(
                !body.contains("ua/t-1"),
                "Russia is not in Ukraine's thread: {body}"
            );
        }
    }
    assert!(
        got.iter()
            .any(|(p, _, b)| p == "/hook/ua" && b.contains("message/ua/t-1#m1")),
        "Ukraine hears of its thread's message"
    );
    // The retry carried the same webhook-id.
    let ru: Vec<_> = got
        .iter()
        .filter(|(p, _, b)| p == "/hook/ru" && b.contains(&overdue))
        .collect();
    assert_eq!(ru[0].1["webhook-id"], ru[1].1["webhook-id"]);

    // The delivery log: the failed attempt, then the delivery.
    let log = s
        .signed(&kp(11), "GET", &format!("/v1/webhooks/{ru_id}/deliveries"))
        .await
        .expect_json(StatusCode::OK);
    let attempts: Vec<(u64, &str, u64)> = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["alert"] == overdue.as_str())
        .map(|d| {
            (
                d["attempt"].as_u64().unwrap(),
                d["outcome"].as_str().unwrap(),
                d["http_status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(attempts, [(1, "retrying", 500), (2, "delivered", 204)]);
    // The read audit names the webhook.
    let audit = s
        .get_as(&kp(1), "/v1/audit/reads")
        .await
        .expect_json(StatusCode::OK);
    assert!(
        audit["reads"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["actor"] == "ru/c"
                && r["path"] == format!("webhook {ru_id}").as_str()
                && r["items"][0] == format!("alert {overdue}").as_str()),
        "{audit}"
    );
    // Removed: gone from the list, its delivery log kept.
    let removed = s
        .signed(&kp(10), "DELETE", &format!("/v1/webhooks/{ua_id}"))
        .await;
    assert_eq!(
        removed.status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&removed.body)
    );
    let listed = s
        .signed(&kp(10), "GET", "/v1/webhooks")
        .await
        .expect_json(StatusCode::OK);
    assert!(listed["webhooks"].as_array().unwrap().is_empty());
    s.signed(&kp(10), "GET", &format!("/v1/webhooks/{ua_id}/deliveries"))
        .await
        .expect_json(StatusCode::OK);
    // At most five in force per actor.
    for n in 2..=5 {
        s.signed(
            &kp(11),
            "POST",
            &format!("/v1/webhooks?url={}", enc(&format!("{base}/hook/x{n}"))),
        )
        .await
        .expect_json(StatusCode::CREATED);
    }
    s.signed(
        &kp(11),
        "POST",
        &format!("/v1/webhooks?url={}", enc(&format!("{base}/hook/x6"))),
    )
    .await
    .expect_problem(StatusCode::CONFLICT, "webhooks-full");
}

#[tokio::test]
async fn alerts_that_arose_while_no_one_was_posting_are_posted_when_the_service_starts() {
    let s = Server::start_with_clock("2022-03-05T04:00:00Z", 600.0).await;
    alert_window(&s).await;
    let (base, inbox) = receiver().await;
    // Webhooks stored before the service (re)starts: Ukraine's, whose thread's message has
    // since been posted once already, and another added after the message.
    let at = |t: &str| corridor_core::time::format_log_time(t.parse().unwrap());
    let hook = |id: &str, path: &str, created: &str| corridor_storage::Webhook {
        id: id.into(),
        actor: UA.into(),
        url: format!("{base}/hook/{path}"),
        created_at: at(created),
        removed_at: None,
    };
    s.log
        .db()
        .add_webhook(&hook("wh-early", "ua", "2022-03-05T04:00:00Z"))
        .await
        .unwrap();
    s.log
        .db()
        .add_webhook(&hook("wh-late", "late", "2022-03-06T00:00:00Z"))
        .await
        .unwrap();
    s.log
        .db()
        .add_webhook(&hook("wh-done", "done", "2022-03-05T04:00:00Z"))
        .await
        .unwrap();
    ukraines_thread(&s).await;
    let message = "message/ua/t-1#m1";
    s.log
        .db()
        .record_delivery(&corridor_storage::Delivery {
            seq: 0,
            webhook: "wh-done".into(),
            alert: message.into(),
            attempt: 1,
            at: at("2022-03-05T04:30:00Z"),
            outcome: "delivered".into(),
            http_status: Some(204),
            error: None,
        })
        .await
        .unwrap();
    let mut opts = WebhookOptions::new(kp(77));
    opts.allow_private = true;
    s.log.start_webhooks(opts);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !inbox
        .lock()
        .unwrap()
        .iter()
        .any(|(p, _, b)| p == "/hook/ua" && b.contains(message))
    {
        assert!(tokio::time::Instant::now() < deadline, "not caught up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give any wrong post time to arrive, then check none did.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = inbox.lock().unwrap().clone();
    assert!(
        got.iter().all(|(p, _, _)| p == "/hook/ua"),
        "nothing from before a webhook was added, nothing already delivered: {got:?}"
    );
    assert_eq!(got.len(), 1, "posted once: {got:?}");
}
