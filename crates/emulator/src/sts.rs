//! STS: GetCallerIdentity, which the real-AWS path calls first to show who
//! the learner is. Any key works; every caller is the account's root, in
//! the account its access key names (see [`Caller::account_id`]; LocalStack
//! answers the same way).

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

impl Caller {
    /// The caller's account: the access key itself when it is 12 digits
    /// (LocalStack's rule, so one endpoint can hold several accounts), else
    /// the default account.
    pub fn account_id(&self) -> &str {
        let is_account = self.access_key.len() == 12 && self.access_key.bytes().all(|b| b.is_ascii_digit());
        if is_account {
            &self.access_key
        } else {
            ACCOUNT_ID
        }
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
