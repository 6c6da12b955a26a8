//! Where the lab runs. The default is snaplab's own emulator, started by the
//! binary; an endpoint URL can be another snaplab emulator (its data plane is
//! used), or LocalStack or moto (the disk is then a shadow disk kept on this
//! computer). Real AWS is refused in this version: every endpoint passes
//! [`crate::endpoint::check`] before anything is sent to it.

use std::time::Duration;

use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};

use crate::ec2::{ApiObserver, Ec2};
use crate::endpoint;
use crate::error::CloudError;
use crate::pace::TargetPace;

/// What kind of cloud answers at the endpoint.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// snaplab's emulator, started in-process for this run.
    Embedded,
    /// A standalone `snaplab emulator` at an endpoint.
    Snaplab,
    #[serde(rename = "localstack")]
    LocalStack,
    Moto,
    /// Something else that answers EC2 at the endpoint.
    OtherEndpoint,
    /// The learner's own AWS account (or a stand-in reached through AWS_ENDPOINT_URL).
    Aws,
}

impl TargetKind {
    /// Its name in the record and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Snaplab => "snaplab",
            Self::LocalStack => "localstack",
            Self::Moto => "moto",
            Self::OtherEndpoint => "other_endpoint",
            Self::Aws => "aws",
        }
    }

    /// Whether volumes keep data there (and so the data plane is the emulator's).
    pub fn keeps_volume_data(&self) -> bool {
        matches!(self, Self::Embedded | Self::Snaplab)
    }

    /// How precisely the cloud reports a snapshot's StartTime, in µs. On
    /// AWS, StartTime has milliseconds but the instance's clock (which
    /// stamps the orders) is only NTP-close to EBS's: a second either way.
    pub fn start_time_precision_us(&self) -> i64 {
        if self.keeps_volume_data() {
            1_000
        } else {
            1_000_000
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Embedded => "built-in emulator",
            Self::Snaplab => "snaplab emulator",
            Self::LocalStack => "LocalStack",
            Self::Moto => "moto",
            Self::OtherEndpoint => "EC2-compatible endpoint",
            Self::Aws => "AWS",
        }
    }
}

/// A connected target: its kind, endpoint and EC2 client.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: TargetKind,
    pub endpoint: String,
    pub region: String,
    pub ec2: Ec2,
    /// The AWS profile the credentials came from (real AWS), to resume and clean up with.
    pub profile: Option<String>,
    /// The access key the lab's requests carry to an endpoint (`None` on
    /// AWS, where the account's credentials sign).
    pub access_key: Option<String>,
}

/// The access key LocalStack's convention uses, and the snaplab emulator's
/// default account (its SecureCart has the ids the docs show).
pub const DEFAULT_ACCESS_KEY: &str = "test";

/// Who the lab is on an endpoint, for the requests it makes itself (its
/// `/_snaplab/` routes, the EBS direct and alert clients): an access key —
/// on a snaplab emulator, an account with a world of its own — and a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointScope {
    pub access_key: String,
    pub region: String,
}

impl EndpointScope {
    pub fn new(access_key: &str, region: &str) -> Self {
        Self {
            access_key: access_key.to_string(),
            region: region.to_string(),
        }
    }

    /// `access_key=…&region=…`, for the emulator's unsigned `/_snaplab/` routes.
    pub fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("access_key", &self.access_key)
            .append_pair("region", &self.region)
            .finish()
    }

    /// Signing credentials with this key ([`endpoint_credentials`]).
    pub fn credentials(&self) -> Credentials {
        endpoint_credentials(Some(&self.access_key))
    }
}

/// A learner's own access key for a shared endpoint: 12 digits derived
/// from their name (trimmed, case ignored), so every learner of a class on
/// one emulator is in an account — a SecureCart — of their own, and finds
/// it again next time. 12 digits are an account id on LocalStack too.
pub fn learner_access_key(learner: &str) -> String {
    use sha2::Digest;
    let name = learner.trim().to_lowercase();
    let digest = sha2::Sha256::digest(format!("snaplab-learner/{name}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // Never 000000000000, the default account everyone else shares.
    let account = (u64::from_le_bytes(first) % 1_000_000_000_000).max(1);
    format!("{account:012}")
}

/// An EBS direct client for an endpoint (a snaplab emulator), signing as `scope`.
pub fn ebs_client_for(endpoint: &str, scope: &EndpointScope) -> aws_sdk_ebs::Client {
    let config = aws_sdk_ebs::Config::builder()
        .behavior_version(aws_sdk_ebs::config::BehaviorVersion::latest())
        .region(aws_sdk_ebs::config::Region::new(scope.region.clone()))
        .endpoint_url(endpoint)
        .credentials_provider(scope.credentials())
        .build();
    aws_sdk_ebs::Client::from_conf(config)
}

/// Credentials for an endpoint: `access_key` when given (its secret from
/// the environment, else `test`: no endpoint of ours checks it); else the
/// environment's key if set; else `test`/`test` (LocalStack's convention).
pub fn endpoint_credentials(access_key: Option<&str>) -> Credentials {
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_ACCESS_KEY.to_string());
    if let Some(key) = access_key.filter(|k| !k.is_empty()) {
        return Credentials::new(key, secret, None, None, "snaplab-endpoint");
    }
    match std::env::var("AWS_ACCESS_KEY_ID") {
        Ok(id) if !id.is_empty() => {
            Credentials::new(id, secret, std::env::var("AWS_SESSION_TOKEN").ok(), None, "environment")
        }
        _ => Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_ACCESS_KEY, None, None, "snaplab-default"),
    }
}

