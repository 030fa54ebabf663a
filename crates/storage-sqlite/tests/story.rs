//! The backend-independent storage story, on SQLite; plus what only a file can show: the
//! data is still there after the database is closed and opened again.

use corridor_storage::Database;
use corridor_storage_sqlite::Sqlite;

#[tokio::test]
async fn sqlite_tells_the_story() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corridor.sqlite");
    let db = Sqlite::open(&path).await.unwrap();
    corridor_storage::story::run(&db).await;
    drop(db);
    let again = Sqlite::open(&path).await.unwrap();
    assert_eq!(again.size().await.unwrap(), 4);
    assert_eq!(again.checkpoints().await.unwrap().len(), 2);
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_full_sync() {
    let dir = tempfile::tempdir().unwrap();
    let db = Sqlite::open(&dir.path().join("c.sqlite")).await.unwrap();
    assert_eq!(db.pragma("journal_mode").await.unwrap(), "wal");
    // 2 = FULL: a commit is on disk before the server sends a receipt.
    assert_eq!(db.pragma("synchronous").await.unwrap(), "2");
}
