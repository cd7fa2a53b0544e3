//! The emergency notifier: subscribed to the topic, it POSTs every emergency report to an
//! external URL with a timeout and retries with backoff, in tasks of its own, so a slow or
//! failing receiver never slows the ingest path. Every outcome is counted.

use std::sync::Arc;
use std::time::Duration;

use actor_runtime::prelude::*;
use tokio::sync::Semaphore;

use super::dispatcher::{self, Dispatcher, Raw};
use crate::packet;
use crate::settings::Settings;
use crate::telemetry;

/// The first retry waits this long; each next one twice as long.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// What is POSTed (JSON).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Alert {
    /// The vehicle's identifier.
    #[serde(rename = "ID")]
    pub id: String,
    /// Longitude in degrees.
    #[serde(rename = "Lon")]
    pub lon: f64,
    /// Latitude in degrees.
    #[serde(rename = "Lat")]
    pub lat: f64,
    /// Receive time, Unix milliseconds.
    #[serde(rename = "Date")]
    pub date: i64,
}

/// Notifies the external system of emergencies.
#[derive(Debug)]
#[actor(mailbox = 65536)]
pub struct Emergency {
    client: reqwest::Client,
    url: Option<Arc<str>>,
    attempts: u32,
    inflight: Arc<Semaphore>,
}

#[actor]
impl Emergency {
    #[init]
    async fn init(settings: Arc<Settings>, ctx: &mut Ctx<Self>) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.emergency_timeout_ms.max(1)))
            .build()
            .map_err(|e| e.to_string())?;
        let dispatcher = actor_runtime::registry::lookup::<Dispatcher>(dispatcher::NAME)
            .map_err(|e| e.to_string())?;
        let topic = dispatcher.topic().await.map_err(|e| e.to_string())?;
        topic.subscribe(ctx.addr().clone(), |me, event| me.traffic(event));
        Ok(Emergency {
            client,
            url: settings.emergency_url.as_deref().map(Arc::from),
            attempts: settings.emergency_attempts.max(1),
            inflight: Arc::new(Semaphore::new(settings.emergency_inflight.max(1))),
        })
    }

    /// One event of the `traffic` topic: emergencies are notified, the rest ignored (the
    /// ingest pool counts invalid packets).
    #[handle(cast)]
    fn traffic(&mut self, event: Event<Raw>) {
        let Event::Published(raw) = event else {
            return;
        };
        let Ok(p) = packet::decode(&raw.payload, raw.received_ms) else {
            return;
        };
        if !p.emergency {
            return;
        }
        let alert = Alert {
            id: p.id,
            lon: p.lon,
            lat: p.lat,
            date: p.received_ms,
        };
        tracing::warn!(vehicle = %alert.id, lon = alert.lon, lat = alert.lat, "emergency");
        let Some(url) = self.url.clone() else {
            metrics::counter!(telemetry::EMERGENCIES, "outcome" => "logged").increment(1);
            return;
        };
        let Ok(permit) = self.inflight.clone().try_acquire_owned() else {
            metrics::counter!(telemetry::EMERGENCIES, "outcome" => "dropped").increment(1);
            tracing::error!(vehicle = %alert.id, "too many emergency notifications in flight; dropped");
            return;
        };
        let client = self.client.clone();
        let attempts = self.attempts;
        tokio::spawn(async move {
            let _permit = permit;
            notify(&client, &url, &alert, attempts).await;
        });
    }
}

/// POSTs `alert`, retrying with backoff; counts the outcome.
async fn notify(client: &reqwest::Client, url: &str, alert: &Alert, attempts: u32) {
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=attempts {
        let error = match client.post(url).json(alert).send().await {
            Ok(response) if response.status().is_success() => {
                metrics::counter!(telemetry::EMERGENCIES, "outcome" => "sent").increment(1);
                return;
            }
            Ok(response) => format!("status {}", response.status()),
            Err(e) => e.to_string(),
        };
        tracing::warn!(vehicle = %alert.id, attempt, %error, "emergency notification failed");
        if attempt < attempts {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    metrics::counter!(telemetry::EMERGENCIES, "outcome" => "failed").increment(1);
    tracing::error!(vehicle = %alert.id, attempts, "emergency notification given up");
}
