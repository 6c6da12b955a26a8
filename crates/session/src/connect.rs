//! Bringing a run's cloud up: the built-in emulator, started in this
//! process with its state in the run's folder (so a resumed run, or a
//! clean-up, finds it again), or an endpoint — LocalStack, moto, a
//! standalone snaplab emulator — detected and connected (an endpoint that
//! is AWS is refused by `snaplab_cloud::endpoint` on the way), or the
//! learner's AWS account, when they chose it.

use std::net::SocketAddr;
use std::path::Path;

use snaplab_aws::plan::RunPlan as AwsPlan;
use snaplab_aws::{Account, AwsChoice};
use snaplab_cloud::target::{default_region, snaplab_health, DEFAULT_ACCESS_KEY};
use snaplab_cloud::{Target, TargetKind, TargetPace};
use snaplab_emulator::{Emulator, EmulatorConfig, Pace};
use snaplab_lab::{Mode, RunContext};

use crate::SessionError;

/// Where a run's cloud is.
#[derive(Debug, Clone)]
pub enum Where {
    /// The built-in emulator at `pace`, on 127.0.0.1:`port` (when free; any port otherwise).
    /// `hints`: error messages say what to do next (hands-on: the learner types the commands).
    Embedded { pace: Pace, port: Option<u16>, hints: bool },
    /// An endpoint, in `region` (`None`: the snaplab emulator's own, else
    /// the environment's), signing with `access_key` (`None`: the
    /// environment's key, else `test`).
    Endpoint {
        url: String,
        region: Option<String>,
        access_key: Option<String>,
    },
    /// The learner's AWS account, chosen explicitly; `plan` says what a new
    /// run launches (a recorded run has its resources already).
    Aws {
        choice: AwsChoice,
        plan: Option<Box<AwsPlan>>,
    },
}

impl Where {
    /// Where a recorded run ran: its endpoint and region as recorded. (A
    /// built-in emulator's pace comes back from its state folder.)
    pub fn recorded(ctx: &RunContext, port: Option<u16>) -> Self {
        match ctx.target.kind {
            TargetKind::Embedded => Self::Embedded {
                pace: Pace::default(),
                port,
                hints: ctx.mode == Mode::HandsOn,
            },
            TargetKind::Aws => Self::Aws {
                choice: AwsChoice {
                    profile: ctx.target.profile.clone(),
                    region: Some(ctx.target.region.clone()),
                },
                plan: None,
            },
            _ => Self::Endpoint {
                url: ctx.target.endpoint.clone(),
                region: Some(ctx.target.region.clone()),
                access_key: ctx.target.access_key.clone(),
            },
        }
    }
}

pub(crate) struct Connected {
    pub target: Target,
    pub pace: TargetPace,
    /// The built-in emulator, when the run uses it (stop it when done).
    pub emulator: Option<Emulator>,
    /// The account and the plan, when the run is on AWS.
    pub aws: Option<(Account, Option<AwsPlan>)>,
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
        Where::Embedded { pace, port, hints } => {
            let emulator = Emulator::start(EmulatorConfig {
                bind: loopback(port),
                pace,
                state_dir: Some(run_dir.join("emulator")),
                hints,
                ..EmulatorConfig::default()
            })
            .await
            .map_err(SessionError::Emulator)?;
            // The run's own emulator: the default account, whose SecureCart has the ids the docs show.
            let target = Target::connect(
                emulator.endpoint(),
                Some(TargetKind::Embedded),
                emulator.region(),
                Some(DEFAULT_ACCESS_KEY),
            )
            .await?;
            Ok(Connected {
                target,
                pace: lab_pace(emulator.pace()),
                emulator: Some(emulator),
                aws: None,
            })
        }
        Where::Endpoint {
            url,
            region,
            access_key,
        } => {
            let health = snaplab_health(&url).await;
            let region = region
                .or_else(|| health.as_ref().map(|(_, r)| r.clone()))
                .unwrap_or_else(default_region);
            let target = Target::connect(&url, None, &region, access_key.as_deref()).await?;
            Ok(Connected {
                target,
                pace: health.map_or(TargetPace::Unpaced, |(p, _)| p),
                emulator: None,
                aws: None,
            })
        }
        Where::Aws { choice, plan } => {
            let account = Account::open(&choice).await?;
            let ec2 = account.lab_ec2();
            let endpoint = ec2.endpoint().to_string();
            // A stand-in (snaplab's emulator behind AWS_ENDPOINT_URL) keeps its own pace.
            let pace = match account.endpoint() {
                Some(url) => snaplab_health(url).await.map_or(TargetPace::Aws, |(p, _)| p),
                None => TargetPace::Aws,
            };
            let target = Target {
                kind: TargetKind::Aws,
                ec2,
                endpoint,
                region: account.region.clone(),
                profile: account.profile.clone(),
                access_key: None,
            };
            Ok(Connected {
                target,
                pace,
                emulator: None,
                aws: Some((account, plan.map(|p| *p))),
            })
        }
    }
}
