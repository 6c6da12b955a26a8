//! What "Run step" does for each action: the API calls the app makes for the
//! learner, and the shop's part (pausing writes, closing before verifying).

use std::time::Duration;

use chrono::Utc;
use snaplab_cloud::scenario::wait_until;
use snaplab_cloud::{CloudError, SnapshotInfo};
use snaplab_workload::{judge, replay, system_clock, verify, VerifyOptions};

use crate::context::{Consistency, Reattach};
use crate::def::Action;
use crate::error::LabError;
use crate::events::{LabEvent, Level};
use crate::runner::Runner;
use crate::verification::{ImageSummary, Verification};

impl Runner {
    pub(crate) async fn perform(&mut self, action: Action) -> Result<(), LabError> {
        match action {
            Action::StartShop => {
                self.open_shop().await?;
                tokio::time::sleep(self.tempo.warm_up).await;
                Ok(())
            }
            Action::CreateSnapshot => self.create_snapshot().await,
            Action::KeepWriting => self.keep_writing().await,
            Action::DetachReattach => self.detach_reattach().await,
            Action::MonitorSnapshot => self.monitor_snapshot().await,
            Action::RestoreVolume => self.restore_volume().await,
            Action::AttachRestored => self.attach_restored().await,
            Action::VerifyRestore => self.verify_restore().await,
            Action::CleanUp => self.clean_up().await,
        }
    }

    pub(crate) fn scenario(&self) -> Result<snaplab_cloud::scenario::Scenario, LabError> {
        self.ctx
            .scenario
            .clone()
            .ok_or_else(|| LabError::Run("the SecureCart scenario is not known yet".into()))
    }

    pub(crate) fn snapshot_id(&self) -> Result<String, LabError> {
        self.ctx
            .snapshot_id
            .clone()
            .ok_or_else(|| LabError::Run("no snapshot yet: the create-snapshot step comes first".into()))
    }

    pub(crate) fn restored_id(&self) -> Result<String, LabError> {
        self.ctx
            .restored_volume_id
            .clone()
            .ok_or_else(|| LabError::Run("no restored volume yet: the restore step comes first".into()))
    }

    pub(crate) fn progress(&self, s: &SnapshotInfo) {
        self.emitter.emit(LabEvent::SnapshotProgress {
            run_id: self.ctx.run_id.clone(),
            snapshot_id: s.id.clone(),
            state: s.state.clone(),
            percent: s.progress,
            at: Utc::now(),
        });
    }

    /// Polls a condition at the tempo's interval, within its patience.
    async fn wait<F, Fut>(&self, what: &str, ready: F) -> Result<(), LabError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool, CloudError>>,
    {
        Ok(wait_until(what, self.tempo.poll, self.tempo.patience, ready).await?)
    }

    async fn create_snapshot(&mut self) -> Result<(), LabError> {
        let scenario = self.scenario()?;
        let app = self.ctx.consistency == Consistency::App;
        if app {
            self.quiesce_shop().await?;
            self.notice(
                Level::Info,
                "SecureCart paused writes: the order in flight finished and the volume was flushed.",
            );
        }
        let run_tag = self.ctx.run_id.clone();
        let created = self
            .target
            .ec2
            .create_snapshot(
                &scenario.data_volume_id,
                "Nightly backup",
                &[("Name", "SecureCartBackup"), ("snaplab:run", &run_tag)],
            )
            .await;
        if app {
            // AWS: resume "once the snapshot enters the pending state" — it is
            // pending from the moment CreateSnapshot answers.
            self.shop().resume();
            self.notice(Level::Info, "The snapshot is pending: SecureCart resumed writing.");
        }
        let snap = created?;
        self.ctx.snapshot_id = Some(snap.id.clone());
        self.ctx.snapshot_started_at = Some(snap.start_time);
        self.created("snapshot", &snap.id, "backup").await;
        self.progress(&snap);
        Ok(())
    }

    async fn keep_writing(&mut self) -> Result<(), LabError> {
        let id = self.snapshot_id()?;
        let until = tokio::time::Instant::now() + self.tempo.keep_writing;
        while tokio::time::Instant::now() < until {
            let s = self.target.ec2.snapshot(&id).await?;
            self.progress(&s);
            tokio::time::sleep(self.tempo.poll.max(Duration::from_millis(100))).await;
        }
        Ok(())
    }

