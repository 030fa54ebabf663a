//! Copies of a PostgreSQL log, for `corridor backup` and `corridor restore`: the SQL that reads
//! a log's size and the exported snapshot `pg_dump` reads from live here, beside the backend
//! that owns the tables, and so do the client tools' invocations (the password goes to
//! `PGPASSWORD`, never to a command line other local users can read).

use std::process::Command;

use corridor_storage::BackupError;
use sqlx::Connection;

use crate::redact_url;

/// A PostgreSQL URL split for the client tools: the URL without any password (safe on a command
/// line, which other local users can read in the process list), and the password (decoded) for
/// the `PGPASSWORD` environment variable.
struct PgUrl {
    without_password: String,
    password: Option<String>,
}

impl PgUrl {
    fn parse(url: &str) -> PgUrl {
        let Some((scheme, rest)) = url.split_once("://") else {
            return PgUrl {
                without_password: url.to_string(),
                password: None,
            };
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let mut password = None;
        let authority = match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, pw)) => {
                    password = Some(crate::percent_decode(pw));
                    format!("{user}@{host}")
                }
                None => authority.to_string(),
            },
            None => authority.to_string(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| match pair.split_once('=') {
                        Some((k, v)) if k.eq_ignore_ascii_case("password") => {
                            password.get_or_insert_with(|| crate::percent_decode(v));
                            false
                        }
                        _ => true,
                    })
                    .collect();
                if kept.is_empty() {
                    path.to_string()
                } else {
                    format!("{path}?{}", kept.join("&"))
                }
            }
            None => tail.to_string(),
        };
        PgUrl {
            without_password: format!("{scheme}://{authority}{tail}"),
            password: password.filter(|p| !p.is_empty()),
        }
    }

    /// A message with the password taken out, for tool output that might echo it.
    fn scrub(&self, message: &str) -> String {
        match &self.password {
            Some(p) => message.replace(p.as_str(), "***"),
            None => message.to_string(),
        }
    }
}

/// The size of the corridor log in a PostgreSQL database, or `None` if it has no corridor
/// tables. Through a plain connection, because opening it as a `Database` would create the
/// tables (which `pg_restore` would then collide with).
pub async fn log_size(url: &str) -> Result<Option<u64>, BackupError> {
    let pg = PgUrl::parse(url);
    let shown = redact_url(url);
    let mut c = sqlx::PgConnection::connect(url).await.map_err(|e| {
        BackupError(format!(
            "cannot connect to PostgreSQL at {shown}: {} (does the database exist? create it with `createdb`)",
            pg.scrub(&e.to_string())
        ))
    })?;
    let fail = |e: sqlx::Error| BackupError(format!("{shown}: {}", pg.scrub(&e.to_string())));
    let has: bool = sqlx::query_scalar("SELECT to_regclass('entries') IS NOT NULL")
        .fetch_one(&mut c)
        .await
        .map_err(fail)?;
    let size = if has {
        let n: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")
            .fetch_one(&mut c)
            .await
            .map_err(fail)?;
        Some(n as u64)
    } else {
        None
    };
    c.close().await.ok();
    Ok(size)
}

/// Run `pg_dump` or `pg_restore` with the password in `PGPASSWORD` only, never prompting.
fn pg_tool(tool: &str, url: &str, args: &[&str]) -> Result<(), BackupError> {
    let pg = PgUrl::parse(url);
    let mut cmd = Command::new(tool);
    cmd.args(args)
        .arg(format!("--dbname={}", pg.without_password))
        // Never wait for a password on a terminal: fail instead and say so.
        .arg("--no-password")
        .env_remove("PGPASSWORD");
    if let Some(p) = &pg.password {
        cmd.env("PGPASSWORD", p);
    }
    let out = cmd.output().map_err(|e| {
        BackupError(if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "{tool} is not installed (or not on PATH); install the PostgreSQL client tools of the server's major version or newer (Debian/Ubuntu: `apt-get install postgresql-client`)"
            )
        } else {
            format!("cannot run {tool}: {e}")
        })
    })?;
    if !out.status.success() {
        let stderr = pg.scrub(String::from_utf8_lossy(&out.stderr).trim());
        return Err(BackupError(format!(
            "{tool} failed on {} ({}): {stderr}",
            redact_url(url),
            out.status
        )));
    }
    Ok(())
}

