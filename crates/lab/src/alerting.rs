//! The snapshot-alerts lab's actions: an SNS topic with an email
//! subscription, an EventBridge rule for failed `createSnapshot`
//! notifications targeting it, and a snapshot made to fail so the alert
//! arrives — in the emulator's inbox, which the run reads for the learner
//! (the app's inbox panel, the CLI's output).

use snaplab_cloud::{Alerts, Delivery};

use crate::actions::wait;
use crate::context::{ResourceKind, ResourceRole};
use crate::error::LabError;
use crate::events::Level;
use crate::scope::RunScope;

pub const TOPIC_NAME: &str = "securecart-snapshot-alerts";
pub const RULE_NAME: &str = "securecart-snapshot-failed";
pub const SUBSCRIBER: &str = "ops@securecart.example";
/// The rule's event pattern: failed `createSnapshot` notifications from EBS.
pub const PATTERN: &str = r#"{"source":["aws.ec2"],"detail-type":["EBS Snapshot Notification"],"detail":{"event":["createSnapshot"],"result":["failed"]}}"#;
/// Why the lab's snapshot fails (its `StateMessage`, and the alert's `cause`).
pub const FAILURE: &str = "The snapshot failed: the lab asked the emulator to fail it, so you can see the alert.";

/// The topic, rule and inbox of a run of the snapshot-alerts lab.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlertSetup {
    pub topic_arn: Option<String>,
    /// What the topic delivered, oldest first.
    pub inbox: Vec<Delivery>,
}

/// The run's SNS and EventBridge clients, reporting to its API log.
pub(crate) fn alerts(scope: &RunScope) -> Alerts {
    Alerts::for_endpoint(&scope.cloud.endpoint, &scope.cloud.endpoint_scope())
        .observed(scope.api_observer(), scope.step())
}

pub(crate) async fn create_topic(scope: &mut RunScope) -> Result<(), LabError> {
    let arn = alerts(scope).create_topic(TOPIC_NAME).await?;
    note_topic(scope, &arn).await
}

/// Records the run's topic (clean-up deletes it).
pub(crate) async fn note_topic(scope: &mut RunScope, arn: &str) -> Result<(), LabError> {
    scope
        .record_created(ResourceKind::AlertTopic, arn, ResourceRole::Alerting)
        .await?;
    if scope.ctx.alerts.topic_arn.as_deref() != Some(arn) {
        scope.ctx.alerts.topic_arn = Some(arn.to_string());
        scope.record_context().await?;
    }
    Ok(())
}

pub(crate) fn topic_arn(scope: &RunScope) -> Result<String, LabError> {
    scope
        .ctx
        .alerts
        .topic_arn
        .clone()
        .ok_or(LabError::NotYet(crate::error::Prerequisite::AlertTopic))
}

pub(crate) async fn subscribe(scope: &mut RunScope) -> Result<(), LabError> {
    let topic = topic_arn(scope)?;
    alerts(scope).subscribe(&topic, "email", SUBSCRIBER).await?;
    Ok(())
}

pub(crate) async fn put_rule(scope: &mut RunScope) -> Result<(), LabError> {
    alerts(scope).put_rule(RULE_NAME, PATTERN).await?;
    note_rule(scope).await
}

/// Records the run's rule (clean-up removes its targets and deletes it).
pub(crate) async fn note_rule(scope: &mut RunScope) -> Result<(), LabError> {
    scope
        .record_created(ResourceKind::AlertRule, RULE_NAME, ResourceRole::Alerting)
        .await
}

pub(crate) async fn target_topic(scope: &mut RunScope) -> Result<(), LabError> {
    let topic = topic_arn(scope)?;
    alerts(scope).put_target(RULE_NAME, "alerts", &topic).await?;
    Ok(())
}

/// Before the failing snapshot's step, by the app or the learner: the data
/// volume's next snapshot is made to fail (a test hook of the emulator).
pub(crate) async fn arm_failure(scope: &mut RunScope) -> Result<(), LabError> {
    let volume = scope.scenario()?.data_volume_id.clone();
    let plane = scope.plane.clone();
    tokio::task::spawn_blocking(move || plane.fail_next_snapshot(&volume, FAILURE)).await??;
    scope.emit_notice(
        Level::Info,
        "The emulator will fail the data volume's next snapshot (a test hook: on AWS a failure is rare and not yours to choose).",
    );
    Ok(())
}

