//! Reading a restored volume chunk by chunk and timing each chunk: what
//! lazy loading looks like from the instance. On a snaplab emulator each
//! reply also says how many of the snapshot's blocks the read fetched for
//! the first time (`x-snaplab-blocks-fetched`); elsewhere that is unknown.

use std::time::Instant;

use snaplab_workload::{BlockDevice, DeviceError};

use crate::block_changes::{held_blocks, BLOCK_SIZE};
use crate::data_plane::{DataPlane, EmulatorDisk};
use crate::ec2::SnapshotInfo;

const MIB: f64 = 1024.0 * 1024.0;

/// Which read of a restored volume this was.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadKind {
    /// The first read of these bytes on this volume.
    First,
    /// The same bytes again.
    Again,
    /// Every block the snapshot holds, once (what `dd`/`fio` over the device does).
    Initialize,
}

/// One chunk's read: where it starts and how fast it came.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReadSample {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub offset: u64,
    pub mib_per_s: f64,
}

/// A timed read of a range of a restored volume.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReadPass {
    pub kind: ReadKind,
    pub volume_id: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub offset: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub length: u64,
    pub samples: Vec<ReadSample>,
    pub seconds: f64,
    /// Snapshot blocks this read fetched for the first time (`None`: the cloud does not say).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub blocks_fetched: Option<u64>,
    /// DescribeVolumeStatus's initialization progress before and after (`None`: not reported).
    pub progress_before: Option<i64>,
    pub progress_after: Option<i64>,
}

impl ReadPass {
    /// Throughput over the whole pass.
    pub fn mib_per_s(&self) -> f64 {
        match self.seconds > 0.0 {
            true => self.length as f64 / MIB / self.seconds,
            false => 0.0,
        }
    }

    /// The median chunk's throughput (robust to one slow request on a busy machine).
    pub fn median_mib_per_s(&self) -> f64 {
        let mut v: Vec<f64> = self.samples.iter().map(|s| s.mib_per_s).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        match v.len() {
            0 => 0.0,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }

    /// Whether the volume was fully initialized before this read began.
    pub fn started_initialized(&self) -> bool {
        self.progress_before == Some(100)
    }
}

/// What a timed read found: a sample per chunk, the seconds it took, and the blocks fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    pub samples: Vec<ReadSample>,
    pub seconds: f64,
    pub blocks_fetched: Option<u64>,
}

/// Reads `[offset, offset + length)` in `chunk`-byte reads through `read`,
/// which returns the blocks each read fetched when it knows. Blocking.
pub fn time_reads(
    offset: u64,
    length: u64,
    chunk: u64,
    mut read: impl FnMut(u64, &mut [u8]) -> Result<Option<u64>, DeviceError>,
) -> Result<Timed, DeviceError> {
    let chunk = chunk.max(1);
    let mut buf = vec![0u8; usize::try_from(chunk.min(length)).unwrap_or(0)];
    let mut samples = Vec::new();
    let mut fetched: Option<u64> = Some(0);
    let started = Instant::now();
    let mut at = offset;
    while at < offset + length {
        let n = usize::try_from(chunk.min(offset + length - at)).unwrap_or(0);
        let t = Instant::now();
        let got = read(at, &mut buf[..n])?;
        let secs = t.elapsed().as_secs_f64().max(1e-6);
        fetched = match (fetched, got) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        samples.push(ReadSample {
            offset: at,
            mib_per_s: n as f64 / MIB / secs,
        });
        at += n as u64;
    }
    Ok(Timed {
        samples,
        seconds: started.elapsed().as_secs_f64(),
        blocks_fetched: fetched,
    })
}

impl DataPlane {
    /// Bytes from the volume's start to the end of the last block `snapshot`
    /// holds: the range a read must cover to load all its data.
    pub async fn held_extent(&self, snapshot: &SnapshotInfo, size: u64) -> Result<u64, DeviceError> {
        let last = match self {
            Self::Emulator { ebs, .. } | Self::Snapshots { ebs } => held_blocks(ebs, &snapshot.id)
                .await
                .map_err(DeviceError::Unavailable)?
                .into_iter()
                .max(),
            Self::Shadow {
                start_time_precision_us,
                ..
            } => {
                let at = snapshot.start_time.timestamp_micros() + start_time_precision_us - 1;
                self.shadow_blocks_written(&snapshot.volume_id, size, at)?
                    .into_iter()
                    .max()
            }
        };
        Ok(last.map_or(0, |b| ((b + 1) * BLOCK_SIZE).min(size)))
    }

