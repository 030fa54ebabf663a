//! `corridor publish --out DIR`: the whole public site as static files.
//!
//! In Mariupol in March 2022 there was no power and no mobile data; word of corridors spread by
//! mouth. A folder of plain files can travel where a server cannot: any web server or CDN can
//! serve it, and a USB stick can carry it to a reception point. The files are exactly what the
//! server serves (the same pure builder, `corridor_public::build`), built from the state at the
//! latest signed checkpoint, which every page cites, with `.gz` and `.br` copies beside each
//! file for servers that send precompressed files (nginx `gzip_static`).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::{PublicKey, b64};
use corridor_core::state::Replay;
use corridor_public::{Cited, Input};
use jiff::Timestamp;

use crate::ops::open_existing;

/// Arguments of `corridor publish`.
#[derive(Args)]
pub struct PublishArgs {
    /// The data directory.
    #[arg(long, default_value = "./corridor-data")]
    pub data_dir: PathBuf,
    /// The log's PostgreSQL database instead (postgres://user:password@host:5432/db).
    #[arg(long, env = "CORRIDOR_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// Where to write the site (created; existing files with the same names are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// The instant the site shows, RFC 3339 (default: now on a real log; on an exercise log,
    /// the time of the last entry the checkpoint covers, since an exercise has no real "now").
    #[arg(long)]
    pub at: Option<String>,
    /// The absolute URL the copy will be reached at (https://corridors.example.org), for the
    /// links in feeds and the QR codes of printed pages. Required unless --offline-only: a
    /// printed QR code pointing at a default address would lead nowhere.
    #[arg(long, env = "CORRIDOR_PUBLIC_URL", conflicts_with = "offline_only")]
    pub public_url: Option<String>,
    /// A copy with no address of its own (a USB stick for a reception point): printed pages
    /// carry no QR code and feed links are site-relative.
    #[arg(long)]
    pub offline_only: bool,
}

/// The base URL the site's absolute links use: the one given, "" for an offline copy, and a
/// refusal otherwise, since a silent default would put a dead address in every printed QR
/// code and alert.
pub fn base_url(public_url: Option<&str>, offline_only: bool) -> anyhow::Result<String> {
    match (public_url, offline_only) {
        (Some(u), _) => {
            let u = u.trim_end_matches('/');
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                bail!(
                    "--public-url {u:?}: give the absolute address the copy will be reached at, like https://corridors.example.org"
                );
            }
            Ok(u.to_string())
        }
        (None, true) => Ok(String::new()),
        (None, false) => bail!(
            "give --public-url https://... (the address the copy will be reached at, used in QR codes and feeds), or --offline-only for a copy without QR codes"
        ),
    }
}

/// Where a URL path of the site goes in the folder: paths ending in `/` (every page: the site
/// names its pages as folders) or without an extension become a directory with an
/// `index.html` (or `index.txt`), so the copy works on any web server that serves index files.
pub fn file_for(path: &str, content_type: &str) -> PathBuf {
    let rel = path.trim_start_matches('/');
    let last = rel.rsplit('/').next().unwrap_or("");
    if rel.is_empty() || rel.ends_with('/') || !last.contains('.') {
        let index = if content_type.starts_with("text/plain") {
            "index.txt"
        } else {
            "index.html"
        };
        Path::new(rel).join(index)
    } else {
        PathBuf::from(rel)
    }
}

