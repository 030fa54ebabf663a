//! `GET /events` served outside hyper by the accept loop (`corridor_server::serve`), and every
//! other request on the same listener still served by the router through hyper, unchanged.
//!
//! These tests speak raw HTTP/1.1 over a `TcpStream`, so they see exactly what a browser's
//! `EventSource` sees: the head, the chunk framing and the frames.

mod common;

use std::time::Duration;

use common::scenario::*;
use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PLAIN: &str =
    "GET /events HTTP/1.1\r\nHost: corridor.test\r\nAccept: text/event-stream\r\n\r\n";

/// A raw HTTP/1.1 client on one connection.
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// A response head: the status line and the header lines (names lowercased), in order.
#[derive(Debug)]
struct Head {
    status_line: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn names(&self) -> Vec<&str> {
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
    }
}

impl Raw {
    async fn connect(s: &Server) -> Raw {
        Raw {
            stream: TcpStream::connect(s.addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    /// Connect and send `request` in one write.
    async fn send(s: &Server, request: &str) -> Raw {
        let mut r = Raw::connect(s).await;
        r.write(request).await;
        r
    }

    async fn write(&mut self, bytes: &str) {
        self.stream.write_all(bytes.as_bytes()).await.unwrap();
    }

    /// Read more bytes; false at the end of the stream.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut chunk))
            .await
            .expect("nothing arrived within 10 s")
            .unwrap();
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// Whether the server closed the connection (and sent nothing more).
    async fn closed(&mut self) -> bool {
        let mut chunk = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut chunk))
            .await
            .expect("still open after 10 s");
        match read {
            Ok(n) => n == 0,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }

    /// Read until `pattern` is buffered; the bytes up to and including it.
    async fn until(&mut self, pattern: &[u8]) -> Vec<u8> {
        loop {
            if let Some(at) = self.buf.windows(pattern.len()).position(|w| w == pattern) {
                return self.buf.drain(..at + pattern.len()).collect();
            }
            assert!(
                self.fill().await,
                "the connection ended before {:?}; got {:?}",
                String::from_utf8_lossy(pattern),
                String::from_utf8_lossy(&self.buf)
            );
        }
    }

    async fn exactly(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill().await, "the connection ended early");
        }
        self.buf.drain(..n).collect()
    }

    async fn head(&mut self) -> Head {
        let text = String::from_utf8(self.until(b"\r\n\r\n").await).unwrap();
        let mut lines = text.trim_end().split("\r\n");
        let status_line = lines.next().unwrap().to_string();
        let headers = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.to_ascii_lowercase(), v.trim().to_string())
            })
            .collect();
        Head {
            status_line,
            headers,
        }
    }

    /// The next chunk of a chunked body (empty: the last chunk).
    async fn chunk(&mut self) -> Vec<u8> {
        let line = String::from_utf8(self.until(b"\r\n").await).unwrap();
        let size = usize::from_str_radix(line.trim_end(), 16).unwrap();
        let data = self.exactly(size + 2).await;
        assert_eq!(&data[size..], b"\r\n", "chunk not followed by CRLF");
        data[..size].to_vec()
    }

    /// A body of `content-length` bytes.
    async fn body(&mut self, head: &Head) -> Vec<u8> {
        let n = head.get("content-length").unwrap().parse().unwrap();
        self.exactly(n).await
    }

    /// The next status event (heartbeats skipped), parsed.
    async fn status_event(&mut self) -> Value {
        loop {
            let chunk = self.chunk().await;
            assert!(!chunk.is_empty(), "the event stream ended");
            if chunk == b":\n\n" {
                continue;
            }
            let text = String::from_utf8(chunk).unwrap();
            let data = text
                .strip_prefix("event: status\ndata: ")
                .and_then(|t| t.strip_suffix("\n\n"))
                .unwrap_or_else(|| panic!("not one status event: {text:?}"));
            assert!(!data.contains('\n'), "{text:?}");
            return serde_json::from_str(data).unwrap();
        }
    }
}

