//! Snapshot notifications: the EventBridge events EBS sends when a snapshot
//! finishes (`EBS Snapshot Notification`, source `aws.ec2`), the rules that
//! match them, the SNS topics they go to and what those topics delivered —
//! per account and region, as on AWS (EBS User Guide, "Amazon EventBridge
//! for Amazon EBS"). A subscription's deliveries are kept in an inbox the
//! lab reads (`GET /_snaplab/inbox`): the emulator sends no mail.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::clock::{iso8601, Timestamp};
use crate::model::snapshot::{Snapshot, SnapshotState};

/// Events kept for the feed (newest last); older ones are dropped.
pub const KEPT_EVENTS: usize = 200;
/// Deliveries kept per account and region.
pub const KEPT_DELIVERIES: usize = 500;

/// How a snapshot came to be, for the event it finishes with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Origin {
    /// CreateSnapshot.
    #[default]
    Single,
    /// CreateSnapshots: one event for the whole set, keyed by its first snapshot.
    Set(String),
    /// CopySnapshot, of this snapshot (in this or another region).
    Copy {
        source_snapshot_id: String,
        source_region: String,
    },
    /// Written through the EBS direct APIs: EBS documents no event for it.
    Direct,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub pattern: Value,
    /// The pattern as the caller sent it (DescribeRule returns it as given).
    pub pattern_text: String,
    pub enabled: bool,
    pub description: Option<String>,
    /// (Id, Arn) of each target, in the order they were put.
    pub targets: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub arn: String,
    pub protocol: String,
    pub endpoint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub arn: String,
    pub name: String,
    pub subscriptions: Vec<Subscription>,
}

/// A message a topic delivered to one of its subscriptions.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Delivery {
    pub at: String,
    pub topic_arn: String,
    pub subscription_arn: String,
    pub protocol: String,
    pub endpoint: String,
    pub subject: Option<String>,
    /// The event's JSON, as EventBridge hands it to SNS.
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Notifications {
    pub rules: BTreeMap<String, Rule>,
    pub topics: BTreeMap<String, Topic>,
    /// Events EBS sent, newest last.
    pub sent: Vec<Value>,
    pub inbox: Vec<Delivery>,
}

/// Why an event pattern is refused.
pub fn check_pattern(pattern: &Value) -> Result<(), String> {
    let Value::Object(fields) = pattern else {
        return Err("an event pattern is a JSON object, e.g. {\"source\": [\"aws.ec2\"]}".into());
    };
    if fields.is_empty() {
        return Err("the event pattern matches nothing: name at least one field".into());
    }
    for (name, v) in fields {
        match v {
            Value::Object(_) => check_pattern(v)?,
            Value::Array(values) if values.is_empty() => return Err(format!("'{name}' lists no value to match")),
            Value::Array(values) => {
                if let Some(bad) = values.iter().find(|v| v.is_object() || v.is_array()) {
                    return Err(format!(
                        "'{name}' holds {bad}: snaplab's emulator matches exact values only (strings, numbers, booleans, null), not content filters"
                    ));
                }
            }
            other => return Err(format!("'{name}' must list its values in an array, e.g. [{other}]")),
        }
    }
    Ok(())
}

/// Whether `event` matches `pattern` (checked by [`check_pattern`]): every
/// field the pattern names holds one of its values (or, for an array in the
/// event, any of them does).
pub fn matches(pattern: &Value, event: &Value) -> bool {
    let Value::Object(fields) = pattern else {
        return false;
    };
    fields.iter().all(|(name, want)| {
        let Some(got) = event.get(name) else {
            return false;
        };
        match want {
            Value::Object(_) => matches(want, got),
            Value::Array(values) => match got {
                Value::Array(items) => items.iter().any(|i| values.contains(i)),
                one => values.contains(one),
            },
            _ => false,
        }
    })
}

fn arn(region: &str, kind: &str, id: &str) -> String {
    // As AWS's documented examples write it: the region after an empty partition field.
    format!("arn:aws:ec2::{region}:{kind}/{id}")
}

/// The `EBS Snapshot Notification` for `snapshots` (one, or a whole set)
/// that finished at `end`.
pub fn snapshot_event(account: &str, region: &str, snapshots: &[&Snapshot], end: Timestamp) -> Option<Value> {
    let first = snapshots.first()?;
    let failed = snapshots.iter().find(|s| s.state == SnapshotState::Error);
    let result = if failed.is_some() { "failed" } else { "succeeded" };
    let cause = failed.and_then(|s| s.state_message()).unwrap_or_default();
    let start = snapshots.iter().map(|s| s.start_time).min().unwrap_or(first.start_time);
    let source_arn = |s: &Snapshot| match &s.origin {
        // A copy's source is the snapshot it copied, in its region.
        Origin::Copy {
            source_snapshot_id,
            source_region,
        } => arn(source_region, "snapshot", source_snapshot_id),
        _ => arn(region, "volume", &s.volume_id),
    };
    let detail = match &first.origin {
        Origin::Direct => return None,
        Origin::Set(_) => json!({
                "event": "createSnapshots",
                "result": result,
                "cause": cause,
                "request-id": "",
                "startTime": iso8601(&start),
                "endTime": iso8601(&end),
                "snapshots": snapshots.iter().map(|s| json!({
                    "snapshot_id": arn(region, "snapshot", &s.id),
                    "source": source_arn(s),
                    "status": s.state.as_str(),
                })).collect::<Vec<_>>(),
        }),
        Origin::Single | Origin::Copy { .. } => json!({
            "event": if matches!(first.origin, Origin::Copy { .. }) { "copySnapshot" } else { "createSnapshot" },
            "result": result,
            "cause": cause,
            "request-id": "",
            "snapshot_id": arn(region, "snapshot", &first.id),
            "source": source_arn(first),
            "startTime": iso8601(&start),
            "endTime": iso8601(&end),
        }),
    };
    Some(json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "EBS Snapshot Notification",
        "source": "aws.ec2",
        "account": account,
        "time": iso8601(&end),
        "region": region,
        "resources": snapshots.iter().map(|s| arn(region, "snapshot", &s.id)).collect::<Vec<_>>(),
        "detail": detail,
    }))
}

