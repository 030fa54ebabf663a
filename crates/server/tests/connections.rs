//! Connection limits of the accept loop (`corridor_server::serve_with`): a crowd of idle,
//! half-sent and slow connections, and of event subscribers, cannot take the descriptors the API
//! needs; connections that send nothing, half a head or half a body are closed after their
//! timeout; a subscriber that stops reading is dropped; a subscriber that uploads is
//! disconnected; hyper's refusals of heads it cannot parse are problem documents.
//!
//! Everything is on loopback, with small caps and timeouts so that it runs in seconds and well
//! within the open-files limit. The crowd connects from 127.0.0.2 and up (Linux routes all of
//! 127/8 to the loopback interface), the parties from 127.0.0.1, so the per-address cap shows
//! too.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::scenario::*;
use common::*;
use corridor_server::ServeOptions;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const EVENTS: &str = "GET /events HTTP/1.1\r\nHost: corridor.test\r\n\r\n";

/// Small limits: 24 connections, the last 4 for the API, 3 event streams, 8 per address.
fn small(timeout: Duration) -> ServeOptions {
    ServeOptions {
        header_timeout: timeout,
        idle_timeout: timeout,
        body_timeout: timeout,
        write_timeout: timeout,
        max_connections: 24,
        api_reserve: 4,
        max_events: 3,
        per_address: 8,
        events_send_buffer: None,
    }
}

/// Connect to `s` from `127.0.0.{last}`, with this receive buffer if given.
async fn connect_from(s: &Server, last: u8, recv_buffer: Option<u32>) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let from = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), 0);
    socket.bind(from).unwrap();
    socket.connect(s.addr).await.unwrap()
}

/// A response read off a raw connection: status, headers (names lowercased) and body.
#[derive(Debug)]
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The problem document's `code`, checking that it is one.
    fn problem_code(&self) -> String {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{self:?}"
        );
        let v: Value = serde_json::from_slice(&self.body).unwrap();
        assert_eq!(v["status"], self.status, "{v}");
        v["code"].as_str().unwrap().to_string()
    }
}

/// Read one response with a `content-length` body (what every refusal has).
async fn response(stream: &mut TcpStream) -> Raw {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("no response within 10 s")
            .unwrap();
        assert!(
            n > 0,
            "closed before a response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.trim_end().split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed within the body");
        body.extend_from_slice(&chunk[..n]);
    }
    Raw {
        status,
        headers,
        body,
    }
}

/// Wait until the server closes `stream` (reading and dropping whatever comes first); false if
/// it is still open after 10 s.
async fn closed(stream: &mut TcpStream) -> bool {
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(until, stream.read(&mut chunk)).await {
            Err(_) => return false,
            Ok(Ok(0)) => return true,
            Ok(Ok(_)) => continue,
            // Reset (unread bytes on the server's side when it closed): closed too.
            Ok(Err(_)) => return true,
        }
    }
}

