//! Where a run's volume data lives, and the disks the lab reads and writes:
//! on a snaplab emulator, an [`EmulatorDisk`] — a [`BlockDevice`] over its
//! data-plane routes (`PUT`/`GET /_snaplab/volumes/{id}/data`), in requests
//! of up to 64 MiB each so the verifier reads an image in a few requests;
//! on a cloud that keeps no data (LocalStack, moto), a [`ShadowDisk`] on
//! this computer. Opening a disk can block (a shadow reads its whole
//! history): the lab calls these off the async threads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use snaplab_workload::{device::check_range, BlockDevice, Clock, DeviceError};

use crate::block_changes::{through_ebs_direct, BlockComparison, BLOCK_SIZE};
use crate::ebs_direct::SnapshotDisk;
use crate::ec2::SnapshotInfo;
use crate::error::CloudError;
use crate::shadow::ShadowDisk;
use crate::target::{EndpointScope, Target, TargetKind};

/// Where the lab reads a restored volume's bytes from.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DataSource {
    /// The snaplab emulator's data plane.
    #[serde(rename = "emulator")]
    Emulator,
    /// A shadow disk kept on this computer.
    #[serde(rename = "shadow disk")]
    ShadowDisk,
    /// The snapshot's blocks, through the EBS direct APIs (real AWS).
    #[serde(rename = "ebs direct")]
    EbsDirect,
}

/// Where the data volume's bytes live for a run.
pub enum DataPlane {
    /// A snaplab emulator keeps the bytes; the lab reads and writes its data
    /// plane, and compares snapshots through its EBS direct APIs.
    Emulator {
        endpoint: String,
        ebs: aws_sdk_ebs::Client,
        /// Whose volumes they are (the account the access key names).
        scope: EndpointScope,
    },
    /// The cloud keeps no bytes (LocalStack, moto): shadow disks on this computer.
    Shadow {
        dir: PathBuf,
        disks: Mutex<HashMap<String, ShadowDisk>>,
        /// How precisely the cloud reports StartTime (moto: to the second).
        start_time_precision_us: i64,
        clock: Clock,
    },
    /// The bytes are on the instance (real AWS): SecureCart writes them
    /// there; the lab reads snapshots through the EBS direct APIs.
    Snapshots { ebs: aws_sdk_ebs::Client },
}

impl std::fmt::Debug for DataPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Emulator { endpoint, .. } => f.debug_struct("Emulator").field("endpoint", endpoint).finish(),
            Self::Shadow { dir, .. } => f.debug_struct("Shadow").field("dir", dir).finish_non_exhaustive(),
            Self::Snapshots { .. } => f.debug_struct("Snapshots").finish_non_exhaustive(),
        }
    }
}

impl DataPlane {
    /// The data plane for `target`; shadow disks go under `shadow_dir`, their
    /// writes stamped by `clock`.
    pub fn for_target(target: &Target, shadow_dir: &Path, clock: Clock) -> Self {
        if target.kind.keeps_volume_data() {
            let scope = target.endpoint_scope();
            Self::Emulator {
                endpoint: target.endpoint.clone(),
                ebs: crate::target::ebs_client_for(&target.endpoint, &scope),
                scope,
            }
        } else {
            Self::Shadow {
                dir: shadow_dir.to_path_buf(),
                disks: Mutex::new(HashMap::new()),
                start_time_precision_us: target.kind.start_time_precision_us(),
                clock,
            }
        }
    }

    pub fn is_shadow(&self) -> bool {
        matches!(self, Self::Shadow { .. })
    }

    pub fn source(&self) -> DataSource {
        match self {
            Self::Emulator { .. } => DataSource::Emulator,
            Self::Shadow { .. } => DataSource::ShadowDisk,
            Self::Snapshots { .. } => DataSource::EbsDirect,
        }
    }

    /// One sentence for the learner about where the data lives.
    pub fn describe(&self, kind: &TargetKind) -> String {
        match self {
            Self::Emulator { endpoint, .. } => format!("volume data lives in the snaplab emulator at {endpoint}"),
            Self::Shadow { dir, .. } => format!(
                "{} keeps no volume data, so snaplab keeps the data volume's bytes on this computer (a shadow disk in {}) and reads snapshots from it",
                kind.label(),
                dir.display()
            ),
            Self::Snapshots { .. } => "volume data lives on the instance, where SecureCart writes it; the lab reads the snapshot through the EBS direct APIs, and the restored volume on the instance".to_string(),
        }
    }

    fn shadow(&self, volume_id: &str, size: u64) -> Result<Option<ShadowDisk>, DeviceError> {
        let Self::Shadow { dir, disks, clock, .. } = self else {
            return Ok(None);
        };
        let mut disks = disks.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = disks.get(volume_id) {
            return Ok(Some(d.clone()));
        }
        let d = ShadowDisk::open(dir, volume_id, size, clock.clone())?;
        disks.insert(volume_id.to_string(), d.clone());
        Ok(Some(d))
    }

