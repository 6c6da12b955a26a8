//! Keeping the emulated cloud across restarts: an append-only journal of the
//! requests that changed it (EC2 actions that succeeded, data-plane writes),
//! each with the instant it was applied. On start the journal is replayed
//! through the same handlers; ids and tokens come from the seed in the
//! journal's header, so replay rebuilds exactly the same state.
//!
//! File `journal.snaplab` in the state directory: one JSON header line, then
//! records `[kind u8][now µs i64][len u32][payload]`, little-endian. A record
//! cut short by a kill is dropped (and truncated away) on the next start.
//!
//! Requests never write the file themselves: they queue a record, under the
//! model's lock so the journal keeps the order changes were applied in, and
//! await its receipt after letting the lock go. A [`JournalWriter`] thread
//! writes the queue in batches (one flush per batch) and hands out the
//! receipts once the records are in the OS — before the request is answered.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use chrono::{DateTime, TimeZone, Utc};

use crate::clock::Timestamp;
use crate::pace::Pace;
use crate::wire::query::QueryParams;

const FILE_NAME: &str = "journal.snaplab";
const LOCK_NAME: &str = "journal.lock";
/// Longest record a journal can hold (a data-plane write of the largest size, and its header).
const MAX_RECORD: usize = crate::model::data::MAX_TRANSFER as usize + 4096;
const FORMAT: u32 = 1;
const KIND_EC2: u8 = 1;
const KIND_WRITE: u8 = 2;

/// What a journal was started with; a restart takes these, not its own flags.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JournalHeader {
    pub format: u32,
    pub seed: u64,
    pub region: String,
    pub pace: Pace,
    pub seeded: bool,
    pub created_at: Timestamp,
}

/// One change, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Ec2 {
        now: Timestamp,
        params: QueryParams,
    },
    Write {
        now: Timestamp,
        volume_id: String,
        offset: u64,
        data: Vec<u8>,
    },
}

#[derive(Debug)]
pub struct Journal {
    file: BufWriter<File>,
    path: PathBuf,
    /// Held (locked) while the journal is open.
    _lock: File,
}

fn micros(t: &Timestamp) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> Timestamp {
    Utc.timestamp_micros(us).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Journal {
    /// Opens the journal in `dir`, or starts one with `fresh` as its header.
    /// Returns the header in force and the entries to replay.
    pub fn open(dir: &Path, fresh: JournalHeader) -> io::Result<(Self, JournalHeader, Vec<Entry>)> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let lock = lock_folder(dir)?;
        let exists = path.metadata().map(|m| m.len() > 0).unwrap_or(false);
        if !exists {
            let mut file = BufWriter::new(File::create(&path)?);
            serde_json::to_writer(&mut file, &fresh)?;
            file.write_all(b"\n")?;
            file.flush()?;
            return Ok((
                Self {
                    file,
                    path,
                    _lock: lock,
                },
                fresh,
                Vec::new(),
            ));
        }
        let mut reader = BufReader::new(File::open(&path)?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let header: JournalHeader = serde_json::from_str(&line).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is not a snaplab emulator journal ({e}); remove it to start afresh",
                    path.display()
                ),
            )
        })?;
        if header.format != FORMAT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} has journal format {}, this snaplab reads {FORMAT}",
                    path.display(),
                    header.format
                ),
            ));
        }
        let mut entries = Vec::new();
        let mut good_end = line.len() as u64;
        while let Some(entry) = read_entry(&mut reader)? {
            entries.push(entry.0);
            good_end += entry.1;
        }
        let file = OpenOptions::new().write(true).open(&path)?;
        file.set_len(good_end)?; // drop a record cut short by a kill
        let mut file = BufWriter::new(file);
        file.seek(SeekFrom::End(0))?;
        Ok((
            Self {
                file,
                path,
                _lock: lock,
            },
            header,
            entries,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Buffers one record; [`flush`](Self::flush) puts it in the OS.
    fn append(&mut self, kind: u8, now: &Timestamp, payload: &[u8]) -> io::Result<()> {
        let len = u32::try_from(payload.len()).map_err(|_| io::Error::other("journal record too large"))?;
        self.file.write_all(&[kind])?;
        self.file.write_all(&micros(now).to_le_bytes())?;
        self.file.write_all(&len.to_le_bytes())?;
        self.file.write_all(payload)
    }

    /// Into the OS: what is flushed survives a killed process.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    pub fn record_ec2(&mut self, now: &Timestamp, params: &QueryParams) -> io::Result<()> {
        self.append(KIND_EC2, now, params.to_form().as_bytes())
    }

    pub fn record_write(&mut self, now: &Timestamp, volume_id: &str, offset: u64, data: &[u8]) -> io::Result<()> {
        let id = volume_id.as_bytes();
        let id_len = u16::try_from(id.len()).map_err(|_| io::Error::other("volume id too long"))?;
        let mut payload = Vec::with_capacity(2 + id.len() + 8 + data.len());
        payload.extend_from_slice(&id_len.to_le_bytes());
        payload.extend_from_slice(id);
        payload.extend_from_slice(&offset.to_le_bytes());
        payload.extend_from_slice(data);
        self.append(KIND_WRITE, now, &payload)
    }
}