/// The region: `AWS_REGION`, `AWS_DEFAULT_REGION`, else us-east-1.
pub fn default_region() -> String {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "us-east-1".to_string())
}

/// An agent for snaplab's own requests to an endpoint: statuses come back
/// as answers, not errors, and redirects are never followed (the endpoint
/// was checked, a redirect target was not).
pub(crate) fn endpoint_agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// One GET to the endpoint: its status and body, or None when nothing answers.
fn probe(url: &str) -> Result<Option<(u16, String)>, String> {
    let agent = endpoint_agent(Duration::from_secs(5));
    match agent.get(url).call() {
        Ok(mut r) => {
            let status = r.status().as_u16();
            let body = r.body_mut().read_to_string().unwrap_or_default();
            Ok(Some((status, body)))
        }
        Err(ureq::Error::Io(e)) => Err(e.to_string()),
        Err(ureq::Error::ConnectionFailed) => Err("connection refused".to_string()),
        Err(ureq::Error::HostNotFound) => Err("host not found".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// A snaplab emulator's health: its pace and region (`None` when something else answers).
pub async fn snaplab_health(url: &str) -> Option<(TargetPace, String)> {
    let url = format!("{}/_snaplab/health", endpoint::check(url).ok()?);
    let (status, body) = tokio::task::spawn_blocking(move || probe(&url)).await.ok()?.ok()??;
    let health: serde_json::Value = (status == 200).then(|| serde_json::from_str(&body).ok())??;
    Some((
        health["pace"].as_str()?.parse().ok()?,
        health["region"].as_str()?.to_string(),
    ))
}

/// Finds out what answers at `url`.
pub async fn detect(url: &str) -> Result<TargetKind, CloudError> {
    let base = endpoint::check(url)?;
    let found = tokio::task::spawn_blocking(move || -> Result<TargetKind, String> {
        if let Some((200, body)) = probe(&format!("{base}/_snaplab/health"))? {
            if body.contains("snaplab-emulator") {
                return Ok(TargetKind::Snaplab);
            }
        }
        if let Some((200, _)) = probe(&format!("{base}/_localstack/health"))? {
            return Ok(TargetKind::LocalStack);
        }
        if let Some((200, _)) = probe(&format!("{base}/moto-api/"))? {
            return Ok(TargetKind::Moto);
        }
        Ok(TargetKind::OtherEndpoint)
    })
    .await
    .map_err(|e| CloudError::Other(format!("probing {url}: {e}")))?;
    found.map_err(|detail| CloudError::Unreachable {
        endpoint: url.trim().to_string(),
        detail,
    })
}

impl Target {
    /// Connects to an endpoint, detecting what it is unless `kind` is known,
    /// signing with `access_key` (`None`: [`endpoint_credentials`]'s choice).
    /// Nobody observes its calls until [`observed_by`](Self::observed_by).
    pub async fn connect(
        url: &str,
        kind: Option<TargetKind>,
        region: &str,
        access_key: Option<&str>,
    ) -> Result<Self, CloudError> {
        let url = endpoint::check(url)?;
        let url = url.as_str();
        let kind = match kind {
            Some(k) => k,
            None => detect(url).await?,
        };
        let credentials = endpoint_credentials(access_key);
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(url)
            .credentials_provider(credentials.clone())
            .build();
        let ec2 = Ec2::new(aws_sdk_ec2::Client::from_conf(config), url);
        Ok(Self {
            kind,
            endpoint: url.to_string(),
            region: region.to_string(),
            ec2,
            profile: None,
            access_key: Some(credentials.access_key_id().to_string()),
        })
    }

    /// Who the lab is on this target's endpoint (on AWS: the default key,
    /// which nothing there reads).
    pub fn endpoint_scope(&self) -> EndpointScope {
        EndpointScope::new(self.access_key.as_deref().unwrap_or(DEFAULT_ACCESS_KEY), &self.region)
    }

    /// The same target, reporting every API call to `observer`.
    pub fn observed_by(self, observer: ApiObserver) -> Self {
        Self {
            ec2: self.ec2.observed_by(observer),
            ..self
        }
    }
}
