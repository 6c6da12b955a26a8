//! SSM (JSON 1.1 protocol, `X-Amz-Target: AmazonSSM.<Operation>`), as the
//! real-AWS path uses it: the public parameters naming the latest Amazon
//! Linux 2023 images; which instances the agent manages (running, launched
//! with an SSM instance profile, registered after a while); and Run Command
//! with `AWS-RunShellScript` — executed in the instance's sandbox when the
//! emulator runs commands ([`crate::host`]), else recorded as failed with
//! a message that says how to turn it on.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::clock::{iso8601, Timestamp};
use crate::error::{ServiceError, ServiceErrorCode, ServiceResult};
use crate::host::{Hosts, Invocation};
use crate::model::{Cloud, Instance};
use crate::service_error;

/// The one document answered here.
pub const RUN_SHELL_SCRIPT: &str = "AWS-RunShellScript";
/// Most instances one SendCommand names (AWS's limit).
const MAX_INSTANCES: usize = 50;

/// What happened to a command on one instance.
#[derive(Debug, Clone)]
pub enum Outcome {
    Running(Arc<Invocation>),
    /// Not run: why (the emulator does not run commands).
    NotRun {
        why: String,
        at: Timestamp,
    },
}

#[derive(Debug, Clone)]
pub struct SentCommand {
    pub id: String,
    pub comment: String,
    pub parameters: Value,
    pub requested_at: Timestamp,
    pub timeout_s: u64,
    pub invocations: BTreeMap<String, Outcome>,
}

/// The commands sent so far (not kept across restarts, as AWS keeps them 30 days).
#[derive(Debug, Default)]
pub struct Commands {
    sent: Mutex<BTreeMap<String, SentCommand>>,
}

/// What a handler gets.
pub struct SsmCall<'a> {
    pub cloud: &'a mut Cloud,
    pub input: &'a Value,
    pub now: Timestamp,
    pub commands: &'a Commands,
    pub hosts: Option<&'a Hosts>,
}

type Handler = fn(&mut SsmCall<'_>) -> ServiceResult<Value>;

/// Every SSM operation answered here.
pub const OPERATIONS: &[(&str, Handler)] = &[
    ("GetParameter", get_parameter),
    ("DescribeInstanceInformation", describe_instance_information),
    ("SendCommand", send_command),
    ("GetCommandInvocation", get_command_invocation),
];

pub fn handle(call: &mut SsmCall<'_>, operation: &str) -> ServiceResult<Value> {
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

fn required_str<'a>(input: &'a Value, name: &str) -> ServiceResult<&'a str> {
    input[name]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ServiceError::missing(ServiceErrorCode::ValidationException, name))
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn epoch(t: &Timestamp) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

