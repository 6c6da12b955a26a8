//! Snapshot alerts through the aws CLI (v1, as a learner's terminal runs
//! it) against a standalone emulator: an SNS topic with an email
//! subscription, an EventBridge rule matching failed `createSnapshot`
//! notifications that targets it; a snapshot that succeeds raises an event
//! but no alert, one failed on purpose lands in the inbox with AWS's event
//! shape; and each service's errors for bad input.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{aws, aws_json, snaplab_route, EmulatorProcess};

const DATA_VOLUME: &str = "vol-0123456789abcdef0";
const FAILED_ONLY: &str = r#"{"source":["aws.ec2"],"detail-type":["EBS Snapshot Notification"],"detail":{"event":["createSnapshot"],"result":["failed"]}}"#;

fn get(endpoint: &str, path: &str) -> serde_json::Value {
    snaplab_route(endpoint, "GET", path, "")
}

fn stderr_of(endpoint: &str, args: &[&str]) -> String {
    let out = aws(endpoint, args);
    assert!(!out.status.success(), "aws {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn snapshot(endpoint: &str) -> String {
    let id = aws_json(
        endpoint,
        &[
            "ec2",
            "create-snapshot",
            "--volume-id",
            DATA_VOLUME,
            "--query",
            "SnapshotId",
        ],
    );
    let id = id.as_str().unwrap().to_string();
    // The waiter fails on `error`: wait with describe instead.
    for _ in 0..100 {
        let state = aws_json(
            endpoint,
            &[
                "ec2",
                "describe-snapshots",
                "--snapshot-ids",
                &id,
                "--query",
                "Snapshots[0].State",
            ],
        );
        if state != "pending" {
            return id;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{id} stayed pending");
}

#[test]
fn a_failed_snapshot_alerts_the_subscription_and_a_completed_one_does_not() {
    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let ep = emulator.endpoint.as_str();
    let topic = aws_json(ep, &["sns", "create-topic", "--name", "securecart-snapshot-alerts"]);
    let topic = topic["TopicArn"].as_str().unwrap().to_string();
    assert_eq!(topic, "arn:aws:sns:us-east-1:000000000000:securecart-snapshot-alerts");
    let sub = aws_json(
        ep,
        &[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            "ops@securecart.example",
        ],
    );
    let sub = sub["SubscriptionArn"].as_str().unwrap().to_string();
    assert!(sub.starts_with(&format!("{topic}:")), "{sub}");
    let subs = aws_json(ep, &["sns", "list-subscriptions-by-topic", "--topic-arn", &topic]);
    assert_eq!(subs["Subscriptions"][0]["Endpoint"], "ops@securecart.example");
    assert_eq!(subs["Subscriptions"][0]["Protocol"], "email");

    let rule = aws_json(
        ep,
        &[
            "events",
            "put-rule",
            "--name",
            "securecart-snapshot-failed",
            "--event-pattern",
            FAILED_ONLY,
        ],
    );
    assert_eq!(
        rule["RuleArn"],
        "arn:aws:events:us-east-1:000000000000:rule/securecart-snapshot-failed"
    );
    let put = aws_json(
        ep,
        &[
            "events",
            "put-targets",
            "--rule",
            "securecart-snapshot-failed",
            "--targets",
            &format!("Id=alerts,Arn={topic}"),
        ],
    );
    assert_eq!(put["FailedEntryCount"], 0);
    let described = aws_json(ep, &["events", "describe-rule", "--name", "securecart-snapshot-failed"]);
    assert_eq!(described["State"], "ENABLED");
    assert_eq!(described["EventPattern"], FAILED_ONLY);
    let targets = aws_json(
        ep,
        &["events", "list-targets-by-rule", "--rule", "securecart-snapshot-failed"],
    );
    assert_eq!(targets["Targets"][0]["Arn"], topic.as_str());

    // A snapshot that completes: an event, and no alert.
    let ok = snapshot(ep);
    let events = get(ep, "/_snaplab/events");
    let sent = events["events"].as_array().unwrap();
    assert_eq!(sent.len(), 1, "{events}");
    assert_eq!(sent[0]["detail"]["result"], "succeeded");
    assert_eq!(
        sent[0]["detail"]["snapshot_id"],
        format!("arn:aws:ec2::us-east-1:snapshot/{ok}")
    );
    assert!(get(ep, "/_snaplab/inbox")["deliveries"].as_array().unwrap().is_empty());

    // One failed on purpose: the alert arrives, the event as its message.
    let armed = snaplab_route(
        ep,
        "PUT",
        &format!("/_snaplab/volumes/{DATA_VOLUME}/fail-next-snapshot"),
        r#"{"state_message":"Snapshot copy failed (test)"}"#,
    );
    assert_eq!(armed["next_snapshot_fails_with"], "Snapshot copy failed (test)");
    let failed = snapshot(ep);
    let state = aws_json(
        ep,
        &[
            "ec2",
            "describe-snapshots",
            "--snapshot-ids",
            &failed,
            "--query",
            "Snapshots[0].[State,StateMessage]",
        ],
    );
    assert_eq!(state, serde_json::json!(["error", "Snapshot copy failed (test)"]));
    let inbox = get(ep, "/_snaplab/inbox");
    let deliveries = inbox["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "{inbox}");
    assert_eq!(deliveries[0]["subscription_arn"], sub.as_str());
    assert_eq!(deliveries[0]["endpoint"], "ops@securecart.example");
    let event: serde_json::Value = serde_json::from_str(deliveries[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(event["source"], "aws.ec2");
    assert_eq!(event["detail-type"], "EBS Snapshot Notification");
    assert_eq!(event["account"], "000000000000");
    assert_eq!(event["region"], "us-east-1");
    assert_eq!(
        event["resources"][0],
        format!("arn:aws:ec2::us-east-1:snapshot/{failed}")
    );
    let detail = &event["detail"];
    assert_eq!(detail["event"], "createSnapshot");
    assert_eq!(detail["result"], "failed");
    assert_eq!(detail["cause"], "Snapshot copy failed (test)");
    assert_eq!(detail["source"], format!("arn:aws:ec2::us-east-1:volume/{DATA_VOLUME}"));
    assert!(detail["startTime"].as_str().unwrap() <= detail["endTime"].as_str().unwrap());

    // Taking it down: targets first, as AWS insists.
    let refused = stderr_of(ep, &["events", "delete-rule", "--name", "securecart-snapshot-failed"]);
    assert!(
        refused.contains("ValidationException") && refused.contains("remove-targets"),
        "{refused}"
    );
    aws_json(
        ep,
        &[
            "events",
            "remove-targets",
            "--rule",
            "securecart-snapshot-failed",
            "--ids",
            "alerts",
        ],
    );
    aws_json(ep, &["events", "delete-rule", "--name", "securecart-snapshot-failed"]);
    aws_json(ep, &["sns", "delete-topic", "--topic-arn", &topic]);
    let rules = aws_json(ep, &["events", "list-rules"]);
    assert_eq!(rules["Rules"], serde_json::json!([]));
}

#[test]
fn bad_requests_get_each_services_own_errors() {
    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let ep = emulator.endpoint.as_str();
    let e = stderr_of(
        ep,
        &["events", "put-rule", "--name", "r", "--event-pattern", "{not json"],
    );
    assert!(e.contains("InvalidEventPatternException"), "{e}");
    let e = stderr_of(
        ep,
        &[
            "events",
            "put-rule",
            "--name",
            "r",
            "--event-pattern",
            r#"{"source":[{"prefix":"aws"}]}"#,
        ],
    );
    assert!(
        e.contains("InvalidEventPatternException") && e.contains("exact values only"),
        "{e}"
    );
    let e = stderr_of(
        ep,
        &[
            "events",
            "put-rule",
            "--name",
            "bad name!",
            "--event-pattern",
            FAILED_ONLY,
        ],
    );
    assert!(e.contains("ValidationException"), "{e}");
    let e = stderr_of(ep, &["events", "describe-rule", "--name", "nope"]);
    assert!(
        e.contains("ResourceNotFoundException") && e.contains("Rule nope does not exist"),
        "{e}"
    );
    let e = stderr_of(
        ep,
        &[
            "events",
            "put-targets",
            "--rule",
            "nope",
            "--targets",
            "Id=a,Arn=arn:aws:sns:us-east-1:000000000000:x",
        ],
    );
    assert!(e.contains("ResourceNotFoundException"), "{e}");
    let e = stderr_of(ep, &["events", "list-rules", "--event-bus-name", "custom"]);
    assert!(
        e.contains("ResourceNotFoundException") && e.contains("default event bus"),
        "{e}"
    );
    let e = stderr_of(
        ep,
        &[
            "sns",
            "subscribe",
            "--topic-arn",
            "arn:aws:sns:us-east-1:000000000000:missing",
            "--protocol",
            "email",
            "--notification-endpoint",
            "a@b.example",
        ],
    );
    assert!(e.contains("NotFound") && e.contains("Topic does not exist"), "{e}");
    let topic = aws_json(ep, &["sns", "create-topic", "--name", "t"])["TopicArn"]
        .as_str()
        .unwrap()
        .to_string();
    let e = stderr_of(
        ep,
        &[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "pigeon",
            "--notification-endpoint",
            "x",
        ],
    );
    assert!(e.contains("InvalidParameter") && e.contains("pigeon"), "{e}");
    let e = stderr_of(
        ep,
        &[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            "not-an-address",
        ],
    );
    assert!(e.contains("InvalidParameter"), "{e}");
    let e = stderr_of(ep, &["sns", "create-topic", "--name", "has spaces"]);
    assert!(e.contains("InvalidParameter"), "{e}");
    // Publish reaches the subscription's inbox.
    aws_json(
        ep,
        &[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            "ops@example.com",
        ],
    );
    let id = aws_json(
        ep,
        &[
            "sns",
            "publish",
            "--topic-arn",
            &topic,
            "--message",
            "hello",
            "--subject",
            "test",
        ],
    );
    assert!(id["MessageId"].is_string());
    let inbox = get(ep, "/_snaplab/inbox");
    assert_eq!(inbox["deliveries"][0]["message"], "hello");
    assert_eq!(inbox["deliveries"][0]["subject"], "test");
    // Another account sees none of it.
    let other = get(ep, "/_snaplab/inbox?access_key=111122223333");
    assert_eq!(other["deliveries"], serde_json::json!([]));
}
