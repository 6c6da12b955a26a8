//! The region's default VPC and its default subnets, one per Availability
//! Zone, laid out as AWS lays out a new account's (172.31.0.0/16, a /20 per
//! zone). Instances launch into them; the real-AWS preflight looks for them.

use crate::model::filter::Filterable;
use crate::model::Zone;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    pub id: String,
    pub cidr: String,
    pub is_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub zone: String,
    pub zone_id: String,
    pub cidr: String,
    /// The subnet's third octet: its addresses are 172.31.<octet>.x.
    pub octet: u8,
    pub default_for_az: bool,
}

impl Subnet {
    /// The `n`th address handed out in the subnet (from .10 up, as a
    /// private IP in a /20 looks).
    pub fn address(&self, n: usize) -> String {
        let n = n % (16 * 240);
        let octet = usize::from(self.octet) + n / 240;
        format!("172.31.{octet}.{}", 10 + n % 240)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
}

/// The default account's default VPC id: fixed, so the lab's commands and
/// tests can name it.
pub const DEFAULT_VPC_ID: &str = "vpc-0de7a017c0ffee001";

impl Network {
    /// A default VPC with one default subnet per zone. The default account's
    /// ids are fixed; another account's are derived from it and the region
    /// (ids are unique across accounts, as on AWS).
    pub fn default_for(zones: &[Zone], account: &str, region: &str) -> Self {
        let fixed = account == crate::model::ACCOUNT_ID;
        let derived =
            |prefix: &str, what: &str| crate::ids::derived_id(prefix, &format!("network/{account}/{region}/{what}"));
        let vpc_id = match fixed {
            true => DEFAULT_VPC_ID.to_string(),
            false => derived("vpc", "vpc"),
        };
        let subnets = zones
            .iter()
            .enumerate()
            .map(|(i, z)| {
                let octet = u8::try_from(i * 16).unwrap_or(0);
                Subnet {
                    id: match fixed {
                        true => format!("subnet-0de7a017c0ffee0{}1", (b'a' + i as u8) as char),
                        false => derived("subnet", &z.name),
                    },
                    vpc_id: vpc_id.clone(),
                    zone: z.name.clone(),
                    zone_id: z.zone_id.clone(),
                    cidr: format!("172.31.{octet}.0/20"),
                    octet,
                    default_for_az: true,
                }
            })
            .collect();
        Self {
            vpcs: vec![Vpc {
                id: vpc_id,
                cidr: "172.31.0.0/16".to_string(),
                is_default: true,
            }],
            subnets,
        }
    }

    pub fn subnet(&self, id: &str) -> Option<&Subnet> {
        self.subnets.iter().find(|s| s.id == id)
    }

    /// The default subnet of a zone.
    pub fn default_subnet(&self, zone: &str) -> Option<&Subnet> {
        self.subnets.iter().find(|s| s.zone == zone && s.default_for_az)
    }
}

pub const VPC_FILTERS: &[&str] = &[
    "vpc-id",
    "is-default",
    "cidr",
    "cidr-block-association.cidr-block",
    "state",
];

pub const SUBNET_FILTERS: &[&str] = &[
    "subnet-id",
    "vpc-id",
    "availability-zone",
    "availability-zone-id",
    "default-for-az",
    "cidr-block",
    "state",
];

impl Filterable for Vpc {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        let v = match name {
            "vpc-id" => self.id.clone(),
            "is-default" => self.is_default.to_string(),
            "cidr" | "cidr-block-association.cidr-block" => self.cidr.clone(),
            "state" => "available".into(),
            _ => return None,
        };
        Some(vec![v])
    }
}

impl Filterable for Subnet {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        let v = match name {
            "subnet-id" => self.id.clone(),
            "vpc-id" => self.vpc_id.clone(),
            "availability-zone" => self.zone.clone(),
            "availability-zone-id" => self.zone_id.clone(),
            "default-for-az" => self.default_for_az.to_string(),
            "cidr-block" => self.cidr.clone(),
            "state" => "available".into(),
            _ => return None,
        };
        Some(vec![v])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{is_well_formed, IdKind};
    use crate::model::zone::zones_of;

    #[test]
    fn one_default_subnet_per_zone_with_well_formed_ids() {
        let n = Network::default_for(
            &zones_of("eu-west-1").unwrap_or_default(),
            crate::model::ACCOUNT_ID,
            "eu-west-1",
        );
        assert!(is_well_formed(IdKind::Vpc, DEFAULT_VPC_ID));
        assert_eq!(n.subnets.len(), 3);
        for s in &n.subnets {
            assert!(is_well_formed(IdKind::Subnet, &s.id), "{}", s.id);
        }
        // Another account's: well formed, and none of them the default account's.
        let other = Network::default_for(&zones_of("eu-west-1").unwrap_or_default(), "111122223333", "eu-west-1");
        assert!(is_well_formed(IdKind::Vpc, &other.vpcs[0].id), "{}", other.vpcs[0].id);
        assert_ne!(other.vpcs[0].id, DEFAULT_VPC_ID);
        for (mine, theirs) in n.subnets.iter().zip(&other.subnets) {
            assert!(is_well_formed(IdKind::Subnet, &theirs.id), "{}", theirs.id);
            assert_ne!(mine.id, theirs.id);
            assert_eq!(theirs.vpc_id, other.vpcs[0].id);
        }
        let b = n.default_subnet("eu-west-1b").expect("zone b has one");
        assert_eq!(b.cidr, "172.31.16.0/20");
        assert_eq!(b.address(0), "172.31.16.10");
        assert_eq!(b.address(241), "172.31.17.11");
    }
}
