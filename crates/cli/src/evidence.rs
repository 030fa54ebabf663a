//! Evidence files: committed to in a report, uploaded after it, read by its audience.
//!
//! `corridor incident report|correct --evidence-file FILE` draws a fresh random salt per file,
//! puts the salted commitment ([`corridor_core::incident::commitment`]) into the command, keeps
//! the salt in CORRIDOR_HOME/evidence before anything is sent, submits the command and then
//! uploads each file (`POST /v1/evidence`, a signed request whose query names the incident, the
//! salt and the file's SHA-256, so the signature binds the bytes). Why the salt is kept: it is
//! what shows later that this file is the one the report commits to, and what an upload that
//! failed needs to be tried again (`corridor evidence upload`). Why it must stay private: with
//! the salt, anyone holding a candidate photo can test whether it is the one in the report,
//! which the salt exists to prevent.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use corridor_core::crypto::sha256;
use corridor_core::incident::{commitment, hex};
use serde_json::{Value, json};

use crate::opts::Acting;
use crate::{client, keys};

#[derive(Subcommand)]
pub enum EvidenceCommand {
    /// Upload a file the report already commits to (after an upload that failed): give the
    /// salt `incident report --evidence-file` printed and kept in CORRIDOR_HOME/evidence.
    Upload {
        #[command(flatten)]
        acting: Acting,
        /// The incident whose report commits to the file.
        #[arg(long)]
        incident: String,
        /// The salt the commitment was made with, 64 hex digits. Keep it private: with it, a
        /// photo can be tested against the report.
        #[arg(long)]
        salt: String,
        /// The file.
        file: PathBuf,
    },
    /// Download an evidence file by its SHA-256 (if you may read a report it belongs to); the
    /// bytes are checked against the hash before they are written.
    Get {
        #[command(flatten)]
        acting: Acting,
        /// The file's SHA-256, 64 hex digits.
        sha256: String,
        /// Where to write it (default: ./SHA256); never overwritten.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// A file about to be committed to: its hash, a fresh salt and the commitment.
pub struct Prepared {
    pub path: PathBuf,
    pub sha256: [u8; 32],
    pub salt: [u8; 32],
    pub commitment: String,
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("cannot read the evidence file {}", path.display()))
}

/// Hash each file and draw its salt (a fresh one per file and report, so two reports of one
/// photo carry unrelated commitments).
pub fn prepare(files: &[PathBuf]) -> anyhow::Result<Vec<Prepared>> {
    files
        .iter()
        .map(|path| {
            let sha = sha256(&[&read_file(path)?]);
            let salt = keys::random_seed();
            Ok(Prepared {
                path: path.clone(),
                commitment: commitment(&salt, &sha),
                sha256: sha,
                salt,
            })
        })
        .collect()
}

/// Where the salts are kept: CORRIDOR_HOME/evidence, beside the outbox and the receipts.
fn salt_dir() -> PathBuf {
    client::home().join("evidence")
}

/// Keep each file's salt (mode 0600) before the command leaves this device: once the log
/// holds the commitment, the salt is the only way to open it.
pub fn keep_salts(server: &str, incident: &str, files: &[Prepared]) -> anyhow::Result<()> {
    let dir = salt_dir();
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for f in files {
        let name: String = format!("{incident}-{}", hex(&f.sha256))
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{name}.json"));
        let record = json!({
            "server": server,
            "incident": incident,
            "file": f.path.display().to_string(),
            "sha256": hex(&f.sha256),
            "salt": hex(&f.salt),
            "commitment": f.commitment,
            "note": "keep the salt private: with it, anyone holding a candidate file can test whether it is the one this report commits to",
        });
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut out = opts
            .open(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        out.write_all(serde_json::to_string_pretty(&record)?.as_bytes())?;
        out.sync_all()?;
        println!(
            "evidence {}: sha256 {} salt {} (kept in {}; keep the salt private)",
            f.path.display(),
            hex(&f.sha256),
            hex(&f.salt),
            path.display()
        );
    }
    Ok(())
}

/// Upload one file the incident's report commits to with `salt`.
pub async fn upload(
    key: &Path,
    server: &str,
    incident: &str,
    salt: &[u8; 32],
    file: &Path,
) -> anyhow::Result<()> {
    let bytes = read_file(file)?;
    let sha = hex(&sha256(&[&bytes]));
    let key = keys::load(key)?;
    let c = client::Client::new(server);
    let head = c.check_log().await?;
    let path = format!(
        "/v1/evidence?incident={}&salt={}&sha256={sha}",
        percent_encode(incident),
        hex(salt)
    );
    let resp = c
        .signed_with_body(
            &head,
            &key.keypair,
            "POST",
            &path,
            Some(("application/octet-stream", bytes)),
        )
        .await
        .with_context(|| {
            format!(
                "{} was not uploaded; the report keeps its commitment: try again with `corridor evidence upload --incident {incident} --salt {} {}`",
                file.display(),
                hex(salt),
                file.display()
            )
        })?;
    let fresh = resp.status() == reqwest::StatusCode::CREATED;
    let v: Value = resp
        .json()
        .await
        .context("the server's answer to the upload is not JSON")?;
    if v["sha256"] != json!(sha) {
        bail!(
            "the server stored {} but the file's SHA-256 is {sha}",
            v["sha256"]
        );
    }
    println!(
        "{} {} ({} bytes, sha256 {sha}) for {incident}",
        if fresh {
            "uploaded"
        } else {
            "already uploaded:"
        },
        file.display(),
        v["size"]
    );
    Ok(())
}

/// Percent-encode a query value (incident ids hold `/`, which a query may carry as it is, but
/// nothing else outside the unreserved set is sent raw).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn hex32(what: &str, text: &str) -> anyhow::Result<[u8; 32]> {
    let digits = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect::<Option<_>>()
        .unwrap_or_default();
    bytes
        .try_into()
        .ok()
        .filter(|_| digits)
        .with_context(|| format!("{what} must be 32 bytes as 64 hex digits, not {text:?}"))
}

pub async fn run(cmd: EvidenceCommand) -> anyhow::Result<()> {
    match cmd {
        EvidenceCommand::Upload {
            acting,
            incident,
            salt,
            file,
        } => {
            let salt = hex32("--salt", &salt)?;
            upload(acting.key(), acting.server(), &incident, &salt, &file).await
        }
        EvidenceCommand::Get {
            acting,
            sha256: wanted,
            out,
        } => {
            let wanted = hex(&hex32("the SHA-256", &wanted)?);
            let key = keys::load(acting.key())?;
            let c = client::Client::new(acting.server());
            let head = c.check_log().await?;
            let resp = c
                .signed(
                    &head,
                    &key.keypair,
                    "GET",
                    &format!("/v1/evidence/{wanted}"),
                )
                .await?;
            let bytes = resp.bytes().await?;
            let got = hex(&sha256(&[&bytes]));
            if got != wanted {
                bail!("the server sent a file whose SHA-256 is {got}, not {wanted}: not written");
            }
            let out = out.unwrap_or_else(|| PathBuf::from(&wanted));
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&out)
                .with_context(|| {
                    format!(
                        "cannot create {} (it is never overwritten: choose another --out)",
                        out.display()
                    )
                })?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            println!("{} ({} bytes, sha256 {wanted})", out.display(), bytes.len());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_query_values() {
        let h = "0a".repeat(32);
        assert_eq!(hex32("x", &h).unwrap(), [10u8; 32]);
        assert_eq!(hex32("x", &h.to_uppercase()).unwrap(), [10u8; 32]);
        for bad in [
            "",
            "0a",
            &h[1..],
            &format!("{h}0a"),
            &"zz".repeat(32),
            &"+1".repeat(32),
        ] {
            assert!(hex32("x", bad).is_err(), "{bad:?}");
        }
        assert_eq!(percent_encode("ua/inc 1&x"), "ua/inc%201%26x");
    }
}