    /// A snaplab emulator's endpoint and an agent for its `/_snaplab/`
    /// routes (short requests: 10 s at most, no redirects followed), and
    /// the run's account for the routes about one (unsigned, they carry
    /// it in the query: [`EndpointScope::query`]).
    pub(crate) fn emulator_route(&self) -> Result<(String, ureq::Agent, &EndpointScope), CloudError> {
        let Self::Emulator { endpoint, scope, .. } = self else {
            return Err(CloudError::Other(
                "only a snaplab emulator keeps an inbox, loads restores lazily and can fail a snapshot on purpose"
                    .into(),
            ));
        };
        let agent = crate::target::endpoint_agent(Duration::from_secs(10));
        Ok((endpoint.trim_end_matches('/').to_string(), agent, scope))
    }

    /// Blocks of a shadowed volume written up to instant `at_us`.
    pub(crate) fn shadow_blocks_written(
        &self,
        volume_id: &str,
        size: u64,
        at_us: i64,
    ) -> Result<Vec<u64>, DeviceError> {
        let shadow = self
            .shadow(volume_id, size)?
            .ok_or_else(|| DeviceError::Unavailable("no shadow disk".into()))?;
        Ok(shadow.blocks_written(None, at_us, BLOCK_SIZE).into_iter().collect())
    }

    /// The live disk of an attached volume, for the workload to write. Blocking.
    pub fn live_disk(&self, volume_id: &str, size: u64) -> Result<Box<dyn BlockDevice + Send>, DeviceError> {
        match self {
            Self::Emulator { endpoint, scope, .. } => Ok(Box::new(
                EmulatorDisk::new(endpoint, volume_id, size).in_scope(scope.clone()),
            )),
            Self::Shadow { .. } => Ok(Box::new(
                self.shadow(volume_id, size)?
                    .ok_or_else(|| DeviceError::Unavailable("no shadow disk".into()))?,
            )),
            Self::Snapshots { .. } => Err(DeviceError::Unavailable(format!(
                "{volume_id} is attached to an instance in AWS: only SecureCart on that instance writes it"
            ))),
        }
    }

    /// The disk of a volume restored from `snapshot`, as the verifier reads it
    /// (on AWS: the snapshot itself, which is what the volume restores).
    /// From a shadow: the source volume as it was at the snapshot's instant —
    /// the latest instant its StartTime allows, since clouds truncate it (moto
    /// to the second); orders within that window count as in flight anyway.
    /// Blocking (a shadow image is replayed in memory).
    pub fn restored_disk(
        &self,
        restored_volume_id: &str,
        size: u64,
        snapshot: &SnapshotInfo,
    ) -> Result<Box<dyn BlockDevice + Send>, DeviceError> {
        match self {
            Self::Emulator { endpoint, scope, .. } => Ok(Box::new(
                EmulatorDisk::new(endpoint, restored_volume_id, size).in_scope(scope.clone()),
            )),
            Self::Shadow {
                start_time_precision_us,
                ..
            } => {
                let source = self
                    .shadow(&snapshot.volume_id, size)?
                    .ok_or_else(|| DeviceError::Unavailable("no shadow disk".into()))?;
                let at = snapshot.start_time.timestamp_micros() + start_time_precision_us - 1;
                Ok(Box::new(source.image_at(at)))
            }
            Self::Snapshots { ebs } => Ok(Box::new(SnapshotDisk::open(ebs.clone(), &snapshot.id)?)),
        }
    }
}

impl DataPlane {
    /// Two completed snapshots of one volume compared block by block (see
    /// [`crate::block_changes`]). A shadow's figures are the blocks written
    /// between the two instants, as its snapshots' StartTimes place them, on
    /// a volume of `size` bytes.
    pub async fn compare(
        &self,
        first: &SnapshotInfo,
        second: &SnapshotInfo,
        size: u64,
    ) -> Result<BlockComparison, DeviceError> {
        let (changed, held, volume_size_bytes) = match self {
            Self::Emulator { ebs, .. } | Self::Snapshots { ebs } => through_ebs_direct(ebs, &first.id, &second.id)
                .await
                .map_err(DeviceError::Unavailable)?,
            Self::Shadow {
                start_time_precision_us,
                ..
            } => {
                let shadow = self
                    .shadow(&second.volume_id, size)?
                    .ok_or_else(|| DeviceError::Unavailable("no shadow disk".into()))?;
                let at = |s: &SnapshotInfo| s.start_time.timestamp_micros() + start_time_precision_us - 1;
                let (t1, t2) = (at(first), at(second));
                let changed = shadow.blocks_written(Some(t1), t2, BLOCK_SIZE);
                let held = shadow.blocks_written(None, t2, BLOCK_SIZE);
                (changed.into_iter().collect(), held.into_iter().collect(), size)
            }
        };
        Ok(BlockComparison {
            first_snapshot_id: first.id.clone(),
            second_snapshot_id: second.id.clone(),
            block_size: BLOCK_SIZE,
            volume_size_bytes,
            changed,
            held,
            source: self.source(),
        })
    }
}

