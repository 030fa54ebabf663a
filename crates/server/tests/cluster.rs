//! Several instances on one PostgreSQL database: one sequencer under the lease, followers that
//! forward commands to it and keep their own copy of the log, and live updates that cross
//! instances within a second, through PostgreSQL `LISTEN`/`NOTIFY` and through NATS JetStream.
//!
//! Needs PostgreSQL (and NATS for the JetStream test); without them the tests say so and pass,
//! except under `CI=true`. Killing a sequencer process with requests in flight is the CLI's
//! `failover` test.

mod common;

use std::time::{Duration, Instant};

use common::scenario::*;
use common::*;
use corridor_core::crypto::unb64;
use corridor_core::merkle::{Hash, verify_inclusion};
use corridor_server::{ClusterOptions, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Options with a lease term and poll so long that, within a test, a follower learns of new
/// entries only when told.
fn told_only(url: String, nats: Option<&str>) -> ClusterOptions {
    ClusterOptions {
        url,
        lease_ttl: Duration::from_secs(120),
        poll: Duration::from_secs(120),
        nats: nats.map(str::to_string),
    }
}

async fn role(s: &Server) -> Value {
    s.get_public("/v1/cluster")
        .await
        .expect_json(StatusCode::OK)
}

/// Wait until `s` serves a checkpoint of at least `size`.
async fn covers(s: &Server, size: u64, limit: Duration) -> Instant {
    let t = Instant::now();
    loop {
        let head = s
            .get_public("/v1/log/head")
            .await
            .expect_json(StatusCode::OK);
        if head["size"].as_u64().unwrap() >= size {
            return Instant::now();
        }
        assert!(
            t.elapsed() < limit,
            "no checkpoint of size {size} in {limit:?}: {head}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn instances_share_one_log_and_followers_forward_commands() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let opts = |url| ClusterOptions {
        poll: Duration::from_millis(100),
        ..ClusterOptions::at(url)
    };
    let a = Server::start_instance(&pg.url, opts).await;
    let b = Server::start_instance(&pg.url, opts).await;
    assert_eq!(a.log.role(), Role::Sequencer { epoch: 1 });
    assert_eq!(
        role(&b).await,
        json!({"role": "follower", "sequencer": a.base, "clustered": true})
    );
    assert_eq!(
        role(&a).await,
        json!({"role": "sequencer", "epoch": 1, "clustered": true})
    );

    // A command sent to the follower is sequenced by the sequencer, receipt and all.
    let envelope = b.sign_now(&kp(1), "icrc/admin", report_body("icrc/inc-b"));
    let receipt = b.post(&envelope).await.expect_receipt(StatusCode::CREATED);
    receipt.verify(&a.log_key()).unwrap();
    assert_eq!(receipt.receipt.index, 1);
    // The same bytes again, on either instance: the original receipt.
    for s in [&a, &b] {
        let again = s.post(&envelope).await.expect_receipt(StatusCode::OK);
        assert_eq!(again.receipt, receipt.receipt);
    }
    // A refusal comes back as the sequencer's problem document.
    let bad = b.sign_now(&kp(9), "icrc/admin", report_body("icrc/inc-x"));
    b.post(&bad)
        .await
        .expect_problem(StatusCode::FORBIDDEN, "unknown-key");
    // Commands on both sides land in one log; both serve the same checkpoint.
    for i in 0..5 {
        let s = if i % 2 == 0 { &a } else { &b };
        s.run_now(&kp(1), "icrc/admin", report_body(&format!("icrc/inc-{i}")))
            .await;
    }
    covers(&b, 7, Duration::from_secs(10)).await;
    covers(&a, 7, Duration::from_secs(10)).await;
    let (ca, na) = a.checkpoint().await;
    let (cb, nb) = b.checkpoint().await;
    assert_eq!((ca.size, &na), (cb.size, &nb), "one checkpoint history");
    // The follower's own tree proves what the sequencer wrote: the leaf of the receipt the
    // sequencer signed is in the tree whose root the follower's checkpoint signs.
    let proof = b
        .get_public(&format!("/v1/log/proof/inclusion?index=1&size={}", cb.size))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(
        proof["leaf_hash"],
        receipt.receipt.leaf_hash.as_str(),
        "{proof}"
    );
    let hash = |v: &Value| -> Hash {
        unb64("hash", v.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    };
    let path: Vec<Hash> = proof["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(hash)
        .collect();
    let leaf = hash(&proof["leaf_hash"]);
    verify_inclusion(&leaf, 1, cb.size, &path, &cb.root)
        .unwrap_or_else(|e| panic!("the follower's proof does not verify: {e}: {proof}"));
    let mut other = leaf;
    other[0] ^= 1;
    assert!(verify_inclusion(&other, 1, cb.size, &path, &cb.root).is_err());
    let leaves = b.get_public("/v1/log/leaves?start=0&end=7").await;
    assert_eq!(
        leaves.text(),
        a.get_public("/v1/log/leaves?start=0&end=7").await.text()
    );
}

#[tokio::test]
async fn a_stopped_sequencer_hands_over_to_a_standby() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let opts = |url| ClusterOptions {
        lease_ttl: Duration::from_millis(600),
        poll: Duration::from_millis(100),
        ..ClusterOptions::at(url)
    };
    let a = Server::start_instance(&pg.url, opts).await;
    let b = Server::start_instance(&pg.url, opts).await;
    let first = a
        .run_now(&kp(1), "icrc/admin", report_body("icrc/before"))
        .await;
    a.log.stop().await.unwrap();
    assert!(!a.log.is_sequencer());
    // The standby takes over within a third of the term, in a higher epoch, and goes on from
    // the entries it did not write itself.
    let t = Instant::now();
    while !b.log.is_sequencer() {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "no takeover: {:?}",
            b.log.role()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(b.log.role(), Role::Sequencer { epoch: 2 });
    let second = b
        .run_now(&kp(1), "icrc/admin", report_body("icrc/after"))
        .await;
    assert_eq!(second.receipt.index, first.receipt.index + 1);
    // The old sequencer, now a follower, forwards to the new one.
    let t = Instant::now();
    loop {
        if role(&a).await["sequencer"] == json!(b.base) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "a does not know the new sequencer"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let third = a
        .run_now(&kp(1), "icrc/admin", report_body("icrc/via-a"))
        .await;
    assert_eq!(third.receipt.index, second.receipt.index + 1);
    covers(&a, third.receipt.index + 1, Duration::from_secs(5)).await;
}

/// An agreement change committed through instance A reaches an event-stream subscriber on
/// instance B within a second, B being told of it by `nats` (or PostgreSQL when `None`).
async fn live_update_crosses_instances(nats: Option<&'static str>) {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let a = Server::start_instance(&pg.url, move |u| told_only(u, nats)).await;
    let b = Server::start_instance(&pg.url, move |u| told_only(u, nats)).await;
    assert!(a.log.is_sequencer() && !b.log.is_sequencer());
    setup(&a).await;
    let size = a.snapshot().await.db_size;
    // B was told of every append (its poll is two minutes away).
    covers(&b, size, Duration::from_secs(10)).await;

    let mut events = reqwest::Client::new()
        .get(format!("{}/events", b.base))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let mut terms = corridor_terms();
    terms["names"] = names("Second corridor");
    let receipt = a
        .run_now(
            &kp(1),
            ICRC,
            json!({"type": "corridor.propose", "corridor": "second", "terms": terms}),
        )
        .await;
    let sent = Instant::now();
    let size = receipt.receipt.index + 1;
    let got = wait_for_event(
        &mut events,
        &mut String::new(),
        |v| v["checkpoint"]["size"].as_u64().unwrap_or(0) >= size,
        Duration::from_secs(5),
    )
    .await;
    let took = got - sent;
    eprintln!("live update from A reached B's subscriber in {took:?} (nats: {nats:?})");
    assert!(took <= Duration::from_secs(1), "took {took:?}");
}

#[tokio::test]
async fn live_updates_cross_instances_through_postgres_notify() {
    live_update_crosses_instances(None).await;
}

#[tokio::test]
async fn live_updates_cross_instances_through_nats_jetstream() {
    const NATS: &str = "nats://127.0.0.1:4222";
    if std::net::TcpStream::connect_timeout(
        &"127.0.0.1:4222".parse().unwrap(),
        Duration::from_secs(2),
    )
    .is_err()
    {
        let msg = "NATS is unreachable at 127.0.0.1:4222; start it with `start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server` (`.ci/run` does this)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
        eprintln!("SKIPPED (no NATS): {msg}");
        return;
    }
    live_update_crosses_instances(Some(NATS)).await;
}
