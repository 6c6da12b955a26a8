//! Block devices the workload writes and the verifier reads: a trait and the
//! two local implementations (sparse memory, a file). The emulator's data
//! plane over HTTP lives in `snaplab-cloud`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("{len} bytes at offset {offset} run past the end of the device ({size} bytes)")]
    OutOfRange { offset: u64, len: u64, size: u64 },
    /// The device cannot be used right now; the message says why and what to do.
    #[error("{0}")]
    Unavailable(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// A disk as the instance's OS sees it: bytes at offsets.
pub trait BlockDevice {
    fn size(&self) -> u64;
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DeviceError>;
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError>;
    /// Makes every acknowledged write durable (an fsync).
    fn flush(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
}

impl<T: BlockDevice + ?Sized> BlockDevice for Box<T> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        (**self).read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        (**self).write_at(offset, data)
    }
    fn flush(&mut self) -> Result<(), DeviceError> {
        (**self).flush()
    }
}

/// Checks that `len` bytes at `offset` fit in a device of `size` bytes.
pub fn check_range(offset: u64, len: usize, size: u64) -> Result<(), DeviceError> {
    let len = len as u64;
    match offset.checked_add(len) {
        Some(end) if end <= size => Ok(()),
        _ => Err(DeviceError::OutOfRange { offset, len, size }),
    }
}

const CHUNK: u64 = 64 * 1024;

/// A sparse in-memory disk: unwritten bytes read as zeros, memory grows with
/// what is written (64 KiB chunks), not with the size.
#[derive(Debug, Clone)]
pub struct MemoryDevice {
    size: u64,
    chunks: HashMap<u64, Box<[u8]>>,
}

impl MemoryDevice {
    pub fn new(size: u64) -> Self {
        Self {
            size,
            chunks: HashMap::new(),
        }
    }

    /// Bytes actually held (a multiple of the chunk size).
    pub fn resident_bytes(&self) -> u64 {
        self.chunks.len() as u64 * CHUNK
    }

    fn pieces(offset: u64, len: usize) -> impl Iterator<Item = (u64, usize, usize, usize)> {
        // (chunk index, offset within chunk, offset within buffer, length)
        let mut done = 0usize;
        std::iter::from_fn(move || {
            if done >= len {
                return None;
            }
            let pos = offset + done as u64;
            let within = (pos % CHUNK) as usize;
            let n = (CHUNK as usize - within).min(len - done);
            let piece = (pos / CHUNK, within, done, n);
            done += n;
            Some(piece)
        })
    }
}

impl BlockDevice for MemoryDevice {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        check_range(offset, buf.len(), self.size)?;
        for (chunk, within, at, n) in Self::pieces(offset, buf.len()) {
            match self.chunks.get(&chunk) {
                Some(c) => buf[at..at + n].copy_from_slice(&c[within..within + n]),
                None => buf[at..at + n].fill(0),
            }
        }
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        check_range(offset, data.len(), self.size)?;
        for (chunk, within, at, n) in Self::pieces(offset, data.len()) {
            let c = self
                .chunks
                .entry(chunk)
                .or_insert_with(|| vec![0u8; CHUNK as usize].into_boxed_slice());
            c[within..within + n].copy_from_slice(&data[at..at + n]);
        }
        Ok(())
    }
}

/// A disk image in a file (sparse where the filesystem allows).
#[derive(Debug)]
pub struct FileDevice {
    file: Mutex<File>,
    size: u64,
}

impl FileDevice {
    /// Opens an image, or creates one of `size` bytes when it does not exist.
    pub fn open_or_create(path: &Path, size: u64) -> Result<Self, DeviceError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if file.metadata()?.len() < size {
            file.set_len(size)?;
        }
        let size = file.metadata()?.len();
        Ok(Self {
            file: Mutex::new(file),
            size,
        })
    }

    fn file(&self) -> std::sync::MutexGuard<'_, File> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl BlockDevice for FileDevice {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        check_range(offset, buf.len(), self.size)?;
        let mut f = self.file();
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(buf)?;
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        check_range(offset, data.len(), self.size)?;
        let mut f = self.file();
        f.seek(SeekFrom::Start(offset))?;
        f.write_all(data)?;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        self.file().sync_data()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_device_is_sparse_and_reads_back_across_chunks() {
        let mut d = MemoryDevice::new(8 << 30);
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        d.write_at(CHUNK - 7, &data).unwrap();
        let mut back = vec![0u8; data.len()];
        d.read_at(CHUNK - 7, &mut back).unwrap();
        assert_eq!(back, data);
        assert!(d.resident_bytes() <= 5 * CHUNK);
        let mut zeros = [1u8; 16];
        d.read_at(1 << 30, &mut zeros).unwrap();
        assert_eq!(zeros, [0; 16]);
        assert!(matches!(
            d.write_at((8 << 30) - 1, b"xy"),
            Err(DeviceError::OutOfRange { .. })
        ));
    }

    #[test]
    fn file_device_round_trips() {
        let path = std::env::temp_dir().join(format!("snaplab-filedev-{}.img", std::process::id()));
        let mut d = FileDevice::open_or_create(&path, 1 << 20).unwrap();
        d.write_at(4096, b"securecart").unwrap();
        d.flush().unwrap();
        let again = FileDevice::open_or_create(&path, 1 << 20).unwrap();
        let mut buf = [0u8; 10];
        again.read_at(4096, &mut buf).unwrap();
        assert_eq!(&buf, b"securecart");
        std::fs::remove_file(&path).unwrap();
    }
}
