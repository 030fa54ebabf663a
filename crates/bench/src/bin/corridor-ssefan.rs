//! Live-update fan-out benchmark: N subscribers on `/events`, one status change, how long until
//! each hears of it; and what each subscriber costs the server in memory.
//!
//! ```text
//! corridor demo --data-dir D --listen 127.0.0.1:8080 &
//! corridor-ssefan --server http://127.0.0.1:8080 --data-dir D --subscribers 20000 --server-pid PID
//! ```
//!
//! The client spreads its connections over several loopback source addresses (127.0.0.2, .3,
//! ...): one address runs out of ephemeral ports near 28,000. Each subscriber reads into a
//! fixed 4 KiB buffer, so the client stays bounded too. The status change is an entry: the
//! Russian coordinator withdraws consent to the demo's first window (signed here, sent once),
//! which every page must show at once.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use corridor_bench::http::{Conn, get_text};
use corridor_bench::{fmt_dur, genesis, host_port, load_signers, percentile};
use corridor_core::envelope::Draft;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, watch};

#[derive(Parser)]
#[command(about = "SSE fan-out benchmark for a running corridor demo server")]
struct Args {
    /// The server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// The demo data directory (key files, genesis).
    #[arg(long)]
    data_dir: PathBuf,
    /// Concurrent subscribers.
    #[arg(long, default_value_t = 20_000)]
    subscribers: usize,
    /// Subscribers per loopback source address.
    #[arg(long, default_value_t = 20_000)]
    per_source: usize,
    /// The server's process id, to read its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The window to withdraw from (the change everyone must hear of).
    #[arg(long, default_value = "borodianka-2022-03-04")]
    window: String,
}

fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Read from `stream` until `needle` has been seen `times` times in total; bounded buffer.
async fn read_events(
    stream: &mut tokio::net::TcpStream,
    buf: &mut [u8],
    needle: &[u8],
    mut times: usize,
) -> anyhow::Result<()> {
    let mut carry = 0usize; // bytes kept from the last read, in case the needle spans reads
    while times > 0 {
        let n = stream.read(&mut buf[carry..]).await?;
        if n == 0 {
            bail!("the server closed the stream");
        }
        let end = carry + n;
        let mut i = 0;
        while let Some(p) = buf[i..end].windows(needle.len()).position(|w| w == needle) {
            times = times.saturating_sub(1);
            i += p + needle.len();
        }
        let keep = (needle.len() - 1).min(end);
        buf.copy_within(end - keep..end, 0);
        carry = keep;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let hp = host_port(&a.server)?;
    let port: u16 = hp.rsplit(':').next().unwrap_or("80").parse()?;
    let (origin, _) = genesis(&a.data_dir)?;
    let signer = load_signers(&a.data_dir)?
        .into_iter()
        .find(|s| s.actor == "ru/coord-1")
        .context("no ru/coord-1 key in the demo data directory")?;
    let base_rss = a.server_pid.and_then(rss_kib);

    // 1. Connect everyone, 256 handshakes at a time; each reads the response head and the
    //    first event (the current status), then waits for the next one.
    let connected = Arc::new(AtomicUsize::new(0));
    let (go_tx, go_rx) = watch::channel(None::<Instant>);
    let gate = Arc::new(Semaphore::new(256));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(a.subscribers);
    for i in 0..a.subscribers {
        let source = Ipv4Addr::new(127, 0, 0, 2 + (i / a.per_source).min(250) as u8);
        let (connected, gate, mut go, hp) =
            (connected.clone(), gate.clone(), go_rx.clone(), hp.clone());
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await?;
            let sock = TcpSocket::new_v4()?;
            sock.bind(SocketAddr::from((source, 0)))?;
            let mut stream = sock
                .connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
                .await
                .with_context(|| format!("connect from {source}"))?;
            stream
                .write_all(format!("GET /events HTTP/1.1\r\nHost: {hp}\r\n\r\n").as_bytes())
                .await?;
            let mut buf = vec![0u8; 4096];
            read_events(&mut stream, &mut buf, b"event: status", 1).await?;
            drop(permit);
            connected.fetch_add(1, Ordering::Relaxed);
            read_events(&mut stream, &mut buf, b"event: status", 1).await?;
            let heard = Instant::now();
            let sent = go.wait_for(|t| t.is_some()).await?.expect("set");
            anyhow::Ok(heard.saturating_duration_since(sent))
        }));
    }
    while connected.load(Ordering::Relaxed) < a.subscribers {
        if started.elapsed() > Duration::from_secs(300) {
            bail!(
                "only {} of {} subscribers connected in 300 s",
                connected.load(Ordering::Relaxed),
                a.subscribers
            );
        }
        let ended = tasks.iter().filter(|t| t.is_finished()).count();
        if ended > 0 {
            let first = tasks
                .iter_mut()
                .find(|t| t.is_finished())
                .expect("one ended");
            let why = match first.await {
                Ok(Err(e)) => format!("{e:#}"),
                other => format!("{other:?}"),
            };
            bail!(
                "{ended} subscribers failed to connect (raise `ulimit -n`, or use fewer); the first: {why}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let connect_s = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = a.server_pid.and_then(rss_kib);

    // 2. One status change.
    let head: Value = serde_json::from_str(&get_text(&hp, "/v1/log/head").await?)?;
    let time = head["clock"]["now"]
        .as_str()
        .context("head without clock.now")?;
    let id = format!("ssefan-{}", std::process::id());
    let envelope = Draft {
        origin: &origin,
        actor: &signer.actor,
        id: &id,
        time,
        body: json!({"type": "window.withdraw", "window": a.window, "party": "ru",
            "reason": "benchmark: consent withdrawn to measure live updates"}),
    }
    .sign(&signer.key);
    let mut conn = Conn::connect(&hp).await?;
    let req = conn.post_json("/v1/commands", &envelope);
    let sent = Instant::now();
    go_tx.send_replace(Some(sent));
    let r = conn.request(&req).await?;
    if r.status != 201 {
        bail!(
            "the status change was refused: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }

    // 3. Everyone must hear of it.
    let mut lat = Vec::with_capacity(a.subscribers);
    let mut failed = 0;
    for t in tasks {
        match tokio::time::timeout(Duration::from_secs(60), t).await {
            Ok(Ok(Ok(d))) => lat.push(d),
            _ => failed += 1,
        }
    }
    lat.sort();
    println!(
        "subscribers: {} connected in {connect_s:.1} s from {} source addresses",
        a.subscribers,
        a.subscribers.div_ceil(a.per_source)
    );
    println!(
        "heard the change: {} (failed or timed out: {failed})",
        lat.len()
    );
    if !lat.is_empty() {
        println!(
            "delivery after the command was sent: p50 {} / p99 {} / max {}",
            fmt_dur(percentile(&lat, 0.50)),
            fmt_dur(percentile(&lat, 0.99)),
            fmt_dur(*lat.last().expect("non-empty"))
        );
    }
    if let (Some(b), Some(r)) = (base_rss, rss) {
        println!(
            "server memory: {} MiB before, {} MiB with every subscriber connected: {:.1} KiB per subscriber",
            b / 1024,
            r / 1024,
            (r.saturating_sub(b)) as f64 / a.subscribers as f64
        );
    }
    Ok(())
}
