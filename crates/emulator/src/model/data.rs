//! The data plane: what the instance's OS does to an attached volume — read
//! and write bytes. Only an `attached` volume can be used, as on a real instance.

use crate::ids::{self, IdKind};
use crate::model::{AttachmentState, Cloud, Volume};

/// Largest single read or write, to keep one request from holding the lock long.
pub const MAX_TRANSFER: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataPlaneError {
    #[error("'{0}' is not a volume id: expected vol- followed by 17 hex digits")]
    MalformedVolumeId(String),
    #[error("volume {0} does not exist")]
    VolumeNotFound(String),
    #[error("volume {id} is {state}, not attached: attach it to an instance (aws ec2 attach-volume) and wait until the attachment is 'attached' before reading or writing it")]
    NotAttached { id: String, state: String },
    #[error("{what} of {len} bytes at offset {offset} runs past the end of {id} ({size} bytes)")]
    OutOfRange {
        id: String,
        what: &'static str,
        offset: u64,
        len: u64,
        size: u64,
    },
    #[error("{what} of {len} bytes is larger than the {max}-byte limit of one request; split it")]
    TooLarge { what: &'static str, len: u64, max: u64 },
    #[error("{name}='{value}' is not a byte count (a whole number from 0)")]
    BadParameter { name: String, value: String },
    #[error("{0} is required: ?offset=<byte offset> (and &length=<bytes> to read)")]
    MissingParameter(&'static str),
}

impl DataPlaneError {
    /// A stable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedVolumeId(_) => "InvalidVolumeID.Malformed",
            Self::VolumeNotFound(_) => "InvalidVolume.NotFound",
            Self::NotAttached { .. } => "VolumeNotAttached",
            Self::OutOfRange { .. } => "OutOfRange",
            Self::TooLarge { .. } => "RequestTooLarge",
            Self::BadParameter { .. } => "InvalidParameterValue",
            Self::MissingParameter(_) => "MissingParameter",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::MalformedVolumeId(_)
            | Self::OutOfRange { .. }
            | Self::BadParameter { .. }
            | Self::MissingParameter(_) => 400,
            Self::VolumeNotFound(_) => 404,
            Self::NotAttached { .. } => 409,
            Self::TooLarge { .. } => 413,
        }
    }
}

impl Volume {
    pub fn size_bytes(&self) -> u64 {
        u64::try_from(self.size_gib).unwrap_or(0) * 1024 * 1024 * 1024
    }
}

impl Cloud {
    fn attached_volume(&self, id: &str) -> Result<&Volume, DataPlaneError> {
        if ids::check(IdKind::Volume, id).is_err() {
            return Err(DataPlaneError::MalformedVolumeId(id.to_string()));
        }
        let v = self
            .volumes
            .get(id)
            .ok_or_else(|| DataPlaneError::VolumeNotFound(id.to_string()))?;
        // A Multi-Attach volume is usable while any of its attachments is.
        let attached = v.attachments.iter().any(|a| a.state == AttachmentState::Attached);
        match v.attachment() {
            Some(_) if attached => Ok(v),
            Some(a) => Err(DataPlaneError::NotAttached {
                id: id.to_string(),
                state: a.state.as_str().to_string(),
            }),
            None => Err(DataPlaneError::NotAttached {
                id: id.to_string(),
                state: v.state().as_str().to_string(),
            }),
        }
    }

    fn check_range(v: &Volume, what: &'static str, offset: u64, len: u64) -> Result<(), DataPlaneError> {
        if len > MAX_TRANSFER {
            return Err(DataPlaneError::TooLarge {
                what,
                len,
                max: MAX_TRANSFER,
            });
        }
        let size = v.size_bytes();
        if offset.checked_add(len).is_none_or(|end| end > size) {
            return Err(DataPlaneError::OutOfRange {
                id: v.id.clone(),
                what,
                offset,
                len,
                size,
            });
        }
        Ok(())
    }

    /// Writes all of `data` at `offset`, or nothing at all.
    pub fn write_volume(&mut self, id: &str, offset: u64, data: &[u8]) -> Result<(), DataPlaneError> {
        let v = self.attached_volume(id)?;
        Self::check_range(v, "a write", offset, data.len() as u64)?;
        if let Some(v) = self.volumes.get_mut(id) {
            v.data.write(offset, data);
            // A written block is the volume's own: nothing left to fetch for it.
            if let Some(init) = v.initialization.as_mut() {
                init.touch(offset, data.len() as u64);
            }
        }
        Ok(())
    }

    /// The bytes, and how many of the snapshot's blocks this read loaded for
    /// the first time (each costs a fetch from S3: the caller waits for it).
    pub fn read_volume(&mut self, id: &str, offset: u64, len: u64) -> Result<(Vec<u8>, u64), DataPlaneError> {
        let v = self.attached_volume(id)?;
        Self::check_range(v, "a read", offset, len)?;
        let bytes = v.data.read(offset, usize::try_from(len).unwrap_or(0));
        let fetched = match self.volumes.get_mut(id).and_then(|v| v.initialization.as_mut()) {
            Some(init) => init.touch(offset, len),
            None => 0,
        };
        Ok((bytes, fetched))
    }
}
