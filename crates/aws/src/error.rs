//! What can go wrong on the way to, and in, a learner's AWS account — each
//! error says what to do about it.

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::profiles::ProfileKind;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsError {
    #[error("there is no AWS profile named '{name}' in your AWS config files{known}. Create it with `aws configure --profile {name}` (keys) or `aws configure sso` (IAM Identity Center)")]
    UnknownProfile { name: String, known: String },
    #[error("profile '{profile}' assumes a role that asks for an MFA code (mfa_serial), and snaplab cannot prompt for one. Use an IAM Identity Center (SSO) profile instead, or get session credentials first (`aws sts get-session-token --serial-number <mfa arn> --token-code <code>`) and export them as AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN")]
    MfaProfile { profile: String },
    #[error("no AWS region is set: pass --region (e.g. --region us-east-1), set AWS_REGION, or add `region = …` to the profile")]
    NoRegion,
    #[error("the IAM Identity Center (SSO) login for profile '{profile}' is missing or has expired: run `aws sso login --profile {profile}`, then try again")]
    SsoLogin { profile: String },
    #[error("no AWS credentials were found ({detail}). Configure a profile (`aws configure` or `aws configure sso`) and pass --profile NAME, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")]
    NoCredentials { detail: String },
    #[error("AWS did not accept the credentials ({code}: {message}). Check the profile or keys; session credentials may have expired")]
    BadCredentials { code: String, message: String },
    #[error("cannot reach {endpoint} for {action}: {detail}")]
    Unreachable {
        action: String,
        endpoint: String,
        detail: String,
    },
    #[error("{action} was refused: {code}: {message}")]
    Aws {
        action: String,
        code: String,
        message: String,
    },
    #[error("{action} failed: {detail}")]
    Other { action: String, detail: String },
    #[error("real AWS is switched off on this computer (SNAPLAB_FORBID_REAL_AWS is set) and {service} has no endpoint override: nothing was sent. Set AWS_ENDPOINT_URL to an emulator, or unset SNAPLAB_FORBID_REAL_AWS")]
    RealAwsForbidden { service: String },
}

/// Service codes that mean the credentials, not the request, are the problem.
const CREDENTIAL_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
];

/// Codes that mean "your policy does not allow this".
pub const DENIED_CODES: &[&str] = &["UnauthorizedOperation", "AccessDenied", "AccessDeniedException"];

impl AwsError {
    /// The AWS error code, when a service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Aws { code, .. } | Self::BadCredentials { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The service's message, when it answered; else the whole error.
    pub fn message(&self) -> String {
        match self {
            Self::Aws { message, .. } | Self::BadCredentials { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// The caller's policy does not allow the action.
    pub fn is_denied(&self) -> bool {
        self.code().is_some_and(|c| DENIED_CODES.contains(&c))
    }

    /// Classifies an SDK error from `action`, sent to `endpoint` with
    /// credentials from `profile` (of `kind`).
    pub fn from_sdk<E>(
        action: &str,
        endpoint: &str,
        profile: Option<(&str, &ProfileKind)>,
        err: SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match &err {
            SdkError::ServiceError(e) => {
                let code = e.err().code().unwrap_or("Unknown").to_string();
                let message = e.err().message().unwrap_or_default().to_string();
                if CREDENTIAL_CODES.contains(&code.as_str()) {
                    Self::BadCredentials { code, message }
                } else {
                    Self::Aws {
                        action: action.to_string(),
                        code,
                        message,
                    }
                }
            }
            SdkError::ResponseError(r) => Self::Other {
                action: action.to_string(),
                detail: format!(
                    "{endpoint} answered something that is not this service's reply (HTTP {})",
                    r.raw().status().as_u16()
                ),
            },
            SdkError::TimeoutError(_) => Self::Unreachable {
                action: action.to_string(),
                endpoint: endpoint.to_string(),
                detail: "the request timed out".to_string(),
            },
            other => {
                let chain = DisplayErrorContext(other).to_string();
                tracing::debug!(action, error = %chain, "the call failed before an answer");
                // Credentials are resolved before anything is sent: their failures land here.
                if chain.to_ascii_lowercase().contains("credential") {
                    return match profile {
                        Some((name, ProfileKind::Sso)) => Self::SsoLogin {
                            profile: name.to_string(),
                        },
                        _ => Self::NoCredentials {
                            detail: "none of the AWS CLI's credential sources had any".to_string(),
                        },
                    };
                }
                match other {
                    SdkError::DispatchFailure(f) if f.is_io() || f.is_timeout() => Self::Unreachable {
                        action: action.to_string(),
                        endpoint: endpoint.to_string(),
                        detail: "the connection failed".to_string(),
                    },
                    _ => Self::Other {
                        action: action.to_string(),
                        detail: chain,
                    },
                }
            }
        }
    }
}
