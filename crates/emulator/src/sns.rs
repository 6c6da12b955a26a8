//! Amazon SNS (the Query protocol): the topics EventBridge rules deliver
//! snapshot notifications to, their subscriptions, and Publish. Nothing
//! leaves the emulator: every subscription is confirmed at once and its
//! deliveries are kept in an inbox (`GET /_snaplab/inbox`).

use crate::clock::Timestamp;
use crate::error::ServiceResult;
use crate::model::notify::{Subscription, Topic};
use crate::model::Cloud;
use crate::service_error;
use crate::wire::query::QueryParams;
use crate::wire::xml::XmlWriter;

pub const NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";
/// The protocols SNS subscriptions use.
const PROTOCOLS: &[&str] = &[
    "email",
    "email-json",
    "http",
    "https",
    "sqs",
    "sms",
    "lambda",
    "application",
    "firehose",
];

type Handler = fn(&mut Cloud, &QueryParams, Timestamp) -> ServiceResult<XmlWriter>;

const ACTIONS: &[(&str, Handler)] = &[
    ("CreateTopic", create_topic),
    ("DeleteTopic", delete_topic),
    ("ListTopics", list_topics),
    ("Subscribe", subscribe),
    ("Unsubscribe", unsubscribe),
    ("ListSubscriptionsByTopic", list_subscriptions_by_topic),
    ("Publish", publish),
];

pub fn handle(cloud: &mut Cloud, params: &QueryParams, now: Timestamp, request_id: &str) -> ServiceResult<String> {
    let action = params.str("Action").unwrap_or_default();
    let Some((name, handler)) = ACTIONS.iter().find(|(n, _)| *n == action) else {
        let names: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
        return Err(service_error!(
            InvalidAction,
            "The action {action} is not valid for this web service. snaplab's SNS answers: {}.",
            names.join(", ")
        ));
    };
    Ok(handler(cloud, params, now)?.finish_query(name, request_id))
}

fn required<'a>(params: &'a QueryParams, name: &str) -> ServiceResult<&'a str> {
    params
        .str(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| service_error!(InvalidParameter, "Invalid parameter: {name} must be given"))
}

fn topic_mut<'a>(cloud: &'a mut Cloud, arn: &str) -> ServiceResult<&'a mut Topic> {
    cloud
        .notifications
        .topics
        .get_mut(arn)
        .ok_or_else(|| service_error!(NotFound, "Topic does not exist: {arn}"))
}

fn create_topic(cloud: &mut Cloud, params: &QueryParams, _now: Timestamp) -> ServiceResult<XmlWriter> {
    let name = required(params, "Name")?;
    let valid = name.len() <= 256 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(service_error!(
            InvalidParameter,
            "Invalid parameter: Topic Name: use 1 to 256 letters, digits, hyphens and underscores"
        ));
    }
    let arn = format!("arn:aws:sns:{}:{}:{name}", cloud.region, cloud.account);
    // Creating a topic that exists returns it (CreateTopic is idempotent).
    cloud.notifications.topics.entry(arn.clone()).or_insert_with(|| Topic {
        arn: arn.clone(),
        name: name.to_string(),
        subscriptions: Vec::new(),
    });
    let mut w = XmlWriter::query_response("CreateTopic", NAMESPACE);
    w.leaf("TopicArn", &arn);
    Ok(w)
}

fn delete_topic(cloud: &mut Cloud, params: &QueryParams, _now: Timestamp) -> ServiceResult<XmlWriter> {
    let arn = required(params, "TopicArn")?;
    // Deleting a topic that is not there succeeds, as on AWS.
    cloud.notifications.topics.remove(arn);
    Ok(XmlWriter::query_response("DeleteTopic", NAMESPACE))
}

fn list_topics(cloud: &mut Cloud, _params: &QueryParams, _now: Timestamp) -> ServiceResult<XmlWriter> {
    let arns: Vec<&String> = cloud.notifications.topics.keys().collect();
    let mut w = XmlWriter::query_response("ListTopics", NAMESPACE);
    w.open("Topics");
    for arn in arns {
        w.open("member").leaf("TopicArn", arn).close("member");
    }
    w.close("Topics");
    Ok(w)
}

fn subscribe(cloud: &mut Cloud, params: &QueryParams, _now: Timestamp) -> ServiceResult<XmlWriter> {
    let (arn, protocol) = (required(params, "TopicArn")?, required(params, "Protocol")?);
    if !PROTOCOLS.contains(&protocol) {
        return Err(service_error!(
            InvalidParameter,
            "Invalid parameter: Amazon SNS does not support this protocol string: {protocol}"
        ));
    }
    let endpoint = required(params, "Endpoint")?;
    if protocol.starts_with("email") && !endpoint.contains('@') {
        return Err(service_error!(InvalidParameter, "Invalid parameter: Email address"));
    }
    let topic = topic_mut(cloud, arn)?;
    let sub_arn = match topic
        .subscriptions
        .iter()
        .find(|s| s.protocol == protocol && s.endpoint == endpoint)
    {
        Some(existing) => existing.arn.clone(),
        None => {
            let arn = format!("{}:{}", topic.arn, uuid::Uuid::new_v4());
            topic.subscriptions.push(Subscription {
                arn: arn.clone(),
                protocol: protocol.to_string(),
                endpoint: endpoint.to_string(),
            });
            arn
        }
    };
    let mut w = XmlWriter::query_response("Subscribe", NAMESPACE);
    w.leaf("SubscriptionArn", sub_arn);
    Ok(w)
}

fn unsubscribe(cloud: &mut Cloud, params: &QueryParams, _now: Timestamp) -> ServiceResult<XmlWriter> {
    let arn = required(params, "SubscriptionArn")?;
    let topic = cloud
        .notifications
        .topics
        .values_mut()
        .find(|t| t.subscriptions.iter().any(|s| s.arn == arn))
        .ok_or_else(|| service_error!(NotFound, "Subscription does not exist: {arn}"))?;
    topic.subscriptions.retain(|s| s.arn != arn);
    Ok(XmlWriter::query_response("Unsubscribe", NAMESPACE))
}

fn list_subscriptions_by_topic(cloud: &mut Cloud, params: &QueryParams, _now: Timestamp) -> ServiceResult<XmlWriter> {
    let arn = required(params, "TopicArn")?;
    let account = cloud.account.clone();
    let topic = topic_mut(cloud, arn)?;
    let mut w = XmlWriter::query_response("ListSubscriptionsByTopic", NAMESPACE);
    w.open("Subscriptions");
    for s in &topic.subscriptions {
        w.open("member")
            .leaf("SubscriptionArn", &s.arn)
            .leaf("Owner", &account)
            .leaf("Protocol", &s.protocol)
            .leaf("Endpoint", &s.endpoint)
            .leaf("TopicArn", &topic.arn)
            .close("member");
    }
    w.close("Subscriptions");
    Ok(w)
}

fn publish(cloud: &mut Cloud, params: &QueryParams, now: Timestamp) -> ServiceResult<XmlWriter> {
    let arn = required(params, "TopicArn")?;
    let message = required(params, "Message")?;
    if !cloud.notifications.publish(arn, params.str("Subject"), message, now) {
        return Err(service_error!(NotFound, "Topic does not exist: {arn}"));
    }
    let mut w = XmlWriter::query_response("Publish", NAMESPACE);
    w.leaf("MessageId", uuid::Uuid::new_v4());
    Ok(w)
}
