use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

/// The AWS codes that mean "no such resource" (the lab's finders treat
/// them as "not there", not as failures).
const NOT_FOUND_CODES: &[&str] = &[
    "InvalidVolume.NotFound",
    "InvalidSnapshot.NotFound",
    "InvalidInstanceID.NotFound",
];

const CREDENTIAL_CODES: &[&str] = &[
    "AuthFailure",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
];

/// What can go wrong talking to a cloud, classified so each has a message
/// that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    #[error("cannot reach {endpoint}: {detail}. Is it running? (LocalStack: localstack start; the snaplab emulator: snaplab emulator)")]
    Unreachable { endpoint: String, detail: String },
    #[error("'{url}' is not an endpoint URL: {why}. An endpoint looks like http://localhost:4566")]
    InvalidEndpoint { url: String, why: String },
    #[error("{url} is real AWS ({host}): snaplab goes to real AWS only when you choose it with --aws (a preflight and your consent first), never through an endpoint URL. Use --aws for your own account, the built-in emulator (no --endpoint), or an emulator such as LocalStack with --endpoint http://localhost:4566")]
    RealAwsEndpoint { url: String, host: String },
    #[error("{variable} in the environment: {problem}")]
    FromEnvironment {
        variable: String,
        /// Not `source`: the message already says it, and error chains would say it twice.
        problem: Box<CloudError>,
    },
    #[error(
        "the emulator has no instance tagged Name={name}: it was started with --empty. Restart it without --empty"
    )]
    NoScenario { name: String },
    #[error("the cloud rejected the credentials ({code}: {message}); for LocalStack or an emulator any key works, e.g. AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test")]
    Credentials { code: String, message: String },
    #[error("{code}: {message}")]
    Aws { code: String, message: String },
    #[error("{what} did not happen within {seconds} s")]
    TimedOut { what: String, seconds: u64 },
    #[error("{0}")]
    Other(String),
}

impl CloudError {
    /// The AWS error code, when the cloud answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Aws { code, .. } | Self::Credentials { code, .. } => Some(code),
            Self::FromEnvironment { problem, .. } => problem.code(),
            _ => None,
        }
    }

    /// The resource asked about does not exist (any `…NotFound` for a volume, snapshot or instance).
    pub fn is_not_found(&self) -> bool {
        self.code().is_some_and(|c| NOT_FOUND_CODES.contains(&c))
    }

    /// Nothing answered at the endpoint.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }

    /// The cloud did not accept the credentials.
    pub fn is_credentials(&self) -> bool {
        matches!(self, Self::Credentials { .. })
    }

    /// Refused because it would have touched real AWS.
    pub fn is_real_aws(&self) -> bool {
        match self {
            Self::RealAwsEndpoint { .. } => true,
            Self::FromEnvironment { problem, .. } => problem.is_real_aws(),
            _ => false,
        }
    }

    /// The endpoint URL itself is wrong (or is AWS): nothing was sent.
    pub fn is_bad_endpoint(&self) -> bool {
        match self {
            Self::InvalidEndpoint { .. } => true,
            Self::FromEnvironment { problem, .. } => problem.is_bad_endpoint(),
            _ => false,
        }
    }

    /// A "no such resource" error for `id`, as AWS words it (for clouds that
    /// answer an unknown id with an empty list, as moto does).
    pub(crate) fn not_found(code: &str, what: &str, id: &str) -> Self {
        Self::Aws {
            code: code.to_string(),
            message: format!("The {what} '{id}' does not exist."),
        }
    }

    pub(crate) fn from_sdk<E, R>(endpoint: &str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match &err {
            SdkError::DispatchFailure(f) => Self::Unreachable {
                endpoint: endpoint.to_string(),
                detail: if f.is_io() || f.is_timeout() {
                    "the connection failed".to_string()
                } else {
                    format!("{f:?}")
                },
            },
            SdkError::TimeoutError(_) => Self::Unreachable {
                endpoint: endpoint.to_string(),
                detail: "the request timed out".to_string(),
            },
            SdkError::ServiceError(e) => {
                let code = e.err().code().unwrap_or("Unknown").to_string();
                let message = e.err().message().unwrap_or_default().to_string();
                if CREDENTIAL_CODES.contains(&code.as_str()) {
                    Self::Credentials { code, message }
                } else {
                    Self::Aws { code, message }
                }
            }
            other => Self::Other(format!("{}", aws_sdk_ec2::error::DisplayErrorContext(other))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_is_the_resource_codes_only() {
        let e = |code: &str| CloudError::Aws {
            code: code.into(),
            message: String::new(),
        };
        assert!(e("InvalidVolume.NotFound").is_not_found());
        assert!(e("InvalidSnapshot.NotFound").is_not_found());
        assert!(e("InvalidInstanceID.NotFound").is_not_found());
        assert!(!e("InvalidAttachment.NotFound").is_not_found());
        assert!(!e("VolumeInUse").is_not_found());
        assert!(!CloudError::Other("InvalidVolume.NotFound".into()).is_not_found());
        assert!(CloudError::not_found("InvalidVolume.NotFound", "volume", "vol-1").is_not_found());
    }
}
