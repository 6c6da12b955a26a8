//! Snapshot alerts judged by the real AWS SDK for Rust (aws-sdk-sns,
//! aws-sdk-eventbridge): topics, subscriptions and rules as the SDK parses
//! them, a failed snapshot delivered to the subscription, PutTargets all or
//! nothing at the quota, and every account's rules and topics its own.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use aws_sdk_eventbridge::types::{RuleState, Target};
use snaplab_emulator::Pace;
use snaplab_testkit::*;

fn sns(endpoint: &str, access_key: &str) -> aws_sdk_sns::Client {
    use aws_sdk_sns::config::{BehaviorVersion, Credentials, Region};
    aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(Credentials::new(access_key, "test", None, None, "snaplab-tests"))
            .build(),
    )
}

fn events(endpoint: &str, access_key: &str) -> aws_sdk_eventbridge::Client {
    use aws_sdk_eventbridge::config::{BehaviorVersion, Credentials, Region};
    aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(Credentials::new(access_key, "test", None, None, "snaplab-tests"))
            .build(),
    )
}

const PATTERN: &str =
    r#"{"source":["aws.ec2"],"detail-type":["EBS Snapshot Notification"],"detail":{"result":["failed"]}}"#;

#[tokio::test]
async fn the_sdk_reads_topics_rules_and_targets_and_a_failure_is_delivered() {
    let lab = Lab::start(Pace::Instant).await;
    let (sns, events) = (sns(lab.endpoint(), "test"), events(lab.endpoint(), "test"));
    let topic = sns.create_topic().name("alerts").send().await.unwrap();
    let topic = topic.topic_arn().unwrap().to_string();
    let sub = sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("email")
        .endpoint("ops@example.com")
        .send()
        .await
        .unwrap();
    assert!(sub.subscription_arn().unwrap().starts_with(&topic));
    let listed = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.subscriptions()[0].endpoint(), Some("ops@example.com"));
    assert_eq!(sns.list_topics().send().await.unwrap().topics().len(), 1);

    let rule = events
        .put_rule()
        .name("failed")
        .event_pattern(PATTERN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        rule.rule_arn(),
        Some("arn:aws:events:us-east-1:000000000000:rule/failed")
    );
    events
        .put_targets()
        .rule("failed")
        .targets(Target::builder().id("sns").arn(&topic).build().unwrap())
        .send()
        .await
        .unwrap();
    let described = events.describe_rule().name("failed").send().await.unwrap();
    assert_eq!(described.state(), Some(&RuleState::Enabled));
    assert_eq!(described.event_pattern(), Some(PATTERN));
    assert_eq!(described.event_bus_name(), Some("default"));

    // Five targets at most: a sixth is refused and nothing of the call is kept.
    let mut six = events.put_targets().rule("failed");
    for i in 0..5 {
        six = six.targets(Target::builder().id(format!("t{i}")).arn(&topic).build().unwrap());
    }
    let refused = six.send().await.unwrap_err();
    assert_eq!(
        refused.as_service_error().unwrap().meta().code(),
        Some("LimitExceededException")
    );
    let targets = events.list_targets_by_rule().rule("failed").send().await.unwrap();
    assert_eq!(targets.targets().len(), 1, "the rule kept only its one target");

    reqwest::Client::new()
        .put(format!(
            "{}/_snaplab/volumes/{DATA_VOLUME_ID}/fail-next-snapshot",
            lab.endpoint()
        ))
        .send()
        .await
        .unwrap();
    // The first snapshot fails, the second completes: only the failure is an alert.
    let failed = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.create_snapshot(DATA_VOLUME_ID).await;
    let inbox: serde_json::Value = reqwest::get(format!("{}/_snaplab/inbox", lab.endpoint()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deliveries = inbox["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "only the failure matches: {inbox}");
    let event: serde_json::Value = serde_json::from_str(deliveries[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(
        event["resources"][0],
        format!("arn:aws:ec2::us-east-1:snapshot/{failed}")
    );

    // Errors as the SDK sees them.
    let e = events.describe_rule().name("missing").send().await.unwrap_err();
    assert_eq!(
        e.as_service_error().unwrap().meta().code(),
        Some("ResourceNotFoundException")
    );
    let e = events.delete_rule().name("failed").send().await.unwrap_err();
    assert_eq!(e.as_service_error().unwrap().meta().code(), Some("ValidationException"));
    let e = sns
        .publish()
        .topic_arn(format!("{topic}-gone"))
        .message("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.as_service_error().unwrap().meta().code(), Some("NotFound"));
}

#[tokio::test]
async fn another_accounts_rules_and_topics_are_not_seen() {
    let lab = Lab::start(Pace::Instant).await;
    let mine = events(lab.endpoint(), "test");
    mine.put_rule()
        .name("mine")
        .event_pattern(PATTERN)
        .send()
        .await
        .unwrap();
    sns(lab.endpoint(), "test")
        .create_topic()
        .name("mine")
        .send()
        .await
        .unwrap();
    let theirs = events(lab.endpoint(), "111122223333");
    assert!(theirs.list_rules().send().await.unwrap().rules().is_empty());
    let e = theirs.describe_rule().name("mine").send().await.unwrap_err();
    assert_eq!(
        e.as_service_error().unwrap().meta().code(),
        Some("ResourceNotFoundException")
    );
    let topics = sns(lab.endpoint(), "111122223333").list_topics().send().await.unwrap();
    assert!(topics.topics().is_empty());
}
