//! A lean HTTP/1.1 keep-alive client: one connection, one request at a time, pre-built request
//! bytes. The load generators run on the same two cores as the server, so every microsecond the
//! client spends is taken from the server; this keeps the client's share small and predictable.

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
}

/// A response: status and body.
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Conn {
    /// Connect to `host:port`.
    pub async fn connect(host_port: &str) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(host_port)
            .await
            .with_context(|| format!("cannot connect to {host_port}"))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            host: host_port.to_string(),
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    /// The request bytes of a POST of a JSON body.
    pub fn post_json(&self, path: &str, body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    }

    /// The request bytes of a GET.
    pub fn get(&self, path: &str) -> Vec<u8> {
        self.get_with(path, &[])
    }

    /// The request bytes of a GET with extra headers (a signed read's `Signature-Input` and
    /// `Signature`).
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
        let mut r = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (k, v) in headers {
            r.push_str(&format!("{k}: {v}\r\n"));
        }
        r.push_str("\r\n");
        r.into_bytes()
    }

    /// Send pre-built request bytes and read the whole response.
    pub async fn request(&mut self, req: &[u8]) -> anyhow::Result<Response> {
        self.stream.write_all(req).await?;
        self.buf.clear();
        let (head_end, status, len) = loop {
            if let Some(pos) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..pos]).context("non-UTF-8 headers")?;
                let mut lines = head.split("\r\n");
                let status: u16 = lines
                    .next()
                    .and_then(|l| l.split(' ').nth(1))
                    .and_then(|s| s.parse().ok())
                    .context("malformed status line")?;
                let mut len = None;
                for l in lines {
                    if let Some((k, v)) = l.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse::<usize>().ok();
                        } else if k.eq_ignore_ascii_case("transfer-encoding") {
                            bail!("chunked responses are not supported by this client");
                        }
                    }
                }
                break (
                    pos + 4,
                    status,
                    len.context("response without Content-Length")?,
                );
            }
            if self.read_more().await? == 0 {
                bail!("the server closed the connection");
            }
        };
        while self.buf.len() < head_end + len {
            if self.read_more().await? == 0 {
                bail!("the server closed the connection mid-body");
            }
        }
        Ok(Response {
            status,
            body: self.buf[head_end..head_end + len].to_vec(),
        })
    }

    async fn read_more(&mut self) -> anyhow::Result<usize> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// GET `path` on a fresh connection and return the body as text, requiring 2xx.
pub async fn get_text(host_port: &str, path: &str) -> anyhow::Result<String> {
    let mut c = Conn::connect(host_port).await?;
    let req = c.get(path);
    let r = c.request(&req).await?;
    let text = String::from_utf8(r.body).context("non-UTF-8 body")?;
    if !(200..300).contains(&r.status) {
        bail!("GET {path}: {} {text}", r.status);
    }
    Ok(text)
}