/// A reqwest client that opens a new connection for every request (no pool): each request is
/// admitted (or not) as a connection of its own.
fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The attack, scaled down: the event streams at their cap, and every connection
/// outside the API reserve held by connections that send nothing, half a head or half a body.
/// A public request is then refused (`503 server-busy`), but a signed command lands within a
/// second and `/readyz` answers; the idle and half-sent connections are closed once their
/// timeout passes, and the public is served again.
#[tokio::test]
async fn the_api_keeps_its_descriptors_while_a_crowd_holds_the_rest() {
    let timeout = Duration::from_secs(2);
    let s = Server::start_with_options(small(timeout)).await;
    let http = fresh_client();

    // Three subscribers, the cap: the fourth is refused with a problem document.
    let mut subscribers = Vec::new();
    for _ in 0..3 {
        let mut c = connect_from(&s, 2, None).await;
        c.write_all(EVENTS.as_bytes()).await.unwrap();
        subscribers.push(c);
    }
    while s.log.public().subscribers() < 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut fourth = connect_from(&s, 2, None).await;
    fourth.write_all(EVENTS.as_bytes()).await.unwrap();
    let r = response(&mut fourth).await;
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.problem_code(), "events-busy");
    assert!(r.header("retry-after").is_some(), "{r:?}");
    assert!(closed(&mut fourth).await);
    // The same through axum (HTTP/1.0 goes to hyper): the cap holds on both paths.
    let mut old = connect_from(&s, 2, None).await;
    old.write_all(b"GET /events HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let r = response(&mut old).await;
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.problem_code(), "events-busy");
    assert!(closed(&mut old).await);

    // The per-address cap: 127.0.0.3 may hold 8; the ninth is closed unread.
    let mut crowd = Vec::new();
    for _ in 0..8 {
        crowd.push(("nothing", connect_from(&s, 3, None).await));
    }
    let mut ninth = connect_from(&s, 3, None).await;
    assert!(
        closed(&mut ninth).await,
        "the per-address cap let a ninth in"
    );

    // Fill the rest of the 20 connections outside the reserve: 3 streams, 8 idle, then 9 more
    // that send half a head or half a body.
    for i in 0..9u8 {
        let mut c = connect_from(&s, 4 + i % 2, None).await;
        if i < 5 {
            c.write_all(b"GET /status.json HTTP/1.1\r\nHost: corr")
                .await
                .unwrap();
            crowd.push(("half a head", c));
        } else {
            c.write_all(
                b"POST /v1/commands HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"v\":",
            )
            .await
            .unwrap();
            crowd.push(("half a body", c));
        }
    }

    // A reader now lands in the reserve, which serves only the API.
    let busy = http
        .get(format!("{}/status.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(busy.headers().contains_key("retry-after"));
    let problem: Value = busy.json().await.unwrap();
    assert_eq!(problem["code"], "server-busy", "{problem}");

    // A party's command still lands, within a second, and the server says it is ready.
    let envelope = s.sign_now(
        &kp(3),
        "ua/admin",
        register_body(UA, "coordinator", &kp(10)),
    );
    let landed = tokio::time::timeout(
        Duration::from_secs(1),
        http.post(format!("{}/v1/commands", s.base))
            .header("content-type", "application/json")
            .body(envelope)
            .send(),
    )
    .await
    .expect("the command did not land within 1 s")
    .unwrap();
    assert_eq!(landed.status(), StatusCode::CREATED);
    let ready = http.get(format!("{}/readyz", s.base)).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    // The idle and half-sent connections are closed once their timeout has passed; a half body
    // is answered first.
    for (what, mut c) in crowd {
        if what == "half a body" {
            let r = response(&mut c).await;
            assert_eq!(r.status, 408, "{r:?}");
            assert_eq!(r.problem_code(), "body-timeout");
        }
        assert!(closed(&mut c).await, "{what}: still open");
    }
    // With the crowd gone, a reader is served again.
    let page = http
        .get(format!("{}/status.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    drop(subscribers);
}

/// A kept-alive connection is closed when no next request comes within the idle timeout; one
/// whose next head stops halfway, within the header timeout.
#[tokio::test]
async fn kept_alive_connections_are_closed_when_idle_or_half_sent() {
    let s = Server::start_with_options(small(Duration::from_millis(500))).await;
    for second in ["", "GET /healthz HTTP/1.1\r\nHo"] {
        let mut c = connect_from(&s, 1, None).await;
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .unwrap();
        let r = response(&mut c).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.header("connection"), None, "kept alive: {r:?}");
        c.write_all(second.as_bytes()).await.unwrap();
        assert!(closed(&mut c).await, "still open after {second:?}");
    }
}

/// An event subscriber that stops reading is dropped once a write to it has made no progress
/// for the write timeout, instead of holding its connection for good; one that reads keeps its
/// stream.
#[tokio::test]
async fn a_subscriber_that_stops_reading_is_dropped() {
    let mut options = small(Duration::from_secs(10));
    options.write_timeout = Duration::from_millis(500);
    options.max_events = 10;
    // A small send buffer, and a small receive buffer on the reader, so that a few status
    // frames fill both.
    options.events_send_buffer = Some(4096);
    let s = Server::start_with_options(options).await;
    setup(&s).await;
    let mut reader = connect_from(&s, 1, None).await;
    reader.write_all(EVENTS.as_bytes()).await.unwrap();
    let mut stalled = connect_from(&s, 2, Some(1024)).await;
    stalled.write_all(EVENTS.as_bytes()).await.unwrap();
    while s.log.public().subscribers() < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The reader drains its stream as it goes.
    let drain = tokio::spawn(async move {
        let mut chunk = [0u8; 16384];
        while reader.read(&mut chunk).await.unwrap_or(0) > 0 {}
    });
    // Each agreed window is one more status frame (and a longer one) for every subscriber.
    let mut rounds = 0;
    while s.log.public().subscribers() == 2 {
        // Bounded: the buffers fill within a few rounds, and the drop follows the write
        // timeout (half a second) later.
        assert!(rounds < 200, "the stalled subscriber was never dropped");
        let (day, hour) = (5 + rounds / 20, rounds % 20);
        let (start, end) = (
            format!("2022-03-{day:02}T{hour:02}:00:00Z"),
            format!("2022-03-{day:02}T{hour:02}:30:00Z"),
        );
        let window = format!("w-{rounds}");
        let hash = propose_complete(&s, &window, 1, window_terms(&start, &end, Value::Null)).await;
        agree(&s, &window, &hash).await;
        rounds += 1;
    }
    assert_eq!(
        s.log.public().subscribers(),
        1,
        "the reader keeps its stream"
    );
    assert!(!drain.is_finished(), "the reader's stream ended");
    // What was buffered can still be read; then the connection is over.
    assert!(closed(&mut stalled).await);
}

/// A lean subscriber sends nothing after its request: one that does (an upload behind `GET
/// /events`) is disconnected instead of having every byte read and dropped.
#[tokio::test]
async fn a_subscriber_that_sends_more_is_disconnected() {
    let s = Server::start().await;
    let mut c = connect_from(&s, 1, None).await;
    c.write_all(EVENTS.as_bytes()).await.unwrap();
    while s.log.public().subscribers() < 1 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Bounded: the server closes long before this is all sent (a write may then fail).
    let upload = vec![b'x'; 64 * 1024];
    for _ in 0..64 {
        if c.write_all(&upload).await.is_err() {
            break;
        }
        if s.log.public().subscribers() == 0 {
            break;
        }
    }
    assert!(
        closed(&mut c).await,
        "the uploading subscriber is still connected"
    );
    assert_eq!(s.log.public().subscribers(), 0);
}

/// Heads hyper refuses before any route sees them (a target too long, too many header fields,
/// a line that does not parse) get problem documents with stable codes, like every other
/// refusal, and the connection is closed.
#[tokio::test]
async fn unparsable_heads_get_problem_documents() {
    let s = Server::start().await;
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(70_000));
    let many_fields = format!(
        "GET /healthz HTTP/1.1\r\n{}\r\n",
        (0..120)
            .map(|i| format!("X-{i}: {i}\r\n"))
            .collect::<String>()
    );
    for (head, status, code) in [
        (long_target.as_str(), 414, "uri-too-long"),
        (many_fields.as_str(), 431, "headers-too-large"),
        (
            "GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n",
            400,
            "bad-request",
        ),
    ] {
        let mut c = connect_from(&s, 1, None).await;
        c.write_all(head.as_bytes()).await.unwrap();
        let r = response(&mut c).await;
        assert_eq!(r.status, status, "{r:?}");
        assert_eq!(r.problem_code(), code);
        assert_eq!(r.header("connection"), Some("close"), "{r:?}");
        assert!(
            r.header("corridor-clock").unwrap().starts_with("simulated"),
            "an exercise says so on every reply: {r:?}"
        );
        assert!(closed(&mut c).await);
    }
}
