//! EC2 error codes and the error value every emulator operation returns.
//!
//! One enum carries the AWS code string and HTTP status in one place, so a
//! handler never spells a code by hand and the wire layer never guesses a status.

use std::fmt;

/// The EC2 error codes the emulator answers with. Codes and statuses follow the
/// EC2 API reference ("Error codes for the Amazon EC2 API").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ec2ErrorCode {
    InvalidVolumeIdMalformed,
    InvalidSnapshotIdMalformed,
    InvalidInstanceIdMalformed,
    InvalidId,
    InvalidVolumeNotFound,
    InvalidSnapshotNotFound,
    InvalidInstanceIdNotFound,
    InvalidVolumeZoneMismatch,
    InvalidAttachmentNotFound,
    InvalidZoneNotFound,
    IncorrectState,
    VolumeInUse,
    OperationNotPermitted,
    InvalidParameterValue,
    InvalidParameterCombination,
    InvalidParameterDependency,
    InvalidVolumeModificationNotFound,
    IncorrectModificationState,
    VolumeModificationRateExceeded,
    InvalidParameter,
    InvalidPaginationToken,
    MissingParameter,
    MissingAction,
    InvalidAction,
    ConcurrentSnapshotLimitExceeded,
    SnapshotCreationPerVolumeRateExceeded,
    UnsupportedOperation,
    TagLimitExceeded,
    DryRunOperation,
    InvalidQuery,
    InstanceLimitExceeded,
    InvalidAmiIdMalformed,
    InvalidAmiIdNotFound,
    InvalidSubnetIdNotFound,
    InvalidVpcIdNotFound,
    MissingInput,
    VpcIdNotSpecified,
    UnauthorizedOperation,
    AuthFailure,
    InvalidRequest,
    InvalidSnapshotInUse,
    ResourceLimitExceeded,
}

impl Ec2ErrorCode {
    /// The code exactly as AWS spells it on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidVolumeIdMalformed => "InvalidVolumeID.Malformed",
            Self::InvalidSnapshotIdMalformed => "InvalidSnapshotID.Malformed",
            Self::InvalidInstanceIdMalformed => "InvalidInstanceID.Malformed",
            Self::InvalidId => "InvalidID",
            Self::InvalidVolumeNotFound => "InvalidVolume.NotFound",
            Self::InvalidSnapshotNotFound => "InvalidSnapshot.NotFound",
            Self::InvalidInstanceIdNotFound => "InvalidInstanceID.NotFound",
            Self::InvalidVolumeZoneMismatch => "InvalidVolume.ZoneMismatch",
            Self::InvalidAttachmentNotFound => "InvalidAttachment.NotFound",
            Self::InvalidZoneNotFound => "InvalidZone.NotFound",
            Self::IncorrectState => "IncorrectState",
            Self::VolumeInUse => "VolumeInUse",
            Self::OperationNotPermitted => "OperationNotPermitted",
            Self::InvalidParameterValue => "InvalidParameterValue",
            Self::InvalidParameterCombination => "InvalidParameterCombination",
            Self::InvalidParameterDependency => "InvalidParameterDependency",
            Self::InvalidVolumeModificationNotFound => "InvalidVolumeModification.NotFound",
            Self::IncorrectModificationState => "IncorrectModificationState",
            Self::VolumeModificationRateExceeded => "VolumeModificationRateExceeded",
            Self::InvalidParameter => "InvalidParameter",
            Self::InvalidPaginationToken => "InvalidPaginationToken",
            Self::MissingParameter => "MissingParameter",
            Self::MissingAction => "MissingAction",
            Self::InvalidAction => "InvalidAction",
            Self::ConcurrentSnapshotLimitExceeded => "ConcurrentSnapshotLimitExceeded",
            Self::SnapshotCreationPerVolumeRateExceeded => "SnapshotCreationPerVolumeRateExceeded",
            Self::UnsupportedOperation => "UnsupportedOperation",
            Self::TagLimitExceeded => "TagLimitExceeded",
            Self::DryRunOperation => "DryRunOperation",
            Self::InvalidQuery => "InvalidQuery",
            Self::InstanceLimitExceeded => "InstanceLimitExceeded",
            Self::InvalidAmiIdMalformed => "InvalidAMIID.Malformed",
            Self::InvalidAmiIdNotFound => "InvalidAMIID.NotFound",
            Self::InvalidSubnetIdNotFound => "InvalidSubnetID.NotFound",
            Self::InvalidVpcIdNotFound => "InvalidVpcID.NotFound",
            Self::MissingInput => "MissingInput",
            Self::VpcIdNotSpecified => "VPCIdNotSpecified",
            Self::UnauthorizedOperation => "UnauthorizedOperation",
            Self::AuthFailure => "AuthFailure",
            Self::InvalidRequest => "InvalidRequest",
            Self::InvalidSnapshotInUse => "InvalidSnapshot.InUse",
            Self::ResourceLimitExceeded => "ResourceLimitExceeded",
        }
    }

    /// HTTP status AWS uses for the code. Everything the client caused is a 4xx;
    /// the emulator never answers 5xx.
    pub fn status(self) -> u16 {
        match self {
            Self::DryRunOperation => 412,
            Self::UnauthorizedOperation => 403,
            Self::AuthFailure => 401,
            _ => 400,
        }
    }
}

impl fmt::Display for Ec2ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An EC2 error: a code, the message AWS gives (word for word where AWS's
/// words are known), and a hint for a learner — what to do next — that the
/// wire carries only when the emulator is asked to (`--hints`), so scripts
/// that match AWS's messages keep working.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Ec2Error {
    pub code: Ec2ErrorCode,
    pub message: String,
    pub hint: Option<String>,
}