/// How many event streams the server counts as served by `served_by` (`lean` or `axum`).
async fn streams(s: &Server, served_by: &str) -> u64 {
    let text = s.get_public("/metrics").await.text();
    let label = format!("corridor_event_streams{{served_by=\"{served_by}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&label))
        .map_or(0, |v| v.trim().parse::<f64>().unwrap() as u64)
}

/// Wait until the gauge says at least `n` streams are served by `served_by`.
async fn wait_streams(s: &Server, served_by: &str, n: u64) {
    for _ in 0..200 {
        if streams(s, served_by).await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{served_by} streams: {} (wanted at least {n})",
        streams(s, served_by).await
    );
}

fn corridor_status(v: &Value) -> Option<&str> {
    v["corridors"]
        .as_array()?
        .iter()
        .find(|c| c["id"] == CORRIDOR)?["status"]
        .as_str()
}

/// A plain `GET /events` gets the head axum would send and the current status, then each change
/// as one `event: status`, all from the lean path (the gauge counts it there).
#[tokio::test]
async fn get_events_is_served_lean_with_the_same_head_and_status_changes() {
    let s = Server::start_with_clock("2022-03-05T06:00:00Z", 1.0).await;
    setup(&s).await;
    let mut ev = Raw::send(&s, PLAIN).await;
    let head = ev.head().await;
    assert_eq!(head.status_line, "HTTP/1.1 200 OK");
    assert_eq!(
        head.names(),
        [
            "content-type",
            "cache-control",
            "corridor-clock",
            "transfer-encoding",
            "date"
        ],
        "{head:?}"
    );
    assert_eq!(head.get("content-type"), Some("text/event-stream"));
    assert_eq!(head.get("cache-control"), Some("no-cache"));
    assert_eq!(head.get("transfer-encoding"), Some("chunked"));
    check_clock_header_prefix(
        &reqwest::header::HeaderMap::from_iter([(
            reqwest::header::HeaderName::from_static("corridor-clock"),
            head.get("corridor-clock").unwrap().parse().unwrap(),
        )]),
        "GET /events",
        "simulated; now=2022-03-05T",
    );
    assert!(head.get("date").unwrap().ends_with(" GMT"), "{head:?}");
    wait_streams(&s, "lean", 1).await;

    let first = ev.status_event().await;
    assert_eq!(first, s.get_public("/status.json").await.json());
    assert_eq!(corridor_status(&first), None, "{first}");

    // A change: the window is agreed, so the corridor is public and upcoming.
    let hash = propose_complete(
        &s,
        "w-1",
        1,
        window_terms("2022-03-05T07:00:00Z", "2022-03-05T08:00:00Z", Value::Null),
    )
    .await;
    agree(&s, "w-1", &hash).await;
    loop {
        let v = ev.status_event().await;
        if corridor_status(&v) == Some("upcoming") {
            break;
        }
    }
}

/// The same request through axum (a `TE` header sends it to hyper) gets the same head, in the
/// same order, and byte for byte the same first frame.
#[tokio::test]
async fn lean_and_axum_streams_are_the_same_bytes() {
    let s = Server::start().await;
    setup(&s).await;
    let mut lean = Raw::send(&s, PLAIN).await;
    let mut axum = Raw::send(
        &s,
        "GET /events HTTP/1.1\r\nHost: corridor.test\r\nTE: trailers\r\n\r\n",
    )
    .await;
    let (lh, ah) = (lean.head().await, axum.head().await);
    assert_eq!(lh.status_line, ah.status_line);
    assert_eq!(lh.names(), ah.names());
    for name in ["content-type", "cache-control", "transfer-encoding"] {
        assert_eq!(lh.get(name), ah.get(name), "{name}");
    }
    wait_streams(&s, "lean", 1).await;
    wait_streams(&s, "axum", 1).await;
    let (lf, af) = (lean.chunk().await, axum.chunk().await);
    assert_eq!(
        String::from_utf8(lf).unwrap(),
        String::from_utf8(af).unwrap()
    );
}

/// The API and the public files are on the same listener, through hyper as before: reads,
/// a command, and keep-alive requests on one raw connection.
#[tokio::test]
async fn other_requests_on_the_same_listener_still_go_to_the_router() {
    let s = Server::start().await;
    let mut ev = Raw::send(&s, PLAIN).await;
    assert_eq!(ev.head().await.status_line, "HTTP/1.1 200 OK");

    let r = s.get_public("/status.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.mime(), "application/json");
    s.run(
        &kp(3),
        "ua/admin",
        register_body("ua/c", "coordinator", &kp(10)),
    )
    .await;

    let mut raw = Raw::send(
        &s,
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /status.json HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    for want in [&b"ok"[..], b"{"] {
        let head = raw.head().await;
        assert_eq!(head.status_line, "HTTP/1.1 200 OK");
        assert!(head.get("corridor-clock").is_some(), "{head:?}");
        assert!(raw.body(&head).await.starts_with(want));
    }
    // Then an event stream on that same connection: hyper's, as before.
    raw.write(PLAIN).await;
    let head = raw.head().await;
    assert_eq!(head.get("content-type"), Some("text/event-stream"));
    raw.status_event().await;
}

/// A head that arrives in pieces (a slow link, a proxy) is still recognised, and a split
/// request for anything else still reaches hyper whole.
#[tokio::test]
async fn a_request_head_split_over_several_writes() {
    let s = Server::start().await;
    let mut ev = Raw::connect(&s).await;
    for piece in ["GE", "T /eve", "nts HTTP/1.1\r\nHo", "st: x\r\n", "\r\n"] {
        ev.write(piece).await;
        ev.stream.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let head = ev.head().await;
    assert_eq!(head.status_line, "HTTP/1.1 200 OK");
    assert_eq!(head.get("transfer-encoding"), Some("chunked"));
    wait_streams(&s, "lean", 1).await;
    ev.status_event().await;

    let mut other = Raw::connect(&s).await;
    for piece in ["GET /sta", "tus.json HTTP/1.1\r\nHost: x\r\n", "\r\n"] {
        other.write(piece).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let head = other.head().await;
    assert_eq!(head.status_line, "HTTP/1.1 200 OK");
    let body: Value = serde_json::from_slice(&other.body(&head).await).unwrap();
    assert!(body["checkpoint"]["size"].is_u64(), "{body}");
}

/// Requests that start like `GET /events` but are not a plain one get today's answers from the
/// router.
#[tokio::test]
async fn look_alikes_get_the_routers_answer() {
    let s = Server::start().await;
    for path in ["/eventsX", "/events/"] {
        let mut r = Raw::send(&s, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n")).await;
        let head = r.head().await;
        assert_eq!(head.status_line, "HTTP/1.1 404 Not Found", "{path}");
        assert_eq!(head.get("content-type"), Some("application/problem+json"));
        let p: Value = serde_json::from_slice(&r.body(&head).await).unwrap();
        assert_eq!(p["code"], "not-found", "{path}");
    }

    let mut r = Raw::send(
        &s,
        "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    let head = r.head().await;
    assert_eq!(head.status_line, "HTTP/1.1 405 Method Not Allowed");
    assert_eq!(head.get("allow"), Some("GET,HEAD"));

    // HEAD: the head only, from hyper (no chunked framing without a body).
    let mut r = Raw::send(&s, "HEAD /events HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let head = r.head().await;
    assert_eq!(head.status_line, "HTTP/1.1 200 OK");
    assert_eq!(head.get("content-type"), Some("text/event-stream"));
    assert_eq!(head.get("transfer-encoding"), None, "{head:?}");

    // HTTP/1.0: hyper answers in HTTP/1.0, the body until the connection closes.
    let mut r = Raw::send(&s, "GET /events HTTP/1.0\r\n\r\n").await;
    let head = r.head().await;
    assert_eq!(head.status_line, "HTTP/1.0 200 OK");
    assert_eq!(head.get("transfer-encoding"), None, "{head:?}");
    assert!(r.until(b"event: status\ndata: ").await.ends_with(b"data: "));

    // `Connection: close`: hyper says so.
    let mut r = Raw::send(&s, "GET /events HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    let head = r.head().await;
    assert_eq!(head.get("connection"), Some("close"), "{head:?}");
    r.status_event().await;

    // Pipelined behind the stream: hyper's, as before (the second request waits for ever).
    let mut r = Raw::send(&s, &format!("{PLAIN}GET /healthz HTTP/1.1\r\n\r\n")).await;
    assert_eq!(
        r.head().await.get("content-type"),
        Some("text/event-stream")
    );
    r.status_event().await;

    // A head that does not parse: hyper's 400.
    let mut r = Raw::send(&s, "GET /events HTTP/1.1\r\nno colon here\r\n\r\n").await;
    assert_eq!(r.head().await.status_line, "HTTP/1.1 400 Bad Request");
}

/// Shutting down ends lean streams with the last chunk, closes idle connections and returns.
#[tokio::test]
async fn shutdown_ends_lean_streams_and_returns() {
    let mut s = Server::start().await;
    let mut ev = Raw::send(&s, PLAIN).await;
    ev.head().await;
    ev.status_event().await;
    let mut idle = Raw::connect(&s).await;
    let mut half = Raw::send(&s, "GET /eve").await;
    // Accepted (and the half head read) before the shutdown.
    tokio::time::sleep(Duration::from_millis(200)).await;
    tokio::time::timeout(Duration::from_secs(10), s.shut_down())
        .await
        .expect("the server did not shut down");
    assert_eq!(ev.chunk().await, b"");
    assert!(ev.closed().await, "the stream's connection stays open");
    assert!(idle.closed().await);
    assert!(half.closed().await);
}
