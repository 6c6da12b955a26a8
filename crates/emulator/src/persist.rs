//! Keeping the emulated cloud across restarts: an append-only journal of the
//! requests that changed it (EC2 actions and EBS direct writes that
//! succeeded, data-plane writes),
//! each with the instant it was applied. On start the journal is replayed
//! through the same handlers; ids and tokens come from the seed in the
//! journal's header, so replay rebuilds exactly the same state.
//!
//! File `journal.snaplab` in the state directory: one JSON header line, then
//! records `[kind u8][now µs i64][len u32][payload]`, little-endian. A record
//! cut short by a kill is dropped (and truncated away) on the next start.
//!
//! Nothing is written under the model's lock: a request queues its change
//! there (so the journal keeps the order changes were applied in), lets the
//! lock go, and commits — whichever request commits first writes every
//! change queued so far in one go ([`JournalQueue`]). A request is answered
//! only once its change is in the OS. Large commits go to a blocking thread.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};

use crate::clock::Timestamp;
use crate::model::Scope;
use crate::pace::Pace;
use crate::wire::query::QueryParams;

const FILE_NAME: &str = "journal.snaplab";
const LOCK_NAME: &str = "journal.lock";
/// Longest record a journal can hold (a data-plane write of the largest size, and its header).
const MAX_RECORD: usize = crate::model::data::MAX_TRANSFER as usize + 4096;
/// 2: records carry their scope (account, region) and EBS direct writes are
/// kept. 3: data-plane writes carry their scope too (every account has a
/// SecureCart of its own). An older journal is read as before and marked
/// with this format on opening, so an older snaplab refuses it rather than
/// cut off records it does not know.
pub const FORMAT: u32 = 3;
const FORMATS_READ: std::ops::RangeInclusive<u32> = 1..=FORMAT;
/// An EC2 request in the home scope (journals from before regions existed).
const KIND_EC2: u8 = 1;
const KIND_WRITE: u8 = 2;
/// An EBS direct write request and the scope it acted in.
const KIND_EBS: u8 = 3;
/// An EC2 request and the scope (account and region) it acted in.
const KIND_EC2_SCOPED: u8 = 4;
/// A data-plane write and the scope it acted in.
const KIND_WRITE_SCOPED: u8 = 5;

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

/// One change, as recorded (and as queued to be recorded).
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Ec2 {
        now: Timestamp,
        scope: Scope,
        params: QueryParams,
    },
    Write {
        now: Timestamp,
        /// `None` in journals from before format 3: the volume's holder, wherever it is.
        scope: Option<Scope>,
        volume_id: String,
        offset: u64,
        data: bytes::Bytes,
    },
    Ebs {
        now: Timestamp,
        scope: Scope,
        call: EbsCall,
    },
}

/// An EBS direct write request (StartSnapshot, PutSnapshotBlock,
/// CompleteSnapshot) as journaled: what its handler reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EbsCall {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The headers the handler reads (lowercase names).
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
}

/// An [`EbsCall`] record's payload: `[scope][head len u32][head JSON][body]`.
#[derive(serde::Serialize, serde::Deserialize)]
struct EbsCallHead {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
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
        if !FORMATS_READ.contains(&header.format) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} has journal format {}, this snaplab reads 1 to {FORMAT}: use a newer snaplab, or remove it to start afresh",
                    path.display(),
                    header.format
                ),
            ));
        }
        let mut header = header;
        if header.format < FORMAT {
            header.format = FORMAT;
            mark_format(&path, &line, &header)?;
        }
        let mut entries = Vec::new();
        let mut good_end = line.len() as u64;
        let home = Scope::default_account(&header.region);
        while let Some(entry) = read_entry(&mut reader, &home)? {
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

    pub fn record_ec2(&mut self, now: &Timestamp, scope: &Scope, params: &QueryParams) -> io::Result<()> {
        let mut payload = scope_bytes(scope)?;
        payload.extend_from_slice(params.to_form().as_bytes());
        self.append(KIND_EC2_SCOPED, now, &payload)
    }

    pub fn record_write(
        &mut self,
        now: &Timestamp,
        scope: Option<&Scope>,
        volume_id: &str,
        offset: u64,
        data: &[u8],
    ) -> io::Result<()> {
        let id = volume_id.as_bytes();
        let id_len = u16::try_from(id.len()).map_err(|_| io::Error::other("volume id too long"))?;
        let mut payload = match scope {
            Some(scope) => scope_bytes(scope)?,
            None => Vec::new(),
        };
        payload.reserve(2 + id.len() + 8 + data.len());
        payload.extend_from_slice(&id_len.to_le_bytes());
        payload.extend_from_slice(id);
        payload.extend_from_slice(&offset.to_le_bytes());
        payload.extend_from_slice(data);
        let kind = if scope.is_some() { KIND_WRITE_SCOPED } else { KIND_WRITE };
        self.append(kind, now, &payload)
    }

    pub fn record_ebs(&mut self, now: &Timestamp, scope: &Scope, call: &EbsCall) -> io::Result<()> {
        let head = serde_json::to_vec(&EbsCallHead {
            method: call.method.clone(),
            path: call.path.clone(),
            query: call.query.clone(),
            headers: call.headers.clone(),
        })?;
        let head_len = u32::try_from(head.len()).map_err(|_| io::Error::other("EBS request head too long"))?;
        let mut payload = scope_bytes(scope)?;
        payload.reserve(4 + head.len() + call.body.len());
        payload.extend_from_slice(&head_len.to_le_bytes());
        payload.extend_from_slice(&head);
        payload.extend_from_slice(&call.body);
        self.append(KIND_EBS, now, &payload)
    }
}

