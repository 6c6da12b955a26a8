//! A completed snapshot read through the EBS direct APIs, as a block
//! device: `ListSnapshotBlocks` once for the map of written blocks,
//! `GetSnapshotBlock` for each block as it is read (its SHA-256 checked),
//! unwritten blocks as zeros. Writes (a journal replay) stay in memory over
//! it: a snapshot cannot change. This is how the lab verifies a real AWS
//! snapshot from the learner's computer, with no instance involved.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use base64::Engine;
use sha2::{Digest, Sha256};
use snaplab_workload::{device::check_range, BlockDevice, DeviceError};
use tokio::runtime::Handle;

/// The EBS direct APIs' block size.
pub const BLOCK: u64 = 512 * 1024;

pub struct SnapshotDisk {
    ebs: aws_sdk_ebs::Client,
    runtime: Handle,
    snapshot_id: String,
    size: u64,
    /// Block index → its (temporary) token, for every written block.
    tokens: BTreeMap<i32, String>,
    cache: Mutex<HashMap<i32, Vec<u8>>>,
    /// What a replay wrote, by byte offset of 512-byte sectors.
    overlay: Mutex<BTreeMap<u64, Vec<u8>>>,
}

impl std::fmt::Debug for SnapshotDisk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotDisk")
            .field("snapshot_id", &self.snapshot_id)
            .field("blocks", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> DeviceError {
    DeviceError::Unavailable(format!("{what}: {}", e))
}

impl SnapshotDisk {
    /// Lists the snapshot's written blocks. Blocking: call it off the async threads.
    pub fn open(ebs: aws_sdk_ebs::Client, snapshot_id: &str) -> Result<Self, DeviceError> {
        let runtime = Handle::try_current().map_err(|e| unavailable("no async runtime to read a snapshot with", e))?;
        let mut tokens = BTreeMap::new();
        let mut next: Option<String> = None;
        let size = loop {
            let page = runtime
                .block_on(
                    ebs.list_snapshot_blocks()
                        .snapshot_id(snapshot_id)
                        .max_results(10_000)
                        .set_next_token(next.clone())
                        .send(),
                )
                .map_err(|e| {
                    unavailable(
                        &format!("listing the blocks of {snapshot_id} (EBS direct ListSnapshotBlocks)"),
                        aws_sdk_ebs::error::DisplayErrorContext(e),
                    )
                })?;
            let size = page.volume_size().unwrap_or(0).max(0) as u64 * 1024 * 1024 * 1024;
            for b in page.blocks() {
                if let (Some(i), Some(t)) = (b.block_index(), b.block_token()) {
                    tokens.insert(i, t.to_string());
                }
            }
            next = page.next_token().map(String::from);
            if next.is_none() {
                break size;
            }
        };
        Ok(Self {
            ebs,
            runtime,
            snapshot_id: snapshot_id.to_string(),
            size,
            tokens,
            cache: Mutex::new(HashMap::new()),
            overlay: Mutex::new(BTreeMap::new()),
        })
    }

    fn block(&self, index: i32) -> Result<Option<Vec<u8>>, DeviceError> {
        let Some(token) = self.tokens.get(&index) else {
            return Ok(None);
        };
        if let Some(b) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(&index) {
            return Ok(Some(b.clone()));
        }
        let what = format!(
            "reading block {index} of {} (EBS direct GetSnapshotBlock)",
            self.snapshot_id
        );
        let out = self
            .runtime
            .block_on(
                self.ebs
                    .get_snapshot_block()
                    .snapshot_id(&self.snapshot_id)
                    .block_index(index)
                    .block_token(token)
                    .send(),
            )
            .map_err(|e| unavailable(&what, aws_sdk_ebs::error::DisplayErrorContext(e)))?;
        let expected = out.checksum().map(String::from);
        let data = self
            .runtime
            .block_on(out.block_data.collect())
            .map_err(|e| unavailable(&what, e))?
            .into_bytes()
            .to_vec();
        if let Some(expected) = expected {
            let actual = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&data));
            if actual != expected {
                return Err(DeviceError::Unavailable(format!(
                    "{what}: its SHA-256 is {actual}, not the {expected} EBS sent"
                )));
            }
        }
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(index, data.clone());
        Ok(Some(data))
    }
}

impl BlockDevice for SnapshotDisk {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        check_range(offset, buf.len(), self.size)?;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let (index, within) = (pos / BLOCK, (pos % BLOCK) as usize);
            let n = (BLOCK as usize - within).min(buf.len() - done);
            let block = self.block(i32::try_from(index).unwrap_or(i32::MAX))?;
            match block {
                Some(b) if b.len() >= within + n => buf[done..done + n].copy_from_slice(&b[within..within + n]),
                _ => buf[done..done + n].fill(0),
            }
            done += n;
        }
        // Writes made over the snapshot (512-byte sectors) win.
        let overlay = self.overlay.lock().unwrap_or_else(|p| p.into_inner());
        let end = offset + buf.len() as u64;
        for (at, data) in overlay.range(offset.saturating_sub(511)..end) {
            for (i, byte) in data.iter().enumerate() {
                let p = at + i as u64;
                if p >= offset && p < end {
                    buf[(p - offset) as usize] = *byte;
                }
            }
        }
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        check_range(offset, data.len(), self.size)?;
        let mut overlay = self.overlay.lock().unwrap_or_else(|p| p.into_inner());
        for (i, chunk) in data.chunks(512).enumerate() {
            overlay.insert(offset + (i * 512) as u64, chunk.to_vec());
        }
        Ok(())
    }
}
