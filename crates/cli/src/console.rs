//! `corridor console`: the coordinator console served from the person's own `corridor` binary on
//! their own machine, with the log's API passed through to the server.
//!
//! Why: a page that signs can sign anything its script asks for. When the log's server serves
//! the console (`corridor serve` does, at `/console/`), whoever runs that server chooses the
//! script, and with it what a party's key signs, which is a trust the parties do not give each
//! other or the intermediary. Served by this command, the script is the one compiled into the
//! binary the party built or checked itself, and the server only ever sees signed commands and
//! signed reads, exactly as from the CLI. The page's storage (keys, trusted checkpoint, outbox)
//! belongs to this local address, apart from any other.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Args;
use serde_json::json;

/// Options of `corridor console`.
#[derive(Args, Debug)]
pub struct ConsoleArgs {
    /// The log's server, e.g. https://corridor.example.org.
    #[arg(long, env = "CORRIDOR_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Where to serve the console: keep it on loopback (the page holds keys).
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
}

/// Largest request passed through: a command envelope is at most 64 KiB; an evidence upload,
/// which the console does not make, is refused by size here rather than held.
const MAX_BODY: usize = 1024 * 1024;

/// The headers a request keeps on its way to the server: the signature covers only method,
/// path and query, so these are all the server reads.
const FORWARDED: [HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::ACCEPT,
    HeaderName::from_static("signature-input"),
    HeaderName::from_static("signature"),
];

/// The headers a reply keeps on its way back to the page.
const RETURNED: [&str; 4] = ["content-type", "corridor-clock", "retry-after", "allow"];

struct Upstream {
    base: String,
    http: reqwest::Client,
}

/// The router: the console's files from this binary, `/v1/...` passed to `server`. On loopback
/// (`loopback_only`), a request must name the machine itself as its host: a web page elsewhere
/// that rebinds its own name to 127.0.0.1 (DNS rebinding) is refused rather than served a
/// console under its origin or let through to the log's server.
pub fn app(server: &str, loopback_only: bool) -> Router {
    let upstream = Arc::new(Upstream {
        base: server.trim_end_matches('/').to_string(),
        http: reqwest::Client::new(),
    });
    Router::new()
        .route("/", get(corridor_server::console::redirect))
        .route("/console", get(corridor_server::console::redirect))
        .route("/console/", get(corridor_server::console::index))
        .route("/console/{*path}", get(corridor_server::console::file))
        .fallback(pass)
        .with_state(upstream)
        .layer(axum::middleware::from_fn(
            move |req: Request, next: axum::middleware::Next| async move {
                if loopback_only && !names_this_machine(&req) {
                    return problem(
                        StatusCode::MISDIRECTED_REQUEST,
                        "host-not-allowed",
                        "this local console answers only to 127.0.0.1, localhost or [::1]".into(),
                    );
                }
                next.run(req).await
            },
        ))
}

/// Whether the request's Host is this machine by a name no one else controls.
fn names_this_machine(req: &Request) -> bool {
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "127.0.0.1" | "localhost" | "[::1]"
    )
}

fn problem(status: StatusCode, code: &str, detail: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        json!({"type": "about:blank", "title": status.canonical_reason(), "status": status.as_u16(),
            "code": code, "detail": detail})
        .to_string(),
    )
        .into_response()
}

async fn pass(State(up): State<Arc<Upstream>>, req: Request) -> Response {
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    if !path_and_query.starts_with("/v1/") {
        return problem(
            StatusCode::NOT_FOUND,
            "not-found",
            format!(
                "this local console passes only /v1/ to the log's server, not {path_and_query}; open /console/"
            ),
        );
    }
    let method = req.method().clone();
    let headers = req.headers().clone();
    let body = match to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                format!("the local console passes at most {MAX_BODY} bytes"),
            );
        }
    };
    let mut out = up
        .http
        .request(method, format!("{}{path_and_query}", up.base))
        .body(body);
    for name in FORWARDED {
        if let Some(v) = headers.get(&name) {
            out = out.header(name, v);
        }
    }
    let resp = match out.send().await {
        Ok(r) => r,
        Err(e) => {
            // The page takes a failed request as "no connection" and keeps what it signed.
            return problem(
                StatusCode::BAD_GATEWAY,
                "upstream-unreachable",
                format!("cannot reach the log's server at {}: {e}", up.base),
            );
        }
    };
    let status = resp.status();
    let mut back = Response::builder().status(status.as_u16());
    for name in RETURNED {
        if let Some(v) = resp.headers().get(name)
            && let Ok(v) = HeaderValue::from_bytes(v.as_bytes())
        {
            back = back.header(name, v);
        }
    }
    match resp.bytes().await {
        Ok(bytes) => back
            .body(Body::from(bytes))
            .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response()),
        Err(e) => problem(
            StatusCode::BAD_GATEWAY,
            "upstream-unreachable",
            format!("the log's server broke off its answer: {e}"),
        ),
    }
}

