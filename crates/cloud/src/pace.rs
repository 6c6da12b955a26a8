//! How fast a target's lifecycles move, as far as the lab knows: the pace a
//! snaplab emulator runs at, or `none` for clouds that set their own
//! (LocalStack and moto finish at once; real AWS takes minutes).

use std::fmt;
use std::str::FromStr;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetPace {
    /// No waiting (tests).
    Instant,
    /// Snapshots pending for seconds, so learners watch progress.
    Demo,
    /// EBS-like throughput.
    Realistic,
    /// The cloud sets its own pace.
    #[serde(rename = "none")]
    Unpaced,
    /// Real AWS: minutes, not seconds (an instance to boot, a snapshot to copy).
    Aws,
}

impl TargetPace {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instant => "instant",
            Self::Demo => "demo",
            Self::Realistic => "realistic",
            Self::Unpaced => "none",
            Self::Aws => "aws",
        }
    }
}

impl fmt::Display for TargetPace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown pace '{0}': the paces are instant, demo and realistic")]
pub struct UnknownPace(pub String);

impl FromStr for TargetPace {
    type Err = UnknownPace;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "instant" => Ok(Self::Instant),
            "demo" => Ok(Self::Demo),
            "realistic" => Ok(Self::Realistic),
            "none" => Ok(Self::Unpaced),
            "aws" => Ok(Self::Aws),
            _ => Err(UnknownPace(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_parse_once_and_an_unknown_one_names_the_valid_ones() {
        assert_eq!("Demo".parse::<TargetPace>(), Ok(TargetPace::Demo));
        assert_eq!("none".parse::<TargetPace>(), Ok(TargetPace::Unpaced));
        let err = "fast".parse::<TargetPace>().unwrap_err().to_string();
        assert!(
            err.contains("'fast'") && err.contains("instant, demo and realistic"),
            "{err}"
        );
        for p in [
            TargetPace::Instant,
            TargetPace::Demo,
            TargetPace::Realistic,
            TargetPace::Unpaced,
            TargetPace::Aws,
        ] {
            assert_eq!(p.as_str().parse::<TargetPace>(), Ok(p));
            assert_eq!(serde_json::to_string(&p).unwrap_or_default(), format!("\"{p}\""));
        }
    }
}
