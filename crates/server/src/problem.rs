//! RFC 9457 problem documents.
//!
//! Every API error is an `application/problem+json` document with a stable `code`, so clients
//! branch on the code, and people read `detail`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use corridor_core::Rejection;
use serde_json::{Value, json};

/// An API error.
#[derive(Debug, Clone)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Human explanation of this occurrence.
    pub detail: String,
    /// Extra members (e.g. the limit that was exceeded).
    pub extra: Option<Value>,
    /// Extra response headers (`Retry-After`, `Accept-Signature`).
    pub headers: Vec<(&'static str, String)>,
}

impl Problem {
    /// A problem with a status, code and detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            status,
            code,
            detail: detail.into(),
            extra: None,
            headers: Vec::new(),
        }
    }

    /// Add a response header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Say when to try again (`Retry-After`, in seconds, also as `retry_after_s`).
    pub fn with_retry_after(self, seconds: u64) -> Self {
        let extra = match self.extra.clone() {
            Some(Value::Object(mut m)) => {
                m.insert("retry_after_s".into(), json!(seconds));
                Value::Object(m)
            }
            _ => json!({"retry_after_s": seconds}),
        };
        self.with(extra)
            .with_header("retry-after", seconds.to_string())
    }

    /// Add extra members.
    pub fn with(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }

    /// The problem for a refused command.
    pub fn rejection(r: &Rejection) -> Self {
        use StatusCode as S;
        let status = match r {
            Rejection::Json(_)
            | Rejection::MissingField(_)
            | Rejection::InvalidField { .. }
            | Rejection::UnknownCommandType(_)
            | Rejection::UnsupportedVersion(_)
            | Rejection::WrongLog { .. }
            | Rejection::InvalidKey(_) => S::BAD_REQUEST,
            Rejection::BadSignature => S::UNAUTHORIZED,
            Rejection::UnknownKey(_)
            | Rejection::KeyRevoked(_)
            | Rejection::KeyActorMismatch { .. }
            | Rejection::RoleNotAllowed { .. } => S::FORBIDDEN,
            Rejection::CommandIdConflict { .. } => S::CONFLICT,
            Rejection::ClockSkew { .. } | Rejection::Rule { .. } => S::UNPROCESSABLE_ENTITY,
        };
        let mut p = Problem::new(status, r.code(), r.to_string());
        if let Rejection::ClockSkew {
            limit_s, server, ..
        } = r
        {
            p = p.with(json!({"limit_s": limit_s, "server_time": server}));
        }
        p
    }

    /// Title for a code: the code in words.
    fn title(&self) -> String {
        let t = self.code.replace('-', " ");
        let mut c = t.chars();
        match c.next() {
            Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
            None => t,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("urn:corridor:problem:{}", self.code),
            "title": self.title(),
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        });
        if let (Some(Value::Object(extra)), Value::Object(b)) = (self.extra, &mut body) {
            for (k, v) in extra {
                b.insert(k, v);
            }
        }
        let mut resp = (self.status, body.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
        resp
    }
}