impl Notifications {
    /// Records an event EBS sent and delivers it through every enabled rule
    /// it matches to each SNS topic those rules target (topics of this
    /// account and region; other targets are not emulated and get nothing).
    pub fn send(&mut self, event: Value, now: Timestamp) {
        let mut to: Vec<String> = Vec::new();
        for rule in self.rules.values().filter(|r| r.enabled && matches(&r.pattern, &event)) {
            for (_, target) in &rule.targets {
                if !to.contains(target) {
                    to.push(target.clone());
                }
            }
        }
        let message = event.to_string();
        for topic_arn in to {
            self.publish(&topic_arn, None, &message, now);
        }
        self.sent.push(event);
        let excess = self.sent.len().saturating_sub(KEPT_EVENTS);
        self.sent.drain(..excess);
    }

    /// Delivers `message` to each subscription of the topic; false when there is no such topic.
    pub fn publish(&mut self, topic_arn: &str, subject: Option<&str>, message: &str, now: Timestamp) -> bool {
        let Some(topic) = self.topics.get(topic_arn) else {
            return false;
        };
        for s in &topic.subscriptions {
            self.inbox.push(Delivery {
                at: iso8601(&now),
                topic_arn: topic.arn.clone(),
                subscription_arn: s.arn.clone(),
                protocol: s.protocol.clone(),
                endpoint: s.endpoint.clone(),
                subject: subject.map(String::from),
                message: message.to_string(),
            });
        }
        let excess = self.inbox.len().saturating_sub(KEPT_DELIVERIES);
        self.inbox.drain(..excess);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed_snapshot_event() -> Value {
        json!({
            "source": "aws.ec2",
            "detail-type": "EBS Snapshot Notification",
            "detail": {"event": "createSnapshot", "result": "failed"},
            "resources": ["arn:aws:ec2::us-east-1:snapshot/snap-1"],
        })
    }

    #[test]
    fn a_pattern_matches_every_field_it_names_with_one_of_its_values() {
        let only_failures = json!({
            "source": ["aws.ec2"],
            "detail-type": ["EBS Snapshot Notification"],
            "detail": {"event": ["createSnapshot", "createSnapshots"], "result": ["failed"]},
        });
        check_pattern(&only_failures).unwrap();
        let mut event = failed_snapshot_event();
        assert!(matches(&only_failures, &event));
        event["detail"]["result"] = json!("succeeded");
        assert!(!matches(&only_failures, &event));
        assert!(!matches(&json!({"detail": {"missing": ["x"]}}), &event));
        // An array in the event matches if any of its items does.
        assert!(matches(
            &json!({"resources": ["arn:aws:ec2::us-east-1:snapshot/snap-1"]}),
            &event
        ));
    }

    #[test]
    fn patterns_the_emulator_cannot_match_are_refused_with_why() {
        for (bad, why) in [
            (json!([]), "a JSON object"),
            (json!({}), "matches nothing"),
            (json!({"source": "aws.ec2"}), "in an array"),
            (json!({"source": []}), "lists no value"),
            (json!({"source": [{"prefix": "aws"}]}), "exact values only"),
        ] {
            let e = check_pattern(&bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn an_event_reaches_each_subscription_of_each_topic_its_rules_target_once() {
        let mut n = Notifications::default();
        let topic = "arn:aws:sns:us-east-1:000000000000:alerts";
        n.topics.insert(
            topic.into(),
            Topic {
                arn: topic.into(),
                name: "alerts".into(),
                subscriptions: vec![Subscription {
                    arn: format!("{topic}:1"),
                    protocol: "email".into(),
                    endpoint: "ops@example.com".into(),
                }],
            },
        );
        for name in ["failures", "everything-ec2"] {
            let pattern = match name {
                "failures" => json!({"detail": {"result": ["failed"]}}),
                _ => json!({"source": ["aws.ec2"]}),
            };
            n.rules.insert(
                name.into(),
                Rule {
                    name: name.into(),
                    pattern_text: pattern.to_string(),
                    pattern,
                    enabled: true,
                    description: None,
                    targets: vec![
                        ("t".into(), topic.into()),
                        ("gone".into(), "arn:aws:sns:us-east-1:000000000000:nope".into()),
                    ],
                },
            );
        }
        let now = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        n.send(failed_snapshot_event(), now);
        assert_eq!(n.inbox.len(), 1, "two rules, one topic: delivered once");
        assert!(n.inbox[0].message.contains("\"result\":\"failed\""));
        assert_eq!(n.sent.len(), 1);
        n.rules.values_mut().for_each(|r| r.enabled = false);
        n.send(failed_snapshot_event(), now);
        assert_eq!((n.inbox.len(), n.sent.len()), (1, 2), "disabled rules deliver nothing");
    }
}
