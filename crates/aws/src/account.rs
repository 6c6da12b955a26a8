//! Connecting to the learner's account: aws-config's default credential
//! chain (environment, shared files, `--profile`/`AWS_PROFILE`, IAM Identity
//! Center, `credential_process`, assume-role), the region, and the endpoint
//! overrides aws-config honours (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`,
//! a profile's `endpoint_url`) — said out loud whenever one is set, since the
//! calls then do not go to AWS. Tests point them at snaplab's emulator or moto.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::error::AwsError;
use crate::profiles::{ProfileKind, Profiles};

/// What the learner chose: a profile and a region (each optional: the chain decides).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsChoice {
    pub profile: Option<String>,
    pub region: Option<String>,
}

/// The services the real-AWS path calls, by the names their endpoint variables use.
pub const SERVICES: &[&str] = &["EC2", "EBS", "SSM", "STS", "IAM"];

/// When set, any service without an endpoint override is refused before a
/// call is made: a safety net for test machines and classrooms.
pub const FORBID_REAL_AWS: &str = "SNAPLAB_FORBID_REAL_AWS";

/// A connected account: the SDK configuration and where each service's calls go.
#[derive(Debug, Clone)]
pub struct Account {
    config: SdkConfig,
    pub region: String,
    pub profile: Option<String>,
    pub profile_kind: Option<ProfileKind>,
    /// (service, URL) for every service whose calls do not go to AWS itself.
    pub overrides: Vec<(String, String)>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The endpoint a service's calls go to, when it is not AWS's own.
fn override_for(service: &str, config: &SdkConfig) -> Option<String> {
    if env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    env(&format!("AWS_ENDPOINT_URL_{service}")).or_else(|| config.endpoint_url().map(String::from))
}

impl Account {
    /// Loads credentials and region as the AWS CLI would. Nothing is sent yet:
    /// credentials that do not work show up at the first call ([`Self::classify`]).
    pub async fn open(choice: &AwsChoice) -> Result<Self, AwsError> {
        let profiles = Profiles::load().await;
        let profile = choice.profile.clone().or_else(|| env("AWS_PROFILE"));
        let profile_kind = match &profile {
            Some(name) => {
                let info = profiles.info(name).ok_or_else(|| AwsError::UnknownProfile {
                    name: name.clone(),
                    known: match profiles.list() {
                        l if l.is_empty() => " (there are none)".to_string(),
                        l => format!(
                            " (they have: {})",
                            l.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    },
                })?;
                if info.kind == ProfileKind::MfaRole {
                    return Err(AwsError::MfaProfile { profile: name.clone() });
                }
                Some(info.kind)
            }
            None => None,
        };
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(name) = &choice.profile {
            loader = loader.profile_name(name);
        }
        if let Some(region) = &choice.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let config = loader.load().await;
        let region = config.region().map(|r| r.to_string()).ok_or(AwsError::NoRegion)?;
        let overrides: Vec<(String, String)> = SERVICES
            .iter()
            .filter_map(|s| override_for(s, &config).map(|url| (s.to_string(), url)))
            .collect();
        if env(FORBID_REAL_AWS).is_some() {
            if let Some(service) = SERVICES.iter().find(|s| !overrides.iter().any(|(o, _)| o == *s)) {
                return Err(AwsError::RealAwsForbidden {
                    service: service.to_string(),
                });
            }
        }
        Ok(Self {
            config,
            region,
            profile,
            profile_kind,
            overrides,
        })
    }

    /// The EC2 endpoint when it is not AWS's own (`None`: real AWS).
    pub fn endpoint(&self) -> Option<&str> {
        self.overrides.iter().find(|(s, _)| s == "EC2").map(|(_, u)| u.as_str())
    }

    /// One sentence on where calls go, for the learner (always shown when overridden).
    pub fn describe_endpoints(&self) -> Option<String> {
        if self.overrides.is_empty() {
            return None;
        }
        let all_same =
            self.overrides.len() == SERVICES.len() && self.overrides.iter().all(|(_, u)| *u == self.overrides[0].1);
        Some(if all_same {
            format!(
                "AWS_ENDPOINT_URL is set: every call goes to {}, not to AWS.",
                self.overrides[0].1
            )
        } else {
            let list: Vec<String> = self.overrides.iter().map(|(s, u)| format!("{s} → {u}")).collect();
            format!(
                "Endpoint overrides are set, so these calls do not go to AWS: {}.",
                list.join(", ")
            )
        })
    }

    fn endpoint_of(&self, service: &str) -> String {
        self.overrides
            .iter()
            .find(|(s, _)| s == service)
            .map(|(_, u)| u.clone())
            .unwrap_or_else(|| format!("AWS {service} in {}", self.region))
    }

    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.config)
    }

    /// The lab's EC2 operations on this account (named by where they go).
    pub fn lab_ec2(&self) -> snaplab_cloud::Ec2 {
        let label = self
            .endpoint()
            .map_or_else(|| format!("AWS {}", self.region), String::from);
        snaplab_cloud::Ec2::new(self.ec2(), &label)
    }

    pub fn ebs(&self) -> aws_sdk_ebs::Client {
        aws_sdk_ebs::Client::new(&self.config)
    }

    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.config)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.config)
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }

    /// An SDK error from `service:Action`, classified (credentials, SSO login, denied, …).
    pub fn classify<E>(&self, action: &str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let service = action.split(':').next().unwrap_or_default().to_ascii_uppercase();
        let profile = self.profile.as_deref().zip(self.profile_kind.as_ref());
        AwsError::from_sdk(action, &self.endpoint_of(&service), profile, err)
    }

    /// Who the credentials belong to (STS GetCallerIdentity needs no permission).
    pub async fn identity(&self) -> Result<Identity, AwsError> {
        let out = self
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| self.classify("sts:GetCallerIdentity", e))?;
        Ok(Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}