    async fn detach_reattach(&mut self) -> Result<(), LabError> {
        let scenario = self.scenario()?;
        let state = self.snapshot_state_now().await;
        self.quiesce_shop().await?;
        self.notice(Level::Info, "SecureCart stopped writing and unmounted the data volume.");
        let ec2 = self.target.ec2.clone();
        let vol = scenario.data_volume_id.clone();
        ec2.detach_volume(&vol, &scenario.instance_id).await?;
        self.wait("the data volume detaching", || async {
            Ok(ec2.volume(&vol).await?.state == "available")
        })
        .await?;
        if let Some(id) = self.ctx.snapshot_id.clone() {
            let s = ec2.snapshot(&id).await?;
            self.progress(&s);
            self.notice(
                Level::Info,
                format!(
                    "{vol} is detached and available; snapshot {id} is {} at {}%.",
                    s.state, s.progress
                ),
            );
        }
        ec2.attach_volume(&vol, &scenario.instance_id, &scenario.data_device)
            .await?;
        let instance = scenario.instance_id.clone();
        self.wait("the data volume attaching again", || async {
            Ok(ec2.volume(&vol).await?.is_attached_to(&instance))
        })
        .await?;
        self.shop().resume();
        self.notice(Level::Info, "SecureCart mounted the data volume again and is writing.");
        self.ctx.reattach = Some(Reattach {
            snapshot_state_at_detach: state,
            detached: true,
        });
        self.save_context().await;
        Ok(())
    }

    pub(crate) async fn snapshot_state_now(&self) -> String {
        match &self.ctx.snapshot_id {
            Some(id) => self
                .target
                .ec2
                .snapshot(id)
                .await
                .map(|s| s.state)
                .unwrap_or_else(|_| "unknown".into()),
            None => "none".into(),
        }
    }

    async fn monitor_snapshot(&mut self) -> Result<(), LabError> {
        let id = self.snapshot_id()?;
        let deadline = tokio::time::Instant::now() + self.tempo.patience;
        loop {
            let s = self.target.ec2.snapshot(&id).await?;
            self.progress(&s);
            match s.state.as_str() {
                "completed" => return Ok(()),
                "error" => return Err(LabError::Run(format!("snapshot {id} went to state error"))),
                _ if tokio::time::Instant::now() >= deadline => {
                    return Err(LabError::Run(format!(
                        "snapshot {id} is still {} at {}%",
                        s.state, s.progress
                    )))
                }
                _ => tokio::time::sleep(self.tempo.poll).await,
            }
        }
    }

    async fn restore_volume(&mut self) -> Result<(), LabError> {
        let scenario = self.scenario()?;
        let snap = self.snapshot_id()?;
        let run_tag = self.ctx.run_id.clone();
        let v = self
            .target
            .ec2
            .create_volume(
                &scenario.zone,
                None,
                Some(&snap),
                &[("Name", "securecart-restore"), ("snaplab:run", &run_tag)],
            )
            .await?;
        self.ctx.restored_volume_id = Some(v.id.clone());
        self.created("volume", &v.id, "restored").await;
        let ec2 = self.target.ec2.clone();
        self.wait("the restored volume becoming available", || async {
            Ok(ec2.volume(&v.id).await?.state == "available")
        })
        .await
    }

    async fn attach_restored(&mut self) -> Result<(), LabError> {
        let scenario = self.scenario()?;
        let vol = self.restored_id()?;
        let ec2 = self.target.ec2.clone();
        ec2.attach_volume(&vol, &scenario.instance_id, &self.ctx.restored_device)
            .await?;
        let instance = scenario.instance_id.clone();
        self.wait("the restored volume attaching", || async {
            Ok(ec2.volume(&vol).await?.is_attached_to(&instance))
        })
        .await
    }

