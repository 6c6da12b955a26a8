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
pub mod deny;
mod ebs;
mod ec2;
pub mod error;
mod events;
pub mod first_read;
pub mod host;
mod http;
mod iam;
pub mod ids;
pub mod metrics;
pub mod model;
pub mod pace;
pub mod persist;
pub mod seed;
mod sns;
mod ssm;
mod sts;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use clock::{Clock, ManualClock, SystemClock};
pub use ec2::ACTIONS;
pub use error::{Ec2Error, Ec2ErrorCode};
pub use pace::Pace;
pub use sts::account_for_key;

use http::Shared;
use model::{Cloud, World};

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
    /// Keep the cloud in this directory and pick it up again on the next start.
    /// Pace, region, scenario and seed then come from the directory, not from here.
    pub state_dir: Option<PathBuf>,
    /// Actions to refuse as if the caller's policy did not allow them (`--deny`).
    pub deny: deny::DenyList,
    /// Run SSM commands as local processes, each instance in a sandbox under
    /// this directory ([`host`]). Loopback only: it runs what it is sent.
    pub run_commands: Option<PathBuf>,
    /// Append a learner's hint (what to do next) to AWS's error messages
    /// (`--hints`; the lab's built-in emulator in hands-on mode). Off: AWS's words only.
    pub hints: bool,
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
            state_dir: None,
            deny: deny::DenyList::default(),
            run_commands: None,
            hints: false,
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
        if config.run_commands.is_some() && !config.bind.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "--run-commands runs whatever it is sent as local processes, so it listens on loopback only; {} is not a loopback address",
                    config.bind
                ),
            ));
        }
        // Replaying a state directory's journal reads files: off the async threads.
        let shared = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || build_shared(&config))
                .await
                .map_err(std::io::Error::other)??
        };
        let shared = Arc::new(shared);
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
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

    /// The pace in force (a state directory's own pace wins over the config's).
    pub fn pace(&self) -> Pace {
        self.shared.pace
    }

    pub fn region(&self) -> &str {
        &self.shared.region
    }

    /// Reads the home scope's cloud (settled to the clock's now): the
    /// default account in the region the emulator was started for.
    pub fn inspect<R>(&self, f: impl FnOnce(&Cloud) -> R) -> R {
        let now = self.shared.clock.now();
        self.shared.with_world(|world| {
            world.settle(now);
            f(world.home_cloud())
        })
    }

    /// Stops accepting requests, lets those in flight finish (briefly),
    /// writes the journal's queue and lets go of the state folder.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                task.abort();
            }
        }
        let shared = self.shared.clone();
        // (Its instances' processes are killed on drop, below, as `self` goes.)
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(journal) = &shared.journal {
                journal.finish();
            }
        })
        .await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(hosts) = &self.shared.hosts {
            hosts.stop_all();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The cloud and everything around it: fresh, or replayed from a state directory.
fn build_shared(config: &EmulatorConfig) -> std::io::Result<Shared> {
    let fresh = persist::JournalHeader {
        format: persist::FORMAT,
        seed: config.id_seed.unwrap_or_else(|| fastrand::u64(..)),
        region: config.region.clone(),
        pace: config.pace,
        seeded: config.seeded,
        created_at: config.clock.now(),
    };
    let (header, journal, entries) = match &config.state_dir {
        Some(dir) => {
            let (journal, header, entries) = persist::Journal::open(dir, fresh)?;
            (header, Some(journal), entries)
        }
        None => (fresh, None, Vec::new()),
    };
    let scenario = header.seeded.then_some(header.created_at);
    let mut world = World::new(&header.region, header.pace, Some(header.seed), scenario).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "'{}' is not an AWS region; use one of: {}",
                header.region,
                model::zone::regions().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let tokens = ebs::Tokens::new(Some(header.seed));
    let replayed = entries.len();
    for entry in entries {
        match entry {
            persist::Entry::Ec2 { now, scope, params } => {
                let replayed = world.in_scope(&scope, now, |cloud, world| {
                    ec2::handle(cloud, world, &params, now, "replay")
                });
                if let Err(e) = replayed {
                    tracing::warn!(error = %e, "a journaled request failed on replay");
                }
            }
            persist::Entry::Write {
                now,
                scope,
                volume_id,
                offset,
                data,
            } => {
                let written = match scope {
                    Some(scope) => {
                        world.in_scope(&scope, now, |cloud, _| cloud.write_volume(&volume_id, offset, &data))
                    }
                    // A journal from before writes had scopes: the volume's holder.
                    None => {
                        world.settle(now);
                        world.holding_volume(&volume_id).write_volume(&volume_id, offset, &data)
                    }
                };
                if let Err(e) = written {
                    tracing::warn!(error = %e, "a journaled write failed on replay");
                }
            }
            persist::Entry::Ebs { now, scope, call } => {
                let replayed = world.in_scope(&scope, now, |cloud, _| ebs::replay(cloud, &tokens, &call, now));
                if let Err(e) = replayed {
                    tracing::warn!(error = %e, "a journaled EBS request failed on replay");
                }
            }
        }
    }
    if replayed > 0 {
        tracing::info!(replayed, "emulator state picked up from its journal");
    }
    Ok(Shared {
        world: Mutex::new(world),
        clock: config.clock.clone(),
        pace: header.pace,
        region: header.region.clone(),
        started_at: config.clock.now(),
        tokens,
        journal: journal.map(|j| Arc::new(persist::JournalQueue::new(j))),
        deny: config.deny.clone(),
        commands: ssm::Commands::default(),
        hints: config.hints,
        first_read: first_read::FirstReadCost::new(header.pace.timings().first_read_per_block),
        metrics: Arc::default(),
        hosts: match &config.run_commands {
            Some(dir) => Some(Arc::new(host::Hosts::new(dir, config.clock.clone())?)),
            None => None,
        },
    })
}

/// The router alone, for serving the emulator in-process without a socket.
pub fn router(config: &EmulatorConfig) -> std::io::Result<axum::Router> {
    Ok(http::router(Arc::new(build_shared(config)?)))
}
