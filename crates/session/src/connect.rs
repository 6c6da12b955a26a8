//! Bringing a run's cloud up: the built-in emulator, started in this
//! process with its state in the run's folder (so a resumed run, or a
//! clean-up, finds it again), or an endpoint — LocalStack, moto, a
//! standalone snaplab emulator — detected and connected. Real AWS is
//! refused by `snaplab_cloud::endpoint` on the way.

use std::net::SocketAddr;
use std::path::Path;

use snaplab_cloud::target::{default_region, snaplab_health};
use snaplab_cloud::{Target, TargetKind, TargetPace};
use snaplab_emulator::{Emulator, EmulatorConfig, Pace};
use snaplab_lab::RunContext;

use crate::SessionError;

/// Where a run's cloud is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Where {
    /// The built-in emulator at `pace`, on 127.0.0.1:`port` (when free; any port otherwise).
    Embedded { pace: Pace, port: Option<u16> },
    /// An endpoint, in `region` (`None`: the snaplab emulator's own, else the environment's).
    Endpoint { url: String, region: Option<String> },
}

impl Where {
    /// Where a recorded run ran: its endpoint and region as recorded. (A
    /// built-in emulator's pace comes back from its state folder.)
    pub fn recorded(ctx: &RunContext, port: Option<u16>) -> Self {
        match ctx.target.kind {
            TargetKind::Embedded => Self::Embedded {
                pace: Pace::default(),
                port,
            },
            _ => Self::Endpoint {
                url: ctx.target.endpoint.clone(),
                region: Some(ctx.target.region.clone()),
            },
        }
    }
}

pub(crate) struct Connected {
    pub target: Target,
    pub pace: TargetPace,
    /// The built-in emulator, when the run uses it (stop it when done).
    pub emulator: Option<Emulator>,
}

fn lab_pace(pace: Pace) -> TargetPace {
    match pace {
        Pace::Instant => TargetPace::Instant,
        Pace::Demo => TargetPace::Demo,
        Pace::Realistic => TargetPace::Realistic,
    }
}

/// The port asked for when it is free, else any free port.
fn loopback(port: Option<u16>) -> SocketAddr {
    match port {
        Some(p) if p != 0 && std::net::TcpListener::bind(("127.0.0.1", p)).is_ok() => {
            SocketAddr::from(([127, 0, 0, 1], p))
        }
        _ => SocketAddr::from(([127, 0, 0, 1], 0)),
    }
}

/// Brings the cloud up; the built-in emulator keeps its state in `run_dir/emulator`.
pub(crate) async fn connect(place: Where, run_dir: &Path) -> Result<Connected, SessionError> {
    match place {
        Where::Embedded { pace, port } => {
            let emulator = Emulator::start(EmulatorConfig {
                bind: loopback(port),
                pace,
                state_dir: Some(run_dir.join("emulator")),
                ..EmulatorConfig::default()
            })
            .await
            .map_err(SessionError::Emulator)?;
            let target = Target::connect(emulator.endpoint(), Some(TargetKind::Embedded), emulator.region()).await?;
            Ok(Connected {
                target,
                pace: lab_pace(emulator.pace()),
                emulator: Some(emulator),
            })
        }
        Where::Endpoint { url, region } => {
            let health = snaplab_health(&url).await;
            let region = region
                .or_else(|| health.as_ref().map(|(_, r)| r.clone()))
                .unwrap_or_else(default_region);
            let target = Target::connect(&url, None, &region).await?;
            Ok(Connected {
                target,
                pace: health.map_or(TargetPace::Unpaced, |(p, _)| p),
                emulator: None,
            })
        }
    }
}
