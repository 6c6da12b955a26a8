//! Before a lab runs on real AWS: the preflight, then the learner's consent
//! to what will be created, where, and what it costs (or `--yes`).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::bail;
use snaplab_aws::plan::RunPlan;
use snaplab_aws::{preflight, Account, AwsChoice, PreflightOptions};

use crate::commands::preflight::render;

/// `--profile`, `--region` and `--yes` of the commands that act on an AWS
/// account when given `--aws` (`snaplab run`, `snaplab cleanup`).
#[derive(Debug, clap::Args)]
pub struct AwsAccountArgs {
    /// With --aws: the AWS profile (default: AWS_PROFILE, else the default chain).
    #[arg(long, value_name = "NAME", requires = "aws")]
    pub profile: Option<String>,

    /// With --aws: the region (default: AWS_REGION, else the profile's).
    #[arg(long, value_name = "REGION", requires = "aws")]
    pub region: Option<String>,

    /// With --aws: agree without being asked (to what a run creates, or to what a clean-up deletes).
    #[arg(long, requires = "aws")]
    pub yes: bool,
}

impl AwsAccountArgs {
    pub fn choice(&self) -> AwsChoice {
        AwsChoice {
            profile: self.profile.clone(),
            region: self.region.clone(),
        }
    }
}

/// Asks `question` on the terminal (yes/no), or takes `yes` for the answer.
/// With no terminal and no `yes`, refuses: nothing is created unasked.
pub fn ask(question: &str, yes: bool) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        bail!("this needs your consent, and there is no terminal to ask it in: pass --yes to agree");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// Preflight and consent. `None`: the preflight found problems (already
/// shown); the run must not start.
pub async fn prepare(lab: &str, args: &AwsAccountArgs) -> anyhow::Result<Option<(AwsChoice, RunPlan)>> {
    let (account, yes) = (Account::open(&args.choice()).await?, args.yes);
    if let Some(note) = account.describe_endpoints() {
        eprintln!("{note}");
    }
    eprintln!("Preflight: checking the account before anything is created…");
    let options = PreflightOptions {
        lab_id: lab.to_string(),
        instance_profile: snaplab_aws::plan::DEFAULT_INSTANCE_PROFILE.to_string(),
    };
    let report = preflight(&account, &options).await?;
    let mut report = report;
    if !report.ready() && report.only_instance_profile_missing() && std::io::stdin().is_terminal() {
        eprint!("{}", render(&report));
        let question = format!(
            "Only the instance profile is missing. Create the IAM role and instance profile '{}' in account {} now (they stay for later runs; IAM costs nothing)?",
            options.instance_profile, report.account
        );
        if ask(&question, false)? {
            for line in snaplab_aws::instance_profile::create(&account, &options.instance_profile).await? {
                eprintln!("  {line}");
            }
            report = preflight(&account, &options).await?;
        }
    }
    if !report.ready() {
        eprint!("{}", render(&report));
        if report.only_instance_profile_missing() {
            eprintln!(
                "Only the instance profile is missing: `snaplab preflight --create-instance-profile` creates it (once per account)."
            );
        }
        eprintln!("Nothing was created: fix what the preflight reports, then run again.");
        return Ok(None);
    }
    eprint!("{}", report.consent_text());
    if !ask("Create them?", yes)? {
        eprintln!("Nothing was created.");
        return Ok(None);
    }
    Ok(Some((
        AwsChoice {
            profile: account.profile.clone(),
            region: Some(account.region.clone()),
        },
        report.plan,
    )))
}
