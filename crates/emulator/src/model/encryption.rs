//! EBS encryption in one account and region: the AWS managed key
//! (`alias/aws/ebs`), the default key and encryption by default, and which
//! key a new volume or snapshot copy gets.
//!
//! From the EBS User Guide ("Amazon EBS encryption", "Encryption by
//! default") and the CreateVolume / CopySnapshot references: volumes
//! restored from an encrypted snapshot are encrypted; with encryption by
//! default on, every new volume and snapshot copy is encrypted, whatever
//! `Encrypted` says; a KmsKeyId needs `Encrypted=true`; the key may be
//! given as a key id, key ARN, alias name or alias ARN, and AWS checks it
//! asynchronously (a key that does not exist fails later, not in the call)
//! — so only its form is checked here.

use crate::ec2_error;
use crate::error::Ec2Result;
use crate::model::Cloud;

/// The alias of the AWS managed key for EBS in every account and region.
pub const AWS_MANAGED_ALIAS: &str = "alias/aws/ebs";

/// A region's encryption settings (EnableEbsEncryptionByDefault, ModifyEbsDefaultKmsKeyId).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncryptionSettings {
    pub by_default: bool,
    /// A customer key chosen as the default (its ARN); else the AWS managed key.
    pub default_key: Option<String>,
}

/// What a new volume or copy asked for.
#[derive(Debug, Clone, Default)]
pub struct EncryptionRequest<'a> {
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<&'a str>,
}

impl EncryptionRequest<'_> {
    /// AWS refuses a key for something not asked to be encrypted.
    pub fn check(&self) -> Ec2Result<()> {
        if self.kms_key_id.is_some() && self.encrypted != Some(true) {
            return Err(ec2_error!(
                InvalidParameterDependency,
                "The parameter KmsKeyId requires the parameter Encrypted to be set."
            ));
        }
        Ok(())
    }
}

impl Cloud {
    /// The ARN of this account's AWS managed EBS key in this region (one
    /// stable key id per account and region, as AWS keeps one).
    pub fn aws_managed_key(&self) -> String {
        let h = crate::ids::stable_hash(format!("{}/{}/aws-ebs", self.account, self.region).as_bytes());
        let hex = format!("{h:016x}{:016x}", h.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15);
        let uuid = format!(
            "{}-{}-4{}-8{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        );
        format!("arn:aws:kms:{}:{}:key/{uuid}", self.region, self.account)
    }

    /// The key new encrypted volumes get when none is named.
    pub fn default_kms_key(&self) -> String {
        self.encryption
            .default_key
            .clone()
            .unwrap_or_else(|| self.aws_managed_key())
    }

    /// A KmsKeyId as given (key id, key ARN, alias, alias ARN) as the ARN AWS reports.
    pub fn resolve_kms_key(&self, given: &str) -> Ec2Result<String> {
        let invalid = || {
            ec2_error!(
                InvalidParameterValue,
                "Value ({given}) for parameter kmsKeyId is invalid."
            )
        };
        if given == AWS_MANAGED_ALIAS {
            return Ok(self.aws_managed_key());
        }
        if let Some(name) = given.strip_prefix("alias/") {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b)) {
                return Err(invalid());
            }
            return Ok(format!("arn:aws:kms:{}:{}:{given}", self.region, self.account));
        }
        if is_key_id(given) {
            return Ok(format!("arn:aws:kms:{}:{}:key/{given}", self.region, self.account));
        }
        let arn_ok = given.strip_prefix("arn:aws:kms:").is_some_and(|rest| {
            let parts: Vec<&str> = rest.splitn(3, ':').collect();
            match parts.as_slice() {
                [region, account, resource] => {
                    !region.is_empty()
                        && account.len() == 12
                        && account.bytes().all(|b| b.is_ascii_digit())
                        && (resource.strip_prefix("key/").is_some_and(is_key_id)
                            || resource.strip_prefix("alias/").is_some_and(|a| !a.is_empty()))
                }
                _ => false,
            }
        });
        if arn_ok {
            Ok(given.to_string())
        } else {
            Err(invalid())
        }
    }

    /// The key a new volume or copy is encrypted with (`None`: unencrypted).
    /// `source_key`: the key of the snapshot it comes from, if encrypted.
    pub fn key_for_new(&self, req: &EncryptionRequest<'_>, source_key: Option<&str>) -> Ec2Result<Option<String>> {
        req.check()?;
        if let Some(given) = req.kms_key_id {
            return self.resolve_kms_key(given).map(Some);
        }
        let encrypt = source_key.is_some() || req.encrypted == Some(true) || self.encryption.by_default;
        Ok(encrypt.then(|| source_key.map_or_else(|| self.default_kms_key(), str::to_string)))
    }
}

/// A KMS key id: a UUID (`1234abcd-12ab-34cd-56ef-1234567890ab`), or a
/// multi-Region key's `mrk-` followed by 32 hex digits.
fn is_key_id(s: &str) -> bool {
    if let Some(hex) = s.strip_prefix("mrk-") {
        return hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::pace::Pace;

    fn cloud() -> Cloud {
        Cloud::new("111122223333", "eu-west-1", Pace::Instant, Some(1))
    }

    #[test]
    fn keys_resolve_to_arns_in_the_account_and_region() {
        let c = cloud();
        let managed = c.aws_managed_key();
        assert!(
            managed.starts_with("arn:aws:kms:eu-west-1:111122223333:key/"),
            "{managed}"
        );
        assert!(is_key_id(managed.rsplit('/').next().unwrap()), "{managed}");
        assert_eq!(managed, cloud().aws_managed_key(), "stable");
        assert_eq!(c.resolve_kms_key("alias/aws/ebs").unwrap(), managed);
        assert_eq!(
            c.resolve_kms_key("1234abcd-12ab-34cd-56ef-1234567890ab").unwrap(),
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        );
        assert_eq!(
            c.resolve_kms_key("alias/lab").unwrap(),
            "arn:aws:kms:eu-west-1:111122223333:alias/lab"
        );
        let arn = "arn:aws:kms:us-east-1:444455556666:key/mrk-1234abcd12ab34cd56ef1234567890ab";
        assert_eq!(c.resolve_kms_key(arn).unwrap(), arn);
        for bad in ["", "nope", "alias/", "arn:aws:kms:eu-west-1:1:key/x", "1234abcd-12ab"] {
            assert!(c.resolve_kms_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_volumes_follow_the_source_the_request_and_the_default() {
        let mut c = cloud();
        let plain = EncryptionRequest::default();
        assert_eq!(c.key_for_new(&plain, None).unwrap(), None);
        let asked = EncryptionRequest {
            encrypted: Some(true),
            kms_key_id: None,
        };
        assert_eq!(c.key_for_new(&asked, None).unwrap(), Some(c.aws_managed_key()));
        assert_eq!(c.key_for_new(&plain, Some("k")).unwrap().as_deref(), Some("k"));
        let key_only = EncryptionRequest {
            encrypted: None,
            kms_key_id: Some("alias/lab"),
        };
        assert!(c.key_for_new(&key_only, None).is_err());
        c.encryption.by_default = true;
        let refused = EncryptionRequest {
            encrypted: Some(false),
            kms_key_id: None,
        };
        assert_eq!(c.key_for_new(&refused, None).unwrap(), Some(c.aws_managed_key()));
    }
}