impl Ec2Error {
    pub fn new(code: Ec2ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds what a learner should do next (sent only with `--hints`).
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The message as sent: AWS's, with the hint after it when `hints` is on.
    pub fn wire_message(&self, hints: bool) -> String {
        match (&self.hint, hints) {
            (Some(h), true) => format!("{} {h}", self.message),
            _ => self.message.clone(),
        }
    }

    pub fn dry_run() -> Self {
        Self::new(
            Ec2ErrorCode::DryRunOperation,
            "Request would have succeeded, but DryRun flag is set.",
        )
    }

    pub fn missing(parameter: &str) -> Self {
        Self::new(
            Ec2ErrorCode::MissingParameter,
            format!("The request must contain the parameter {parameter}"),
        )
    }

    pub fn invalid_value(parameter: &str, value: &str, why: &str) -> Self {
        Self::new(
            Ec2ErrorCode::InvalidParameterValue,
            format!("Value ({value}) for parameter {parameter} is invalid. {why}"),
        )
    }
}

/// Builds an [`Ec2Error`] from a code variant and a format string.
#[macro_export]
macro_rules! ec2_error {
    ($code:ident, $($arg:tt)+) => {
        $crate::error::Ec2Error::new($crate::error::Ec2ErrorCode::$code, format!($($arg)+))
    };
}

pub type Ec2Result<T> = Result<T, Ec2Error>;

/// The error codes of the other services the emulator answers (STS, IAM,
/// SSM), each with its status, as their API references give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceErrorCode {
    /// IAM and STS: the caller's policy does not allow the action.
    AccessDenied,
    /// SSM's spelling of the same.
    AccessDeniedException,
    /// IAM: no such role or instance profile.
    NoSuchEntity,
    /// IAM: a role or instance profile of that name exists already.
    EntityAlreadyExists,
    /// IAM: e.g. a second role for an instance profile.
    LimitExceeded,
    /// SSM: no such parameter.
    ParameterNotFound,
    /// SSM: an instance that is not managed (or not running).
    InvalidInstanceId,
    InvalidCommandId,
    InvocationDoesNotExist,
    /// SSM: a document other than the ones answered here.
    InvalidDocument,
    /// SSM: the document's parameters are wrong (no commands, say).
    InvalidParameters,
    /// A required parameter is missing or a value is malformed.
    ValidationError,
    /// SSM (JSON protocol) for the same.
    ValidationException,
    /// Query protocol: an action this service does not have here.
    InvalidAction,
    /// JSON protocol: an operation this service does not have here.
    UnknownOperationException,
    /// EventBridge: no such rule.
    ResourceNotFoundException,
    /// EventBridge: an event pattern it cannot read.
    InvalidEventPatternException,
    /// SNS: no such topic or subscription.
    NotFound,
    /// SNS: a parameter missing or wrong.
    InvalidParameter,
    /// EventBridge: over a quota (targets per rule).
    LimitExceededException,
    /// SNS: the caller's policy does not allow the action.
    AuthorizationError,
}

impl ServiceErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessDenied => "AccessDenied",
            Self::AccessDeniedException => "AccessDeniedException",
            Self::NoSuchEntity => "NoSuchEntity",
            Self::EntityAlreadyExists => "EntityAlreadyExists",
            Self::LimitExceeded => "LimitExceeded",
            Self::ParameterNotFound => "ParameterNotFound",
            Self::InvalidInstanceId => "InvalidInstanceId",
            Self::InvalidCommandId => "InvalidCommandId",
            Self::InvocationDoesNotExist => "InvocationDoesNotExist",
            Self::InvalidDocument => "InvalidDocument",
            Self::InvalidParameters => "InvalidParameters",
            Self::ValidationError => "ValidationError",
            Self::ValidationException => "ValidationException",
            Self::InvalidAction => "InvalidAction",
            Self::UnknownOperationException => "UnknownOperationException",
            Self::ResourceNotFoundException => "ResourceNotFoundException",
            Self::InvalidEventPatternException => "InvalidEventPatternException",
            Self::NotFound => "NotFound",
            Self::InvalidParameter => "InvalidParameter",
            Self::LimitExceededException => "LimitExceededException",
            Self::AuthorizationError => "AuthorizationError",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Self::AccessDenied | Self::AuthorizationError => 403,
            Self::NoSuchEntity | Self::NotFound => 404,
            Self::EntityAlreadyExists | Self::LimitExceeded => 409,
            _ => 400,
        }
    }
}

/// An error of STS, IAM or SSM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ServiceError {
    pub code: ServiceErrorCode,
    pub message: String,
}

impl ServiceError {
    pub fn new(code: ServiceErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A required member left out, in the words of AWS's validation (the
    /// member named as the wire spells it, first letter lowercase).
    pub fn missing(code: ServiceErrorCode, member: &str) -> Self {
        let mut c = member.chars();
        let member = c
            .next()
            .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
            .unwrap_or_default();
        Self::new(
            code,
            format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"),
        )
    }
}

/// Builds a [`ServiceError`] from a code variant and a format string.
#[macro_export]
macro_rules! service_error {
    ($code:ident, $($arg:tt)+) => {
        $crate::error::ServiceError::new($crate::error::ServiceErrorCode::$code, format!($($arg)+))
    };
}

pub type ServiceResult<T> = Result<T, ServiceError>;
