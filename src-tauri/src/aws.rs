//! The window's real-AWS commands: the learner's profiles, the preflight
//! (kept until the learner consents, so the run launches exactly what they
//! agreed to), the instance profile, and clean-up by tag. Thin calls into
//! `snaplab_aws`, the same code the CLI's `--aws` path runs.

use serde::{Deserialize, Serialize};
use snaplab_aws::cleanup::{delete, find, Leftover, Leftovers, Runs};
use snaplab_aws::plan::{RunPlan, DEFAULT_INSTANCE_PROFILE};
use snaplab_aws::profiles::{ProfileKind, Profiles};
use snaplab_aws::{preflight, Account, AwsChoice, Preflight, PreflightOptions};
use tauri::State;

use crate::commands::{CleanupDone, CommandError};
use crate::state::AppState;

type Result<T> = std::result::Result<T, CommandError>;

/// The account the learner picked: a profile and a region, each optional
/// (the default credential chain and the profile's region decide).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AwsAccount {
    pub profile: Option<String>,
    pub region: Option<String>,
}

impl AwsAccount {
    /// Blank fields mean "not chosen".
    fn choice(&self) -> AwsChoice {
        let chosen = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from);
        AwsChoice {
            profile: chosen(&self.profile),
            region: chosen(&self.region),
        }
    }
}

/// A profile in the learner's AWS config files, for the picker.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AwsProfile {
    pub name: String,
    /// How it gets credentials, in words (e.g. "IAM Identity Center").
    pub kind: String,
    pub region: Option<String>,
    /// Why snaplab cannot use it (an MFA prompt), when it cannot.
    pub unusable: Option<String>,
}

