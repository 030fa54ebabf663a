//! corridor's HTTP server: a thin shell around `corridor-core` and a `corridor-storage`
//! backend.
//!
//! Read [`log`] first (how a command becomes a durable entry with a receipt), then [`http`]
//! (the routes other tools rely on), then [`serve`](mod@serve) (the accept loop, and `/events`
//! served outside hyper), then [`cluster`] (several instances on one PostgreSQL). Domain rules
//! are not here: they live in the core.

pub mod alerts;
pub mod auth;
pub mod clock;
pub mod cluster;
pub mod console;
pub mod evidence;
pub mod http;
pub mod limits;
pub mod log;
pub mod nats;
pub mod problem;
pub mod public;
pub mod queries;
pub mod register;
pub mod running;
pub mod serve;
pub mod webhooks;
pub mod witnessing;

pub use clock::Clock;
pub use cluster::{ClusterOptions, Role};
pub use http::router;
pub use log::{Accepted, Log, SubmitError};
pub use serve::{ServeOptions, serve, serve_router, serve_with};