    /// On a snaplab emulator whose pace makes first reads free (`instant`),
    /// asks it to charge `per_block_us` per block so lazy loading still
    /// shows; returns whether it set it (`false`: a cost was already in
    /// force, or not an emulator). Blocking.
    pub fn ensure_first_read_cost(&self, per_block_us: u64) -> Result<bool, DeviceError> {
        if !matches!(self, Self::Emulator { .. }) {
            return Ok(false);
        }
        let (endpoint, agent, _) = self
            .emulator_route()
            .map_err(|e| DeviceError::Unavailable(e.to_string()))?;
        let url = format!("{endpoint}/_snaplab/lazy-loading");
        let unreachable =
            |e: ureq::Error| DeviceError::Unavailable(format!("the emulator's lazy-loading setting at {url}: {e}"));
        let current = |r: &mut ureq::http::Response<ureq::Body>| -> Option<u64> {
            let text = r.body_mut().read_to_string().ok()?;
            serde_json::from_str::<serde_json::Value>(&text).ok()?["first_read_per_block_us"].as_u64()
        };
        let mut r = agent.get(&url).call().map_err(unreachable)?;
        match (r.status().is_success(), current(&mut r)) {
            (true, Some(0)) => {}
            // A cost in force, or an older emulator without the route.
            _ => return Ok(false),
        }
        let r = agent
            .put(&url)
            .send(format!("{{\"first_read_per_block_us\": {per_block_us}}}"))
            .map_err(unreachable)?;
        Ok(r.status().is_success())
    }

    /// Gives the emulator its pace's first-read cost back (after
    /// [`ensure_first_read_cost`](Self::ensure_first_read_cost) set one). Blocking.
    pub fn reset_first_read_cost(&self) -> Result<(), DeviceError> {
        if !matches!(self, Self::Emulator { .. }) {
            return Ok(());
        }
        let (endpoint, agent, _) = self
            .emulator_route()
            .map_err(|e| DeviceError::Unavailable(e.to_string()))?;
        let url = format!("{endpoint}/_snaplab/lazy-loading");
        agent
            .put(&url)
            .send("{\"first_read_per_block_us\": null}")
            .map(drop)
            .map_err(|e| DeviceError::Unavailable(format!("the emulator's lazy-loading setting at {url}: {e}")))
    }

    /// Times reads of a restored volume (see [`time_reads`]). Blocking.
    pub fn timed_read(
        &self,
        restored_volume_id: &str,
        size: u64,
        snapshot: &SnapshotInfo,
        range: (u64, u64),
        chunk: u64,
    ) -> Result<Timed, DeviceError> {
        match self {
            Self::Emulator { endpoint, scope, .. } => {
                let disk = EmulatorDisk::new(endpoint, restored_volume_id, size).in_scope(scope.clone());
                time_reads(range.0, range.1, chunk, |at, buf| disk.read_counting(at, buf))
            }
            _ => {
                let disk = self.restored_disk(restored_volume_id, size, snapshot)?;
                time_reads(range.0, range.1, chunk, |at, buf| disk.read_at(at, buf).map(|()| None))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_range_and_fetches_add_up_until_one_is_unknown() {
        let mut seen = Vec::new();
        let t = time_reads(10, 25, 10, |at, buf| {
            seen.push((at, buf.len()));
            Ok(Some(2))
        })
        .unwrap();
        assert_eq!(seen, [(10, 10), (20, 10), (30, 5)]);
        assert_eq!(t.blocks_fetched, Some(6));
        assert_eq!(t.samples.len(), 3);
        let mut first = true;
        let t = time_reads(0, 20, 10, |_, _| {
            let known = first;
            first = false;
            Ok(known.then_some(1))
        })
        .unwrap();
        assert_eq!(t.blocks_fetched, None);
    }

    #[test]
    fn the_median_ignores_one_slow_chunk() {
        let pass = ReadPass {
            kind: ReadKind::Again,
            volume_id: "vol-1".into(),
            offset: 0,
            length: 3 * 1024 * 1024,
            samples: [500.0, 2.0, 400.0]
                .iter()
                .map(|&mib_per_s| ReadSample { offset: 0, mib_per_s })
                .collect(),
            seconds: 1.0,
            blocks_fetched: None,
            progress_before: Some(100),
            progress_after: Some(100),
        };
        assert_eq!(pass.median_mib_per_s(), 400.0);
        assert!((pass.mib_per_s() - 3.0).abs() < 1e-9);
        assert!(pass.started_initialized());
    }
}
