//! STS: GetCallerIdentity, which the real-AWS path calls first to show who
//! the learner is. Any key works; every caller is the account's root, in
//! the one account the emulator keeps (LocalStack answers the same way).

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
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{ACCOUNT_ID}:root")
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
                .leaf("Account", ACCOUNT_ID);
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