/// The emulator's largest single transfer.
pub const MAX_TRANSFER: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct EmulatorDisk {
    agent: ureq::Agent,
    url: String,
    endpoint: String,
    volume_id: String,
    size: u64,
    /// Whose volume it is; `None`: the default account's, in the emulator's region.
    scope: Option<EndpointScope>,
}

impl EmulatorDisk {
    /// The disk of `volume_id` (of `size` bytes) on the emulator at `endpoint`.
    pub fn new(endpoint: &str, volume_id: &str, size: u64) -> Self {
        let agent = crate::target::endpoint_agent(Duration::from_secs(60));
        let endpoint = endpoint.trim_end_matches('/').to_string();
        Self {
            agent,
            url: format!("{endpoint}/_snaplab/volumes/{volume_id}/data"),
            endpoint,
            volume_id: volume_id.to_string(),
            size,
            scope: None,
        }
    }

    /// The same disk in `scope`'s account (another account's volume is not found there).
    pub fn in_scope(self, scope: EndpointScope) -> Self {
        Self {
            scope: Some(scope),
            ..self
        }
    }

    /// The request with the account and region it is about.
    fn scoped<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.scope {
            Some(s) => request.query("access_key", &s.access_key).query("region", &s.region),
            None => request,
        }
    }

    pub fn volume_id(&self) -> &str {
        &self.volume_id
    }

    fn unreachable(&self, e: &ureq::Error) -> DeviceError {
        DeviceError::Unavailable(format!(
            "cannot reach the snaplab emulator at {} for {}: {e}. Is it still running?",
            self.endpoint, self.volume_id
        ))
    }

    /// Turns an error reply (JSON `{"error","message"}`) into a device error.
    fn refused(&self, response: &mut ureq::http::Response<ureq::Body>) -> DeviceError {
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(String::from))
            .unwrap_or(text);
        DeviceError::Unavailable(format!("{} refused ({status}): {message}", self.volume_id))
    }
}

impl EmulatorDisk {
    /// One read of at most 64 MiB: the bytes into `buf`, and how many of a
    /// restored volume's snapshot blocks it fetched for the first time (the
    /// emulator's `x-snaplab-blocks-fetched`; `None` if it did not say).
    pub fn read_counting(&self, offset: u64, buf: &mut [u8]) -> Result<Option<u64>, DeviceError> {
        check_range(offset, buf.len(), self.size)?;
        if buf.len() > MAX_TRANSFER {
            return Err(DeviceError::Unavailable(format!(
                "a read of {} bytes is larger than one request ({MAX_TRANSFER})",
                buf.len()
            )));
        }
        self.read_chunk(offset, buf)
    }

    fn read_chunk(&self, at: u64, chunk: &mut [u8]) -> Result<Option<u64>, DeviceError> {
        let mut response = self
            .scoped(self.agent.get(&self.url))
            .query("offset", at.to_string())
            .query("length", chunk.len().to_string())
            .call()
            .map_err(|e| self.unreachable(&e))?;
        if !response.status().is_success() {
            return Err(self.refused(&mut response));
        }
        let fetched = response
            .headers()
            .get("x-snaplab-blocks-fetched")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_TRANSFER as u64 + 1)
            .read_to_vec()
            .map_err(|e| self.unreachable(&e))?;
        if bytes.len() != chunk.len() {
            return Err(DeviceError::Unavailable(format!(
                "{} returned {} bytes for a read of {}",
                self.volume_id,
                bytes.len(),
                chunk.len()
            )));
        }
        chunk.copy_from_slice(&bytes);
        Ok(fetched)
    }
}

impl BlockDevice for EmulatorDisk {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        check_range(offset, buf.len(), self.size)?;
        for (i, chunk) in buf.chunks_mut(MAX_TRANSFER).enumerate() {
            self.read_chunk(offset + (i * MAX_TRANSFER) as u64, chunk)?;
        }
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        check_range(offset, data.len(), self.size)?;
        for (i, chunk) in data.chunks(MAX_TRANSFER).enumerate() {
            let at = offset + (i * MAX_TRANSFER) as u64;
            let mut response = self
                .scoped(self.agent.put(&self.url))
                .query("offset", at.to_string())
                .send(chunk)
                .map_err(|e| self.unreachable(&e))?;
            if !response.status().is_success() {
                return Err(self.refused(&mut response));
            }
        }
        Ok(())
    }
}
