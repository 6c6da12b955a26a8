//! `--deny`: actions the emulator refuses as if the caller's IAM policy did
//! not allow them — for testing the real-AWS preflight, and for showing a
//! learner what a permissions error looks like. Refused with each service's
//! own answer (EC2 `UnauthorizedOperation`, also for DryRun; IAM and STS
//! `AccessDenied`; SSM `AccessDeniedException`).

use std::collections::BTreeSet;
use std::fmt;

/// `service:Action` pairs, or bare actions (any service).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenyList {
    entries: BTreeSet<(Option<String>, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not an action to deny: write ec2:RunInstances, ssm:SendCommand, or a bare action name, comma-separated"
)]
pub struct BadDenyEntry(String);

impl DenyList {
    /// Parses `ec2:RunInstances,ssm:SendCommand,CreateVolume`.
    pub fn parse(spec: &str) -> Result<Self, BadDenyEntry> {
        let mut entries = BTreeSet::new();
        for raw in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (service, action) = match raw.split_once(':') {
                Some((s, a)) => (Some(s.to_ascii_lowercase()), a),
                None => (None, raw),
            };
            let well_formed = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !well_formed(action) || service.as_deref().is_some_and(|s| !well_formed(s)) {
                return Err(BadDenyEntry(raw.to_string()));
            }
            entries.insert((service, action.to_string()));
        }
        Ok(Self { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `service:action` is refused.
    pub fn denies(&self, service: &str, action: &str) -> bool {
        self.entries.iter().any(|(s, a)| {
            a.eq_ignore_ascii_case(action) && s.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(service))
        })
    }
}

impl fmt::Display for DenyList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .entries
            .iter()
            .map(|(s, a)| match s {
                Some(s) => format!("{s}:{a}"),
                None => a.clone(),
            })
            .collect();
        f.write_str(&names.join(","))
    }
}

/// The sentence AWS uses when a policy does not allow an action.
pub fn not_authorized(principal_arn: &str, service: &str, action: &str) -> String {
    format!(
        "User: {principal_arn} is not authorized to perform: {service}:{action} because no identity-based policy allows the {service}:{action} action"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denies_by_service_and_action_or_by_action_alone() {
        let d = DenyList::parse("ec2:RunInstances, SendCommand").expect("parses");
        assert!(d.denies("ec2", "RunInstances"));
        assert!(d.denies("EC2", "runinstances"));
        assert!(!d.denies("ec2", "CreateVolume"));
        assert!(d.denies("ssm", "SendCommand"));
        assert!(d.denies("ec2", "SendCommand"));
        assert!(!DenyList::default().denies("ec2", "RunInstances"));
        assert_eq!(d.to_string(), "SendCommand,ec2:RunInstances");
    }

    #[test]
    fn refuses_what_is_not_an_action() {
        for bad in ["ec2:", ":RunInstances", "ec2:Run Instances", "ec2:*", "a:b:c"] {
            assert!(DenyList::parse(bad).is_err(), "{bad}");
        }
        assert!(DenyList::parse("").expect("empty is fine").is_empty());
    }
}
