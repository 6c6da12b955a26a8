//! Encryption by default and the default KMS key of a region:
//! Enable/Disable/GetEbsEncryptionByDefault, Get/Modify/ResetEbsDefaultKmsKeyId.

use super::Call;
use crate::error::{Ec2Error, Ec2Result};

fn by_default_reply(call: &Call<'_>) -> String {
    let mut w = call.reply();
    w.leaf("ebsEncryptionByDefault", call.cloud.encryption.by_default);
    w.finish(call.action)
}

fn set_by_default(call: &mut Call<'_>, on: bool) -> Ec2Result<String> {
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    call.cloud.encryption.by_default = on;
    Ok(by_default_reply(call))
}

pub fn enable_by_default(call: &mut Call<'_>) -> Ec2Result<String> {
    set_by_default(call, true)
}

pub fn disable_by_default(call: &mut Call<'_>) -> Ec2Result<String> {
    set_by_default(call, false)
}

pub fn get_by_default(call: &mut Call<'_>) -> Ec2Result<String> {
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    Ok(by_default_reply(call))
}

/// The default key as AWS names it: the chosen key's ARN, or `alias/aws/ebs`
/// while none is chosen (new volumes still report the AWS managed key's ARN).
fn key_reply(call: &Call<'_>) -> String {
    let mut w = call.reply();
    let named = call
        .cloud
        .encryption
        .default_key
        .clone()
        .unwrap_or_else(|| crate::model::encryption::AWS_MANAGED_ALIAS.to_string());
    w.leaf("kmsKeyId", named);
    w.finish(call.action)
}

pub fn get_default_key(call: &mut Call<'_>) -> Ec2Result<String> {
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    Ok(key_reply(call))
}

pub fn modify_default_key(call: &mut Call<'_>) -> Ec2Result<String> {
    let given = call.params.required("KmsKeyId")?;
    let key = call.cloud.resolve_kms_key(given)?;
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    // The AWS managed key named as the default is the same as no choice.
    call.cloud.encryption.default_key = (key != call.cloud.aws_managed_key()).then_some(key);
    Ok(key_reply(call))
}

pub fn reset_default_key(call: &mut Call<'_>) -> Ec2Result<String> {
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    call.cloud.encryption.default_key = None;
    Ok(key_reply(call))
}
