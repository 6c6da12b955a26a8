//! The price table (prices.toml: one data file with its source and date)
//! and what a run costs by it: the estimate before a run, from how long
//! each resource is expected to live, and — from the lifetimes a run
//! records — what it cost.

use std::collections::BTreeMap;

/// Hours in a month, as AWS prorates GB-month prices.
const HOURS_PER_MONTH: f64 = 730.0;

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct RegionPrices {
    pub instance_hour: BTreeMap<String, f64>,
    pub gp3_gb_month: f64,
    pub snapshot_gb_month: f64,
    pub ebs_direct_get_per_1000_blocks: f64,
    pub ebs_direct_list_per_1000_requests: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct PriceTable {
    pub source: String,
    pub checked: String,
    pub fallback_region: String,
    pub regions: BTreeMap<String, RegionPrices>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the price table is not valid: {0}")]
pub struct BadPriceTable(String);

/// The table shipped with snaplab.
pub fn table() -> Result<PriceTable, BadPriceTable> {
    let t: PriceTable = toml::from_str(include_str!("../prices.toml")).map_err(|e| BadPriceTable(e.to_string()))?;
    if !t.regions.contains_key(&t.fallback_region) {
        return Err(BadPriceTable(format!(
            "no prices for the fallback region {}",
            t.fallback_region
        )));
    }
    Ok(t)
}

impl PriceTable {
    /// A region's prices, and whether they are really its own (else the fallback's).
    pub fn for_region(&self, region: &str) -> (&RegionPrices, bool) {
        match self.regions.get(region) {
            Some(p) => (p, true),
            None => (&self.regions[&self.fallback_region], false),
        }
    }
}

impl RegionPrices {
    /// The cheapest instance type in the table, and its hourly price.
    pub fn cheapest_instance(&self) -> Option<(&str, f64)> {
        self.instance_hour
            .iter()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(t, p)| (t.as_str(), *p))
    }
}

/// What a run uses, in the units AWS bills.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Usage {
    pub instance_type: String,
    pub instance_hours: f64,
    /// GiB × hours of gp3 volumes (root, data, restored).
    pub gp3_gib_hours: f64,
    /// GiB × hours of snapshot storage (at most the volume's size).
    pub snapshot_gib_hours: f64,
    pub ebs_direct_blocks: u64,
    pub ebs_direct_list_requests: u64,
}

/// One line of a cost breakdown.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CostLine {
    pub item: String,
    pub usd: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cost {
    pub total_usd: f64,
    pub lines: Vec<CostLine>,
    /// False when the region's prices were missing and us-east-1's were used.
    pub region_priced: bool,
}

/// What `usage` costs at `prices`.
pub fn cost(prices: &RegionPrices, region_priced: bool, usage: &Usage) -> Cost {
    let hourly = prices
        .instance_hour
        .get(&usage.instance_type)
        .copied()
        .unwrap_or_else(|| {
            // An unknown type is priced as the dearest known one: never under-estimate.
            prices.instance_hour.values().copied().fold(0.0, f64::max)
        });
    let lines = vec![
        CostLine {
            item: format!("{} for {:.3} h", usage.instance_type, usage.instance_hours),
            usd: hourly * usage.instance_hours,
        },
        CostLine {
            item: format!("gp3 volumes, {:.2} GiB-hours", usage.gp3_gib_hours),
            usd: prices.gp3_gb_month * usage.gp3_gib_hours / HOURS_PER_MONTH,
        },
        CostLine {
            item: format!("snapshot storage, {:.2} GiB-hours", usage.snapshot_gib_hours),
            usd: prices.snapshot_gb_month * usage.snapshot_gib_hours / HOURS_PER_MONTH,
        },
        CostLine {
            item: format!(
                "EBS direct reads, {} blocks and {} list requests",
                usage.ebs_direct_blocks, usage.ebs_direct_list_requests
            ),
            usd: prices.ebs_direct_get_per_1000_blocks * usage.ebs_direct_blocks as f64 / 1000.0
                + prices.ebs_direct_list_per_1000_requests * usage.ebs_direct_list_requests as f64 / 1000.0,
        },
    ];
    Cost {
        total_usd: lines.iter().map(|l| l.usd).sum(),
        lines,
        region_priced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses_and_prices_us_east_1() {
        let t = table().expect("valid");
        let (p, own) = t.for_region("us-east-1");
        assert!(own);
        assert_eq!(p.cheapest_instance(), Some(("t4g.nano", 0.0042)));
        let (_, own) = t.for_region("ap-southeast-7");
        assert!(!own, "a region without prices falls back, and says so");
    }

    #[test]
    fn cost_adds_up_each_line() {
        let t = table().expect("valid");
        let (p, _) = t.for_region("us-east-1");
        let usage = Usage {
            instance_type: "t3.micro".into(),
            instance_hours: 1.0,
            gp3_gib_hours: 730.0,
            snapshot_gib_hours: 730.0,
            ebs_direct_blocks: 1000,
            ebs_direct_list_requests: 1000,
        };
        let c = cost(p, true, &usage);
        let expect = 0.0104 + 0.08 + 0.05 + 0.003 + 0.0006;
        assert!((c.total_usd - expect).abs() < 1e-9, "{c:?}");
        assert_eq!(c.lines.len(), 4);
    }

    #[test]
    fn an_unknown_instance_type_is_priced_as_the_dearest() {
        let t = table().expect("valid");
        let (p, _) = t.for_region("us-east-1");
        let usage = Usage {
            instance_type: "x9.huge".into(),
            instance_hours: 1.0,
            gp3_gib_hours: 0.0,
            snapshot_gib_hours: 0.0,
            ebs_direct_blocks: 0,
            ebs_direct_list_requests: 0,
        };
        assert!((cost(p, true, &usage).total_usd - 0.0104).abs() < 1e-9);
    }
}
