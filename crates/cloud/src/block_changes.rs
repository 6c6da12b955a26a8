//! What changed between two snapshots of one volume, block by block — what
//! makes snapshots incremental. Through the EBS direct APIs where the cloud
//! keeps data (the snaplab emulator, AWS): `ListChangedBlocks` between the
//! two and `ListSnapshotBlocks` of the second; from the shadow disk's
//! history where it does not (LocalStack, moto): the blocks written between
//! the two snapshots' instants.

use std::collections::BTreeSet;

use crate::data_plane::DataSource;

/// The EBS direct APIs' block size (512 KiB).
pub const BLOCK_SIZE: u64 = 512 * 1024;

/// Two snapshots of one volume compared block by block.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlockComparison {
    pub first_snapshot_id: String,
    pub second_snapshot_id: String,
    pub block_size: u64,
    pub volume_size_bytes: u64,
    /// Indexes of the blocks that differ between the two, ascending.
    pub changed: Vec<u64>,
    /// Indexes of every block the second snapshot holds (written at least once), ascending.
    pub held: Vec<u64>,
    /// Where the figures came from.
    pub source: DataSource,
}

impl BlockComparison {
    pub fn changed_bytes(&self) -> u64 {
        self.changed.len() as u64 * self.block_size
    }

    pub fn held_bytes(&self) -> u64 {
        self.held.len() as u64 * self.block_size
    }

    pub fn volume_blocks(&self) -> u64 {
        self.volume_size_bytes.div_ceil(self.block_size.max(1))
    }
}

/// Blocks of `block_size` touched by writes `(offset, len)`.
pub fn blocks_touched(writes: impl IntoIterator<Item = (u64, u64)>, block_size: u64) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for (offset, len) in writes {
        if len == 0 {
            continue;
        }
        let first = offset / block_size;
        let last = (offset + len - 1) / block_size;
        out.extend(first..=last);
    }
    out
}

/// Pages through `ListChangedBlocks(first, second)` and
/// `ListSnapshotBlocks(second)`: the changed and the held block indexes,
/// and the volume's size in bytes.
pub async fn through_ebs_direct(
    ebs: &aws_sdk_ebs::Client,
    first: &str,
    second: &str,
) -> Result<(Vec<u64>, Vec<u64>, u64), String> {
    let (changed, volume_gib) = changed_blocks(ebs, first, second).await?;
    let held = held_blocks(ebs, second).await?;
    Ok((changed, held, volume_gib * 1024 * 1024 * 1024))
}

fn index(i: Option<i32>) -> Option<u64> {
    i.map(|i| i.max(0) as u64)
}

/// Every page of `ListChangedBlocks(first, second)`: the indexes, and the volume's GiB.
async fn changed_blocks(ebs: &aws_sdk_ebs::Client, first: &str, second: &str) -> Result<(Vec<u64>, u64), String> {
    let mut changed = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = ebs
            .list_changed_blocks()
            .first_snapshot_id(first)
            .second_snapshot_id(second)
            .max_results(10_000)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "EBS direct ListChangedBlocks {first} → {second}: {}",
                    aws_sdk_ebs::error::DisplayErrorContext(e)
                )
            })?;
        changed.extend(page.changed_blocks().iter().filter_map(|b| index(b.block_index())));
        token = page.next_token().map(String::from);
        if token.is_none() {
            return Ok((changed, page.volume_size().unwrap_or(0).max(0) as u64));
        }
    }
}

/// Every page of `ListSnapshotBlocks(snapshot)`: the indexes it holds.
pub(crate) async fn held_blocks(ebs: &aws_sdk_ebs::Client, snapshot: &str) -> Result<Vec<u64>, String> {
    let mut held = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = ebs
            .list_snapshot_blocks()
            .snapshot_id(snapshot)
            .max_results(10_000)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "EBS direct ListSnapshotBlocks {snapshot}: {}",
                    aws_sdk_ebs::error::DisplayErrorContext(e)
                )
            })?;
        held.extend(page.blocks().iter().filter_map(|b| index(b.block_index())));
        token = page.next_token().map(String::from);
        if token.is_none() {
            return Ok(held);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_map_to_every_block_they_touch() {
        let b = BLOCK_SIZE;
        let touched = blocks_touched([(0, 1), (b - 1, 2), (5 * b, b), (9 * b + 7, 0)], b);
        assert_eq!(touched.into_iter().collect::<Vec<_>>(), [0, 1, 5]);
    }
}
