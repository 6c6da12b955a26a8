//! STS: GetCallerIdentity, which the real-AWS path calls first to show who
//! the learner is. Any key works; every caller is the account's root, in
//! the account its access key names (see [`account_for_key`]).

use crate::error::{ServiceError, ServiceResult};
use crate::model::ACCOUNT_ID;
use crate::service_error;
use crate::wire::query::QueryParams;
use crate::wire::xml::XmlWriter;

pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Who a caller is, as the emulator sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub access_key: String,
}

/// The access keys of the default account: LocalStack's `test`, and the
/// stand-in for requests that carry no signature.
pub const DEFAULT_ACCOUNT_KEYS: &[&str] = &["test", "anonymous"];

/// The account an access key acts in, so one endpoint holds a world per
/// learner: a 12-digit key is that account (LocalStack's rule); `test` and
/// unsigned requests are the default account (000000000000, LocalStack's
/// too); any other key is an account of its own, 12 digits derived from the
/// key — the same on every emulator and across restarts. (LocalStack puts
/// other keys in the default account: there, learners must use 12 digits.)
pub fn account_for_key(access_key: &str) -> String {
    let is_account = access_key.len() == 12 && access_key.bytes().all(|b| b.is_ascii_digit());
    if is_account {
        return access_key.to_string();
    }
    if access_key.is_empty() || DEFAULT_ACCOUNT_KEYS.contains(&access_key) {
        return ACCOUNT_ID.to_string();
    }
    let derived = crate::ids::spread_hash(format!("account/{access_key}").as_bytes()) % 1_000_000_000_000;
    // Never the default account by accident (one key in 10^12).
    format!("{:012}", derived.max(1))
}

impl Caller {
    /// The caller's account ([`account_for_key`]).
    pub fn account_id(&self) -> String {
        account_for_key(&self.access_key)
    }

    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:root", self.account_id())
    }
}

/// The actions STS answers here.
pub const ACTIONS: &[&str] = &["GetCallerIdentity"];

pub fn handle(params: &QueryParams, caller: &Caller, request_id: &str) -> ServiceResult<String> {
    match params.str("Action").unwrap_or_default() {
        "GetCallerIdentity" => {
            let mut w = XmlWriter::query_response("GetCallerIdentity", NAMESPACE);
            w.leaf("Arn", caller.arn())
                .leaf("UserId", &caller.access_key)
                .leaf("Account", caller.account_id());
            Ok(w.finish_query("GetCallerIdentity", request_id))
        }
        other => Err(unknown_action("sts", other, ACTIONS)),
    }
}

/// `InvalidAction` for an action a Query service does not have here.
pub fn unknown_action(service: &str, action: &str, known: &[&str]) -> ServiceError {
    service_error!(
        InvalidAction,
        "Could not find operation {action} for version of {service}. snaplab answers: {}.",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_accounts_stably() {
        assert_eq!(account_for_key("123456789012"), "123456789012");
        assert_eq!(account_for_key("test"), ACCOUNT_ID);
        assert_eq!(account_for_key("anonymous"), ACCOUNT_ID);
        assert_eq!(account_for_key(""), ACCOUNT_ID);
        let ada = account_for_key("AKIASNAPLABADA");
        assert_eq!(ada.len(), 12);
        assert!(ada.bytes().all(|b| b.is_ascii_digit()), "{ada}");
        assert_ne!(ada, ACCOUNT_ID);
        assert_eq!(account_for_key("AKIASNAPLABADA"), ada, "the same key, the same account");
        // Keys a class would use, one letter apart, land in different accounts.
        let accounts: std::collections::BTreeSet<String> =
            (0..200).map(|i| account_for_key(&format!("learner{i}"))).collect();
        assert_eq!(accounts.len(), 200);
        // 11 or 13 digits are keys, not accounts.
        assert_ne!(account_for_key("12345678901"), "12345678901");
        assert_ne!(account_for_key("1234567890123"), "1234567890123");
    }
}
