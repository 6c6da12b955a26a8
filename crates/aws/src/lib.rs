//! The SecureCart lab on a learner's own AWS account: connecting with the
//! AWS CLI's credentials ([`account`]), their profiles ([`profiles`]), what
//! a run creates ([`plan`]), the least policy it needs ([`policy`]), what it
//! costs ([`prices`]), and the preflight that checks all of it before
//! anything is created ([`preflight`]). Nothing here is called unless the
//! learner chose real AWS; tests point it at snaplab's emulator or moto
//! through `AWS_ENDPOINT_URL`, the same code path a real run takes.

pub mod account;
pub mod cleanup;
mod error;
pub mod instance_profile;
pub mod plan;
pub mod policy;
pub mod preflight;
pub mod prices;
pub mod profiles;
pub mod remote_shop;
pub mod site;
pub mod ssm_shell;

pub use account::{Account, AwsChoice, Identity};
pub use error::AwsError;
pub use preflight::{preflight, Check, Preflight, PreflightOptions};
pub use site::AwsSite;