/// A change to keep: made under the model's lock, written after it.
pub type Change = Entry;

impl Entry {
    fn size(&self) -> usize {
        match self {
            Self::Ec2 { .. } => 256,
            Self::Write { data, .. } => data.len(),
            Self::Ebs { call, .. } => 256 + call.body.len(),
        }
    }

    fn write_to(&self, journal: &mut Journal) -> io::Result<()> {
        match self {
            Self::Ec2 { now, scope, params } => journal.record_ec2(now, scope, params),
            Self::Write {
                now,
                scope,
                volume_id,
                offset,
                data,
            } => journal.record_write(now, scope.as_ref(), volume_id, *offset, data),
            Self::Ebs { now, scope, call } => journal.record_ebs(now, scope, call),
        }
    }
}

/// Where a queued change stands in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    position: u64,
    /// Bytes waiting to be written, this change's included, when it was queued.
    pub pending_bytes: usize,
}

#[derive(Debug, Default)]
struct Pending {
    changes: Vec<Change>,
    bytes: usize,
    queued: u64,
}

#[derive(Debug)]
struct Written {
    /// `None` once finished (the file closed, the folder let go).
    journal: Option<Journal>,
    upto: u64,
    /// After a failed write the journal stops where it was whole: records
    /// after a partial one would be misread on replay.
    failed: Option<String>,
}

/// Changes queued in the order they were applied (under the model's lock)
/// and written by whichever request commits first — every change queued
/// until then, in one write and one flush (group commit). A request
/// commits its ticket before it is answered, outside the model's lock.
#[derive(Debug)]
pub struct JournalQueue {
    path: PathBuf,
    pending: std::sync::Mutex<Pending>,
    written: std::sync::Mutex<Written>,
    /// A commit of more than [`INLINE_COMMIT_BYTES`] is being written: do not wait for it inline.
    writing_large: std::sync::atomic::AtomicBool,
}

/// Above this much waiting to be written, a commit belongs on a blocking thread.
pub const INLINE_COMMIT_BYTES: usize = 256 * 1024;

