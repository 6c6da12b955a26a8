use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

/// What can go wrong talking to a cloud, classified so each has a message
/// that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    #[error("cannot reach {endpoint}: {detail}. Is it running? (LocalStack: localstack start; the snaplab emulator: snaplab emulator)")]
    Unreachable { endpoint: String, detail: String },
    #[error("{0}")]
    Refused(String),
    #[error("the cloud rejected the credentials ({code}: {message}); for LocalStack or an emulator any key works, e.g. AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test")]
    Credentials { code: String, message: String },
    #[error("{code}: {message}")]
    Aws { code: String, message: String },
    #[error("{0}")]
    Other(String),
}

impl CloudError {
    /// The AWS error code, when the cloud answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Aws { code, .. } | Self::Credentials { code, .. } => Some(code),
            _ => None,
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
                if matches!(
                    code.as_str(),
                    "AuthFailure" | "UnrecognizedClientException" | "InvalidClientTokenId" | "SignatureDoesNotMatch"
                ) {
                    Self::Credentials { code, message }
                } else {
                    Self::Aws { code, message }
                }
            }
            other => Self::Other(format!("{}", aws_sdk_ec2::error::DisplayErrorContext(other))),
        }
    }
}
