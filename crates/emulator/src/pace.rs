//! Pace: how long the emulator's lifecycles take.
//!
//! AWS never completes a snapshot instantly, and the lab is about what happens
//! while one is `pending`. The pace sets every transition's duration; snapshot
//! duration also grows with the bytes to copy (changed blocks since the
//! volume's previous snapshot).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pace {
    /// No waiting at all: every transition has finished by the next request.
    Instant,
    /// For watching: a snapshot stays `pending` for several seconds.
    #[default]
    Demo,
    /// EBS-like durations and throughput, and the per-volume snapshot rate limit.
    Realistic,
}

impl Pace {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instant => "instant",
            Self::Demo => "demo",
            Self::Realistic => "realistic",
        }
    }

    pub fn timings(self) -> Timings {
        const MIB: u64 = 1024 * 1024;
        match self {
            Self::Instant => Timings {
                volume_create: Duration::ZERO,
                volume_delete: Duration::ZERO,
                attach: Duration::ZERO,
                detach: Duration::ZERO,
                instance_launch: Duration::ZERO,
                instance_terminate: Duration::ZERO,
                ssm_registration: Duration::ZERO,
                snapshot_floor: Duration::ZERO,
                snapshot_bytes_per_sec: None,
                snapshot_rate_limit: None,
                modify: Duration::ZERO,
                optimize_floor: Duration::ZERO,
                optimize_per_gib: Duration::ZERO,
                fast_restore_enable: Duration::ZERO,
                fast_restore_optimize_per_gib: Duration::ZERO,
                fast_restore_disable: Duration::ZERO,
                first_read_per_block: Duration::ZERO,
            },
            Self::Demo => Timings {
                volume_create: Duration::from_millis(1500),
                volume_delete: Duration::from_millis(1000),
                attach: Duration::from_millis(1000),
                detach: Duration::from_millis(1000),
                instance_launch: Duration::from_secs(3),
                instance_terminate: Duration::from_secs(2),
                ssm_registration: Duration::from_secs(2),
                snapshot_floor: Duration::from_secs(6),
                snapshot_bytes_per_sec: Some(32 * MIB),
                snapshot_rate_limit: None,
                modify: Duration::from_secs(2),
                optimize_floor: Duration::from_secs(5),
                optimize_per_gib: Duration::from_millis(10),
                fast_restore_enable: Duration::from_secs(2),
                fast_restore_optimize_per_gib: Duration::from_millis(500),
                fast_restore_disable: Duration::from_secs(2),
                // 512 KiB in 16 ms: a first read at 32 MiB/s.
                first_read_per_block: Duration::from_millis(16),
            },
            // Assumed figures, in the range AWS users report: volumes from a
            // few seconds, snapshots from tens of seconds plus copy time.
            Self::Realistic => Timings {
                volume_create: Duration::from_secs(8),
                volume_delete: Duration::from_secs(5),
                attach: Duration::from_secs(5),
                detach: Duration::from_secs(5),
                instance_launch: Duration::from_secs(15),
                instance_terminate: Duration::from_secs(30),
                ssm_registration: Duration::from_secs(30),
                snapshot_floor: Duration::from_secs(30),
                snapshot_bytes_per_sec: Some(40 * MIB),
                snapshot_rate_limit: Some(Duration::from_secs(15)),
                // Assumed: AWS says optimizing takes minutes to hours, by size.
                modify: Duration::from_secs(20),
                optimize_floor: Duration::from_secs(120),
                optimize_per_gib: Duration::from_secs(1),
                // Assumed: enabling and disabling take about a minute; AWS
                // gives optimizing as 60 minutes per TiB.
                fast_restore_enable: Duration::from_secs(60),
                fast_restore_optimize_per_gib: Duration::from_millis(3516),
                fast_restore_disable: Duration::from_secs(60),
                // Assumed: AWS publishes no first-read figure, only that it
                // is slow; ~40 MiB/s is what users commonly report.
                first_read_per_block: Duration::from_millis(12),
            },
        }
    }
}

impl fmt::Display for Pace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown pace '{0}': use instant, demo or realistic")]
pub struct UnknownPace(String);

impl FromStr for Pace {
    type Err = UnknownPace;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "instant" => Ok(Self::Instant),
            "demo" => Ok(Self::Demo),
            "realistic" => Ok(Self::Realistic),
            _ => Err(UnknownPace(s.to_string())),
        }
    }
}

/// Durations of every time-based transition at one pace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    pub volume_create: Duration,
    pub volume_delete: Duration,
    pub attach: Duration,
    pub detach: Duration,
    /// An instance from `pending` to `running`.
    pub instance_launch: Duration,
    /// An instance from `shutting-down` to `terminated`.
    pub instance_terminate: Duration,
    /// From `running` until the SSM agent has registered (PingStatus Online).
    pub ssm_registration: Duration,
    /// The least time a snapshot stays `pending`, however little it copies.
    pub snapshot_floor: Duration,
    /// Copy throughput; `None` copies instantly.
    pub snapshot_bytes_per_sec: Option<u64>,
    /// Least time between two CreateSnapshot calls on one volume.
    pub snapshot_rate_limit: Option<Duration>,
    /// A volume modification's `modifying` phase.
    pub modify: Duration,
    /// Its `optimizing` phase: at least this, plus `optimize_per_gib` per GiB of the new size.
    pub optimize_floor: Duration,
    pub optimize_per_gib: Duration,
    /// Fast Snapshot Restore's `enabling` phase, then `optimizing` per GiB
    /// of the snapshot's volume (AWS: about 60 minutes per TiB), and `disabling`.
    pub fast_restore_enable: Duration,
    pub fast_restore_optimize_per_gib: Duration,
    pub fast_restore_disable: Duration,
    /// What reading a restored volume's block the first time costs (its
    /// fetch from S3); blocks read before, written, or restored with Fast
    /// Snapshot Restore cost nothing.
    pub first_read_per_block: Duration,
}

impl Timings {
    /// How long a snapshot that copies `bytes` stays `pending`.
    pub fn snapshot_duration(&self, bytes: u64) -> Duration {
        let copy = match self.snapshot_bytes_per_sec {
            Some(rate) if rate > 0 => Duration::from_secs_f64(bytes as f64 / rate as f64),
            _ => Duration::ZERO,
        };
        self.snapshot_floor + copy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_snapshot_lasts_at_least_five_seconds_and_grows_with_data() {
        let t = Pace::Demo.timings();
        assert!(t.snapshot_duration(0) >= Duration::from_secs(5));
        assert!(t.snapshot_duration(1 << 30) > t.snapshot_duration(1 << 20));
    }

    #[test]
    fn instant_never_waits() {
        let t = Pace::Instant.timings();
        assert_eq!(t.snapshot_duration(1 << 40), Duration::ZERO);
        assert_eq!(t.volume_create, Duration::ZERO);
    }

    #[test]
    fn parses_names_case_insensitively() {
        assert_eq!("Demo".parse::<Pace>(), Ok(Pace::Demo));
        assert!("fast".parse::<Pace>().is_err());
    }
}
