//! SecureCart on the instance, driven through SSM: the Python writer
//! (remote/securecart.py) installed and started as a long-running command,
//! its order log fetched in pieces (SSM keeps 24,000 characters of output)
//! by a poller, pauses and stops through control files — an
//! [`OrderTaker`] like the local one, so the lab's shop does not mind.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use snaplab_workload::{LogEntry, OrderTaker, Quiesced, Recovery, WorkloadError, WorkloadStats};
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use snaplab_lab::ShopSettings;

use crate::error::AwsError;
use crate::ssm_shell::Shell;

/// The writer and verifier, sent to the instance.
pub const SCRIPT: &str = include_str!("../remote/securecart.py");
/// The heredoc delimiter the script is installed with (it never appears in it).
const EOF_MARK: &str = "SNAPLAB_SECURECART_EOF";
/// Most bytes of the log one fetch asks for (under SSM's 24,000 characters).
const LOG_PIECE: usize = 20_000;

/// A volume's stable device path on a Nitro instance: its NVMe serial is the
/// volume id (without the hyphen); `/dev/sdf` names nothing fixed there.
pub fn nitro_device(volume_id: &str) -> String {
    format!(
        "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_{}",
        volume_id.replacen('-', "", 1)
    )
}

/// Shell lines that name where things are on the instance: `$DEV` (the
/// volume's Nitro by-id path), `$D` (SecureCart's state) and `$S` (the
/// script). `SNAPLAB_ROOT` is empty on a real instance; snaplab's emulator
/// sets it to the instance's sandbox.
pub fn locations(volume_id: &str) -> String {
    format!(
        "R=\"${{SNAPLAB_ROOT:-}}\"; DEV=\"$R{}\"; D=\"$R/var/lib/snaplab/securecart\"; S=\"$D/securecart.py\"",
        nitro_device(volume_id)
    )
}

/// The lines that install the script at `$S`.
pub fn install() -> String {
    format!("mkdir -p \"$D\"\ncat > \"$S\" <<'{EOF_MARK}'\n{SCRIPT}\n{EOF_MARK}")
}

fn workload_error(e: AwsError) -> WorkloadError {
    WorkloadError::Stopped(e.to_string())
}

#[derive(Debug, Default)]
struct Fetched {
    fresh: Vec<LogEntry>,
    stats: WorkloadStats,
    /// Bytes of the instance's order log read so far.
    offset: u64,
    /// Orders up to this one are in the record already (a resumed run's).
    recorded_through: u64,
}

/// The writer running on the instance.
pub struct RemoteShop {
    shell: Shell,
    locations: String,
    writer: String,
    fetched: Arc<Mutex<Fetched>>,
    poller: Mutex<Option<(JoinHandle<()>, watch::Sender<bool>)>>,
    runtime: Handle,
}

fn lock(m: &Mutex<Fetched>) -> MutexGuard<'_, Fetched> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Parses whole log lines: `seq product_id quantity begun_at_us acked_at_us`.
pub fn parse_log(text: &str) -> Vec<LogEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<i64> = l.split(' ').map(|x| x.parse().ok()).collect::<Option<_>>()?;
            let [seq, product, quantity, begun, acked] = f.as_slice() else {
                return None;
            };
            Some(LogEntry {
                seq: u64::try_from(*seq).ok()?,
                product_id: u32::try_from(*product).ok()?,
                quantity: u32::try_from(*quantity).ok()?,
                begun_at_us: *begun,
                acked_at_us: Some(*acked),
            })
        })
        .collect()
}

/// Reads the order log from where the last read stopped, until it is all read.
async fn fetch(shell: &Shell, locations: &str, fetched: &Mutex<Fetched>) -> Result<(), AwsError> {
    loop {
        let offset = lock(fetched).offset;
        let script =
            format!("{locations}\npython3 \"$S\" log --state \"$D\" --offset {offset} --max-bytes {LOG_PIECE}");
        let text = shell
            .run(&script, Duration::from_secs(60), "reading SecureCart's order log")
            .await?;
        let mut f = lock(fetched);
        let through = f.recorded_through;
        let entries: Vec<LogEntry> = parse_log(&text).into_iter().filter(|e| e.seq > through).collect();
        f.offset += text.len() as u64;
        f.stats.acknowledged += entries.len() as u64;
        if let Some(last) = entries.last() {
            f.stats.last_seq = f.stats.last_seq.max(last.seq);
        }
        f.fresh.extend(entries);
        if text.len() < LOG_PIECE / 2 {
            return Ok(());
        }
    }
}