/// Reads the inbox; each new delivery is told to the learner and kept.
pub(crate) async fn refresh_inbox(scope: &mut RunScope) -> Result<(), LabError> {
    let plane = scope.plane.clone();
    let all = tokio::task::spawn_blocking(move || plane.inbox()).await??;
    // This run's: its topic's deliveries since it began (an earlier run's
    // topic had the same name on the same emulator).
    let (topic, began) = (scope.ctx.alerts.topic_arn.clone(), scope.ctx.started_at);
    let inbox: Vec<Delivery> = all
        .into_iter()
        .filter(|d| Some(&d.topic_arn) == topic.as_ref())
        .filter(|d| chrono::DateTime::parse_from_rfc3339(&d.at).map_or(true, |at| at >= began))
        .collect();
    let known = scope.ctx.alerts.inbox.len();
    if inbox.len() <= known {
        return Ok(());
    }
    for d in &inbox[known..] {
        scope.emit_notice(Level::Warning, alert_line(d));
    }
    scope.ctx.alerts.inbox = inbox;
    scope.record_context().await
}

/// One line for a delivered alert: who got it, and what it says.
pub fn alert_line(d: &Delivery) -> String {
    let event: serde_json::Value = serde_json::from_str(&d.message).unwrap_or_default();
    let detail = &event["detail"];
    let what = match (detail["event"].as_str(), detail["result"].as_str()) {
        (Some(e), Some(r)) => format!(
            "{e} {r} for {}{}",
            detail["snapshot_id"]
                .as_str()
                .unwrap_or("a snapshot")
                .rsplit('/')
                .next()
                .unwrap_or_default(),
            detail["cause"]
                .as_str()
                .filter(|c| !c.is_empty())
                .map(|c| format!(": {c}"))
                .unwrap_or_default()
        ),
        _ => d.message.chars().take(120).collect(),
    };
    format!("Alert in {}'s inbox ({}): {what}", d.endpoint, d.protocol)
}

/// Tells the learner the notifications EBS sent for the run's snapshots
/// (whether or not a rule matched them): the event feed.
pub(crate) async fn tell_events(scope: &mut RunScope) -> Result<(), LabError> {
    let plane = scope.plane.clone();
    let sent = tokio::task::spawn_blocking(move || plane.sent_events()).await??;
    let Some(id) = scope.ctx.snapshot_id.clone() else {
        return Ok(());
    };
    for e in sent.iter().filter(|e| {
        e["resources"]
            .as_array()
            .is_some_and(|r| r.iter().any(|a| a.as_str().is_some_and(|a| a.ends_with(&id))))
    }) {
        let d = &e["detail"];
        scope.emit_notice(
            Level::Info,
            format!(
                "EBS sent an event: {} {} for {id} at {} (detail-type {}).",
                d["event"].as_str().unwrap_or_default(),
                d["result"].as_str().unwrap_or_default(),
                e["time"].as_str().unwrap_or_default(),
                e["detail-type"].as_str().unwrap_or_default()
            ),
        );
    }
    Ok(())
}

/// Waits until the failing snapshot is in `error` and its alert has arrived.
pub(crate) async fn wait_for_alert(scope: &mut RunScope) -> Result<(), LabError> {
    let id = scope.snapshot_id()?;
    let ec2 = scope.ec2.clone();
    wait(scope, "the snapshot failing", || async {
        Ok(ec2.snapshot(&id).await?.state == snaplab_cloud::SnapshotState::Error)
    })
    .await?;
    // Its panel shows the failure, not the last `pending` it saw.
    let failed = ec2.snapshot(&id).await?;
    scope.emit_progress(&failed);
    let started = tokio::time::Instant::now();
    loop {
        refresh_inbox(scope).await?;
        if scope.ctx.alerts.inbox.iter().any(|d| d.message.contains(&id)) || started.elapsed() > scope.tempo.patience {
            return Ok(());
        }
        tokio::time::sleep(scope.tempo.poll).await;
    }
}
