//! SSM (JSON 1.1 protocol, `X-Amz-Target: AmazonSSM.<Operation>`): the
//! public parameters that name the latest Amazon Linux 2023 images, which
//! the real-AWS path resolves before it launches an instance.

use crate::clock::Timestamp;
use crate::error::ServiceResult;
use crate::model::Cloud;
use crate::service_error;

/// What a handler gets: the request body and the cloud.
pub struct SsmCall<'a> {
    pub cloud: &'a mut Cloud,
    pub input: &'a serde_json::Value,
    pub now: Timestamp,
}

type Handler = fn(&mut SsmCall<'_>) -> ServiceResult<serde_json::Value>;

/// Every SSM operation answered here.
pub const OPERATIONS: &[(&str, Handler)] = &[("GetParameter", get_parameter)];

/// The operation named by `X-Amz-Target` (`AmazonSSM.GetParameter`).
pub fn operation_of(target: &str) -> Option<&str> {
    target.strip_prefix("AmazonSSM.")
}

pub fn handle(call: &mut SsmCall<'_>, operation: &str) -> ServiceResult<serde_json::Value> {
    let Some((_, handler)) = OPERATIONS.iter().find(|(n, _)| *n == operation) else {
        let names: Vec<&str> = OPERATIONS.iter().map(|(n, _)| *n).collect();
        return Err(service_error!(
            UnknownOperationException,
            "Unknown operation {operation}. snaplab answers: {}.",
            names.join(", ")
        ));
    };
    handler(call)
}

fn required_str<'a>(input: &'a serde_json::Value, name: &str) -> ServiceResult<&'a str> {
    input[name].as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
        service_error!(
            ValidationException,
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            name.to_ascii_lowercase()
        )
    })
}

fn get_parameter(call: &mut SsmCall<'_>) -> ServiceResult<serde_json::Value> {
    let name = required_str(call.input, "Name")?;
    let image = call
        .cloud
        .images
        .iter()
        .find(|i| i.parameter == Some(name))
        .ok_or_else(|| service_error!(ParameterNotFound, "Parameter {name} not found."))?;
    let modified = call.now.timestamp() - 9 * 86_400;
    Ok(serde_json::json!({
        "Parameter": {
            "Name": name,
            "Type": "String",
            "Value": image.id,
            "Version": 161,
            "LastModifiedDate": modified,
            "ARN": format!("arn:aws:ssm:{}::parameter{name}", call.cloud.region),
            "DataType": "text",
        }
    }))
}