impl RemoteShop {
    /// Installs the writer, starts it on the data volume and waits until it
    /// has opened the store; then fetches its log every `sample`. A writer
    /// still running there (a run killed and resumed) is stopped first, and
    /// its log kept: orders past `recorded_through` are news to the record.
    pub async fn start(
        shell: Shell,
        data_volume_id: &str,
        seed: u64,
        orders_per_sec: f64,
        sample: Duration,
        recorded_through: u64,
        shop: &ShopSettings,
    ) -> Result<(Self, Recovery), AwsError> {
        let (record_size, history) = (shop.record_size, shop.history_orders);
        let locations = locations(data_volume_id);
        let script = format!(
            "{locations}\n{}\n\
             if [ -f \"$D/running\" ] && [ ! -f \"$D/stopped\" ]; then touch \"$D/stop\"; rm -f \"$D/pause\"; \
             for i in $(seq 1 1200); do [ -f \"$D/stopped\" ] && break; sleep 0.05; done; fi\n\
             rm -f \"$D/stop\" \"$D/pause\" \"$D/paused\" \"$D/hold\" \"$D/held\" \"$D/stopped\" \"$D/running\"\n\
             exec python3 \"$S\" write --device \"$DEV\" --state \"$D\" --rate {orders_per_sec} --seed {seed} --record-size {record_size} --history {history}",
            install()
        );
        let writer = shell
            .launch(&script, Duration::from_secs(6 * 3600), "starting SecureCart's writer")
            .await?;
        let status = format!("{locations}\npython3 \"$S\" status --state \"$D\" 2>/dev/null || echo '{{}}'");
        let started = tokio::time::Instant::now();
        let recovery = loop {
            if let Some(ended) = shell.poll_once(&writer).await? {
                return Err(AwsError::Other {
                    action: "ssm:SendCommand".into(),
                    detail: format!(
                        "SecureCart's writer stopped at once ({}): {}",
                        ended.status,
                        ended.stderr.trim()
                    ),
                });
            }
            let text = shell
                .quiet()
                .run(&status, Duration::from_secs(60), "SecureCart's status")
                .await?;
            let s: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_default();
            // A new store's trading history is written first: ready after it.
            if s["running"] == true && s["ready"] != false {
                break Recovery {
                    replayed: serde_json::from_value(s["replayed"].clone()).unwrap_or_default(),
                    last_seq: s["opened_at_seq"].as_u64().unwrap_or(0),
                };
            }
            if started.elapsed() > Duration::from_secs(180) {
                return Err(AwsError::Other {
                    action: "ssm:SendCommand".into(),
                    detail: "SecureCart's writer did not open the store within 3 minutes".into(),
                });
            }
            tokio::time::sleep(shell.poll).await;
        };
        let shop = Self {
            shell,
            locations,
            writer,
            fetched: Arc::new(Mutex::new(Fetched {
                recorded_through,
                ..Fetched::default()
            })),
            poller: Mutex::new(None),
            runtime: Handle::current(),
        };
        shop.start_poller(sample);
        Ok((shop, recovery))
    }