/// Run `corridor publish`.
pub async fn publish(a: PublishArgs) -> anyhow::Result<()> {
    let base = base_url(a.public_url.as_deref(), a.offline_only)?;
    let db = open_existing(&a.data_dir, a.database.as_deref()).await?;
    let stored = db
        .latest_checkpoint()
        .await?
        .context("the log has no signed checkpoint yet: start the server once (`corridor serve`) so it signs one")?;
    // Replay exactly the entries the checkpoint covers, so the pages show what it commits to.
    let mut replay = Replay::trusting_signatures();
    let mut start = 0;
    let mut last_time = None;
    while start < stored.size {
        let end = (start + 10_000).min(stored.size);
        for e in db.entries(start, end).await? {
            replay.apply(&e).map_err(|r| {
                anyhow::anyhow!(
                    "entry {} does not replay: {r}; run `corridor verify`",
                    e.header.index
                )
            })?;
            last_time = Some(e.header.time.clone());
        }
        start = end;
    }
    let state = replay.into_state().context("the log is empty")?;
    let log_key = PublicKey::parse(&state.genesis.log_key)?;
    let cp = Checkpoint::verify(&stored.note, state.origin(), &log_key).map_err(|e| {
        anyhow::anyhow!("the latest checkpoint does not verify: {e}; run `corridor verify`")
    })?;
    let at: Timestamp = match (&a.at, state.genesis.exercise) {
        (Some(t), _) => t.parse().with_context(|| {
            format!("--at {t:?}: give an RFC 3339 instant like 2022-03-04T08:00:00Z")
        })?,
        (None, false) => Timestamp::now(),
        (None, true) => last_time
            .as_deref()
            .unwrap_or_default()
            .parse()
            .context("the last entry's time")?,
    };
    // The latest co-signed checkpoint the pages cover, if the log key in the genesis signed it
    // (after a key rotation the pages cite none rather than an unverified one).
    let cosigned = db
        .latest_cosigned_checkpoint()
        .await?
        .filter(|c| c.size <= cp.size)
        .and_then(|c| {
            Checkpoint::verify(&c.note, state.origin(), &log_key)
                .ok()
                .map(|v| (v, c.note))
        });
    let cited = Cited {
        size: cp.size,
        root: b64(&cp.root),
        witnessed: corridor_public::CitedWitnesses::of(
            state.genesis.witnesses.as_ref(),
            cosigned.as_ref().map(|(c, n)| (c, n.as_str())),
        ),
    };
    // Published documents; a static copy cannot assemble their bundles (proofs come from the
    // live log), so its pages point to the log server for them.
    let documents: Vec<corridor_public::PublicDocument> = state
        .register
        .documents
        .values()
        .filter(|d| d.published)
        .map(|d| corridor_public::PublicDocument {
            document: d.clone(),
            bundle: None,
        })
        .collect();
    let input = Input {
        genesis: &state.genesis,
        agreements: &state.agreements,
        at,
        checkpoint: &cited,
        base_url: &base,
        documents: &documents,
    };
    let site = corridor_public::build(&input);
    if site.files.is_empty() {
        bail!("nothing to publish");
    }
    let mut bytes = 0u64;
    for (path, asset) in &site.files {
        let file = a.out.join(file_for(path, asset.content_type));
        if let Some(dir) = file.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let (gz, br) = corridor_server::public::compress(&asset.body);
        for (name, body) in [
            (file.clone(), &asset.body),
            (with_suffix(&file, ".gz"), &gz),
            (with_suffix(&file, ".br"), &br),
        ] {
            fs::write(&name, body).with_context(|| format!("cannot write {}", name.display()))?;
            bytes += body.len() as u64;
        }
    }
    println!(
        "published {} files ({} KiB with their .gz and .br copies) to {}, as of {} (checkpoint: size {}, root {}){}",
        site.files.len(),
        bytes / 1024,
        a.out.display(),
        corridor_core::time::format_log_time(at),
        cited.size,
        cited.root,
        if state.genesis.exercise {
            " — EXERCISE"
        } else {
            ""
        }
    );
    Ok(())
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths_map_to_files_any_web_server_serves() {
        let html = corridor_public::HTML;
        assert_eq!(file_for("/uk/", html), Path::new("uk/index.html"));
        assert_eq!(
            file_for("/uk/corridors/b-b/", html),
            Path::new("uk/corridors/b-b/index.html")
        );
        assert_eq!(
            file_for("/uk/corridors/b-b/sms.txt", corridor_public::TEXT),
            Path::new("uk/corridors/b-b/sms.txt")
        );
        assert_eq!(file_for("/", html), Path::new("index.html"));
        assert_eq!(
            file_for("/status.json", "application/json"),
            Path::new("status.json")
        );
        assert_eq!(
            file_for("/feeds/cap.xml", "application/cap+xml"),
            Path::new("feeds/cap.xml")
        );
    }
}
