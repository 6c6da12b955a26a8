//! Snapshot alerts: the SNS topic and subscription, the EventBridge rule and
//! its target, and — on a snaplab emulator — the inbox the topic delivered
//! to and the hook that makes a volume's next snapshot fail. Every call is
//! reported to the run's API log, like EC2's.

use std::sync::Arc;
use std::time::Instant;

use aws_sdk_eventbridge::types::Target as RuleTarget;

use crate::ec2::{ApiCall, ApiObserver};
use crate::error::CloudError;

/// A message a topic delivered (the emulator's inbox).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    pub at: String,
    pub topic_arn: String,
    pub subscription_arn: String,
    pub protocol: String,
    pub endpoint: String,
    #[serde(default)]
    pub subject: Option<String>,
    pub message: String,
}

/// An EventBridge rule as DescribeRule gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    pub pattern: Option<String>,
    pub enabled: bool,
}

#[derive(Clone)]
pub struct Alerts {
    sns: aws_sdk_sns::Client,
    events: aws_sdk_eventbridge::Client,
    endpoint: String,
    observer: Option<ApiObserver>,
    step: Option<Arc<str>>,
}

impl std::fmt::Debug for Alerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerts")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Alerts {
    /// Clients for an endpoint (a snaplab emulator), signing as `scope`.
    pub fn for_endpoint(endpoint: &str, scope: &crate::target::EndpointScope) -> Self {
        let (creds, region) = (scope.credentials(), &scope.region);
        let sns = aws_sdk_sns::Config::builder()
            .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
            .region(aws_sdk_sns::config::Region::new(region.to_string()))
            .endpoint_url(endpoint)
            .credentials_provider(creds.clone())
            .build();
        let events = aws_sdk_eventbridge::Config::builder()
            .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
            .region(aws_sdk_eventbridge::config::Region::new(region.to_string()))
            .endpoint_url(endpoint)
            .credentials_provider(creds)
            .build();
        Self {
            sns: aws_sdk_sns::Client::from_conf(sns),
            events: aws_sdk_eventbridge::Client::from_conf(events),
            endpoint: endpoint.to_string(),
            observer: None,
            step: None,
        }
    }

    /// The same clients, reporting each call to `observer` for step `step_id`.
    pub fn observed(&self, observer: ApiObserver, step_id: Option<&str>) -> Self {
        Self {
            observer: Some(observer),
            step: step_id.map(Arc::from),
            ..self.clone()
        }
    }

    async fn call<T, E, R>(
        &self,
        operation: &str,
        request: impl std::future::Future<Output = Result<T, aws_sdk_sns::error::SdkError<E, R>>>,
    ) -> Result<T, CloudError>
    where
        E: aws_sdk_sns::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let started = Instant::now();
        let result = request.await.map_err(|e| CloudError::from_sdk(&self.endpoint, e));
        if let Some(observer) = &self.observer {
            observer(ApiCall {
                step_id: self.step.as_deref().map(String::from),
                operation: operation.to_string(),
                request_id: None,
                duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                error: result.as_ref().err().map(ToString::to_string),
            });
        }
        result
    }

    /// The ARN of the topic named `name`, if it exists.
    pub async fn topic_named(&self, name: &str) -> Result<Option<String>, CloudError> {
        let out = self.call("ListTopics", self.sns.list_topics().send()).await?;
        Ok(out
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .find(|arn| arn.rsplit(':').next() == Some(name))
            .map(String::from))
    }

    pub async fn create_topic(&self, name: &str) -> Result<String, CloudError> {
        let out = self
            .call("CreateTopic", self.sns.create_topic().name(name).send())
            .await?;
        Ok(out.topic_arn().unwrap_or_default().to_string())
    }

    pub async fn delete_topic(&self, arn: &str) -> Result<(), CloudError> {
        self.call("DeleteTopic", self.sns.delete_topic().topic_arn(arn).send())
            .await
            .map(drop)
    }

    /// (protocol, endpoint) of each subscription of the topic.
    pub async fn subscriptions(&self, topic_arn: &str) -> Result<Vec<(String, String)>, CloudError> {
        let out = self
            .call(
                "ListSubscriptionsByTopic",
                self.sns.list_subscriptions_by_topic().topic_arn(topic_arn).send(),
            )
            .await?;
        Ok(out
            .subscriptions()
            .iter()
            .map(|s| {
                (
                    s.protocol().unwrap_or_default().to_string(),
                    s.endpoint().unwrap_or_default().to_string(),
                )
            })
            .collect())
    }

    pub async fn subscribe(&self, topic_arn: &str, protocol: &str, endpoint: &str) -> Result<String, CloudError> {
        let out = self
            .call(
                "Subscribe",
                self.sns
                    .subscribe()
                    .topic_arn(topic_arn)
                    .protocol(protocol)
                    .endpoint(endpoint)
                    .send(),
            )
            .await?;
        Ok(out.subscription_arn().unwrap_or_default().to_string())
    }

    /// The rule named `name` (`None`: there is none).
    pub async fn rule(&self, name: &str) -> Result<Option<RuleInfo>, CloudError> {
        match self
            .call("DescribeRule", self.events.describe_rule().name(name).send())
            .await
        {
            Ok(out) => Ok(Some(RuleInfo {
                pattern: out.event_pattern().map(String::from),
                enabled: out.state().map(|s| s.as_str()) != Some("DISABLED"),
            })),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn put_rule(&self, name: &str, pattern: &str) -> Result<(), CloudError> {
        self.call(
            "PutRule",
            self.events.put_rule().name(name).event_pattern(pattern).send(),
        )
        .await
        .map(drop)
    }

    /// (Id, Arn) of each target of the rule.
    pub async fn targets(&self, rule: &str) -> Result<Vec<(String, String)>, CloudError> {
        let out = self
            .call(
                "ListTargetsByRule",
                self.events.list_targets_by_rule().rule(rule).send(),
            )
            .await?;
        Ok(out
            .targets()
            .iter()
            .map(|t| (t.id().to_string(), t.arn().to_string()))
            .collect())
    }

    pub async fn put_target(&self, rule: &str, id: &str, arn: &str) -> Result<(), CloudError> {
        let target = RuleTarget::builder()
            .id(id)
            .arn(arn)
            .build()
            .map_err(|e| CloudError::Other(format!("target {id}: {e}")))?;
        self.call(
            "PutTargets",
            self.events.put_targets().rule(rule).targets(target).send(),
        )
        .await
        .map(drop)
    }

    /// Removes the rule's targets, then the rule (EventBridge refuses a rule that still has some).
    pub async fn delete_rule(&self, rule: &str) -> Result<(), CloudError> {
        let ids: Vec<String> = match self.targets(rule).await {
            Ok(t) => t.into_iter().map(|(id, _)| id).collect(),
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(()),
            Err(e) => return Err(e),
        };
        if !ids.is_empty() {
            self.call(
                "RemoveTargets",
                self.events.remove_targets().rule(rule).set_ids(Some(ids)).send(),
            )
            .await?;
        }
        self.call("DeleteRule", self.events.delete_rule().name(rule).send())
            .await
            .map(drop)
    }
}

impl crate::DataPlane {
    /// What SNS delivered to the subscriptions of this account and region
    /// (the emulator's inbox, oldest first). Blocking.
    pub fn inbox(&self) -> Result<Vec<Delivery>, CloudError> {
        let (endpoint, agent, scope) = self.emulator_route()?;
        let url = format!("{endpoint}/_snaplab/inbox?{}", scope.query());
        let failed = |e: String| CloudError::Other(format!("the emulator's inbox at {url}: {e}"));
        let mut r = agent.get(&url).call().map_err(|e| failed(e.to_string()))?;
        let text = r.body_mut().read_to_string().map_err(|e| failed(e.to_string()))?;
        #[derive(serde::Deserialize)]
        struct Inbox {
            deliveries: Vec<Delivery>,
        }
        serde_json::from_str::<Inbox>(&text)
            .map(|i| i.deliveries)
            .map_err(|e| failed(format!("{e}: {text}")))
    }

    /// Makes the volume's next snapshot fail with `state_message`. Blocking.
    pub fn fail_next_snapshot(&self, volume_id: &str, state_message: &str) -> Result<(), CloudError> {
        let (endpoint, agent, scope) = self.emulator_route()?;
        let url = format!(
            "{endpoint}/_snaplab/volumes/{volume_id}/fail-next-snapshot?{}",
            scope.query()
        );
        let body = serde_json::json!({ "state_message": state_message }).to_string();
        let mut r = agent
            .put(&url)
            .send(body)
            .map_err(|e| CloudError::Other(format!("{url}: {e}")))?;
        match r.status().is_success() {
            true => Ok(()),
            false => Err(CloudError::Other(format!(
                "{url}: {}",
                r.body_mut().read_to_string().unwrap_or_default()
            ))),
        }
    }
}

impl crate::DataPlane {
    /// The events EBS sent in this account and region (the emulator's feed). Blocking.
    pub fn sent_events(&self) -> Result<Vec<serde_json::Value>, CloudError> {
        let (endpoint, agent, scope) = self.emulator_route()?;
        let url = format!("{endpoint}/_snaplab/events?{}", scope.query());
        let failed = |e: String| CloudError::Other(format!("the emulator's events at {url}: {e}"));
        let mut r = agent.get(&url).call().map_err(|e| failed(e.to_string()))?;
        let text = r.body_mut().read_to_string().map_err(|e| failed(e.to_string()))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| failed(format!("{e}: {text}")))?;
        Ok(v["events"].as_array().cloned().unwrap_or_default())
    }
}