    /// Reads the restored volume and judges it against the shop's log.
    async fn verify_restore(&mut self) -> Result<(), LabError> {
        self.close_shop().await?;
        let snap = self.target.ec2.snapshot(&self.snapshot_id()?).await?;
        let restored = self.target.ec2.volume(&self.restored_id()?).await?;
        let mut disk = self
            .plane
            .restored_disk(&restored.id, restored.size_bytes(), &snap)
            .map_err(|e| LabError::Run(e.to_string()))?;
        let log = self.shop().log().clone();
        let tolerance = self.target.kind.start_time_precision_us();
        let start_us = snap.start_time.timestamp_micros();
        let (report, pit, replayed, torn_after) = tokio::task::spawn_blocking(move || -> Result<_, LabError> {
            let options = VerifyOptions {
                scan_through_seq: log.last_seq(),
                ..VerifyOptions::default()
            };
            let report = verify(&disk, &options)?;
            let pit = judge(&report, &log, start_us, tolerance);
            let replayed = if report.torn.is_empty() {
                Vec::new()
            } else {
                replay(&mut disk, &system_clock())?.replayed
            };
            let torn_after = if replayed.is_empty() {
                report.torn.len()
            } else {
                verify(&disk, &options)?.torn.len()
            };
            Ok((report, pit, replayed, torn_after))
        })
        .await
        .map_err(|e| LabError::Run(e.to_string()))??;

        let image = ImageSummary {
            last_seq: report.last_seq,
            committed: report.committed,
            torn_seqs: report.torn.iter().map(|t| t.seq).collect(),
            corrupt: report.corrupt.len() as u64,
            missing_positions: report.missing.len() as u64,
            intact: report.is_intact(),
        };
        let mut v = Verification {
            snapshot_id: snap.id.clone(),
            restored_volume_id: restored.id.clone(),
            snapshot_started_at: snap.start_time,
            consistency: self.ctx.consistency,
            read_from: if self.plane.is_shadow() {
                "shadow disk"
            } else {
                "emulator"
            }
            .to_string(),
            point_in_time: pit,
            image,
            replayed,
            torn_after_replay: torn_after as u64,
            explanation: Vec::new(),
        };
        v.explanation = crate::explain::explain(&v, tolerance);
        self.verification = Some(v.clone());
        self.emitter
            .emit_durable(LabEvent::Verification {
                run_id: self.ctx.run_id.clone(),
                verification: Box::new(v),
                at: Utc::now(),
            })
            .await;
        Ok(())
    }

    /// Deletes what this run created: volumes (detached first), then snapshots.
    pub(crate) async fn clean_up(&mut self) -> Result<(), LabError> {
        let instance = self.scenario()?.instance_id;
        let ec2 = self.target.ec2.clone();
        let mut left = self.ctx.resources.clone();
        left.sort_by_key(|r| r.kind != "volume");
        for r in left.iter().filter(|r| !r.deleted) {
            let gone = match r.kind.as_str() {
                "volume" => match ec2.volume(&r.id).await {
                    Err(e) if e.code() == Some("InvalidVolume.NotFound") => true,
                    Err(e) => return Err(e.into()),
                    Ok(v) => {
                        if v.attachment.is_some() {
                            ec2.detach_volume(&r.id, &instance).await?;
                            let id = r.id.clone();
                            self.wait("a restored volume detaching", || async {
                                Ok(ec2.volume(&id).await?.state == "available")
                            })
                            .await?;
                        }
                        ec2.delete_volume(&r.id).await?;
                        true
                    }
                },
                "snapshot" => match ec2.delete_snapshot(&r.id).await {
                    Ok(()) => true,
                    Err(e) if e.code() == Some("InvalidSnapshot.NotFound") => true,
                    Err(e) => return Err(e.into()),
                },
                _ => false,
            };
            if gone {
                self.deleted(&r.id).await;
            }
        }
        Ok(())
    }

    pub(crate) async fn deleted(&mut self, id: &str) {
        if let Some(r) = self.ctx.resources.iter_mut().find(|r| r.id == id) {
            r.deleted = true;
        }
        self.emitter
            .emit_durable(LabEvent::ResourceDeleted {
                run_id: self.ctx.run_id.clone(),
                resource_id: id.to_string(),
                at: Utc::now(),
            })
            .await;
        self.save_context().await;
    }
}
