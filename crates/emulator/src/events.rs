//! Amazon EventBridge (JSON 1.1, `X-Amz-Target: AWSEvents.<Operation>`): the
//! rules on the default event bus that route EBS's snapshot notifications
//! to SNS topics. Only the default bus and exact-value patterns.

use serde_json::{json, Value};

use crate::error::ServiceResult;
use crate::model::notify::{check_pattern, Rule};
use crate::model::Cloud;
use crate::service_error;

/// Rule names: 1–64 of letters, digits, `.`, `-`, `_` (EventBridge API reference).
const NAME_CHARS: &str = ".-_";
/// Targets per rule (EventBridge quota).
const MAX_TARGETS: usize = 5;

type Handler = fn(&mut Cloud, &Value) -> ServiceResult<Value>;

const OPERATIONS: &[(&str, Handler)] = &[
    ("PutRule", put_rule),
    ("DescribeRule", describe_rule),
    ("ListRules", list_rules),
    ("DeleteRule", delete_rule),
    ("PutTargets", put_targets),
    ("RemoveTargets", remove_targets),
    ("ListTargetsByRule", list_targets_by_rule),
];

pub fn handle(cloud: &mut Cloud, operation: &str, input: &Value) -> ServiceResult<Value> {
    let Some((_, handler)) = OPERATIONS.iter().find(|(n, _)| *n == operation) else {
        let names: Vec<&str> = OPERATIONS.iter().map(|(n, _)| *n).collect();
        return Err(service_error!(
            UnknownOperationException,
            "Unknown operation {operation}. snaplab's EventBridge answers: {}.",
            names.join(", ")
        ));
    };
    check_bus(input)?;
    handler(cloud, input)
}

fn string<'a>(input: &'a Value, name: &str) -> ServiceResult<Option<&'a str>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(service_error!(
            ValidationException,
            "{name} must be a string, not {other}."
        )),
    }
}

fn required<'a>(input: &'a Value, name: &str) -> ServiceResult<&'a str> {
    string(input, name)?.ok_or_else(|| {
        service_error!(
            ValidationException,
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(name)
        )
    })
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// Only the default bus is emulated.
fn check_bus(input: &Value) -> ServiceResult<()> {
    match string(input, "EventBusName")? {
        None | Some("default") => Ok(()),
        Some(bus) => Err(service_error!(
            ResourceNotFoundException,
            "Event bus {bus} does not exist. snaplab's emulator has only the default event bus."
        )),
    }
}

fn rule_arn(cloud: &Cloud, name: &str) -> String {
    format!("arn:aws:events:{}:{}:rule/{name}", cloud.region, cloud.account)
}

fn rule_named<'a>(cloud: &'a mut Cloud, name: &str) -> ServiceResult<&'a mut Rule> {
    cloud.notifications.rules.get_mut(name).ok_or_else(|| {
        service_error!(
            ResourceNotFoundException,
            "Rule {name} does not exist on EventBus default."
        )
    })
}

fn rule_json(cloud: &Cloud, r: &Rule) -> Value {
    let mut v = json!({
        "Name": r.name,
        "Arn": rule_arn(cloud, &r.name),
        "EventPattern": r.pattern_text,
        "State": if r.enabled { "ENABLED" } else { "DISABLED" },
        "EventBusName": "default",
    });
    if let Some(d) = &r.description {
        v["Description"] = json!(d);
    }
    v
}

fn put_rule(cloud: &mut Cloud, input: &Value) -> ServiceResult<Value> {
    let name = required(input, "Name")?;
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || NAME_CHARS.contains(c))
    {
        return Err(service_error!(
            ValidationException,
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ (1 to 64 characters)"
        ));
    }
    if string(input, "ScheduleExpression")?.is_some() {
        return Err(service_error!(
            ValidationException,
            "snaplab's emulator runs no schedules: give the rule an EventPattern instead of a ScheduleExpression."
        ));
    }
    let text = required(input, "EventPattern")?;
    let pattern: Value = serde_json::from_str(text)
        .map_err(|e| service_error!(InvalidEventPatternException, "Event pattern is not valid. Reason: {e}"))?;
    check_pattern(&pattern).map_err(|why| {
        service_error!(
            InvalidEventPatternException,
            "Event pattern is not valid. Reason: {why}"
        )
    })?;
    let enabled = match string(input, "State")? {
        None | Some("ENABLED") => true,
        Some("DISABLED") => false,
        Some(other) => {
            return Err(service_error!(
                ValidationException,
                "1 validation error detected: Value '{other}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]"
            ))
        }
    };
    let description = string(input, "Description")?.map(String::from);
    // PutRule creates or updates; an update keeps the rule's targets.
    let targets = cloud
        .notifications
        .rules
        .get(name)
        .map(|r| r.targets.clone())
        .unwrap_or_default();
    cloud.notifications.rules.insert(
        name.to_string(),
        Rule {
            name: name.to_string(),
            pattern,
            pattern_text: text.to_string(),
            enabled,
            description,
            targets,
        },
    );
    Ok(json!({ "RuleArn": rule_arn(cloud, name) }))
}

