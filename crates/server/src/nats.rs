//! Append announcements through NATS JetStream, for operators who already run NATS (or whose
//! instances cannot share PostgreSQL notifications, e.g. through a connection pooler in
//! transaction mode, which drops `LISTEN`).
//!
//! The sequencer publishes the new tree size on `corridor.log.<log id>` after each commit and
//! each checkpoint; each
//! follower reads that subject with an ordered consumer that starts at new messages, and wakes
//! its catch-up. Only sizes travel: followers read the entries from the database, so NATS never
//! holds log data and a lost or duplicated message only delays a catch-up to the next poll.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::{self, consumer, stream};
use corridor_core::crypto::sha256;
use futures_util::StreamExt;

/// The JetStream stream holding the announcements of every corridor log on this NATS.
pub const STREAM: &str = "CORRIDOR_LOG";

/// A NATS connection that announces this log's appends and listens for them.
#[derive(Clone)]
pub struct Announcer {
    js: jetstream::Context,
    subject: String,
}

impl std::fmt::Debug for Announcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcer")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// The subject of the log `origin`: origins may hold characters NATS subjects may not.
pub fn subject_of(origin: &str) -> String {
    let id: String = sha256(&[origin.as_bytes()])[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("corridor.log.{id}")
}

impl Announcer {
    /// Connect to the NATS server at `url` and make sure the stream exists.
    pub async fn connect(url: &str, origin: &str) -> anyhow::Result<Announcer> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .with_context(|| {
                format!("cannot connect to NATS at {url} (is it running? is --nats right?)")
            })?;
        let js = jetstream::new(client);
        js.get_or_create_stream(stream::Config {
            name: STREAM.to_string(),
            subjects: vec!["corridor.log.*".to_string()],
            // Announcements are only worth anything while fresh.
            max_messages_per_subject: 1000,
            max_age: Duration::from_secs(3600),
            storage: stream::StorageType::Memory,
            ..Default::default()
        })
        .await
        .with_context(|| format!("cannot create the JetStream stream {STREAM} on {url} (is JetStream enabled? start nats-server with -js)"))?;
        Ok(Announcer {
            js,
            subject: subject_of(origin),
        })
    }

    /// Announce the new size, without holding up the caller (the sequencer).
    pub fn announce(&self, size: u64) {
        let js = self.js.clone();
        let subject = self.subject.clone();
        tokio::spawn(async move {
            let sent = match js.publish(subject, size.to_string().into()).await {
                Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = sent {
                metrics::counter!("corridor_nats_publish_failures_total").increment(1);
                tracing::warn!(error = %e, "could not announce an append on NATS");
            }
        });
    }

    /// Call `wake` with each size announced from now on (by any instance), until the process
    /// ends; reconnects by itself.
    pub async fn watch(&self, wake: Arc<dyn Fn(u64) + Send + Sync>) -> anyhow::Result<()> {
        let stream = self.js.get_stream(STREAM).await?;
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: self.subject.clone(),
                deliver_policy: consumer::DeliverPolicy::New,
                ..Default::default()
            })
            .await?;
        let mut messages = consumer.messages().await?;
        tokio::spawn(async move {
            while let Some(m) = messages.next().await {
                match m {
                    Ok(m) => wake(
                        std::str::from_utf8(&m.payload)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(0),
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "NATS announcements interrupted");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        });
        Ok(())
    }
}