fn locked<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl JournalQueue {
    pub fn new(journal: Journal) -> Self {
        Self {
            path: journal.path().to_path_buf(),
            pending: std::sync::Mutex::default(),
            written: std::sync::Mutex::new(Written {
                journal: Some(journal),
                upto: 0,
                failed: None,
            }),
            writing_large: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues a change. Call it while holding the model's lock: the
    /// journal's order is then the order the changes were applied in.
    pub fn enqueue(&self, change: Change) -> Ticket {
        let mut p = locked(&self.pending);
        p.bytes += change.size();
        p.changes.push(change);
        p.queued += 1;
        Ticket {
            position: p.queued,
            pending_bytes: p.bytes,
        }
    }

    /// Makes sure the change is in the OS, writing whatever is queued. Blocking.
    pub fn commit(&self, ticket: Ticket) -> io::Result<()> {
        let mut w = locked(&self.written);
        self.write_queue(&mut w, ticket)
    }

    /// [`commit`](Self::commit), but only if it is quick: little is queued,
    /// and whoever is writing now writes little too (then it is waited for:
    /// microseconds). `None`: commit on a blocking thread.
    pub fn try_commit_quickly(&self, ticket: Ticket) -> Option<io::Result<()>> {
        use std::sync::atomic::Ordering::Relaxed;
        let mut w = match self.written.try_lock() {
            Ok(w) => w,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) if self.writing_large.load(Relaxed) => return None,
            Err(std::sync::TryLockError::WouldBlock) => locked(&self.written),
        };
        if w.upto < ticket.position && locked(&self.pending).bytes > INLINE_COMMIT_BYTES {
            return None;
        }
        Some(self.write_queue(&mut w, ticket))
    }

    fn write_queue(&self, w: &mut Written, ticket: Ticket) -> io::Result<()> {
        if w.upto >= ticket.position {
            return Ok(());
        }
        let (changes, upto, bytes) = {
            let mut p = locked(&self.pending);
            let bytes = std::mem::take(&mut p.bytes);
            (std::mem::take(&mut p.changes), p.queued, bytes)
        };
        let large = bytes > INLINE_COMMIT_BYTES;
        if large {
            self.writing_large.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        if let Some(why) = &w.failed {
            return Err(io::Error::other(format!(
                "the journal stopped after an earlier failure: {why}"
            )));
        }
        let Some(journal) = w.journal.as_mut() else {
            return Err(io::Error::other("the journal is closed: the emulator has stopped"));
        };
        let written = changes
            .iter()
            .try_for_each(|c| c.write_to(journal))
            .and_then(|()| journal.flush());
        if large {
            self.writing_large.store(false, std::sync::atomic::Ordering::Relaxed);
        }
        match written {
            Ok(()) => {
                w.upto = upto;
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, path = %self.path.display(), "the journal stops here: later changes will not survive a restart");
                w.failed = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// Writes what is queued and closes the file, letting go of the state
    /// folder. Blocking. Later commits are refused.
    pub fn finish(&self) {
        let mut w = locked(&self.written);
        let position = locked(&self.pending).queued;
        let _ = self.write_queue(
            &mut w,
            Ticket {
                position,
                pending_bytes: 0,
            },
        );
        w.journal = None;
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

/// Rewrites the header line in place with the new format (the same length:
/// only the digit changes), leaving the records as they are.
fn mark_format(path: &Path, old_line: &str, header: &JournalHeader) -> io::Result<()> {
    let mut new_line = serde_json::to_string(header)?;
    new_line.push('\n');
    if new_line.len() != old_line.len() {
        return Ok(()); // not the same shape: leave it; this snaplab reads it either way
    }
    let mut file = OpenOptions::new().write(true).open(path)?;
    file.write_all(new_line.as_bytes())?;
    file.flush()
}

/// `[u16 len]account/region`.
fn scope_bytes(scope: &Scope) -> io::Result<Vec<u8>> {
    let text = format!("{}/{}", scope.account, scope.region);
    let len = u16::try_from(text.len()).map_err(|_| io::Error::other("scope too long"))?;
    let mut out = len.to_le_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    Ok(out)
}

/// A scope written by [`scope_bytes`] and the bytes after it.
fn split_scope(payload: &[u8]) -> Option<(Scope, &[u8])> {
    let len = u16::from_le_bytes([*payload.first()?, *payload.get(1)?]) as usize;
    let text = std::str::from_utf8(payload.get(2..2 + len)?).ok()?;
    let (account, region) = text.split_once('/')?;
    Some((Scope::new(account, region), &payload[2 + len..]))
}

/// One record and its size in bytes; `None` at the end or at a cut-short
/// tail. Records from before scopes act in `home`.
fn read_entry(r: &mut impl Read, home: &Scope) -> io::Result<Option<(Entry, u64)>> {
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
            scope: home.clone(),
            params: QueryParams::from_parts(None, &payload),
        },
        KIND_EC2_SCOPED => {
            let Some((scope, form)) = split_scope(&payload) else {
                return Ok(None);
            };
            Entry::Ec2 {
                now,
                scope,
                params: QueryParams::from_parts(None, form),
            }
        }
        KIND_WRITE | KIND_WRITE_SCOPED => {
            let (scope, rest) = match kind {
                KIND_WRITE => (None, payload.as_slice()),
                _ => match split_scope(&payload) {
                    Some((scope, rest)) => (Some(scope), rest),
                    None => return Ok(None),
                },
            };
            let Some((volume_id, offset, data)) = read_write(rest) else {
                return Ok(None);
            };
            Entry::Write {
                now,
                scope,
                volume_id,
                offset,
                data,
            }
        }
        KIND_EBS => match split_scope(&payload).and_then(|(scope, rest)| Some((scope, read_ebs_call(rest)?))) {
            Some((scope, call)) => Entry::Ebs { now, scope, call },
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some((entry, 13 + len as u64)))
}

/// A data-plane write's volume, offset and bytes.
fn read_write(payload: &[u8]) -> Option<(String, u64, bytes::Bytes)> {
    let id_len = u16::from_le_bytes([*payload.first()?, *payload.get(1)?]) as usize;
    let volume_id = String::from_utf8_lossy(payload.get(2..2 + id_len)?).into_owned();
    let offset = u64::from_le_bytes(payload.get(2 + id_len..10 + id_len)?.try_into().ok()?);
    Some((
        volume_id,
        offset,
        bytes::Bytes::copy_from_slice(&payload[10 + id_len..]),
    ))
}

fn read_ebs_call(payload: &[u8]) -> Option<EbsCall> {
    let head_len = u32::from_le_bytes(payload.get(..4)?.try_into().ok()?) as usize;
    let head: EbsCallHead = serde_json::from_slice(payload.get(4..4usize.checked_add(head_len)?)?).ok()?;
    Some(EbsCall {
        method: head.method,
        path: head.path,
        query: head.query,
        headers: head.headers,
        body: bytes::Bytes::copy_from_slice(&payload[4 + head_len..]),
    })
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

    #[test]
    fn a_format_1_journal_is_read_and_marked_2_and_a_later_one_refused() {
        let dir = std::env::temp_dir().join(format!("snaplab-journal-v1-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let now = Utc::now();
        let old = JournalHeader { format: 1, ..header() };
        {
            let (mut j, h, _) = Journal::open(&dir, old).unwrap();
            assert_eq!(h.format, 1, "a fresh journal keeps the header it is given");
            // A record of the old kind: an EC2 request in the home scope.
            j.append(KIND_EC2, &now, b"Action=CreateVolume&Size=8").unwrap();
            j.flush().unwrap();
        }
        let (_, h, entries) = Journal::open(&dir, header()).unwrap();
        assert_eq!(h.format, FORMAT);
        assert!(matches!(&entries[..], [Entry::Ec2 { scope, .. }] if scope.region == "us-east-1"));
        let bytes = std::fs::read(dir.join(FILE_NAME)).unwrap();
        let first_line =
            String::from_utf8_lossy(&bytes[..bytes.iter().position(|b| *b == b'\n').unwrap()]).into_owned();
        assert!(
            first_line.starts_with(&format!("{{\"format\":{FORMAT},")),
            "{first_line}"
        );
        std::fs::remove_dir_all(&dir).unwrap();

        let later = JournalHeader {
            format: FORMAT + 1,
            ..header()
        };
        let (_, _, _) = Journal::open(&dir, later).unwrap();
        let err = Journal::open(&dir, header()).unwrap_err();
        assert!(err.to_string().contains("use a newer snaplab"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
                &Scope::new("111122223333", "eu-west-1"),
                &QueryParams::from_pairs([("Action", "CreateVolume"), ("Size", "8")]),
            )
            .unwrap();
            j.record_write(&now, None, "vol-0123456789abcdef0", 4096, b"orders")
                .unwrap();
            j.record_write(
                &now,
                Some(&Scope::new("111122223333", "us-east-1")),
                "vol-0aaaa",
                8,
                b"theirs",
            )
            .unwrap();
            j.flush().unwrap();
        }
        // A kill in the middle of a third record.
        let mut f = OpenOptions::new().append(true).open(dir.join(FILE_NAME)).unwrap();
        f.write_all(&[KIND_WRITE, 1, 2, 3]).unwrap();
        drop(f);

        let (mut j, h, entries) = Journal::open(&dir, header()).unwrap();
        assert_eq!(h.seed, 42);
        assert_eq!(entries.len(), 3);
        assert!(matches!(&entries[0], Entry::Ec2 { params, scope, .. }
            if params.str("Size") == Some("8") && scope.region == "eu-west-1" && scope.account == "111122223333"));
        assert!(
            matches!(&entries[1], Entry::Write { offset: 4096, data, scope: None, .. } if data.as_ref() == b"orders")
        );
        assert!(
            matches!(&entries[2], Entry::Write { offset: 8, data, scope: Some(s), volume_id, .. }
            if data.as_ref() == b"theirs" && s.account == "111122223333" && volume_id == "vol-0aaaa")
        );
        j.record_write(&now, None, "vol-0123456789abcdef0", 0, b"more").unwrap();
        j.flush().unwrap();
        drop(j);
        let (_, _, entries) = Journal::open(&dir, header()).unwrap();
        assert_eq!(entries.len(), 4, "appending after the truncated tail works");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ebs_requests_come_back_with_their_headers_and_body() {
        let dir = std::env::temp_dir().join(format!("snaplab-journal-ebs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let now = Utc::now();
        let call = EbsCall {
            method: "PUT".into(),
            path: "/snapshots/snap-0123456789abcdef0/blocks/7".into(),
            query: None,
            headers: vec![("x-amz-progress".into(), "50".into())],
            body: bytes::Bytes::from(vec![9u8; 1000]),
        };
        {
            let (mut j, _, _) = Journal::open(&dir, header()).unwrap();
            j.record_ebs(&now, &Scope::new("111122223333", "eu-west-1"), &call)
                .unwrap();
            j.flush().unwrap();
        }
        let (_, _, entries) = Journal::open(&dir, header()).unwrap();
        assert!(
            matches!(&entries[..], [Entry::Ebs { call: c, scope, .. }] if *c == call && scope.region == "eu-west-1")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn write(now: Timestamp, offset: u64, data: &[u8]) -> Change {
        Change::Write {
            now,
            scope: None,
            volume_id: "vol-0123456789abcdef0".into(),
            offset,
            data: bytes::Bytes::copy_from_slice(data),
        }
    }

    #[test]
    fn group_commits_keep_the_order_changes_were_queued_in() {
        let dir = std::env::temp_dir().join(format!("snaplab-journal-queue-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let now = Utc::now();
        let (j, _, _) = Journal::open(&dir, header()).unwrap();
        let queue = std::sync::Arc::new(JournalQueue::new(j));
        // Four threads queue (in turn, as under the model's lock) and commit (at once).
        let order = std::sync::Arc::new(std::sync::Mutex::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (queue, order) = (queue.clone(), order.clone());
                std::thread::spawn(move || {
                    for _ in 0..250 {
                        let ticket = {
                            let mut next = order.lock().unwrap();
                            *next += 1;
                            queue.enqueue(write(now, *next, &next.to_le_bytes()))
                        };
                        queue.commit(ticket).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        queue.finish();
        let (_, _, entries) = Journal::open(&dir, header()).unwrap();
        let offsets: Vec<u64> = entries
            .iter()
            .map(|e| match e {
                Entry::Write { offset, .. } => *offset,
                Entry::Ec2 { .. } | Entry::Ebs { .. } => u64::MAX,
            })
            .collect();
        assert_eq!(offsets, (1..=1000).collect::<Vec<_>>());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_large_queue_is_not_committed_quickly() {
        let dir = std::env::temp_dir().join(format!("snaplab-journal-large-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (j, _, _) = Journal::open(&dir, header()).unwrap();
        let queue = JournalQueue::new(j);
        let small = queue.enqueue(write(Utc::now(), 0, b"x"));
        assert!(matches!(queue.try_commit_quickly(small), Some(Ok(()))));
        let large = queue.enqueue(write(Utc::now(), 0, &vec![7u8; INLINE_COMMIT_BYTES + 1]));
        assert!(large.pending_bytes > INLINE_COMMIT_BYTES);
        assert!(queue.try_commit_quickly(large).is_none(), "a blocking thread's job");
        queue.commit(large).unwrap();
        assert!(
            matches!(queue.try_commit_quickly(large), Some(Ok(()))),
            "already written"
        );
        queue.finish();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn after_a_failed_write_the_journal_stops_whole_and_finish_lets_go_of_the_folder() {
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

        let queue = JournalQueue::new(j);
        queue.commit(queue.enqueue(write(now, 0, b"kept"))).unwrap();
        // A write that cannot be made: larger than a record can say.
        let huge = Change::Write {
            now,
            scope: None,
            volume_id: "v".repeat(usize::from(u16::MAX) + 1),
            offset: 0,
            data: bytes::Bytes::new(),
        };
        assert!(queue.commit(queue.enqueue(huge)).is_err());
        let after = queue.commit(queue.enqueue(write(now, 8, b"dropped"))).unwrap_err();
        assert!(
            after.to_string().contains("stopped after an earlier failure"),
            "{after}"
        );
        queue.finish();

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