fn describe_rule(cloud: &mut Cloud, input: &Value) -> ServiceResult<Value> {
    let name = required(input, "Name")?;
    let rule = rule_named(cloud, name)?.clone();
    let mut v = rule_json(cloud, &rule);
    v["CreatedBy"] = json!(cloud.account);
    Ok(v)
}

fn list_rules(cloud: &mut Cloud, input: &Value) -> ServiceResult<Value> {
    let prefix = string(input, "NamePrefix")?.unwrap_or_default();
    let cloud = &*cloud;
    let rules: Vec<Value> = cloud
        .notifications
        .rules
        .values()
        .filter(|r| r.name.starts_with(prefix))
        .map(|r| rule_json(cloud, r))
        .collect();
    Ok(json!({ "Rules": rules }))
}

fn delete_rule(cloud: &mut Cloud, input: &Value) -> ServiceResult<Value> {
    let name = required(input, "Name")?;
    // Deleting a rule that is not there succeeds, as on AWS.
    if let Some(rule) = cloud.notifications.rules.get(name) {
        if !rule.targets.is_empty() {
            return Err(service_error!(
                ValidationException,
                "Rule can't be deleted since it has targets. Remove them first: aws events remove-targets --rule {name} --ids {}",
                rule.targets.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(" ")
            ));
        }
    }
    cloud.notifications.rules.remove(name);
    Ok(json!({}))
}

fn put_targets(cloud: &mut Cloud, input: &Value) -> ServiceResult<Value> {
    let name = required(input, "Rule")?;
    let Some(Value::Array(targets)) = input.get("Targets") else {
        return Err(service_error!(
            ValidationException,
            "1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null"
        ));
    };
    let mut wanted = Vec::new();
    for t in targets {
        let (id, arn) = (required(t, "Id")?, required(t, "Arn")?);
        if id.is_empty() || id.len() > 64 {
            return Err(service_error!(
                ValidationException,
                "Target Id '{id}' must be 1 to 64 characters."
            ));
        }
        wanted.push((id.to_string(), arn.to_string()));
    }
    let rule = rule_named(cloud, name)?;
    // All or nothing: a refused call leaves the rule's targets as they were.
    let mut merged = rule.targets.clone();
    for (id, arn) in wanted {
        match merged.iter_mut().find(|(i, _)| *i == id) {
            Some(existing) => existing.1 = arn,
            None => merged.push((id, arn)),
        }
    }
    if merged.len() > MAX_TARGETS {
        return Err(service_error!(
            LimitExceededException,
            "The requested target number {} exceeds the limit of {MAX_TARGETS} targets per rule.",
            merged.len()
        ));
    }
    rule.targets = merged;
    Ok(json!({ "FailedEntryCount": 0, "FailedEntries": [] }))
}

fn remove_targets(cloud: &mut Cloud, input: &Value) -> ServiceResult<Value> {
    let name = required(input, "Rule")?;
    let ids: Vec<String> = match input.get("Ids") {
        Some(Value::Array(ids)) => ids.iter().filter_map(|i| i.as_str().map(String::from)).collect(),
        _ => {
            return Err(service_error!(
                ValidationException,
                "1 validation error detected: Value null at 'ids' failed to satisfy constraint: Member must not be null"
            ))
        }
    };
    let rule = rule_named(cloud, name)?;
    rule.targets.retain(|(id, _)| !ids.contains(id));
    Ok(json!({ "FailedEntryCount": 0, "FailedEntries": [] }))
}

fn list_targets_by_rule(cloud: &mut Cloud, input: &Value) -> ServiceResult<Value> {
    let name = required(input, "Rule")?;
    let rule = rule_named(cloud, name)?;
    let targets: Vec<Value> = rule
        .targets
        .iter()
        .map(|(id, arn)| json!({ "Id": id, "Arn": arn }))
        .collect();
    Ok(json!({ "Targets": targets }))
}