/// What the start screen needs to offer real AWS.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AwsSetup {
    pub profiles: Vec<AwsProfile>,
    /// `AWS_PROFILE`, when set: the picker's default.
    pub env_profile: Option<String>,
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`), when set.
    pub env_region: Option<String>,
}

fn kind_words(kind: &ProfileKind) -> &'static str {
    match kind {
        ProfileKind::Sso => "IAM Identity Center (SSO)",
        ProfileKind::MfaRole => "role with MFA",
        ProfileKind::AssumeRole => "assumed role",
        ProfileKind::CredentialProcess => "credential_process",
        ProfileKind::StaticKeys => "access keys",
        ProfileKind::Other => "other",
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The learner's profiles, read from the shared config files as the AWS CLI reads them.
#[tauri::command]
pub async fn aws_setup() -> AwsSetup {
    let profiles = Profiles::load()
        .await
        .list()
        .into_iter()
        .map(|p| AwsProfile {
            unusable: (p.kind == ProfileKind::MfaRole).then(|| {
                "it asks for an MFA code, which snaplab cannot prompt for: use an SSO profile or session credentials"
                    .to_string()
            }),
            kind: kind_words(&p.kind).to_string(),
            name: p.name,
            region: p.region,
        })
        .collect();
    AwsSetup {
        profiles,
        env_profile: env("AWS_PROFILE"),
        env_region: env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")),
    }
}

/// One preflight check as the panel shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PreflightCheck {
    /// `service:Action`.
    pub action: String,
    /// true: allowed (or there); false: denied (or missing); null: could not tell.
    pub allowed: Option<bool>,
    pub detail: String,
    /// For a denied action: the statements of the least policy that allow it, as JSON text.
    pub statements: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CostItem {
    pub item: String,
    pub usd: f64,
}

/// The preflight, for the panel and the consent dialog.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PreflightView {
    pub account: String,
    pub arn: String,
    pub region: String,
    pub zone: Option<String>,
    /// Said whenever calls do not go to AWS itself (an endpoint override is set).
    pub endpoint_note: Option<String>,
    pub checks: Vec<PreflightCheck>,
    /// Everything the run needs is allowed and there: it may start.
    pub ready: bool,
    /// The only thing missing is the instance profile, which the app can create.
    pub only_instance_profile_missing: bool,
    pub instance_profile: String,
    /// What a run would create, a line each.
    pub resources: Vec<String>,
    pub instance_type: String,
    pub instance_type_reason: String,
    pub expected_minutes: u32,
    pub estimated_cost_usd: f64,
    pub cost: Vec<CostItem>,
    /// False when the region's prices were missing and us-east-1's were used.
    pub region_priced: bool,
    pub prices_checked: String,
    /// What the learner agrees to, as the CLI asks it.
    pub consent: String,
}

fn view(p: &Preflight, endpoint_note: Option<String>) -> PreflightView {
    PreflightView {
        account: p.account.clone(),
        arn: p.arn.clone(),
        region: p.region.clone(),
        zone: p.zone.clone(),
        endpoint_note,
        checks: p
            .checks
            .iter()
            .map(|c| PreflightCheck {
                action: c.action.clone(),
                allowed: c.allowed,
                detail: c.detail.clone(),
                statements: c
                    .statements
                    .iter()
                    .map(|s| serde_json::to_string_pretty(s).unwrap_or_default())
                    .collect(),
            })
            .collect(),
        ready: p.ready(),
        only_instance_profile_missing: p.only_instance_profile_missing(),
        instance_profile: p.plan.instance_profile.clone(),
        resources: p.plan.resources(),
        instance_type: p.plan.instance_type.clone(),
        instance_type_reason: p.plan.instance_type_reason.clone(),
        expected_minutes: p.plan.expected_minutes,
        estimated_cost_usd: p.estimated_cost_usd,
        cost: p
            .cost
            .lines
            .iter()
            .map(|l| CostItem {
                item: l.item.clone(),
                usd: l.usd,
            })
            .collect(),
        region_priced: p.cost.region_priced,
        prices_checked: p.prices_checked.clone(),
        consent: p.consent_text(),
    }
}

/// A preflight that found everything allowed: what a run on that account
/// may launch once the learner consents. Taken by the run it starts.
#[derive(Debug, Clone)]
pub struct Cleared {
    /// What the learner picked (the start must name the same).
    pub asked: AwsAccount,
    pub lab: String,
    /// The account as resolved (profile and region).
    pub choice: AwsChoice,
    pub plan: RunPlan,
}

/// Checks the account before anything is created (nothing is). A ready
/// preflight is kept for the start that follows the learner's consent.
#[tauri::command]
pub async fn aws_preflight(state: State<'_, AppState>, lab: String, account: AwsAccount) -> Result<PreflightView> {
    check_account(&state, lab, account).await
}

pub async fn check_account(state: &AppState, lab: String, asked: AwsAccount) -> Result<PreflightView> {
    state
        .catalog
        .get(&lab)
        .map_err(|e| CommandError::Invalid(e.to_string()))?;
    let opened = Account::open(&asked.choice()).await?;
    let report = preflight(
        &opened,
        &PreflightOptions {
            lab_id: lab.clone(),
            instance_profile: DEFAULT_INSTANCE_PROFILE.to_string(),
        },
    )
    .await?;
    let shown = view(&report, opened.describe_endpoints());
    *state.cleared.lock().await = report.ready().then(|| Cleared {
        asked,
        lab,
        choice: AwsChoice {
            profile: opened.profile.clone(),
            region: Some(opened.region.clone()),
        },
        plan: report.plan,
    });
    Ok(shown)
}

/// The run a start on AWS may launch: the last ready preflight, for the
/// same lab and account. Taken, so each consent starts one run.
pub async fn take_cleared(state: &AppState, lab: &str, asked: &AwsAccount) -> Result<(AwsChoice, RunPlan)> {
    let mut cleared = state.cleared.lock().await;
    match cleared.take_if(|c| c.lab == lab && c.asked.choice() == asked.choice()) {
        Some(c) => Ok((c.choice, c.plan)),
        None => Err(CommandError::Invalid(
            "check this account first (Preflight): a run on AWS starts only after a preflight that found everything allowed, and your consent".into(),
        )),
    }
}

/// Creates the IAM role and instance profile the lab's instance needs (once
/// per account; they stay). Returns what was done, a line each.
#[tauri::command]
pub async fn aws_create_instance_profile(account: AwsAccount) -> Result<Vec<String>> {
    let opened = Account::open(&account.choice()).await?;
    Ok(snaplab_aws::instance_profile::create(&opened, DEFAULT_INSTANCE_PROFILE).await?)
}

/// What carries snaplab's tags in an account and region.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AwsLeftovers {
    pub region: String,
    pub endpoint_note: Option<String>,
    pub items: Vec<Leftover>,
}

fn leftover_list(account: &Account, found: &Leftovers) -> AwsLeftovers {
    AwsLeftovers {
        region: account.region.clone(),
        endpoint_note: account.describe_endpoints(),
        items: found.all().cloned().collect(),
    }
}

/// The account a recorded AWS run used (its profile and region; never a credential).
async fn account_of_run(state: &AppState, run_id: &str) -> Result<AwsAccount> {
    let target = state.store.context(run_id).await?.target;
    if target.kind != snaplab_cloud::TargetKind::Aws {
        return Err(CommandError::Invalid(format!("run {run_id} did not run on AWS")));
    }
    Ok(AwsAccount {
        profile: target.profile,
        region: Some(target.region),
    })
}

/// Which account and runs a search by tag covers: one recorded run (in the
/// account it ran in), or every run in the account the learner picked.
async fn scope(state: &AppState, account: Option<AwsAccount>, run_id: Option<String>) -> Result<(Account, Runs)> {
    let (asked, runs) = match run_id {
        Some(id) => (account_of_run(state, &id).await?, Runs::One(id)),
        None => (account.unwrap_or_default(), Runs::All),
    };
    Ok((Account::open(&asked.choice()).await?, runs))
}

/// Lists what carries snaplab's tags (of one run, or of every run): what a
/// clean-up would delete, for the learner to confirm.
#[tauri::command]
pub async fn aws_leftovers(
    state: State<'_, AppState>,
    account: Option<AwsAccount>,
    run_id: Option<String>,
) -> Result<AwsLeftovers> {
    list_leftovers(&state, account, run_id).await
}

pub async fn list_leftovers(
    state: &AppState,
    account: Option<AwsAccount>,
    run_id: Option<String>,
) -> Result<AwsLeftovers> {
    let (opened, runs) = scope(state, account, run_id).await?;
    let found = find(&opened, &runs).await?;
    Ok(leftover_list(&opened, &found))
}

/// Deletes every resource in the account that carries both snaplab tags
/// (`snaplab cleanup --aws --all`), after the learner confirmed the list.
#[tauri::command]
pub async fn aws_delete_leftovers(state: State<'_, AppState>, account: AwsAccount) -> Result<CleanupDone> {
    if let Some(run) = state.active.lock().await.as_ref().filter(|r| r.on_aws) {
        return Err(CommandError::Busy(run.run_id.clone()));
    }
    delete_leftovers(account).await
}

pub async fn delete_leftovers(account: AwsAccount) -> Result<CleanupDone> {
    let opened = Account::open(&account.choice()).await?;
    let found = find(&opened, &Runs::All).await?;
    let left = found.all().count();
    let deleted = delete(&opened, &found, &|step| tracing::info!("clean-up: {step}")).await?;
    let still = find(&opened, &Runs::All).await?.all().count();
    let message = match (left, still) {
        (0, _) => format!("Nothing tagged by snaplab is left in {}.", opened.region),
        (_, 0) => format!(
            "Deleted {deleted}; nothing tagged by snaplab is left in {}.",
            opened.region
        ),
        (_, n) => format!("Deleted {deleted}; {n} are still there (a deletion may take a minute): try again shortly."),
    };
    Ok(CleanupDone { deleted, left, message })
}