    fn start_poller(&self, every: Duration) {
        let (stop, mut stopped) = watch::channel(false);
        // The log is fetched every few seconds: not an API call worth a line each.
        let (shell, locations, fetched, writer) = (
            self.shell.quiet(),
            self.locations.clone(),
            self.fetched.clone(),
            self.writer.clone(),
        );
        let task = self.runtime.spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    _ = stopped.changed() => break,
                }
                if let Err(e) = fetch(&shell, &locations, &fetched).await {
                    tracing::warn!(error = %e, "cannot read SecureCart's order log; trying again");
                }
                // The writer ending on its own is a failure the lab must see.
                if let Ok(Some(ended)) = shell.poll_once(&writer).await {
                    lock(&fetched).stats.failed = Some(format!(
                        "SecureCart's writer on the instance ended ({}): {}",
                        ended.status,
                        ended.stderr.trim()
                    ));
                    break;
                }
            }
        });
        *self.poller.lock().unwrap_or_else(|p| p.into_inner()) = Some((task, stop));
    }

    fn stop_poller(&self) {
        let poller = self.poller.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((task, stop)) = poller {
            let _ = stop.send(true);
            let _ = self.runtime.block_on(task);
        }
    }

    /// Runs a control script to its end (blocking: the shop calls it off the async threads).
    fn control(&self, body: &str, what: &str) -> Result<String, WorkloadError> {
        let script = format!("{}\n{body}", self.locations);
        self.runtime
            .block_on(self.shell.run(&script, Duration::from_secs(120), what))
            .map_err(workload_error)
    }
}

impl OrderTaker for RemoteShop {
    fn stats(&self) -> WorkloadStats {
        lock(&self.fetched).stats.clone()
    }

    fn drain_acknowledged(&self) -> Vec<LogEntry> {
        std::mem::take(&mut lock(&self.fetched).fresh)
    }

    fn quiesce(&self) -> Result<Quiesced, WorkloadError> {
        let out = self.control(
            "touch \"$D/pause\"; i=0; while [ ! -f \"$D/paused\" ]; do sleep 0.05; i=$((i+1)); [ $i -gt 1200 ] && exit 3; done; cat \"$D/paused\"",
            "pausing SecureCart",
        )?;
        let last_seq = out.trim().parse().unwrap_or(0);
        let mut f = lock(&self.fetched);
        f.stats.paused = true;
        Ok(Quiesced {
            last_seq,
            acknowledged: f.stats.acknowledged,
        })
    }

    fn hold_mid_order(&self) -> Result<u64, WorkloadError> {
        let out = self.control(
            "rm -f \"$D/held\"; touch \"$D/hold\"; i=0; while [ ! -f \"$D/held\" ]; do sleep 0.05; i=$((i+1)); [ $i -gt 1200 ] && exit 3; done; cat \"$D/held\"",
            "holding an order half-written in SecureCart",
        )?;
        Ok(out.trim().parse().unwrap_or(0))
    }

    fn resume(&self) {
        if let Err(e) = self.control("rm -f \"$D/pause\" \"$D/hold\"", "resuming SecureCart") {
            tracing::error!(error = %e, "SecureCart did not resume");
            lock(&self.fetched).stats.failed = Some(e.to_string());
        }
        lock(&self.fetched).stats.paused = false;
    }

    fn stop(self: Box<Self>) -> Result<Vec<LogEntry>, WorkloadError> {
        self.stop_poller();
        self.control("touch \"$D/stop\"; rm -f \"$D/pause\"", "stopping SecureCart")?;
        let ended = self
            .runtime
            .block_on(
                self.shell
                    .wait(&self.writer, Duration::from_secs(120), "SecureCart's writer stopping"),
            )
            .map_err(workload_error)?;
        if ended.status != "Success" {
            return Err(WorkloadError::Stopped(format!(
                "SecureCart's writer on the instance ended {}: {}",
                ended.status,
                ended.stderr.trim()
            )));
        }
        self.runtime
            .block_on(fetch(&self.shell.quiet(), &self.locations, &self.fetched))
            .map_err(workload_error)?;
        Ok(std::mem::take(&mut lock(&self.fetched).fresh))
    }
}

impl Drop for RemoteShop {
    fn drop(&mut self) {
        if let Some((task, stop)) = self.poller.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = stop.send(true);
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_parses_whole_lines_only() {
        let e = parse_log("1 7 2 100 150\n2 3 1 200 260\n3 4 5 300");
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].seq, 2);
        assert_eq!(e[1].acked_at_us, Some(260));
    }

    #[test]
    fn the_script_never_holds_its_heredoc_delimiter() {
        assert!(!SCRIPT.contains(EOF_MARK));
        assert!(locations("vol-0123456789abcdef0").contains("nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0"));
    }
}
