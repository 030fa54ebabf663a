//! The options every command that signs or talks to a server shares, declared once so that
//! each takes them from the same flags and the same environment variables: set
//! `CORRIDOR_SERVER` and `CORRIDOR_KEY` once, and every command acts as that person on that
//! server (a flag still wins over the environment).

use std::path::{Path, PathBuf};

use clap::Args;

/// The server used when neither `--server` nor `CORRIDOR_SERVER` names one: the demo's address.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// The server a command talks to.
#[derive(Args, Clone, Debug)]
pub struct ServerOpt {
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(id = "server", long = "server", env = "CORRIDOR_SERVER", default_value = DEFAULT_SERVER, value_name = "URL")]
    pub url: String,
}

/// The key file a command signs with.
#[derive(Args, Clone, Debug)]
pub struct KeyOpt {
    /// Your private key file (made with `corridor keygen`), or an encrypted key backup of it.
    #[arg(id = "key", long = "key", env = "CORRIDOR_KEY", value_name = "FILE")]
    pub path: PathBuf,
}

/// Acting or reading as someone on a server: their key file and the server.
#[derive(Args, Clone, Debug)]
pub struct Acting {
    #[command(flatten)]
    pub key: KeyOpt,
    #[command(flatten)]
    pub server: ServerOpt,
}

impl Acting {
    /// The key file.
    pub fn key(&self) -> &Path {
        &self.key.path
    }

    /// The server's URL.
    pub fn server(&self) -> &str {
        &self.server.url
    }
}