type WriteRecord = Box<dyn FnOnce(&mut Journal) -> io::Result<()> + Send>;
type Receipt = tokio::sync::oneshot::Sender<io::Result<()>>;

enum Job {
    /// One queued change: what to write, and where to say it was written.
    Record(WriteRecord, Receipt),
    /// Write what is queued, then end.
    Finish,
}

/// Most records written between two flushes.
const BATCH: usize = 256;

/// The journal's own thread.
#[derive(Debug)]
pub struct JournalWriter {
    jobs: mpsc::Sender<Job>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    path: PathBuf,
}

impl JournalWriter {
    pub fn spawn(mut journal: Journal) -> io::Result<Self> {
        let path = journal.path().to_path_buf();
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("snaplab-journal".into())
            .spawn(move || {
                // After a failed write the journal stops where it was whole:
                // records after a partial one would be misread on replay.
                let mut failed: Option<String> = None;
                while let Ok(first) = queue.recv() {
                    let mut finish = false;
                    let mut batch = Vec::new();
                    for job in std::iter::once(first).chain(queue.try_iter().take(BATCH - 1)) {
                        match job {
                            Job::Record(write, receipt) => batch.push((write, receipt)),
                            Job::Finish => finish = true,
                        }
                    }
                    let mut done = Vec::with_capacity(batch.len());
                    for (write, receipt) in batch {
                        let written = match &failed {
                            Some(why) => Err(io::Error::other(format!("the journal stopped after an earlier failure: {why}"))),
                            None => write(&mut journal),
                        };
                        done.push((written, receipt));
                    }
                    let flushed = if failed.is_some() { Ok(()) } else { journal.flush() };
                    for (written, receipt) in done {
                        let result = match (&written, &flushed) {
                            (Err(e), _) | (Ok(()), Err(e)) => Err(io::Error::new(e.kind(), e.to_string())),
                            (Ok(()), Ok(())) => Ok(()),
                        };
                        if let (Err(e), None) = (&result, &failed) {
                            tracing::error!(error = %e, path = %journal.path().display(), "the journal stops here: later changes will not survive a restart");
                            failed = Some(e.to_string());
                        }
                        let _ = receipt.send(result);
                    }
                    if finish {
                        break;
                    }
                }
            })?;
        Ok(Self {
            jobs,
            thread: std::sync::Mutex::new(Some(thread)),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues a change; the receipt says when it is in the OS (or why not).
    /// Call it while holding the model's lock, await the receipt after.
    pub fn record(
        &self,
        write: impl FnOnce(&mut Journal) -> io::Result<()> + Send + 'static,
    ) -> tokio::sync::oneshot::Receiver<io::Result<()>> {
        let (receipt, written) = tokio::sync::oneshot::channel();
        if let Err(mpsc::SendError(Job::Record(_, receipt))) = self.jobs.send(Job::Record(Box::new(write), receipt)) {
            let _ = receipt.send(Err(io::Error::other("the journal's writer has stopped")));
        }
        written
    }

    /// Writes what is queued, closes the file (letting go of the state
    /// folder) and waits until done. Blocking. Later changes are refused.
    pub fn finish(&self) {
        let _ = self.jobs.send(Job::Finish);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

/// How long opening waits for the folder's previous emulator to let go: one
/// dropped in this process (not stopped) ends its journal's thread shortly after.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

/// One emulator per state folder: two writers would interleave records.
fn lock_folder(dir: &Path) -> io::Result<File> {
    let lock = OpenOptions::new().create(true).append(true).open(dir.join(LOCK_NAME))?;
    let started = std::time::Instant::now();
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(lock),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_PATIENCE => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!(
                        "another snaplab emulator is using the state folder {}; stop it first",
                        dir.display()
                    ),
                ))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

/// One record and its size in bytes; `None` at the end or at a cut-short tail.
fn read_entry(r: &mut impl Read) -> io::Result<Option<(Entry, u64)>> {
    let mut head = [0u8; 13];
    if !read_full(r, &mut head)? {
        return Ok(None);
    }
    let kind = head[0];
    let now = from_micros(i64::from_le_bytes(head[1..9].try_into().unwrap_or_default()));
    let len = u32::from_le_bytes(head[9..13].try_into().unwrap_or_default()) as usize;
    if len > MAX_RECORD {
        return Ok(None); // not a record this emulator wrote: a damaged tail
    }
    let mut payload = vec![0u8; len];
    if !read_full(r, &mut payload)? {
        return Ok(None);
    }
    let entry = match kind {
        KIND_EC2 => Entry::Ec2 {
            now,
            params: QueryParams::from_parts(None, &payload),
        },
        KIND_WRITE if payload.len() >= 2 => {
            let id_len = u16::from_le_bytes([payload[0], payload[1]]) as usize;
            if payload.len() < 2 + id_len + 8 {
                return Ok(None);
            }
            let volume_id = String::from_utf8_lossy(&payload[2..2 + id_len]).into_owned();
            let offset = u64::from_le_bytes(payload[2 + id_len..10 + id_len].try_into().unwrap_or_default());
            Entry::Write {
                now,
                volume_id,
                offset,
                data: payload[10 + id_len..].to_vec(),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some((entry, 13 + len as u64)))
}

/// Fills `buf`, or returns false at end of file (a partial fill is a torn tail).
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => return Ok(false),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> JournalHeader {
        JournalHeader {
            format: FORMAT,
            seed: 42,
            region: "us-east-1".into(),
            pace: Pace::Demo,
            seeded: true,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn entries_come_back_in_order_and_a_torn_tail_is_dropped() {
        let dir = std::env::temp_dir().join(format!("snaplab-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let now = Utc::now();
        {
            let (mut j, _, entries) = Journal::open(&dir, header()).unwrap();
            assert!(entries.is_empty());
            j.record_ec2(
                &now,
                &QueryParams::from_pairs([("Action", "CreateVolume"), ("Size", "8")]),
            )
            .unwrap();
            j.record_write(&now, "vol-0123456789abcdef0", 4096, b"orders").unwrap();
            j.flush().unwrap();
        }
        // A kill in the middle of a third record.
        let mut f = OpenOptions::new().append(true).open(dir.join(FILE_NAME)).unwrap();
        f.write_all(&[KIND_WRITE, 1, 2, 3]).unwrap();
        drop(f);

        let (mut j, h, entries) = Journal::open(&dir, header()).unwrap();
        assert_eq!(h.seed, 42);
        assert_eq!(entries.len(), 2);
        assert!(matches!(&entries[0], Entry::Ec2 { params, .. } if params.str("Size") == Some("8")));
        assert!(matches!(&entries[1], Entry::Write { offset: 4096, data, .. } if data == b"orders"));
        j.record_write(&now, "vol-0123456789abcdef0", 0, b"more").unwrap();
        j.flush().unwrap();
        drop(j);
        let (_, _, entries) = Journal::open(&dir, header()).unwrap();
        assert_eq!(entries.len(), 3, "appending after the truncated tail works");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn the_writer_thread_keeps_the_order_records_were_queued_in() {
        let dir = std::env::temp_dir().join(format!("snaplab-journal-writer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let now = Utc::now();
        let (j, _, _) = Journal::open(&dir, header()).unwrap();
        let writer = JournalWriter::spawn(j).unwrap();
        let receipts: Vec<_> = (0..1000u64)
            .map(|i| writer.record(move |j| j.record_write(&now, "vol-0123456789abcdef0", i, &i.to_le_bytes())))
            .collect();
        for r in receipts {
            r.await.unwrap().unwrap();
        }
        writer.finish();
        let (_, _, entries) = Journal::open(&dir, header()).unwrap();
        let offsets: Vec<u64> = entries
            .iter()
            .map(|e| match e {
                Entry::Write { offset, .. } => *offset,
                Entry::Ec2 { .. } => u64::MAX,
            })
            .collect();
        assert_eq!(offsets, (0..1000).collect::<Vec<_>>());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn after_a_failed_write_the_journal_stops_whole_and_finish_lets_go_of_the_folder() {
        let dir = std::env::temp_dir().join(format!("snaplab-journal-fail-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let now = Utc::now();
        let (j, _, _) = Journal::open(&dir, header()).unwrap();
        // A second emulator on the same folder is refused, saying why.
        let err = Journal::open(&dir, header()).unwrap_err();
        assert!(
            err.to_string()
                .contains("another snaplab emulator is using the state folder"),
            "{err}"
        );

        let writer = JournalWriter::spawn(j).unwrap();
        writer
            .record(move |j| j.record_write(&now, "vol-1", 0, b"kept"))
            .await
            .unwrap()
            .unwrap();
        let failed = writer.record(|_| Err(io::Error::other("disk full"))).await.unwrap();
        assert!(failed.is_err());
        let after = writer
            .record(move |j| j.record_write(&now, "vol-1", 8, b"dropped"))
            .await
            .unwrap();
        assert!(after
            .unwrap_err()
            .to_string()
            .contains("stopped after an earlier failure: disk full"));
        writer.finish();
        assert!(
            writer.record(|_| Ok(())).await.unwrap().is_err(),
            "refused once finished"
        );

        let (_, _, entries) = Journal::open(&dir, header()).unwrap();
        assert_eq!(entries.len(), 1, "only what was written before the failure");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_record_claiming_an_impossible_length_is_a_damaged_tail_not_an_allocation() {
        let dir = std::env::temp_dir().join(format!("snaplab-journal-huge-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        drop(Journal::open(&dir, header()).unwrap());
        let mut f = OpenOptions::new().append(true).open(dir.join(FILE_NAME)).unwrap();
        f.write_all(&[KIND_WRITE]).unwrap();
        f.write_all(&0i64.to_le_bytes()).unwrap();
        f.write_all(&u32::MAX.to_le_bytes()).unwrap();
        drop(f);
        let (_, _, entries) = Journal::open(&dir, header()).unwrap();
        assert!(entries.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