/// Serve the console until the process is stopped.
pub async fn run(a: ConsoleArgs) -> anyhow::Result<()> {
    if !a.listen.ip().is_loopback() {
        eprintln!(
            "warning: the console is served on {}, not loopback: anyone who reaches it gets a page that signs with keys kept in their own browser, but keep it on 127.0.0.1 unless you mean to",
            a.listen
        );
    }
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (choose another with --listen)",
                a.listen
            )
        })?;
    println!(
        "console for {} at http://{}/console/ (scripts from this binary; the server sees only signed requests)",
        a.server,
        listener.local_addr()?
    );
    axum::serve(listener, app(&a.server, a.listen.ip().is_loopback())).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    /// A closed port on loopback: bind, note the port, drop the listener.
    fn closed_port() -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn the_page_comes_from_this_binary_and_only_v1_goes_to_the_server() {
        let local = serve(app(&closed_port(), true)).await;
        let http = reqwest::Client::new();

        let page = http.get(format!("{local}/console/")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let csp = page.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(page.text().await.unwrap().contains("<html"));

        let other = http.get(format!("{local}/admin")).send().await.unwrap();
        assert_eq!(other.status(), 404);
        let p: serde_json::Value = other.json().await.unwrap();
        assert_eq!(p["code"], "not-found");

        // Another name for this address (DNS rebinding) is refused, page and API alike.
        for path in ["/console/", "/v1/log/checkpoint"] {
            let rebound = http
                .get(format!("{local}{path}"))
                .header("host", "attacker.example:8090")
                .send()
                .await
                .unwrap();
            assert_eq!(rebound.status(), 421, "{path}");
            let p: serde_json::Value = rebound.json().await.unwrap();
            assert_eq!(p["code"], "host-not-allowed");
        }
        let by_name = http
            .get(format!(
                "{}/console/",
                local.replace("127.0.0.1", "localhost")
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(by_name.status(), 200);

        // The server is down: the page is told so in a problem it reads as "offline".
        let down = http
            .get(format!("{local}/v1/log/checkpoint"))
            .send()
            .await
            .unwrap();
        assert_eq!(down.status(), 502);
        assert_eq!(down.headers()["content-type"], "application/problem+json");
        let p: serde_json::Value = down.json().await.unwrap();
        assert_eq!(p["code"], "upstream-unreachable");
    }

    #[tokio::test]
    async fn a_signed_request_reaches_the_server_with_its_signature_and_nothing_else() {
        type Seen = Arc<Mutex<Vec<(String, axum::http::HeaderMap, Vec<u8>)>>>;
        let seen: Seen = Arc::default();
        let upstream = Router::new()
            .fallback(|State(seen): State<Seen>, req: Request| async move {
                let (parts, body) = req.into_parts();
                let body = to_bytes(body, MAX_BODY).await.unwrap().to_vec();
                seen.lock()
                    .unwrap()
                    .push((parts.uri.to_string(), parts.headers.clone(), body));
                (
                    StatusCode::CREATED,
                    [
                        ("content-type", "application/json"),
                        ("corridor-clock", "x"),
                        ("set-cookie", "a=b"),
                    ],
                    "{\"ok\":true}",
                )
            })
            .with_state(seen.clone());
        let server = serve(upstream).await;
        let local = serve(app(&server, true)).await;

        let reply = reqwest::Client::new()
            .post(format!("{local}/v1/commands?x=1"))
            .header("content-type", "application/json")
            .header("signature-input", "corridor=(\"@method\");created=1")
            .header("signature", "corridor=:AAAA:")
            .header("cookie", "session=secret")
            .body("{\"envelope\":1}")
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 201);
        assert_eq!(reply.headers()["corridor-clock"], "x");
        assert!(reply.headers().get("set-cookie").is_none());
        assert_eq!(reply.text().await.unwrap(), "{\"ok\":true}");

        let seen = seen.lock().unwrap();
        let (uri, headers, body) = &seen[0];
        assert_eq!(uri, "/v1/commands?x=1");
        assert_eq!(body, b"{\"envelope\":1}");
        assert_eq!(headers["signature"], "corridor=:AAAA:");
        assert_eq!(
            headers["signature-input"],
            "corridor=(\"@method\");created=1"
        );
        assert!(headers.get("cookie").is_none(), "{headers:?}");
    }
}
