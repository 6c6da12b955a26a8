//! snaplab's EC2 + EBS emulator.
//!
//! It answers the EC2 Query API like AWS does where the SecureCart lab looks:
//! snapshots stay `pending` for a while and their Progress rises, attaching
//! checks Availability Zones and device names, malformed ids are `Malformed`
//! and not `NotFound`. See `EBS-FACTS.md` for the rules it follows.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use snaplab_emulator::{Emulator, EmulatorConfig, Pace};
//! let emulator = Emulator::start(EmulatorConfig { pace: Pace::Instant, ..Default::default() }).await?;
//! println!("EC2 endpoint: {}", emulator.endpoint());
//! emulator.stop().await;
//! # Ok(()) }
//! ```

pub mod blocks;
pub mod clock;
mod ebs;
mod ec2;
pub mod error;
mod http;
pub mod ids;
pub mod model;
pub mod pace;
pub mod seed;
pub mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use clock::{Clock, ManualClock, SystemClock};
pub use ec2::ACTIONS;
pub use error::{Ec2Error, Ec2ErrorCode};
pub use pace::Pace;

use http::Shared;
use model::Cloud;

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free one.
    pub bind: SocketAddr,
    pub pace: Pace,
    /// Seed the SecureCart scenario (instance and volumes). Off for `--empty`.
    pub seeded: bool,
    pub region: String,
    pub clock: Arc<dyn Clock>,
    /// Seed for resource ids, for reproducible runs; random when `None`.
    pub id_seed: Option<u64>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            pace: Pace::default(),
            seeded: true,
            region: "us-east-1".to_string(),
            clock: Arc::new(SystemClock),
            id_seed: None,
        }
    }
}

/// A running emulator. Dropping it stops the listener.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    endpoint: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// How long `stop` waits for requests in flight before closing anyway.
const STOP_GRACE: Duration = Duration::from_millis(300);

impl Emulator {
    /// Binds the listener and starts serving; returns once requests are accepted.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            cloud: Mutex::new(build_cloud(&config)),
            clock: config.clock.clone(),
            pace: config.pace,
            region: config.region.clone(),
            started_at: config.clock.now(),
            tokens: ebs::Tokens::new(config.id_seed),
        });
        let app = http::router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            use axum::serve::ListenerExt;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "emulator listener failed");
            }
        });
        Ok(Self {
            addr,
            endpoint: format!("http://{addr}"),
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`: the endpoint URL for AWS clients.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pace(&self) -> Pace {
        self.shared.pace
    }

    /// Reads the emulated cloud's current state (settled to the clock's now).
    pub fn inspect<R>(&self, f: impl FnOnce(&Cloud) -> R) -> R {
        let now = self.shared.clock.now();
        self.shared.with_cloud(|cloud| {
            cloud.settle(now);
            f(cloud)
        })
    }

    /// Stops accepting requests, lets those in flight finish (briefly), and returns.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn build_cloud(config: &EmulatorConfig) -> Cloud {
    let mut cloud = Cloud::new(&config.region, config.pace, config.id_seed);
    if config.seeded {
        seed::securecart(&mut cloud, config.clock.now());
    }
    cloud
}

/// The router alone, for serving the emulator in-process without a socket.
pub fn router(config: &EmulatorConfig) -> axum::Router {
    http::router(Arc::new(Shared {
        cloud: Mutex::new(build_cloud(config)),
        clock: config.clock.clone(),
        pace: config.pace,
        region: config.region.clone(),
        started_at: config.clock.now(),
        tokens: ebs::Tokens::new(config.id_seed),
    }))
}
