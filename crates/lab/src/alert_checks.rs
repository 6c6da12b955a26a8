//! The snapshot-alerts lab's checks: the topic, its subscription, a rule
//! that matches failed `createSnapshot` notifications and targets the
//! topic; no alert for a snapshot that completed; the alert for the one
//! that failed.

use crate::alerting::{alerts, topic_arn, RULE_NAME, SUBSCRIBER, TOPIC_NAME};
use crate::checks::{fail, pass, CheckOutcome};
use crate::error::LabError;
use crate::scope::RunScope;

pub(crate) async fn alert_topic_created(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    match alerts(scope).topic_named(TOPIC_NAME).await? {
        Some(arn) => pass(format!("SNS topic {arn} is there for the alerts.")),
        None => fail(format!(
            "There is no SNS topic named {TOPIC_NAME}. Run: aws sns create-topic --name {TOPIC_NAME}"
        )),
    }
}

pub(crate) async fn alert_subscribed(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let topic = topic_arn(scope)?;
    let subs = alerts(scope).subscriptions(&topic).await?;
    match subs.iter().find(|(p, e)| p.starts_with("email") && e == SUBSCRIBER) {
        Some(_) => pass(format!(
            "{SUBSCRIBER} is subscribed to {topic} by email (the emulator confirms it at once; AWS first mails a confirmation link)."
        )),
        None if subs.is_empty() => fail(format!(
            "{topic} has no subscription yet. Run: aws sns subscribe --topic-arn {topic} --protocol email --notification-endpoint {SUBSCRIBER}"
        )),
        None => fail(format!(
            "{topic} is subscribed by {}, not by {SUBSCRIBER} over email: subscribe that address with --protocol email.",
            subs.iter().map(|(p, e)| format!("{e} ({p})")).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// What a pattern must hold to alert on failed snapshots — and only on
/// them: each missing piece, in the learner's words.
fn pattern_gaps(pattern: &serde_json::Value) -> Vec<String> {
    let has = |path: &[&str], value: &str| {
        let mut v = pattern;
        for p in path {
            v = &v[*p];
        }
        v.as_array().is_some_and(|a| a.iter().any(|x| x == value))
    };
    let mut gaps = Vec::new();
    if !has(&["source"], "aws.ec2") {
        gaps.push("\"source\": [\"aws.ec2\"]".to_string());
    }
    if !has(&["detail-type"], "EBS Snapshot Notification") {
        gaps.push("\"detail-type\": [\"EBS Snapshot Notification\"]".to_string());
    }
    if !has(&["detail", "event"], "createSnapshot") {
        gaps.push("\"detail\": {\"event\": [\"createSnapshot\"]}".to_string());
    }
    if !has(&["detail", "result"], "failed") {
        gaps.push("\"detail\": {\"result\": [\"failed\"]}".to_string());
    }
    if has(&["detail", "result"], "succeeded") {
        gaps.push("no \"succeeded\" in detail.result (an alert for every backup that worked is noise)".to_string());
    }
    gaps
}

pub(crate) async fn alert_rule_matches_failures(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let Some(rule) = alerts(scope).rule(RULE_NAME).await? else {
        return fail(format!(
            "There is no EventBridge rule named {RULE_NAME}. Run the aws events put-rule command shown."
        ));
    };
    let text = rule.pattern.unwrap_or_default();
    let pattern: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let gaps = pattern_gaps(&pattern);
    match (rule.enabled, gaps.is_empty()) {
        (false, _) => fail(format!(
            "Rule {RULE_NAME} is DISABLED: put it again without --state DISABLED."
        )),
        (true, true) => pass(format!(
            "Rule {RULE_NAME} matches failed createSnapshot notifications from EBS: {text}"
        )),
        (true, false) => fail(format!(
            "Rule {RULE_NAME}'s pattern {text} needs {}. Put the rule again with the pattern shown.",
            gaps.join(", ")
        )),
    }
}

pub(crate) async fn alert_rule_targets_topic(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let topic = topic_arn(scope)?;
    let targets = alerts(scope).targets(RULE_NAME).await?;
    match targets.iter().find(|(_, arn)| *arn == topic) {
        Some((id, _)) => pass(format!("Rule {RULE_NAME} sends what it matches to {topic} (target {id}).")),
        None => fail(format!(
            "Rule {RULE_NAME} does not target {topic}{}. Run: aws events put-targets --rule {RULE_NAME} --targets Id=alerts,Arn={topic}",
            match targets.is_empty() {
                true => String::new(),
                false => format!(" (its targets: {})", targets.iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>().join(", ")),
            }
        )),
    }
}

/// The snapshot completed, EBS said so — and no alert came of it.
pub(crate) async fn no_alert_for_success(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let id = scope.snapshot_id()?;
    let noise: Vec<_> = scope
        .ctx
        .alerts
        .inbox
        .iter()
        .filter(|d| d.message.contains(&id))
        .collect();
    match noise.first() {
        None => pass(format!(
            "{id} completed and EBS sent its createSnapshot succeeded event, but the rule matches failures only: the inbox stays empty."
        )),
        Some(_) => fail(format!(
            "{} alert(s) arrived for {id}, which completed: the rule matches successes too. Put it again with \"result\": [\"failed\"] only.",
            noise.len()
        )),
    }
}

/// The failed snapshot's alert is in the subscriber's inbox.
pub(crate) async fn alert_received(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let id = scope.snapshot_id()?;
    let snapshot = scope.ec2.snapshot(&id).await?;
    if snapshot.state != snaplab_cloud::SnapshotState::Error {
        return fail(format!(
            "{id} is {}, not error yet: wait, then check again (aws ec2 describe-snapshots --snapshot-ids {id}).",
            snapshot.state
        ));
    }
    match scope.ctx.alerts.inbox.iter().find(|d| d.message.contains(&id)) {
        Some(d) => pass(crate::alerting::alert_line(d)),
        None => fail(format!(
            "{id} failed, but no alert reached {SUBSCRIBER}: check the rule's pattern and its target (aws events describe-rule --name {RULE_NAME}; aws events list-targets-by-rule --rule {RULE_NAME})."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_must_catch_failures_and_only_them() {
        let good: serde_json::Value = serde_json::from_str(crate::alerting::PATTERN).unwrap();
        assert!(pattern_gaps(&good).is_empty());
        let mut both = good.clone();
        both["detail"]["result"] = serde_json::json!(["failed", "succeeded"]);
        assert_eq!(pattern_gaps(&both).len(), 1);
        let mut success = good.clone();
        success["detail"]["result"] = serde_json::json!(["succeeded"]);
        let gaps = pattern_gaps(&success);
        assert!(gaps[0].contains("\"failed\"") && gaps[1].contains("noise"), "{gaps:?}");
        assert_eq!(pattern_gaps(&serde_json::json!({})).len(), 4);
    }
}
