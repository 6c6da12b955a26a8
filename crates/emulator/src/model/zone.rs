//! Availability Zones of the emulated region.

use crate::model::filter::Filterable;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub zone_id: String,
    pub region: String,
}

/// A region's Availability Zones as AWS lists them (letters from
/// [`REGIONS`]), with zone ids in AWS's style (`use1-az1`…). AWS maps zone
/// names to ids differently in each account; here they follow the letters.
/// `None` for a region AWS does not have.
pub fn zones_of(region: &str) -> Option<Vec<Zone>> {
    let (_, _, letters) = REGIONS.iter().find(|(code, ..)| *code == region)?;
    let short = short_region(region);
    Some(
        letters
            .chars()
            .enumerate()
            .map(|(i, letter)| Zone {
                name: format!("{region}{letter}"),
                zone_id: format!("{short}-az{}", i + 1),
                region: region.to_string(),
            })
            .collect(),
    )
}

/// True for a commercial region AWS has.
pub fn is_region(region: &str) -> bool {
    REGIONS.iter().any(|(code, ..)| *code == region)
}

/// Every commercial region's code.
pub fn regions() -> impl Iterator<Item = &'static str> {
    REGIONS.iter().map(|(code, ..)| *code)
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
    REGIONS
        .iter()
        .find(|(code, ..)| *code == region)
        .map(|(_, name, _)| format!("{name} 1"))
}

/// Commercial regions: code, name as the AWS console shows it, and the
/// letters of the Availability Zones a new account sees (us-west-1 has two,
/// a few regions skip a letter retired long ago).
const REGIONS: &[(&str, &str, &str)] = &[
    ("us-east-1", "US East (N. Virginia)", "abcdef"),
    ("us-east-2", "US East (Ohio)", "abc"),
    ("us-west-1", "US West (N. California)", "ac"),
    ("us-west-2", "US West (Oregon)", "abcd"),
    ("af-south-1", "Africa (Cape Town)", "abc"),
    ("ap-east-1", "Asia Pacific (Hong Kong)", "abc"),
    ("ap-south-1", "Asia Pacific (Mumbai)", "abc"),
    ("ap-south-2", "Asia Pacific (Hyderabad)", "abc"),
    ("ap-southeast-1", "Asia Pacific (Singapore)", "abc"),
    ("ap-southeast-2", "Asia Pacific (Sydney)", "abc"),
    ("ap-southeast-3", "Asia Pacific (Jakarta)", "abc"),
    ("ap-southeast-4", "Asia Pacific (Melbourne)", "abc"),
    ("ap-northeast-1", "Asia Pacific (Tokyo)", "acd"),
    ("ap-northeast-2", "Asia Pacific (Seoul)", "abcd"),
    ("ap-northeast-3", "Asia Pacific (Osaka)", "abc"),
    ("ca-central-1", "Canada (Central)", "abd"),
    ("ca-west-1", "Canada West (Calgary)", "abc"),
    ("eu-central-1", "Europe (Frankfurt)", "abc"),
    ("eu-central-2", "Europe (Zurich)", "abc"),
    ("eu-west-1", "Europe (Ireland)", "abc"),
    ("eu-west-2", "Europe (London)", "abc"),
    ("eu-west-3", "Europe (Paris)", "abc"),
    ("eu-south-1", "Europe (Milan)", "abc"),
    ("eu-south-2", "Europe (Spain)", "abc"),
    ("eu-north-1", "Europe (Stockholm)", "abc"),
    ("il-central-1", "Israel (Tel Aviv)", "abc"),
    ("me-south-1", "Middle East (Bahrain)", "abc"),
    ("me-central-1", "Middle East (UAE)", "abc"),
    ("sa-east-1", "South America (São Paulo)", "abc"),
    ("ap-east-2", "Asia Pacific (Taipei)", "abc"),
    ("ap-southeast-5", "Asia Pacific (Malaysia)", "abc"),
    ("ap-southeast-6", "Asia Pacific (New Zealand)", "abc"),
    ("ap-southeast-7", "Asia Pacific (Thailand)", "abc"),
    ("mx-central-1", "Mexico (Central)", "abc"),
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_follow_aws_style() {
        let z = zones_of("us-east-1").unwrap();
        assert_eq!(z.len(), 6);
        assert_eq!(z[0].name, "us-east-1a");
        assert_eq!(z[0].zone_id, "use1-az1");
        assert_eq!(zones_of("eu-west-2").unwrap()[2].zone_id, "euw2-az3");
        let names: Vec<String> = zones_of("us-west-1").unwrap().into_iter().map(|z| z.name).collect();
        assert_eq!(names, ["us-west-1a", "us-west-1c"]);
        assert!(zones_of("us-east-9").is_none());
    }

    #[test]
    fn zone_groups_are_named_as_aws_names_them() {
        assert_eq!(group_name("us-east-1"), "us-east-1-zg-1");
        assert_eq!(group_long_name("us-west-2").as_deref(), Some("US West (Oregon) 1"));
        assert_eq!(group_long_name("xx-nowhere-9"), None);
    }
}