/// Dump the whole database at `url` into `file` (custom format) from one snapshot, while a
/// server may keep appending; returns the entries and the largest checkpoint size the archive
/// holds.
pub async fn dump(url: &str, file: &str) -> Result<(u64, u64), BackupError> {
    let pg = PgUrl::parse(url);
    let shown = redact_url(url);
    // pg_dump reads every table in one snapshot, so entries and checkpoints are consistent with
    // each other while the server keeps appending (the append's table lock does not conflict
    // with pg_dump's ACCESS SHARE locks). The snapshot is exported from a transaction of ours
    // and handed to pg_dump, so the sizes reported are exactly what the archive holds. The
    // whole database is dumped, with the append-only triggers and the migration history, so a
    // restore is the same log.
    let fail = |e: sqlx::Error| BackupError(format!("{shown}: {}", pg.scrub(&e.to_string())));
    let mut c = sqlx::PgConnection::connect(url).await.map_err(fail)?;
    let mut tx = c.begin().await.map_err(fail)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *tx)
        .await
        .map_err(fail)?;
    let (size, checkpoint): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COALESCE(MAX(idx) + 1, 0) FROM entries), (SELECT COALESCE(MAX(size), 0) FROM checkpoints)",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(fail)?;
    let dumped = pg_tool(
        "pg_dump",
        url,
        &[
            "--format=custom",
            // Who sequences is the running cluster's business, not the log's: a restored log
            // starts with no lease, so its first server takes it at once.
            "--exclude-table-data=sequencer_lease",
            &format!("--snapshot={snapshot}"),
            &format!("--file={file}"),
        ],
    );
    tx.rollback().await.ok();
    c.close().await.ok();
    dumped?;
    Ok((size as u64, checkpoint as u64))
}

/// Restore a `pg_dump` archive into the database at `url` in one transaction (a failed restore
/// leaves it as it was). `replace_empty_tables` when the database already has corridor tables
/// with no entries (a server was pointed at it, or an import failed before its first entry):
/// they are dropped so the archive's own tables, triggers and migration history take their place.
pub fn restore(url: &str, file: &str, replace_empty_tables: bool) -> Result<(), BackupError> {
    let mut args = vec![
        "--single-transaction",
        "--exit-on-error",
        // The restoring role owns what it creates, whoever owned the original.
        "--no-owner",
        "--no-privileges",
    ];
    if replace_empty_tables {
        args.extend(["--clean", "--if-exists"]);
    }
    args.push(file);
    pg_tool("pg_restore", url, &args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_go_to_the_environment_not_the_command_line() {
        let u = PgUrl::parse("postgres://corridor:s3cr%40t@db.example:5432/log?sslmode=require");
        assert_eq!(
            u.without_password,
            "postgres://corridor@db.example:5432/log?sslmode=require"
        );
        assert_eq!(u.password.as_deref(), Some("s3cr@t"));
        let u = PgUrl::parse("postgresql://u@h/db?password=hunter2&application_name=x");
        assert_eq!(u.without_password, "postgresql://u@h/db?application_name=x");
        assert_eq!(u.password.as_deref(), Some("hunter2"));
        assert_eq!(u.scrub("failed for hunter2"), "failed for ***");
        let u = PgUrl::parse("postgres://postgres@127.0.0.1:5432/test?password=p");
        assert_eq!(
            u.without_password,
            "postgres://postgres@127.0.0.1:5432/test"
        );
        let u = PgUrl::parse("postgres://postgres@127.0.0.1:5432/test");
        assert_eq!(
            u.without_password,
            "postgres://postgres@127.0.0.1:5432/test"
        );
        assert!(u.password.is_none());
    }
}
