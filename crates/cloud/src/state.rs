//! The states AWS reports for snapshots, volumes and attachments, as enums:
//! compared as values, never as strings, and generated as string unions for
//! the UI. A state this version does not know reads as `unknown` (by a
//! hand-written `Deserialize`: ts-rs cannot read serde's `other`).

use std::fmt;

/// `SnapshotState` of the EC2 API.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotState {
    Pending,
    Completed,
    Error,
    /// Recycle Bin states: not taught, but reported if seen.
    Recoverable,
    Recovering,
    Unknown,
}

impl SnapshotState {
    const ALL: [Self; 6] = [
        Self::Pending,
        Self::Completed,
        Self::Error,
        Self::Recoverable,
        Self::Recovering,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Completed => "completed",
            Self::Error => "error",
            Self::Recoverable => "recoverable",
            Self::Recovering => "recovering",
            Self::Unknown => "unknown",
        }
    }
}

impl From<&aws_sdk_ec2::types::SnapshotState> for SnapshotState {
    fn from(s: &aws_sdk_ec2::types::SnapshotState) -> Self {
        use aws_sdk_ec2::types::SnapshotState as Sdk;
        match s {
            Sdk::Pending => Self::Pending,
            Sdk::Completed => Self::Completed,
            Sdk::Error => Self::Error,
            Sdk::Recoverable => Self::Recoverable,
            Sdk::Recovering => Self::Recovering,
            _ => Self::Unknown,
        }
    }
}

/// `VolumeState` of the EC2 API.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VolumeState {
    Creating,
    Available,
    InUse,
    Deleting,
    Deleted,
    Error,
    Unknown,
}

impl VolumeState {
    const ALL: [Self; 7] = [
        Self::Creating,
        Self::Available,
        Self::InUse,
        Self::Deleting,
        Self::Deleted,
        Self::Error,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Available => "available",
            Self::InUse => "in-use",
            Self::Deleting => "deleting",
            Self::Deleted => "deleted",
            Self::Error => "error",
            Self::Unknown => "unknown",
        }
    }

    /// Deleted, or on its way there.
    pub fn is_gone(self) -> bool {
        matches!(self, Self::Deleting | Self::Deleted)
    }
}

impl From<&aws_sdk_ec2::types::VolumeState> for VolumeState {
    fn from(s: &aws_sdk_ec2::types::VolumeState) -> Self {
        use aws_sdk_ec2::types::VolumeState as Sdk;
        match s {
            Sdk::Creating => Self::Creating,
            Sdk::Available => Self::Available,
            Sdk::InUse => Self::InUse,
            Sdk::Deleting => Self::Deleting,
            Sdk::Deleted => Self::Deleted,
            Sdk::Error => Self::Error,
            _ => Self::Unknown,
        }
    }
}

/// `VolumeAttachmentState` of the EC2 API.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentState {
    Attaching,
    Attached,
    Detaching,
    Detached,
    Busy,
    Unknown,
}

impl AttachmentState {
    const ALL: [Self; 6] = [
        Self::Attaching,
        Self::Attached,
        Self::Detaching,
        Self::Detached,
        Self::Busy,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attaching => "attaching",
            Self::Attached => "attached",
            Self::Detaching => "detaching",
            Self::Detached => "detached",
            Self::Busy => "busy",
            Self::Unknown => "unknown",
        }
    }
}

impl From<&aws_sdk_ec2::types::VolumeAttachmentState> for AttachmentState {
    fn from(s: &aws_sdk_ec2::types::VolumeAttachmentState) -> Self {
        use aws_sdk_ec2::types::VolumeAttachmentState as Sdk;
        match s {
            Sdk::Attaching => Self::Attaching,
            Sdk::Attached => Self::Attached,
            Sdk::Detaching => Self::Detaching,
            Sdk::Detached => Self::Detached,
            Sdk::Busy => Self::Busy,
            _ => Self::Unknown,
        }
    }
}

/// Display as AWS spells it; read AWS's spelling, anything else as `Unknown`.
macro_rules! aws_spelling {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::ALL.into_iter().find(|v| v.as_str() == s).unwrap_or(Self::Unknown))
            }
        }
    )*};
}
aws_spelling!(SnapshotState, VolumeState, AttachmentState);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_and_write_aws_spelling_and_unknown_ones_do_not_fail() {
        let v: VolumeState = serde_json::from_str("\"in-use\"").unwrap_or(VolumeState::Error);
        assert_eq!(v, VolumeState::InUse);
        assert_eq!(
            serde_json::to_string(&VolumeState::InUse).ok().as_deref(),
            Some("\"in-use\"")
        );
        let s: SnapshotState = serde_json::from_str("\"archived-someday\"").unwrap_or(SnapshotState::Error);
        assert_eq!(s, SnapshotState::Unknown);
        assert_eq!(AttachmentState::Attached.to_string(), "attached");
        for s in [
            SnapshotState::Pending,
            SnapshotState::Completed,
            SnapshotState::Error,
            SnapshotState::Recoverable,
            SnapshotState::Recovering,
        ] {
            let json = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            let sdk = aws_sdk_ec2::types::SnapshotState::from(s.as_str());
            assert_eq!(SnapshotState::from(&sdk), s);
        }
    }
}
