//! Availability Zones of the emulated region.

use crate::model::filter::Filterable;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub zone_id: String,
    pub region: String,
}

/// `<region>a`, `b`, `c` with zone ids in AWS's style (`use1-az1`…).
pub fn zones_of(region: &str) -> Vec<Zone> {
    let short = short_region(region);
    ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, letter)| Zone {
            name: format!("{region}{letter}"),
            zone_id: format!("{short}-az{}", i + 1),
            region: region.to_string(),
        })
        .collect()
}

/// The zone group of a region's Availability Zones, as AWS names it
/// (DescribeAvailabilityZones' `GroupName`, e.g. `us-east-1-zg-1`).
pub fn group_name(region: &str) -> String {
    format!("{region}-zg-1")
}

/// The group's long name (`GroupLongName`, e.g. `US West (Oregon) 1`): the
/// region's name in the AWS console, then `1`. `None` for a region not in
/// the table (the field is then left out, as for an unknown group).
pub fn group_long_name(region: &str) -> Option<String> {
    REGION_NAMES
        .iter()
        .find(|(code, _)| *code == region)
        .map(|(_, name)| format!("{name} 1"))
}

/// Commercial regions and their names as the AWS console shows them.
const REGION_NAMES: &[(&str, &str)] = &[
    ("us-east-1", "US East (N. Virginia)"),
    ("us-east-2", "US East (Ohio)"),
    ("us-west-1", "US West (N. California)"),
    ("us-west-2", "US West (Oregon)"),
    ("af-south-1", "Africa (Cape Town)"),
    ("ap-east-1", "Asia Pacific (Hong Kong)"),
    ("ap-south-1", "Asia Pacific (Mumbai)"),
    ("ap-south-2", "Asia Pacific (Hyderabad)"),
    ("ap-southeast-1", "Asia Pacific (Singapore)"),
    ("ap-southeast-2", "Asia Pacific (Sydney)"),
    ("ap-southeast-3", "Asia Pacific (Jakarta)"),
    ("ap-southeast-4", "Asia Pacific (Melbourne)"),
    ("ap-northeast-1", "Asia Pacific (Tokyo)"),
    ("ap-northeast-2", "Asia Pacific (Seoul)"),
    ("ap-northeast-3", "Asia Pacific (Osaka)"),
    ("ca-central-1", "Canada (Central)"),
    ("ca-west-1", "Canada West (Calgary)"),
    ("eu-central-1", "Europe (Frankfurt)"),
    ("eu-central-2", "Europe (Zurich)"),
    ("eu-west-1", "Europe (Ireland)"),
    ("eu-west-2", "Europe (London)"),
    ("eu-west-3", "Europe (Paris)"),
    ("eu-south-1", "Europe (Milan)"),
    ("eu-south-2", "Europe (Spain)"),
    ("eu-north-1", "Europe (Stockholm)"),
    ("il-central-1", "Israel (Tel Aviv)"),
    ("me-south-1", "Middle East (Bahrain)"),
    ("me-central-1", "Middle East (UAE)"),
    ("sa-east-1", "South America (São Paulo)"),
];

/// `us-east-1` → `use1`, the prefix of AWS's zone ids.
fn short_region(region: &str) -> String {
    let mut out = String::new();
    for part in region.split('-') {
        match part.chars().next() {
            Some(c) if part.chars().all(|c| c.is_ascii_digit()) => out.push(c),
            Some(_) if out.is_empty() => out.push_str(part),
            Some(c) => out.push(c),
            None => {}
        }
    }
    out
}

pub const FILTERS: &[&str] = &[
    "zone-name",
    "zone-id",
    "state",
    "region-name",
    "group-name",
    "group-long-name",
    "zone-type",
    "opt-in-status",
];

impl Filterable for Zone {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        let v = match name {
            "zone-name" => self.name.clone(),
            "zone-id" => self.zone_id.clone(),
            "state" => "available".into(),
            "region-name" => self.region.clone(),
            "group-name" => group_name(&self.region),
            "group-long-name" => return Some(group_long_name(&self.region).into_iter().collect()),
            "zone-type" => "availability-zone".into(),
            "opt-in-status" => "opt-in-not-required".into(),
            _ => return None,
        };
        Some(vec![v])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_follow_aws_style() {
        let z = zones_of("us-east-1");
        assert_eq!(z[0].name, "us-east-1a");
        assert_eq!(z[0].zone_id, "use1-az1");
        assert_eq!(zones_of("eu-west-2")[2].zone_id, "euw2-az3");
    }

    #[test]
    fn zone_groups_are_named_as_aws_names_them() {
        assert_eq!(group_name("us-east-1"), "us-east-1-zg-1");
        assert_eq!(group_long_name("us-west-2").as_deref(), Some("US West (Oregon) 1"));
        assert_eq!(group_long_name("xx-nowhere-9"), None);
    }
}