fn get_parameter(call: &mut SsmCall<'_>) -> ServiceResult<Value> {
    let name = required_str(call.input, "Name")?;
    let image = call
        .cloud
        .images
        .iter()
        .find(|i| i.parameter == Some(name))
        .ok_or_else(|| service_error!(ParameterNotFound, "Parameter {name} not found."))?;
    let modified = call.now.timestamp() - 9 * 86_400;
    Ok(json!({
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

/// `Filters` (`Key`/`Values`) and the older `InstanceInformationFilterList`
/// (`key`/`valueSet`): instance ids, ping status, tags.
fn instance_filters(input: &Value) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for f in input["Filters"].as_array().into_iter().flatten() {
        let key = f["Key"].as_str().unwrap_or_default().to_string();
        out.push((key, strings(&f["Values"]).into_iter().map(String::from).collect()));
    }
    for f in input["InstanceInformationFilterList"].as_array().into_iter().flatten() {
        let key = f["key"].as_str().unwrap_or_default();
        out.push((
            key.to_string(),
            strings(&f["valueSet"]).into_iter().map(String::from).collect(),
        ));
    }
    out
}

fn matches(i: &Instance, filters: &[(String, Vec<String>)]) -> bool {
    filters.iter().all(|(key, values)| match key.as_str() {
        "InstanceIds" => values.contains(&i.id),
        "PingStatus" => values.iter().any(|v| v == "Online"),
        "PlatformTypes" => values.iter().any(|v| v == "Linux"),
        "ResourceType" => values.iter().any(|v| v == "EC2Instance"),
        k => match k.strip_prefix("tag:") {
            Some(tag) => i.tags.get(tag).is_some_and(|v| values.iter().any(|w| w == v)),
            None => k == "tag-key" && values.iter().any(|v| i.tags.get(v).is_some()),
        },
    })
}

fn describe_instance_information(call: &mut SsmCall<'_>) -> ServiceResult<Value> {
    let filters = instance_filters(call.input);
    let cloud = &*call.cloud;
    let list: Vec<Value> = cloud
        .instances
        .values()
        .filter(|i| cloud.ssm_online(i, call.now) && matches(i, &filters))
        .map(|i| {
            json!({
                "InstanceId": i.id,
                "PingStatus": "Online",
                "LastPingDateTime": epoch(&call.now),
                "AgentVersion": "3.3.1957.0",
                "IsLatestVersion": true,
                "PlatformType": "Linux",
                "PlatformName": "Amazon Linux",
                "PlatformVersion": "2023",
                "ResourceType": "EC2Instance",
                "IPAddress": i.private_ip,
                "ComputerName": i.private_dns_name(&cloud.region),
            })
        })
        .collect();
    Ok(json!({ "InstanceInformationList": list }))
}

fn send_command(call: &mut SsmCall<'_>) -> ServiceResult<Value> {
    let document = required_str(call.input, "DocumentName")?;
    if document != RUN_SHELL_SCRIPT {
        return Err(service_error!(
            InvalidDocument,
            "Document {document} does not exist in your account. snaplab runs {RUN_SHELL_SCRIPT}."
        ));
    }
    let instance_ids = strings(&call.input["InstanceIds"]);
    if instance_ids.is_empty() || instance_ids.len() > MAX_INSTANCES {
        return Err(service_error!(
            ValidationException,
            "InstanceIds must name 1 to {MAX_INSTANCES} instances (Targets are not answered here)."
        ));
    }
    let lines = strings(&call.input["Parameters"]["commands"]);
    if lines.is_empty() {
        return Err(service_error!(
            InvalidParameters,
            "Parameter \"commands\" is required: the shell commands to run."
        ));
    }
    for id in &instance_ids {
        let managed = call
            .cloud
            .instances
            .get(*id)
            .is_some_and(|i| call.cloud.ssm_online(i, call.now));
        if !managed {
            return Err(service_error!(
                InvalidInstanceId,
                "Instances [[{id}]] not in a valid state for account {}",
                call.cloud.account_id()
            ));
        }
    }
    let timeout_s = strings(&call.input["Parameters"]["executionTimeout"])
        .first()
        .and_then(|t| t.parse().ok())
        .unwrap_or(3600);
    let script = lines.join("\n");
    let id = uuid::Uuid::new_v4().to_string();
    let mut invocations = BTreeMap::new();
    for instance in &instance_ids {
        let outcome = match call.hosts {
            Some(hosts) => match hosts.run(&id, instance, &script, timeout_s) {
                Ok(inv) => Outcome::Running(inv),
                Err(e) => Outcome::NotRun {
                    why: format!("the command could not be started: {e}"),
                    at: call.now,
                },
            },
            None => Outcome::NotRun {
                why: "this snaplab emulator does not run commands: start it with --run-commands DIR (loopback only) to run them in a per-instance sandbox".to_string(),
                at: call.now,
            },
        };
        invocations.insert(instance.to_string(), outcome);
    }
    let sent = SentCommand {
        id: id.clone(),
        comment: call.input["Comment"].as_str().unwrap_or_default().to_string(),
        parameters: call.input["Parameters"].clone(),
        requested_at: call.now,
        timeout_s,
        invocations,
    };
    let reply = json!({ "Command": command_view(&sent, document) });
    call.commands
        .sent
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, sent);
    Ok(reply)
}

fn command_view(c: &SentCommand, document: &str) -> Value {
    json!({
        "CommandId": c.id,
        "DocumentName": document,
        "DocumentVersion": "$DEFAULT",
        "Comment": c.comment,
        "Parameters": c.parameters,
        "InstanceIds": c.invocations.keys().collect::<Vec<_>>(),
        "Targets": [],
        "RequestedDateTime": epoch(&c.requested_at),
        "Status": "Pending",
        "StatusDetails": "Pending",
        "TimeoutSeconds": c.timeout_s,
        "TargetCount": c.invocations.len(),
        "CompletedCount": 0,
        "ErrorCount": 0,
        "DeliveryTimedOutCount": 0,
    })
}

/// ISO 8601 duration of an execution (`PT1.25S`).
fn elapsed(from: &Timestamp, to: &Timestamp) -> String {
    let ms = (*to - *from).num_milliseconds().max(0);
    format!("PT{}.{:03}S", ms / 1000, ms % 1000)
}

fn get_command_invocation(call: &mut SsmCall<'_>) -> ServiceResult<Value> {
    let command_id = required_str(call.input, "CommandId")?;
    let instance_id = required_str(call.input, "InstanceId")?;
    let sent = call.commands.sent.lock().unwrap_or_else(|p| p.into_inner());
    let command = sent
        .get(command_id)
        .ok_or_else(|| service_error!(InvalidCommandId, "Command ID {command_id} is not valid."))?;
    let outcome = command.invocations.get(instance_id).ok_or_else(|| {
        service_error!(
            InvocationDoesNotExist,
            "Command {command_id} was not sent to instance {instance_id}."
        )
    })?;
    let (status, code, started, ended, stdout, stderr) = match outcome {
        Outcome::Running(inv) => {
            let (status, code, ended) = inv.status();
            (status.as_str(), code, inv.started_at, ended, inv.stdout(), inv.stderr())
        }
        Outcome::NotRun { why, at } => ("Failed", 127, *at, Some(*at), String::new(), why.clone()),
    };
    Ok(json!({
        "CommandId": command_id,
        "InstanceId": instance_id,
        "Comment": command.comment,
        "DocumentName": RUN_SHELL_SCRIPT,
        "DocumentVersion": "$DEFAULT",
        "PluginName": "aws:runShellScript",
        "ResponseCode": code,
        "ExecutionStartDateTime": iso8601(&started),
        "ExecutionElapsedTime": elapsed(&started, &ended.unwrap_or(call.now)),
        "ExecutionEndDateTime": ended.map(|t| iso8601(&t)).unwrap_or_default(),
        "Status": status,
        "StatusDetails": status,
        "StandardOutputContent": stdout,
        "StandardOutputUrl": "",
        "StandardErrorContent": stderr,
        "StandardErrorUrl": "",
    }))
}
