//! Abuse limits from the genesis policy: per actor on commands and on signed reads, per client
//! address on the write and expensive read paths; a refusal is `429 rate-limited` with
//! `Retry-After` and writes nothing, and one client's excess does not touch another's allowance.

mod common;

use common::*;
use corridor_core::genesis::RateLimits;
use reqwest::StatusCode;

fn limits(commands: u32, reads: u32, requests: u32) -> RateLimits {
    RateLimits {
        commands_per_actor_per_minute: commands,
        reads_per_actor_per_minute: reads,
        requests_per_address_per_minute: requests,
    }
}

fn retry_after(r: &Reply) -> u64 {
    let p = r.expect_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    let header: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&header), "Retry-After {header}");
    assert_eq!(p["retry_after_s"], header);
    header
}

#[tokio::test]
async fn commands_per_actor() {
    let s = Server::start_with_limits(limits(3, 0, 0), "198.51.100.1:1000".parse().unwrap()).await;
    for i in 0..3 {
        s.run(&kp(3), "ua/admin", report_body(&format!("ua/inc-{i}")))
            .await;
    }
    let before = s.snapshot().await;
    let r = s
        .post(&sign(
            &kp(3),
            "ua/admin",
            "over",
            report_body("ua/inc-over"),
        ))
        .await;
    retry_after(&r);
    assert_eq!(
        s.snapshot().await,
        before,
        "a refused command writes nothing"
    );
    // Another actor's allowance is its own.
    s.run(&kp(4), "ru/admin", report_body("ru/inc-ru")).await;
}

#[tokio::test]
async fn reads_per_actor() {
    let s = Server::start_with_limits(limits(0, 2, 0), "198.51.100.2:1000".parse().unwrap()).await;
    for _ in 0..2 {
        s.get_as(&kp(3), "/v1/windows")
            .await
            .expect_json(StatusCode::OK);
    }
    retry_after(&s.get_as(&kp(3), "/v1/log/entries?start=0&end=1").await);
    s.get_as(&kp(4), "/v1/windows")
        .await
        .expect_json(StatusCode::OK);
    // The public paths hold a crowd: not limited.
    for _ in 0..10 {
        let r = s.get_public("/v1/log/checkpoint").await;
        assert_eq!(r.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn requests_per_address() {
    let s = Server::start_with_limits(limits(0, 0, 4), "198.51.100.3:1000".parse().unwrap()).await;
    s.run(&kp(3), "ua/admin", report_body("ua/inc-1")).await;
    s.get_as(&kp(3), "/v1/windows")
        .await
        .expect_json(StatusCode::OK);
    s.get_public("/v1/log/leaves?start=0&end=1")
        .await
        .expect_json(StatusCode::OK);
    s.get_as(&kp(4), "/v1/log/entries?start=0&end=1")
        .await
        .expect_json(StatusCode::OK);
    // Four from this address this minute: the fifth is refused whoever signs it.
    let before = s.snapshot().await;
    retry_after(
        &s.post(&sign(&kp(4), "ru/admin", "x", report_body("ru/inc-2")))
            .await,
    );
    retry_after(&s.get_public("/v1/log/leaves?start=0&end=1").await);
    assert_eq!(s.snapshot().await, before);
    for _ in 0..10 {
        assert_eq!(
            s.get_public("/v1/log/proof/consistency?from=1&to=2")
                .await
                .status,
            StatusCode::OK
        );
    }
}

/// A member who floods signed reads spends its own allowance and its own nonces only: refused
/// requests spend no nonce, and another member's signed read and command still go through.
#[tokio::test]
async fn a_flooding_member_exhausts_only_its_own_budget() {
    let s = Server::start_with_limits(limits(0, 50, 0), "198.51.100.5:1000".parse().unwrap()).await;
    let flooder = kp(3);
    let mut refused = 0;
    for _ in 0..200 {
        let r = s.get_as(&flooder, "/v1/windows").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            retry_after(&r);
            refused += 1;
        } else {
            r.expect_json(StatusCode::OK);
        }
    }
    assert!(refused >= 140, "only {refused} of 200 refused");
    let held = s.log.nonces().held_for(&flooder.public().id());
    assert!(
        held <= 200 - refused,
        "{held} nonces held for {} requests served: a refused request spent a nonce",
        200 - refused
    );
    // Another member reads and acts as if nothing happened.
    s.get_as(&kp(4), "/v1/windows")
        .await
        .expect_json(StatusCode::OK);
    s.run(&kp(4), "ru/admin", report_body("ru/inc-ru")).await;
}

/// The address limit comes before any signature work: badly signed reads from one address are
/// refused with 429 once the address is over its allowance, not each verified at leisure.
#[tokio::test]
async fn badly_signed_reads_count_against_the_address_before_any_check() {
    let s = Server::start_with_limits(limits(0, 0, 5), "198.51.100.6:1000".parse().unwrap()).await;
    let now = s.log.clock().now().as_second();
    let mut codes = Vec::new();
    for i in 0..10 {
        let (input, sig) =
            s.sign_read(&kp(3), "/v1/settlements", now, &format!("nonce-bad-{i:08}"));
        // Signed over another path: a bad signature.
        let r = s
            .get_with_headers(
                "/v1/windows",
                &[("signature-input", &input), ("signature", &sig)],
            )
            .await;
        codes.push(r.json()["code"].as_str().unwrap().to_string());
    }
    assert_eq!(codes[..5], ["auth-bad-signature"; 5], "{codes:?}");
    assert_eq!(codes[5..], ["rate-limited"; 5], "{codes:?}");
}
