//! The story every backend must tell the same way: one test, run against SQLite now and
//! PostgreSQL later, so the backends cannot drift apart. Storage decides nothing, so the story
//! uses arbitrary bytes; what it checks is durability of order, uniqueness and atomicity.

use corridor_core::entry::Entry;
use corridor_core::state::ProjectionRow;
use serde_json::json;

use crate::{Database, DbError, StoredCheckpoint, StoredRow};

fn entry(index: u64, actor: &str, id: &str) -> Entry {
    Entry::new(
        index,
        format!("2022-03-03T14:50:{:02}.000000Z", index % 60),
        "incident.report",
        actor,
        "KEY",
        id,
        [index as u8; 32],
        format!("{{\"n\":{index}}}").into_bytes(),
        vec![7; 64],
    )
}

fn row(id: &str, n: i64) -> ProjectionRow {
    ProjectionRow {
        kind: corridor_core::state::ProjectionKind::Incident,
        id: id.to_string(),
        body: json!({ "n": n }),
    }
}

/// Run the whole story against an empty database. Panics on the first broken promise.
pub async fn run(db: &dyn Database) {
    assert_eq!(
        db.size().await.unwrap(),
        0,
        "the story needs an empty database"
    );
    assert!(db.latest_checkpoint().await.unwrap().is_none());

    // Appends are batches at the current size, with their projection rows.
    let batch: Vec<Entry> = (0..3).map(|i| entry(i, "ua/c", &format!("c{i}"))).collect();
    db.append(&batch, &[row("a", 1)]).await.unwrap();
    db.append(&[entry(3, "ru/c", "c0")], &[row("a", 2), row("b", 1)])
        .await
        .unwrap();
    assert_eq!(db.size().await.unwrap(), 4);
    let back = db.entries(0, 4).await.unwrap();
    assert_eq!(back.len(), 4);
    assert_eq!(back[1], batch[1], "an entry reads back exactly as written");
    assert!(back.iter().all(Entry::commitment_matches));
    assert_eq!(db.entries(2, 3).await.unwrap(), vec![batch[2].clone()]);
    assert!(db.entries(4, 10).await.unwrap().is_empty());
    let hashes = db.leaf_hashes(0, 4).await.unwrap();
    assert_eq!(
        hashes,
        back.iter().map(Entry::leaf_hash).collect::<Vec<_>>()
    );

    // Idempotency look-up is per (actor, command id).
    assert_eq!(
        db.find_command("ua/c", "c1").await.unwrap(),
        Some(batch[1].clone())
    );
    assert_eq!(
        db.find_command("ru/c", "c0")
            .await
            .unwrap()
            .unwrap()
            .header
            .index,
        3
    );
    assert_eq!(db.find_command("ru/c", "c9").await.unwrap(), None);

    // A gap, a fork (same index twice) or a reused (actor, id) is refused and writes nothing,
    // not even the batch's other entries or rows.
    let gap = db.append(&[entry(5, "ua/c", "x")], &[]).await;
    assert!(matches!(gap, Err(DbError::Conflict(_))), "{gap:?}");
    let fork = db.append(&[entry(3, "ua/c", "y")], &[]).await;
    assert!(matches!(fork, Err(DbError::Conflict(_))), "{fork:?}");
    let reuse = db
        .append(
            &[entry(4, "ua/c", "z"), entry(5, "ua/c", "c1")],
            &[row("c", 1)],
        )
        .await;
    assert!(matches!(reuse, Err(DbError::Conflict(_))), "{reuse:?}");
    assert_eq!(db.size().await.unwrap(), 4);
    assert_eq!(db.find_command("ua/c", "z").await.unwrap(), None);

    // Projection rows are upserted with the entries; replace swaps them all at once.
    let rows = db.projection_rows().await.unwrap();
    assert_eq!(
        rows,
        vec![
            StoredRow {
                kind: "incident".into(),
                id: "a".into(),
                body: json!({"n": 2})
            },
            StoredRow {
                kind: "incident".into(),
                id: "b".into(),
                body: json!({"n": 1})
            },
        ]
    );
    assert_eq!(db.projection_rows_of("incident").await.unwrap(), rows);
    assert!(db.projection_rows_of("window").await.unwrap().is_empty());
    assert_eq!(
        db.projection_row("incident", "b").await.unwrap(),
        Some(rows[1].clone())
    );
    assert_eq!(db.projection_row("incident", "nope").await.unwrap(), None);
    db.replace_projections(&[row("z", 9)]).await.unwrap();
    assert_eq!(db.projection_rows().await.unwrap().len(), 1);

    // Checkpoints: one per size, first one kept, latest is the largest.
    let cp = |size, note: &str| StoredCheckpoint {
        size,
        note: note.into(),
    };
    db.add_checkpoint(&cp(2, "two")).await.unwrap();
    db.add_checkpoint(&cp(4, "four")).await.unwrap();
    db.add_checkpoint(&cp(2, "two again")).await.unwrap();
    assert_eq!(
        db.checkpoints().await.unwrap(),
        vec![cp(2, "two"), cp(4, "four")]
    );
    assert_eq!(db.latest_checkpoint().await.unwrap(), Some(cp(4, "four")));

    // Co-signed checkpoints: every round kept; the latest is the last one of the largest size.
    assert_eq!(db.latest_cosigned_checkpoint().await.unwrap(), None);
    db.add_cosigned_checkpoint(&cp(2, "two, one witness"))
        .await
        .unwrap();
    db.add_cosigned_checkpoint(&cp(4, "four, one witness"))
        .await
        .unwrap();
    db.add_cosigned_checkpoint(&cp(4, "four, two witnesses"))
        .await
        .unwrap();
    db.add_cosigned_checkpoint(&cp(3, "three, late"))
        .await
        .unwrap();
    assert_eq!(
        db.latest_cosigned_checkpoint().await.unwrap(),
        Some(cp(4, "four, two witnesses"))
    );

    // The read audit: appended in order, read back from a position, exactly as written.
    assert!(db.reads(0, 10).await.unwrap().is_empty());
    let read = |n: u64| crate::ReadRecord {
        seq: 0,
        at: format!("2022-03-04T08:00:0{n}.000000Z"),
        actor: "ru/c".into(),
        key: "k".into(),
        path: format!("/v1/incidents?n={n}"),
        items: vec![format!("incident i{n}"), "entry 7".into()],
        concerned: vec!["ru".into(), "ua".into()],
    };
    for n in 1..=3 {
        db.record_read(&read(n)).await.unwrap();
    }
    let all = db.reads(0, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "in order");
    for (r, n) in all.iter().zip(1..) {
        assert_eq!(
            crate::ReadRecord {
                seq: 0,
                ..r.clone()
            },
            read(n)
        );
    }
    let rest = db.reads(all[0].seq, 1).await.unwrap();
    assert_eq!(rest, vec![all[1].clone()], "after a position, limited");

    // Webhooks: added, listed, removed by their own actor only, kept for the delivery log.
    assert!(db.webhooks().await.unwrap().is_empty());
    let hook = |id: &str, actor: &str| crate::Webhook {
        id: id.into(),
        actor: actor.into(),
        url: format!("https://example.org/{id}"),
        created_at: "2022-03-04T08:00:00.000000Z".into(),
        removed_at: None,
    };
    db.add_webhook(&hook("w1", "ru/c")).await.unwrap();
    db.add_webhook(&hook("w2", "ua/c")).await.unwrap();
    assert!(matches!(
        db.add_webhook(&hook("w1", "ua/c")).await,
        Err(DbError::Conflict(_))
    ));
    assert!(
        !db.remove_webhook("w1", "ua/c", "2022-03-04T09:00:00.000000Z")
            .await
            .unwrap()
    );
    assert!(
        db.remove_webhook("w1", "ru/c", "2022-03-04T09:00:00.000000Z")
            .await
            .unwrap()
    );
    assert!(
        !db.remove_webhook("w1", "ru/c", "2022-03-04T09:00:01.000000Z")
            .await
            .unwrap()
    );
    let hooks = db.webhooks().await.unwrap();
    assert_eq!(hooks.len(), 2);
    assert_eq!(
        hooks[0].removed_at.as_deref(),
        Some("2022-03-04T09:00:00.000000Z")
    );
    assert_eq!(hooks[1], hook("w2", "ua/c"));
    // The delivery log: appended in order, per webhook, exactly as written.
    let attempt = |n: u32, outcome: &str, status: Option<u16>| crate::Delivery {
        seq: 0,
        webhook: "w2".into(),
        alert: "ack-overdue/urcs/op-1/ru".into(),
        attempt: n,
        at: format!("2022-03-04T09:00:0{n}.000000Z"),
        outcome: outcome.into(),
        http_status: status,
        error: (status != Some(204)).then(|| "connection refused".to_string()),
    };
    let written = [
        attempt(1, "retrying", None),
        attempt(2, "delivered", Some(204)),
    ];
    for d in &written {
        db.record_delivery(d).await.unwrap();
    }
    let log = db.deliveries("w2", 0, 10).await.unwrap();
    assert_eq!(
        log.iter()
            .map(|d| crate::Delivery {
                seq: 0,
                ..d.clone()
            })
            .collect::<Vec<_>>(),
        written
    );
    assert!(log[1].is_final() && !log[0].is_final());
    assert_eq!(
        db.deliveries("w2", log[0].seq, 10).await.unwrap(),
        vec![log[1].clone()]
    );
    assert!(db.deliveries("w1", 0, 10).await.unwrap().is_empty());

    // Evidence: a file and its link in one transaction, content-addressed, idempotent.
    assert_eq!(db.evidence("ab").await.unwrap(), None);
    assert!(db.evidence_links("ab").await.unwrap().is_empty());
    let file = crate::EvidenceFile {
        sha256: "ab".repeat(32),
        bytes: (0..=255u8).cycle().take(70_000).collect(),
    };
    let link = |incident: &str, salt: &str, uploader: &str| crate::EvidenceLink {
        sha256: file.sha256.clone(),
        incident: incident.into(),
        salt: salt.repeat(64),
        commitment: format!("{incident}/{salt}"),
        uploader: uploader.into(),
        at: "2022-03-04T10:00:00.000000Z".into(),
    };
    assert!(
        db.put_evidence(&file, &link("ua/inc-2", "1", "ua/c"))
            .await
            .unwrap(),
        "a new link"
    );
    // The same upload again (by anyone) changes nothing and says so.
    assert!(
        !db.put_evidence(&file, &link("ua/inc-2", "1", "ru/c"))
            .await
            .unwrap()
    );
    // The same file for another incident: a second link, the file kept once.
    assert!(
        db.put_evidence(&file, &link("ua/inc-1", "2", "ua/c"))
            .await
            .unwrap()
    );
    assert_eq!(
        db.evidence(&file.sha256).await.unwrap().as_deref(),
        Some(&file.bytes[..]),
        "the bytes read back exactly as written"
    );
    assert_eq!(
        db.evidence_links(&file.sha256).await.unwrap(),
        vec![link("ua/inc-1", "2", "ua/c"), link("ua/inc-2", "1", "ua/c")],
        "by incident; the first upload's uploader kept"
    );
    let empty = crate::EvidenceFile {
        sha256: "cd".repeat(32),
        bytes: vec![],
    };
    let mut l = link("ru/x", "3", "ru/c");
    l.sha256 = empty.sha256.clone();
    assert!(db.put_evidence(&empty, &l).await.unwrap());
    assert_eq!(db.evidence(&empty.sha256).await.unwrap(), Some(vec![]));
    assert_eq!(db.evidence(&"ef".repeat(32)).await.unwrap(), None);
    assert!(
        db.evidence_links(&"ef".repeat(32))
            .await
            .unwrap()
            .is_empty()
    );
}
