//! Instances that run commands (`--run-commands DIR`): each managed instance
//! gets a sandbox directory standing for its root file system, where every
//! attached volume (but the root) appears as a file at its Nitro path,
//! `dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol<hex>`, and SSM's
//! `AWS-RunShellScript` commands run as local processes with `SNAPLAB_ROOT`
//! set to the sandbox (so a script opens `$SNAPLAB_ROOT/dev/disk/by-id/…`,
//! which is `/dev/disk/by-id/…` on a real instance). Off by default and
//! loopback only: it runs whatever it is sent.
//!
//! While attached, the file is the volume's truth. Before anything reads the
//! volume's data — a snapshot, a detach, a data-plane read — the instance's
//! processes are stopped (SIGSTOP), the file's changed blocks are copied into
//! the volume, and the processes continue (SIGCONT) once the snapshot has
//! its point in time: what a running application sees on AWS.

mod commands;
pub mod sync;

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

pub use commands::{Invocation, InvocationStatus};

use crate::blocks::{VolumeData, BLOCK_SIZE};
use crate::clock::Clock;

/// A volume's device path inside an instance's sandbox (Nitro's by-id name).
pub fn device_path(volume_id: &str) -> String {
    format!(
        "dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_{}",
        volume_id.replacen('-', "", 1)
    )
}

/// A block of zeros, to compare read blocks with.
static ZEROS: [u8; BLOCK_SIZE as usize] = [0; BLOCK_SIZE as usize];

/// One block of a volume file, read for copying into the volume: `None` when all zeros.
pub type FileBlock = (u64, Option<Vec<u8>>);

#[derive(Debug, Default)]
struct Sandbox {
    /// Volume id → its file.
    volumes: BTreeMap<String, PathBuf>,
    invocations: Vec<Arc<Invocation>>,
}

/// Every instance sandbox under one root directory.
#[derive(Debug)]
pub struct Hosts {
    root: PathBuf,
    clock: Arc<dyn Clock>,
    sandboxes: Mutex<BTreeMap<String, Sandbox>>,
}

