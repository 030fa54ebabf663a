//! The backend-independent storage story, on a real PostgreSQL; plus what only this backend
//! can get wrong: the session's durability setting, concurrent appenders, collation and
//! `\u0000` in projection bodies, the append-only triggers, and passwords in error messages.
//!
//! Each test runs in a database of its own (`CREATE DATABASE corridor_test_...`, dropped at the
//! end even if the test fails), so runs and tests do not interfere. The server is the one at
//! `CORRIDOR_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`). If it is
//! unreachable the tests say so and pass without checking anything, except under `CI=true`,
//! where that is a failure.

use corridor_core::entry::Entry;
use corridor_core::state::ProjectionRow;
use corridor_storage::{Database, DbError, StoredRow};
use corridor_storage_postgres::{Postgres, redact_url};
use serde_json::json;
use sqlx::Connection;
use sqlx::postgres::PgPoolOptions;

use corridor_storage_postgres::testkit::{admin, base_url, with_database, with_fresh_database};

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

fn row(id: &str, body: serde_json::Value) -> ProjectionRow {
    ProjectionRow {
        kind: corridor_core::state::ProjectionKind::Incident,
        id: id.to_string(),
        body,
    }
}

#[tokio::test]
async fn postgres_tells_the_story() {
    with_fresh_database(|url| async move {
        let db = Postgres::open(&url).await.unwrap();
        corridor_storage::story::run(&db).await;
        db.close().await;
        // A second open finds everything, and the migrations do not run twice.
        let again = Postgres::open(&url).await.unwrap();
        assert_eq!(again.size().await.unwrap(), 4);
        assert_eq!(again.checkpoints().await.unwrap().len(), 2);
        again.close().await;
    })
    .await;
}

