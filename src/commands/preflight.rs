//! `snaplab preflight`: checks a real AWS account before a lab runs there —
//! who you are, where it would run, whether every call is allowed, what it
//! would cost. Creates nothing.

use std::process::ExitCode;

use snaplab_aws::plan::DEFAULT_INSTANCE_PROFILE;
use snaplab_aws::{preflight, Account, AwsChoice, Preflight, PreflightOptions};

use crate::commands::consent;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    snaplab preflight --profile lab --region eu-west-1   check the account behind profile 'lab'\n  \
    snaplab preflight --json                             one JSON object, for scripts\n  \
    snaplab preflight --policy                           print the least IAM policy a run needs\n\n\
    Credentials come from the AWS CLI's usual places (environment, ~/.aws/config and credentials,\n\
    IAM Identity Center after `aws sso login`, credential_process, assume-role profiles).\n\
    AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_EC2, _SSM, …) sends the calls elsewhere, e.g. to `snaplab emulator`.\n\n\
    Exit status: 0 when everything the lab needs is allowed, 1 when something is denied or missing, 2 on errors.")]
pub struct Args {
    /// The AWS profile to use (default: AWS_PROFILE, else the default chain).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,

    /// The region (default: AWS_REGION, else the profile's).
    #[arg(long, value_name = "REGION")]
    region: Option<String>,

    /// The lab to check for.
    #[arg(long, default_value = "securecart-snapshot", value_name = "LAB")]
    lab: String,

    /// The instance profile the lab's instance is launched with (a role with AmazonSSMManagedInstanceCore).
    #[arg(long, default_value = DEFAULT_INSTANCE_PROFILE, value_name = "NAME")]
    instance_profile: String,

    /// One JSON object on stdout: account, arn, region, zone, endpoint, checks, estimated_cost_usd.
    #[arg(long)]
    json: bool,

    /// Print the least IAM policy a real-AWS run needs (JSON) and exit; contacts nothing.
    #[arg(long)]
    policy: bool,

    /// First create the instance profile (an IAM role EC2 can take, with AmazonSSMManagedInstanceCore)
    /// if it is missing. It stays in the account for later runs; IAM costs nothing.
    #[arg(long)]
    create_instance_profile: bool,

    /// With --create-instance-profile: create it without asking.
    #[arg(long, requires = "create_instance_profile")]
    yes: bool,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.policy {
        println!("{}", serde_json::to_string_pretty(&snaplab_aws::policy::document())?);
        return Ok(ExitCode::SUCCESS);
    }
    let account = Account::open(&AwsChoice {
        profile: args.profile.clone(),
        region: args.region.clone(),
    })
    .await?;
    if !args.json {
        if let Some(note) = account.describe_endpoints() {
            eprintln!("{note}");
        }
    }
    if args.create_instance_profile {
        let me = account.identity().await?;
        let question = format!(
            "Create the IAM role and instance profile '{}' in account {} (if missing; they stay for later runs)?",
            args.instance_profile, me.account
        );
        if !consent::ask(&question, args.yes)? {
            eprintln!("Nothing was created.");
            return Ok(ExitCode::from(1));
        }
        for line in snaplab_aws::instance_profile::create(&account, &args.instance_profile).await? {
            eprintln!("  {line}");
        }
    }
    if !args.json {
        eprintln!("Checking the account (nothing is created)…");
    }
    let report = preflight(
        &account,
        &PreflightOptions {
            lab_id: args.lab.clone(),
            instance_profile: args.instance_profile.clone(),
        },
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(if report.ready() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The preflight as text: identity, one line per check, what would be created, the cost.
pub fn render(p: &Preflight) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Account {} as {}\nRegion {}, zone {}\n",
        p.account,
        p.arn,
        p.region,
        p.zone.as_deref().unwrap_or("(none found)")
    ));
    if let Some(endpoint) = &p.endpoint {
        out.push_str(&format!("Calls went to {endpoint}, not to AWS.\n"));
    }
    out.push('\n');
    let width = p.checks.iter().map(|c| c.action.len()).max().unwrap_or(0);
    for c in &p.checks {
        let mark = match c.allowed {
            Some(true) => "ok  ",
            Some(false) => "NO  ",
            None => "??  ",
        };
        out.push_str(&format!("{mark}{:width$}  {}\n", c.action, c.detail));
        for s in &c.statements {
            out.push_str("      allowed by this statement of the least policy (snaplab preflight --policy):\n");
            let text = serde_json::to_string_pretty(s).unwrap_or_default();
            for line in text.lines() {
                out.push_str(&format!("        {line}\n"));
            }
        }
    }
    out.push_str("\nA run would create, tagged snaplab:run and snaplab:lab, and delete at the end:\n");
    for r in p.plan.resources() {
        out.push_str(&format!("  - {r}\n"));
    }
    out.push_str(&format!(
        "Instance type {}: {}.\n",
        p.plan.instance_type, p.plan.instance_type_reason
    ));
    out.push_str(&format!(
        "\nEstimated cost: ${:.4} for about {} minutes ({}prices checked {}):\n",
        p.estimated_cost_usd,
        p.plan.expected_minutes,
        if p.cost.region_priced {
            ""
        } else {
            "no prices for this region in snaplab's table: us-east-1's used; "
        },
        p.prices_checked
    ));
    for line in &p.cost.lines {
        out.push_str(&format!("  ${:.4}  {}\n", line.usd, line.item));
    }
    let (denied, unknown) = (
        p.checks.iter().filter(|c| c.allowed == Some(false)).count(),
        p.checks.iter().filter(|c| c.allowed.is_none()).count(),
    );
    out.push('\n');
    if p.ready() {
        out.push_str("Ready: everything the lab needs is allowed and there.\n");
    } else {
        out.push_str(&format!(
            "Not ready: {denied} denied or missing, {unknown} could not be told. Fix those above, then run preflight again.\n"
        ));
    }
    out
}
