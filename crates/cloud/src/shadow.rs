//! The shadow disk: for clouds that keep no volume data (LocalStack, moto),
//! the lab keeps the data volume's bytes on this computer — every write with
//! the instant it was made, in memory and in an append-only file — so it can
//! give back the disk as it was at any instant: at a snapshot's StartTime.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use snaplab_workload::{device::check_range, BlockDevice, Clock, DeviceError, MemoryDevice};

struct RecordedWrite {
    at_us: i64,
    offset: u64,
    data: Vec<u8>,
}

struct Shadow {
    live: MemoryDevice,
    history: Vec<RecordedWrite>,
    file: BufWriter<File>,
    last_us: i64,
}

/// A volume's shadow. Clones share one disk (the writer thread holds one,
/// the lab another). Each write is stamped by the run's clock.
#[derive(Clone)]
pub struct ShadowDisk {
    inner: Arc<Mutex<Shadow>>,
    size: u64,
    path: PathBuf,
    clock: Clock,
}

impl std::fmt::Debug for ShadowDisk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShadowDisk")
            .field("path", &self.path)
            .field("size", &self.size)
            .finish()
    }
}

impl ShadowDisk {
    /// The shadow of `volume_id` in `dir`, with its history so far; new
    /// writes are stamped by `clock` (µs since the epoch). Reads the whole
    /// history: blocking, call it off the async threads.
    pub fn open(dir: &Path, volume_id: &str, size: u64, clock: Clock) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{volume_id}.shadow"));
        let mut live = MemoryDevice::new(size);
        let mut history = Vec::new();
        let mut good_end = 0u64;
        if let Ok(f) = File::open(&path) {
            let mut r = BufReader::new(f);
            loop {
                let mut head = [0u8; 20];
                if r.read_exact(&mut head).is_err() {
                    break;
                }
                let at_us = i64::from_le_bytes(head[0..8].try_into().unwrap_or_default());
                let offset = u64::from_le_bytes(head[8..16].try_into().unwrap_or_default());
                let len = u32::from_le_bytes(head[16..20].try_into().unwrap_or_default()) as usize;
                let mut data = vec![0u8; len];
                if r.read_exact(&mut data).is_err() || live.write_at(offset, &data).is_err() {
                    break; // a write cut short by a kill: dropped
                }
                good_end += 20 + len as u64;
                history.push(RecordedWrite { at_us, offset, data });
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.set_len(good_end)?;
        let mut file = BufWriter::new(file);
        file.seek(SeekFrom::End(0))?;
        let last_us = history.last().map_or(0, |w| w.at_us);
        Ok(Self {
            inner: Arc::new(Mutex::new(Shadow {
                live,
                history,
                file,
                last_us,
            })),
            size,
            path,
            clock,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Shadow> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The disk as it was at `at_us` (µs since the epoch): every write made
    /// at or before that instant, none after. Replays the history in memory:
    /// blocking, call it off the async threads.
    pub fn image_at(&self, at_us: i64) -> MemoryDevice {
        let shadow = self.lock();
        let mut image = MemoryDevice::new(self.size);
        for w in shadow.history.iter().take_while(|w| w.at_us <= at_us) {
            // In range: every write was checked when it was made.
            let _ = image.write_at(w.offset, &w.data);
        }
        image
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Blocks of `block_size` written after `after_us` (`None`: since the
    /// start) and at or before `through_us`.
    pub fn blocks_written(&self, after_us: Option<i64>, through_us: i64, block_size: u64) -> BTreeSet<u64> {
        let shadow = self.lock();
        let writes = shadow
            .history
            .iter()
            .filter(|w| after_us.is_none_or(|a| w.at_us > a) && w.at_us <= through_us)
            .map(|w| (w.offset, w.data.len() as u64));
        crate::block_changes::blocks_touched(writes, block_size)
    }
}

impl BlockDevice for ShadowDisk {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        self.lock().live.read_at(offset, buf)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        check_range(offset, data.len(), self.size)?;
        let mut s = self.lock();
        // Strictly increasing instants, so "at or before T" is well defined.
        let at_us = (self.clock)().max(s.last_us + 1);
        s.last_us = at_us;
        let len = u32::try_from(data.len()).map_err(|_| DeviceError::Unavailable("write too large".into()))?;
        s.file.write_all(&at_us.to_le_bytes())?;
        s.file.write_all(&offset.to_le_bytes())?;
        s.file.write_all(&len.to_le_bytes())?;
        s.file.write_all(data)?;
        s.file.flush()?;
        s.live.write_at(offset, data)?;
        s.history.push(RecordedWrite {
            at_us,
            offset,
            data: data.to_vec(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_at_an_instant_hold_exactly_the_writes_before_it_and_survive_reopening() {
        let dir = std::env::temp_dir().join(format!("snaplab-shadow-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let clock = snaplab_workload::system_clock();
        let mut disk = ShadowDisk::open(&dir, "vol-1", 1 << 20, clock.clone()).unwrap();
        disk.write_at(0, b"first").unwrap();
        let between = disk.lock().last_us;
        disk.write_at(0, b"later").unwrap();
        let mut buf = [0u8; 5];
        disk.image_at(between).read_at(0, &mut buf).unwrap();
        assert_eq!(&buf, b"first");
        disk.read_at(0, &mut buf).unwrap();
        assert_eq!(&buf, b"later");
        drop(disk);
        let again = ShadowDisk::open(&dir, "vol-1", 1 << 20, clock).unwrap();
        again.image_at(between).read_at(0, &mut buf).unwrap();
        assert_eq!(&buf, b"first");
        again.read_at(0, &mut buf).unwrap();
        assert_eq!(&buf, b"later");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