#[tokio::test]
async fn every_session_commits_synchronously() {
    with_fresh_database(|url| async move {
        // Even when the URL asks for asynchronous commits, the backend sets them back to on.
        let sep = if url.contains('?') { '&' } else { '?' };
        let weakened = format!("{url}{sep}options=-c%20synchronous_commit%3Doff");
        let raw = PgPoolOptions::new()
            .max_connections(1)
            .connect(&weakened)
            .await
            .unwrap();
        let plain: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&raw)
            .await
            .unwrap();
        assert_eq!(plain, "off", "the URL does weaken a plain session");
        raw.close().await;
        let db = Postgres::open(&weakened).await.unwrap();
        for _ in 0..3 {
            assert_eq!(db.setting("synchronous_commit").await.unwrap(), "on");
        }
        db.close().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_appenders_are_serialised() {
    with_fresh_database(|url| async move {
        // Two handles (two pools, as two server processes would have), each appending at what
        // it believes is the current size: every index is written once, none is skipped.
        let a = Postgres::open(&url).await.unwrap();
        let b = Postgres::open(&url).await.unwrap();
        let per_writer = 15;
        let run = |db: Postgres, actor: &'static str| async move {
            let mut written = 0;
            let mut conflicts = 0;
            while written < per_writer {
                let size = db.size().await.unwrap();
                let e = entry(size, actor, &format!("c{written}"));
                match db.append(&[e], &[]).await {
                    Ok(()) => written += 1,
                    Err(DbError::Conflict(_)) => conflicts += 1,
                    Err(e) => panic!("{e}"),
                }
            }
            conflicts
        };
        let (ca, cb) = tokio::join!(
            tokio::spawn(run(a.clone(), "ua/c")),
            tokio::spawn(run(b.clone(), "ru/c"))
        );
        let conflicts = ca.unwrap() + cb.unwrap();
        eprintln!("{conflicts} appends raced and were refused");
        let all = a.entries(0, 100).await.unwrap();
        assert_eq!(all.len(), 2 * per_writer);
        for (i, e) in all.iter().enumerate() {
            assert_eq!(e.header.index, i as u64);
        }
        a.close().await;
        b.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_batch_must_be_consecutive() {
    with_fresh_database(|url| async move {
        let db = Postgres::open(&url).await.unwrap();
        let holey = db
            .append(&[entry(0, "ua/c", "a"), entry(2, "ua/c", "b")], &[])
            .await;
        assert!(matches!(holey, Err(DbError::Conflict(_))), "{holey:?}");
        assert_eq!(db.size().await.unwrap(), 0);
        db.close().await;
    })
    .await;
}

#[tokio::test]
async fn projections_sort_by_bytes_and_keep_any_string() {
    with_fresh_database(|url| async move {
        let db = Postgres::open(&url).await.unwrap();
        // Locale collations would put "a" before "B" and ignore "-"; verify compares with
        // Rust's byte order.
        let ids = ["b", "B", "a-1", "a_1", "a1", "é", "Z", "ä"];
        // `\u0000` is valid in a signed string but refused by jsonb; key order is irrelevant.
        let body = json!({"z": 1, "a": "nul \u{0} inside", "m": [1, {"y": 2, "x": 3}]});
        let mut rows: Vec<ProjectionRow> = ids.iter().map(|id| row(id, json!({"n": 1}))).collect();
        // The same record twice in one batch: the last one wins.
        rows.push(row("b", body.clone()));
        db.append(&[entry(0, "ua/c", "c0")], &rows).await.unwrap();
        // A batch with rows only.
        db.append(&[], &[row("Z", json!({"n": 2}))]).await.unwrap();

        let stored = db.projection_rows().await.unwrap();
        let mut expected: Vec<&str> = ids.to_vec();
        expected.sort();
        let got: Vec<&str> = stored.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(got, expected);
        assert_eq!(db.projection_rows_of("incident").await.unwrap(), stored);
        assert_eq!(
            db.projection_row("incident", "b").await.unwrap(),
            Some(StoredRow {
                kind: "incident".into(),
                id: "b".into(),
                body: json!({"a": "nul \u{0} inside", "m": [1, {"x": 3, "y": 2}], "z": 1}),
            })
        );
        assert_eq!(
            db.projection_row("incident", "Z")
                .await
                .unwrap()
                .unwrap()
                .body,
            json!({"n": 2})
        );
        // replace_projections refuses a duplicate and leaves the old rows.
        let dup = db
            .replace_projections(&[row("x", json!(1)), row("x", json!(2))])
            .await;
        assert!(matches!(dup, Err(DbError::Conflict(_))), "{dup:?}");
        assert_eq!(db.projection_rows().await.unwrap(), stored);
        db.replace_projections(&[]).await.unwrap();
        assert!(db.projection_rows().await.unwrap().is_empty());
        db.close().await;
    })
    .await;
}

#[tokio::test]
async fn the_log_refuses_updates_deletes_and_truncation() {
    with_fresh_database(|url| async move {
        let db = Postgres::open(&url).await.unwrap();
        db.append(&[entry(0, "ua/c", "c0")], &[]).await.unwrap();
        db.add_checkpoint(&corridor_storage::StoredCheckpoint {
            size: 1,
            note: "one".into(),
        })
        .await
        .unwrap();
        let raw = PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        for sql in [
            "UPDATE entries SET actor = 'ru/c'",
            "DELETE FROM entries",
            "TRUNCATE entries",
            "UPDATE checkpoints SET note = 'forged'",
            "DELETE FROM checkpoints",
            "TRUNCATE checkpoints",
        ] {
            let r = sqlx::query(sql).execute(&raw).await;
            let e = r.expect_err(sql).to_string();
            assert!(e.contains("append-only"), "{sql}: {e}");
        }
        assert_eq!(
            db.entries(0, 1).await.unwrap(),
            vec![entry(0, "ua/c", "c0")]
        );
        assert_eq!(db.checkpoints().await.unwrap()[0].note, "one");
        raw.close().await;
        db.close().await;
    })
    .await;
}

#[tokio::test]
async fn errors_never_show_the_password() {
    // Only needs the server to be there (or not); nothing is created.
    let Some(admin) = admin().await else {
        return;
    };
    admin.close().await.ok();
    let password = "Sup3r-s3cret_pw";
    let base = base_url();
    let (scheme, rest) = base.split_once("://").unwrap();
    let host_and_path = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let urls = [
        // A wrong password for the real user (refused unless the server trusts the address).
        format!("{scheme}://postgres:{password}@{host_and_path}"),
        // A user that does not exist: refused at authentication, whatever the server trusts.
        format!("{scheme}://corridor_no_such_user:{password}@{host_and_path}"),
        // A database that does not exist.
        with_database(
            &format!("{scheme}://postgres:{password}@{host_and_path}"),
            "corridor_no_such_database",
        ),
        // The password as a parameter.
        format!("{scheme}://corridor_no_such_user@{host_and_path}?password={password}"),
        // Nobody listening.
        format!("{scheme}://postgres:{password}@127.0.0.1:1/test"),
        // Not a valid URL (bad port), with the password in it.
        format!("{scheme}://postgres:{password}@127.0.0.1:notaport/test"),
    ];
    let mut refused = 0;
    for url in &urls {
        match Postgres::open(url).await {
            Ok(db) => db.close().await, // trust authentication ignores the password
            Err(e) => {
                eprintln!("{}: {e}", redact_url(url));
                refused += 1;
                let text = format!("{e} {e:?}");
                assert!(!text.contains(password), "{text}");
                assert!(!text.contains("s3cret"), "{text}");
            }
        }
    }
    assert!(refused >= 4, "only {refused} of the bad URLs were refused");
}

#[tokio::test]
async fn one_sequencer_lease_at_a_time_and_a_stale_one_cannot_write() {
    with_fresh_database(|url| async move {
        let a = Postgres::open(&url).await.unwrap();
        let b = Postgres::open(&url).await.unwrap();
        assert_eq!(a.lease().await.unwrap(), None);
        let ea = a.acquire_lease("a", "http://a", 60_000).await.unwrap();
        assert_eq!(ea, Some(1));
        // A live lease is not taken over, and not by a second call from the holder either.
        assert_eq!(
            b.acquire_lease("b", "http://b", 60_000).await.unwrap(),
            None
        );
        let lease = b.lease().await.unwrap().unwrap();
        assert_eq!(
            (
                lease.holder.as_str(),
                lease.epoch,
                lease.url.as_str(),
                lease.live
            ),
            ("a", 1, "http://a", true)
        );
        a.append(&[entry(0, "x", "c0")], &[]).await.unwrap();
        assert!(a.renew_lease("a", 1, 1).await.unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(
            !b.lease().await.unwrap().unwrap().live,
            "a 1 ms term has ended"
        );
        // Expired: b takes over with a higher epoch; a can neither renew nor append any more.
        assert_eq!(
            b.acquire_lease("b", "http://b", 60_000).await.unwrap(),
            Some(2)
        );
        assert!(!a.renew_lease("a", 1, 60_000).await.unwrap());
        let stale = a.append(&[entry(1, "x", "c1")], &[]).await;
        assert!(matches!(stale, Err(DbError::LeaseLost(_))), "{stale:?}");
        assert_eq!(b.size().await.unwrap(), 1, "the stale append wrote nothing");
        b.append(&[entry(1, "x", "c1")], &[]).await.unwrap();
        // A clean stop ends the term at once, for good.
        b.release_lease("b", 2).await.unwrap();
        assert!(!b.renew_lease("b", 2, 60_000).await.unwrap());
        assert_eq!(
            a.acquire_lease("a2", "http://a", 60_000).await.unwrap(),
            Some(3)
        );
        a.append(&[entry(2, "x", "c2")], &[]).await.unwrap();
        assert_eq!(a.size().await.unwrap(), 3);
        a.close().await;
        b.close().await;
    })
    .await;
}

#[tokio::test]
async fn appends_are_announced_to_listeners() {
    with_fresh_database(|url| async move {
        let writer = Postgres::open(&url).await.unwrap();
        let reader = Postgres::open(&url).await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let listening = reader
            .watch_appends(std::sync::Arc::new(move |size| {
                let _ = tx.send(size);
            }))
            .await
            .unwrap();
        assert!(listening);
        writer
            .append(&[entry(0, "x", "c0"), entry(1, "x", "c1")], &[])
            .await
            .unwrap();
        let size = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
            .await
            .expect("a notification within 5 s");
        assert_eq!(size, Some(2));
        writer.close().await;
        reader.close().await;
    })
    .await;
}
