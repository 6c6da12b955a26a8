//! `snaplab emulator`: the EC2/EBS emulator as a standalone endpoint.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use snaplab_emulator::deny::DenyList;
use snaplab_emulator::{seed, Emulator, EmulatorConfig, Pace};

#[derive(Debug, clap::Args)]
#[command(after_help = "Then point any AWS client at it, e.g.:\n  \
    export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1\n  \
    aws ec2 describe-volumes --volume-ids vol-0123456789abcdef0")]
pub struct Args {
    /// Address to listen on (port 0 picks a free port). Loopback by default: keep it that way unless you mean to share it. A classroom: 0.0.0.0:4566 (or the class network's interface), and the emulator says what that exposes and how to keep it to the class.
    #[arg(long, default_value = "127.0.0.1:4566", value_name = "ADDR")]
    bind: SocketAddr,

    /// How long snapshots and attachments take: instant (no waiting), demo (snapshots pending for several seconds), realistic (EBS-like).
    #[arg(long, default_value = "demo", value_name = "PACE")]
    pace: Pace,

    /// Start with no resources instead of the SecureCart scenario (instance i-0a1b2c3d4e5f60789, volume vol-0123456789abcdef0).
    #[arg(long)]
    empty: bool,

    /// The home region: where the SecureCart scenario is seeded and where unsigned requests act. Every commercial region is served (a request acts in the region it is signed for, an access key of 12 digits is that account, as in LocalStack).
    #[arg(long, default_value = "us-east-1", value_name = "REGION", value_parser = parse_region)]
    region: String,

    /// Keep the emulated cloud in DIR and pick it up again on the next start (its pace, region and scenario then come from DIR).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<std::path::PathBuf>,

    /// Refuse these actions as a policy that does not allow them would (EC2 UnauthorizedOperation, also for DryRun;
    /// IAM/STS AccessDenied; SSM AccessDeniedException), e.g. --deny ec2:RunInstances,ssm:SendCommand. For trying the
    /// real-AWS preflight and seeing permission errors.
    #[arg(long, value_name = "ACTIONS", value_parser = parse_deny)]
    deny: Option<DenyList>,

    /// Run SSM Run Command (AWS-RunShellScript) for real: each instance launched with the SSM instance profile gets
    /// a sandbox under DIR where its attached volumes appear as files at /dev/disk/by-id/…, and commands run as
    /// local processes there (SNAPLAB_ROOT names the sandbox). Loopback only: it runs what it is sent.
    #[arg(long, value_name = "DIR")]
    run_commands: Option<std::path::PathBuf>,

    /// After AWS's own error message, say what to do next (e.g. "List volumes with aws ec2 describe-volumes.").
    /// Off by default, so scripts that match AWS's messages see AWS's words; the lab's built-in emulator turns it on
    /// in hands-on mode.
    #[arg(long)]
    hints: bool,
}

fn parse_region(region: &str) -> Result<String, String> {
    use snaplab_emulator::model::zone;
    if zone::is_region(region) {
        Ok(region.to_string())
    } else {
        Err(format!(
            "not an AWS region; use one of: {}",
            zone::regions().collect::<Vec<_>>().join(", ")
        ))
    }
}

fn parse_deny(spec: &str) -> Result<DenyList, String> {
    DenyList::parse(spec).map_err(|e| e.to_string())
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = EmulatorConfig {
        bind: args.bind,
        pace: args.pace,
        seeded: !args.empty,
        region: args.region.clone(),
        state_dir: args.state_dir.clone(),
        deny: args.deny.clone().unwrap_or_default(),
        run_commands: args.run_commands.clone(),
        hints: args.hints,
        ..EmulatorConfig::default()
    };
    if args.run_commands.is_some() && !args.bind.ip().is_loopback() {
        anyhow::bail!(
            "--run-commands runs whatever it is sent as local processes, so the emulator then listens on loopback only: use --bind 127.0.0.1:PORT"
        );
    }
    let emulator = Emulator::start(config).await.with_context(|| {
        format!(
            "cannot start the emulator on {}: is another emulator (or LocalStack) already running there? Pick another with --bind 127.0.0.1:4567",
            args.bind
        )
    })?;
    let endpoint = emulator.endpoint().to_string();
    // The one line on stdout: scripts and tests wait for it.
    println!(
        "snaplab emulator ready at {endpoint} (pace {}, region {})",
        args.pace, args.region
    );
    eprintln!("Point the aws CLI at it:");
    eprintln!(
        "  export AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION={}",
        args.region
    );
    if !args.empty {
        eprintln!("  aws ec2 describe-volumes --volume-ids {}", seed::DATA_VOLUME_ID);
    }
    if let Some(notice) = exposure_notice(emulator.addr(), &args.region) {
        eprintln!("{notice}");
    }
    if let Some(dir) = &args.run_commands {
        eprintln!(
            "Running SSM commands as local processes, in sandboxes under {}",
            dir.display()
        );
    }
    if let Some(deny) = args.deny.as_ref().filter(|d| !d.is_empty()) {
        eprintln!("Refusing, as a policy without them would: {deny}");
    }
    eprintln!("Stop with Ctrl-C.");
    wait_for_stop_signal().await?;
    emulator.stop().await;
    Ok(ExitCode::SUCCESS)
}

/// What listening beyond loopback exposes, and how to keep it to a class.
fn exposure_notice(bind: SocketAddr, region: &str) -> Option<String> {
    let port = bind.port();
    if bind.ip().is_loopback() {
        return None;
    }
    let host = match bind.ip().is_unspecified() {
        true => outbound_address().map_or_else(|| "<this machine's address>".to_string(), |ip| ip.to_string()),
        false => bind.ip().to_string(),
    };
    Some(format!(
        "Listening on {bind}: any machine that can reach this one on port {port} can use this emulator.\n\
         \x20 It checks no signature or password: whoever reaches it can create, read and delete what every learner made,\n\
         \x20 and learners using the same access key share one world (one SecureCart instance and volume).\n\
         Keep it on the class network:\n\
         \x20 bind the class network's interface (--bind <its address>:{port}) rather than every interface,\n\
         \x20 let only the class's subnet in, e.g. sudo ufw default deny incoming; sudo ufw allow from 192.168.10.0/24 to any port {port} proto tcp,\n\
         \x20 and stop it (Ctrl-C) when the class ends.\n\
         Learners point at it with:\n\
         \x20 export AWS_ENDPOINT_URL=http://{host}:{port} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION={region}"
    ))
}

/// This machine's address on its default route (a UDP "connect" sends
/// nothing), for the line learners copy.
fn outbound_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

async fn wait_for_stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    Ok(())
}
