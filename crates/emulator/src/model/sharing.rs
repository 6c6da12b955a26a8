//! Sharing a snapshot: its `createVolumePermission` attribute (named
//! accounts, or group `all` for public), and what that lets other accounts
//! do — see it in DescribeSnapshots and restore a volume from it.
//!
//! From the ModifySnapshotAttribute reference: accounts are added or
//! removed, not both in one call; up to 500 in one call; "Encrypted
//! snapshots … cannot be made public"; "Snapshots encrypted with your
//! default KMS key cannot be shared with other accounts". AWS's words for
//! the two refusals are quoted as clients report them (UnsupportedOperation
//! "Encrypted snapshots can’t be shared publicly. Specify another
//! snapshot." and InvalidParameter "Snapshots encrypted with the AWS
//! Managed CMK can’t be shared. Specify another snapshot").

use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::model::Cloud;

/// Most accounts one ModifySnapshotAttribute may add or remove.
pub const MAX_CHANGES: usize = 500;

/// One entry of a createVolumePermission list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    Account(String),
    Everyone,
}

impl Grant {
    /// A `UserId` (12 digits) or `Group` (`all`) as given.
    pub fn parse(user_id: Option<&str>, group: Option<&str>) -> Ec2Result<Self> {
        match (user_id, group) {
            (Some(id), None) if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Self::Account(id.to_string()))
            }
            (Some(id), None) => Err(ec2_error!(
                InvalidParameterValue,
                "Value ({id}) for parameter userId is invalid. An account id is 12 digits."
            )),
            (None, Some("all")) => Ok(Self::Everyone),
            (None, Some(group)) => Err(ec2_error!(
                InvalidParameterValue,
                "Value ({group}) for parameter group is invalid. The only group is 'all'."
            )),
            _ => Err(ec2_error!(
                InvalidParameterCombination,
                "Each createVolumePermission item names either a UserId or a Group."
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Add,
    Remove,
}

impl Cloud {
    /// ModifySnapshotAttribute for createVolumePermission.
    pub fn modify_volume_permission(
        &mut self,
        snapshot_id: &str,
        operation: Operation,
        grants: &[Grant],
        dry_run: bool,
    ) -> Ec2Result<()> {
        let snap = self.snapshot(snapshot_id)?;
        if grants.len() > MAX_CHANGES {
            return Err(ec2_error!(
                InvalidParameterValue,
                "At most {MAX_CHANGES} accounts can be added or removed in one request."
            ));
        }
        if operation == Operation::Add {
            if snap.encrypted && grants.contains(&Grant::Everyone) {
                return Err(ec2_error!(
                    UnsupportedOperation,
                    "Encrypted snapshots can’t be shared publicly. Specify another snapshot."
                )
                .hint("Share it with named accounts (--user-ids) instead."));
            }
            let managed = self.aws_managed_key();
            if snap.kms_key_id.as_deref() == Some(managed.as_str()) && !grants.is_empty() {
                return Err(ec2_error!(
                    InvalidParameter,
                    "Snapshots encrypted with the AWS Managed CMK can’t be shared. Specify another snapshot"
                )
                .hint("Copy it with a customer managed key (aws ec2 copy-snapshot --encrypted --kms-key-id …) and share the copy."));
            }
        }
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        if let Some(snap) = self.snapshots.get_mut(snapshot_id) {
            let permission = &mut snap.permission;
            for grant in grants {
                match (operation, grant) {
                    (Operation::Add, Grant::Everyone) => permission.public = true,
                    (Operation::Remove, Grant::Everyone) => permission.public = false,
                    (Operation::Add, Grant::Account(a)) => {
                        permission.accounts.insert(a.clone());
                    }
                    (Operation::Remove, Grant::Account(a)) => {
                        permission.accounts.remove(a);
                    }
                }
            }
        }
        Ok(())
    }

    /// ResetSnapshotAttribute for createVolumePermission: private again.
    pub fn reset_volume_permission(&mut self, snapshot_id: &str, dry_run: bool) -> Ec2Result<()> {
        self.snapshot(snapshot_id)?;
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        if let Some(snap) = self.snapshots.get_mut(snapshot_id) {
            snap.permission = Default::default();
        }
        Ok(())
    }
}