impl Hosts {
    pub fn new(root: &Path, clock: Arc<dyn Clock>) -> io::Result<Self> {
        fs::create_dir_all(root)?;
        Ok(Self {
            root: root.to_path_buf(),
            clock,
            sandboxes: Mutex::new(BTreeMap::new()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Sandbox>> {
        self.sandboxes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The directory standing for an instance's root file system.
    pub fn dir_of(&self, instance_id: &str) -> PathBuf {
        self.root.join(instance_id)
    }

    /// Makes `volume_id`'s file appear in the instance's sandbox, holding its data.
    pub fn attach(&self, instance_id: &str, volume_id: &str, size: u64, data: &VolumeData) -> io::Result<()> {
        let path = self.dir_of(instance_id).join(device_path(volume_id));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut file = OpenOptions::new().create(true).write(true).truncate(true).open(&path)?;
        file.set_len(size)?;
        for index in 0..size.div_ceil(BLOCK_SIZE) {
            if let Some(bytes) = data.block_bytes(index) {
                file.seek(SeekFrom::Start(index * BLOCK_SIZE))?;
                let len = usize::try_from((size - index * BLOCK_SIZE).min(BLOCK_SIZE)).unwrap_or(0);
                file.write_all(&bytes[..len.min(bytes.len())])?;
            }
        }
        file.sync_data()?;
        self.lock()
            .entry(instance_id.to_string())
            .or_default()
            .volumes
            .insert(volume_id.to_string(), path);
        Ok(())
    }

    /// Whether `volume_id` is a file in some sandbox now.
    pub fn holds(&self, volume_id: &str) -> bool {
        self.lock().values().any(|s| s.volumes.contains_key(volume_id))
    }

    fn file_of(&self, volume_id: &str) -> Option<PathBuf> {
        self.lock().values().find_map(|s| s.volumes.get(volume_id).cloned())
    }

    fn instance_of(&self, volume_id: &str) -> Option<String> {
        self.lock()
            .iter()
            .find(|(_, s)| s.volumes.contains_key(volume_id))
            .map(|(i, _)| i.clone())
    }

    /// Reads a volume file whole, block by block (zero blocks as `None`). Blocking.
    pub fn read_volume_file(&self, volume_id: &str) -> io::Result<Option<Vec<FileBlock>>> {
        let Some(path) = self.file_of(volume_id) else {
            return Ok(None);
        };
        let mut file = File::open(path)?;
        let mut blocks = Vec::new();
        let mut buf = vec![0u8; BLOCK_SIZE as usize];
        let mut index = 0u64;
        loop {
            let mut filled = 0;
            while filled < buf.len() {
                match file.read(&mut buf[filled..])? {
                    0 => break,
                    n => filled += n,
                }
            }
            if filled == 0 {
                break;
            }
            let block = &buf[..filled];
            // A slice comparison is a memcmp: quick even in a debug build.
            let data = (block != &ZEROS[..filled]).then(|| block.to_vec());
            blocks.push((index, data));
            index += 1;
            if filled < buf.len() {
                break;
            }
        }
        Ok(Some(blocks))
    }

    /// Writes through to a volume's file (a data-plane write to a volume a sandbox holds).
    pub fn write_through(&self, volume_id: &str, offset: u64, data: &[u8]) -> io::Result<()> {
        if let Some(path) = self.file_of(volume_id) {
            OpenOptions::new().write(true).open(path)?.write_all_at(data, offset)?;
        }
        Ok(())
    }

    /// The volume leaves the instance: its file goes (a process still
    /// writing to it writes to nothing, as to a detached device).
    pub fn detach(&self, volume_id: &str) {
        let mut sandboxes = self.lock();
        for s in sandboxes.values_mut() {
            if let Some(path) = s.volumes.remove(volume_id) {
                let _ = fs::remove_file(path);
            }
        }
    }

    /// Stops every process of the instance holding `volume_id`; returns the
    /// instance, to resume later.
    pub fn pause_holder(&self, volume_id: &str) -> Option<String> {
        let instance = self.instance_of(volume_id)?;
        self.signal(&instance, commands::Signal::Stop);
        Some(instance)
    }

    pub fn resume(&self, instance_id: &str) {
        self.signal(instance_id, commands::Signal::Continue);
    }

    fn signal(&self, instance_id: &str, signal: commands::Signal) {
        let invocations: Vec<Arc<Invocation>> = self
            .lock()
            .get(instance_id)
            .map(|s| s.invocations.clone())
            .unwrap_or_default();
        for inv in invocations {
            inv.signal(signal);
        }
    }

    /// The instance is gone: its processes are killed and its sandbox removed.
    pub fn terminate(&self, instance_id: &str) {
        let sandbox = self.lock().remove(instance_id);
        if let Some(s) = sandbox {
            for inv in &s.invocations {
                inv.signal(commands::Signal::Kill);
            }
        }
        let _ = fs::remove_dir_all(self.dir_of(instance_id));
    }

    /// The emulator is stopping: every instance's processes are killed (none
    /// may outlive the cloud they ran in). Sandboxes stay for a state directory.
    pub fn stop_all(&self) {
        let invocations: Vec<Arc<Invocation>> = self
            .lock()
            .values()
            .flat_map(|s| s.invocations.iter().cloned())
            .collect();
        for inv in invocations {
            inv.signal(commands::Signal::Kill);
        }
    }

    /// Starts `script` on the instance (`AWS-RunShellScript`), in its sandbox.
    pub fn run(
        &self,
        command_id: &str,
        instance_id: &str,
        script: &str,
        timeout_s: u64,
    ) -> io::Result<Arc<Invocation>> {
        let dir = self.dir_of(instance_id);
        fs::create_dir_all(&dir)?;
        let inv = Invocation::start(command_id, instance_id, &dir, script, timeout_s, self.clock.clone())?;
        self.lock()
            .entry(instance_id.to_string())
            .or_default()
            .invocations
            .push(inv.clone());
        Ok(inv)
    }

    pub fn invocation(&self, command_id: &str, instance_id: &str) -> Option<Arc<Invocation>> {
        self.lock()
            .get(instance_id)?
            .invocations
            .iter()
            .find(|i| i.command_id == command_id)
            .cloned()
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for s in self.lock().values() {
            for inv in &s.invocations {
                inv.signal(commands::Signal::Kill);
            }
        }
    }
}
