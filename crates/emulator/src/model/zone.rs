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
    "zone-type",
    "opt-in-status",
];

impl Filterable for Zone {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        let v = match name {
            "zone-name" => self.name.clone(),
            "zone-id" => self.zone_id.clone(),
            "state" => "available".into(),
            "region-name" | "group-name" => self.region.clone(),
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
}
