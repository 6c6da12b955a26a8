//! Checks judge the cloud's state after a step, whoever performed it. For a
//! hands-on learner they also find what was made (the snapshot, the restored
//! volume) and say precisely what is wrong and what to do.

use chrono::{DateTime, Duration, Utc};
use snaplab_cloud::{SnapshotInfo, VolumeInfo};

use crate::context::Consistency;
use crate::def::CheckId;
use crate::error::LabError;
use crate::runner::Runner;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    pub passed: bool,
    pub message: String,
}

fn pass(message: impl Into<String>) -> Result<CheckOutcome, LabError> {
    Ok(CheckOutcome {
        passed: true,
        message: message.into(),
    })
}

fn fail(message: impl Into<String>) -> Result<CheckOutcome, LabError> {
    Ok(CheckOutcome {
        passed: false,
        message: message.into(),
    })
}

impl Runner {
    pub(crate) async fn check(&mut self, id: CheckId) -> CheckOutcome {
        let result = match id {
            CheckId::ShopTakingOrders => self.shop_taking_orders().await,
            CheckId::SnapshotCreated => self.snapshot_created().await,
            CheckId::WritesContinued => self.writes_continued().await,
            CheckId::ReattachedDuringSnapshot => self.reattached_during_snapshot().await,
            CheckId::SnapshotCompleted => self.snapshot_completed().await,
            CheckId::RestoredInInstanceZone => self.restored_in_instance_zone().await,
            CheckId::RestoredAttached => self.restored_attached().await,
            CheckId::PointInTime => self.point_in_time(),
            CheckId::TornOrdersExplained => self.torn_orders_explained(),
            CheckId::NothingLeftBehind => self.nothing_left_behind().await,
        };
        result.unwrap_or_else(|e| CheckOutcome {
            passed: false,
            message: format!("The check could not look at the cloud: {e}"),
        })
    }

    /// Resources made in this step are at least this recent. Peers report
    /// times to the second, so allow a little before the step's start.
    fn since_step(&self) -> DateTime<Utc> {
        self.ctx.step_started_at.unwrap_or(self.ctx.started_at) - Duration::seconds(2)
    }

    async fn shop_taking_orders(&mut self) -> Result<CheckOutcome, LabError> {
        let started = tokio::time::Instant::now();
        loop {
            let stats = self.shop().stats();
            if let Some(why) = stats.failed {
                return fail(format!("SecureCart stopped taking orders: {why}"));
            }
            if stats.acknowledged > 0 {
                return pass(format!(
                    "SecureCart is taking orders: {} acknowledged so far.",
                    stats.acknowledged
                ));
            }
            if !self.shop().is_open() || started.elapsed() > self.tempo.patience.min(std::time::Duration::from_secs(30))
            {
                return fail("SecureCart has not acknowledged any order yet. Run the step again.");
            }
            tokio::time::sleep(self.tempo.poll).await;
        }
    }

    /// The run's snapshot: the one it knows, or one made since the step began.
    async fn find_snapshot(&mut self) -> Result<Option<SnapshotInfo>, LabError> {
        let ec2 = self.target.ec2.clone();
        if let Some(id) = self.ctx.snapshot_id.clone() {
            match ec2.snapshot(&id).await {
                Ok(s) => return Ok(Some(s)),
                Err(e) if e.code() == Some("InvalidSnapshot.NotFound") => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        let volume = self.scenario()?.data_volume_id;
        let since = self.since_step();
        let mut recent: Vec<SnapshotInfo> = ec2
            .snapshots_of(&volume)
            .await?
            .into_iter()
            .filter(|s| s.start_time >= since)
            .collect();
        // Prefer the one tagged for this run; then the latest.
        recent.sort_by_key(|s| (s.tag("snaplab:run") == Some(self.ctx.run_id.as_str()), s.start_time));
        let Some(found) = recent.pop() else { return Ok(None) };
        self.ctx.snapshot_id = Some(found.id.clone());
        self.ctx.snapshot_started_at = Some(found.start_time);
        self.created("snapshot", &found.id, "backup").await;
        Ok(Some(found))
    }

    async fn snapshot_created(&mut self) -> Result<CheckOutcome, LabError> {
        let volume = self.scenario()?.data_volume_id;
        let Some(s) = self.find_snapshot().await? else {
            let others = self
                .target
                .ec2
                .snapshots_tagged("snaplab:run", &self.ctx.run_id)
                .await?;
            if let Some(other) = others.iter().find(|s| s.volume_id != volume) {
                return fail(format!(
                    "Snapshot {} is of {}, but SecureCart's orders are on {volume}. Snapshot {volume} (and delete {} with aws ec2 delete-snapshot --snapshot-id {}).",
                    other.id, other.volume_id, other.id, other.id
                ));
            }
            return fail(format!(
                "No snapshot of {volume} was created since this step began. Run the command shown, then check again."
            ));
        };
        self.progress(&s);
        let mut message = format!(
            "Snapshot {} of {volume} was created at {}; it is {} at {}%.",
            s.id,
            s.start_time.format("%H:%M:%S%.3f"),
            s.state,
            s.progress
        );
        if s.tag("Name") != Some("SecureCartBackup") {
            message.push_str(" (It has no Name=SecureCartBackup tag; the lab's command adds one.)");
        }
        pass(message)
    }

    async fn writes_continued(&mut self) -> Result<CheckOutcome, LabError> {
        let Some(started) = self.ctx.snapshot_started_at else {
            return fail("There is no snapshot yet: the create-snapshot step comes first.");
        };
        let tolerance = self.target.kind.start_time_precision_us();
        let after: Vec<i64> = {
            let mut shop = self.shop();
            let _ = shop.sample();
            shop.log()
                .entries()
                .iter()
                .filter(|e| e.begun_at_us > started.timestamp_micros() + tolerance)
                .filter_map(|e| e.acked_at_us)
                .collect()
        };
        self.ctx.orders_after_snapshot = Some(after.len() as u64);
        if after.is_empty() {
            return fail("No order was acknowledged after the snapshot began. Is SecureCart still running?");
        }
        let state = self.snapshot_state_now().await;
        let mut message = format!(
            "{} orders were acknowledged after the snapshot began: the volume stayed usable.",
            after.len()
        );
        if state == "pending" {
            message.push_str(" The snapshot is still pending.");
        } else {
            message.push_str(&format!(
                " The snapshot is already {state} ({}).",
                self.quick_snapshots_note()
            ));
        }
        pass(message)
    }

    async fn reattached_during_snapshot(&mut self) -> Result<CheckOutcome, LabError> {
        let scenario = self.scenario()?;
        let Some(snap) = self.find_snapshot().await? else {
            return fail("There is no snapshot to detach under: the create-snapshot step comes first.");
        };
        let v = self.target.ec2.volume(&scenario.data_volume_id).await?;
        let Some(a) = v.attachment.as_ref().filter(|a| a.instance_id == scenario.instance_id) else {
            return fail(format!(
                "{} is {} and not attached to {}: attach it again with aws ec2 attach-volume --volume-id {} --instance-id {} --device {}",
                v.id, v.state, scenario.instance_id, v.id, scenario.instance_id, scenario.data_device
            ));
        };
        if a.state != "attached" {
            return fail(format!("{} is still {}: check again in a moment.", v.id, a.state));
        }
        if a.device != scenario.data_device {
            return fail(format!(
                "{} is attached at {}, but SecureCart mounts {}: detach it and attach it at {}.",
                v.id, a.device, scenario.data_device, scenario.data_device
            ));
        }
        let attached_at = a.attach_time.unwrap_or_default();
        if attached_at < snap.start_time - Duration::seconds(1) {
            return fail(format!(
                "{} has not been detached since the snapshot began (attached at {}). Detach it, wait until it is available, and attach it again.",
                v.id,
                attached_at.format("%H:%M:%S")
            ));
        }
        let while_pending = match (snap.completion_time, &self.ctx.reattach) {
            (Some(done), _) => attached_at <= done,
            (None, Some(r)) => r.snapshot_state_at_detach == "pending",
            (None, None) => snap.state == "pending",
        };
        if while_pending {
            pass(format!(
                "{} was detached and attached again while {} was pending — and the snapshot is {} ({}%): a pending snapshot does not hold the volume.",
                v.id, snap.id, snap.state, snap.progress
            ))
        } else {
            pass(format!(
                "{} was detached and attached again after {} began, but the snapshot had already completed ({}).",
                v.id,
                snap.id,
                self.quick_snapshots_note()
            ))
        }
    }

    /// Why a snapshot may already be complete, and how to see it pending.
    fn quick_snapshots_note(&self) -> String {
        if self.target.kind.keeps_volume_data() {
            format!(
                "at pace {} snapshots finish quickly; --pace demo or realistic keeps them pending longer",
                self.ctx.pace
            )
        } else {
            format!(
                "{} marks snapshots completed at once; real EBS keeps them pending while it copies — the built-in emulator shows that",
                self.target.kind.label()
            )
        }
    }

    async fn snapshot_completed(&mut self) -> Result<CheckOutcome, LabError> {
        let Some(s) = self.find_snapshot().await? else {
            return fail("There is no snapshot: the create-snapshot step comes first.");
        };
        self.progress(&s);
        match s.state.as_str() {
            "completed" => pass(format!("{} is completed at {}%.", s.id, s.progress)),
            "error" => fail(format!("{} went to state error: take a new snapshot.", s.id)),
            other => fail(format!(
                "{} is still {other} at {}%: wait (aws ec2 wait snapshot-completed --snapshot-ids {}) and check again.",
                s.id, s.progress, s.id
            )),
        }
    }

    /// Volumes restored from the run's snapshot since the step began (all
    /// recorded, so clean-up deletes wrong tries too).
    async fn find_restored(&mut self) -> Result<Vec<VolumeInfo>, LabError> {
        let snap = self.snapshot_id()?;
        let since = self.since_step();
        let known = self.ctx.restored_volume_id.clone();
        let found: Vec<VolumeInfo> = self
            .target
            .ec2
            .volumes_where("snapshot-id", &snap)
            .await?
            .into_iter()
            .filter(|v| Some(&v.id) == known.as_ref() || v.create_time.is_none_or(|t| t >= since))
            .collect();
        for v in &found {
            self.created("volume", &v.id, "restored").await;
        }
        Ok(found)
    }

    async fn restored_in_instance_zone(&mut self) -> Result<CheckOutcome, LabError> {
        let scenario = self.scenario()?;
        let snap = self.snapshot_id()?;
        let found = self.find_restored().await?;
        if let Some(v) = found.iter().find(|v| v.zone == scenario.zone) {
            self.ctx.restored_volume_id = Some(v.id.clone());
            self.save_context().await;
            return pass(format!(
                "{} was restored from {snap} in {}, the instance's zone; it is {} ({} GiB).",
                v.id, v.zone, v.state, v.size_gib
            ));
        }
        match found.first() {
            Some(v) => fail(format!(
                "{} was restored in {}, but the instance {} is in {}: a volume can only be attached in its own Availability Zone. Create it again with --availability-zone {} (the lab deletes {} at clean-up).",
                v.id, v.zone, scenario.instance_id, scenario.zone, scenario.zone, v.id
            )),
            None => fail(format!(
                "No volume restored from {snap} was found. Run aws ec2 create-volume --snapshot-id {snap} --availability-zone {}, then check again.",
                scenario.zone
            )),
        }
    }

    async fn restored_attached(&mut self) -> Result<CheckOutcome, LabError> {
        let scenario = self.scenario()?;
        let id = self.restored_id()?;
        let v = self.target.ec2.volume(&id).await?;
        match &v.attachment {
            Some(a) if a.instance_id == scenario.instance_id && a.state == "attached" => {
                pass(format!("{id} is attached to {} at {}.", scenario.instance_id, a.device))
            }
            Some(a) if a.instance_id == scenario.instance_id => fail(format!(
                "{id} is still {} at {}: check again in a moment.",
                a.state, a.device
            )),
            Some(a) => fail(format!(
                "{id} is attached to {}, not to SecureCart's instance {}.",
                a.instance_id, scenario.instance_id
            )),
            None => fail(format!(
                "{id} is {} and not attached: run aws ec2 attach-volume --volume-id {id} --instance-id {} --device {}",
                v.state, scenario.instance_id, self.ctx.restored_device
            )),
        }
    }

    fn point_in_time(&self) -> Result<CheckOutcome, LabError> {
        let Some(v) = &self.verification else {
            return fail("The restored volume has not been read yet.");
        };
        let p = &v.point_in_time;
        if !v.image.intact {
            return fail(format!(
                "The restored store is damaged: {} corrupt and {} missing records.",
                v.image.corrupt, v.image.missing_positions
            ));
        }
        if p.missing > 0 {
            return fail(format!(
                "{} of the {} orders acknowledged before the snapshot are not on the restored volume: {:?}.",
                p.missing, p.acknowledged_before_snapshot, p.missing_seqs
            ));
        }
        if p.after_snapshot_present > 0 {
            return fail(format!(
                "{} orders begun after the snapshot are on the restored volume: {:?}. It is not a point-in-time image.",
                p.after_snapshot_present, p.after_snapshot_seqs
            ));
        }
        pass(format!(
            "All {} orders acknowledged before the snapshot are on the restored volume, and none of the {} begun after it.",
            p.acknowledged_before_snapshot, p.begun_after_snapshot
        ))
    }

    fn torn_orders_explained(&self) -> Result<CheckOutcome, LabError> {
        let Some(v) = &self.verification else {
            return fail("The restored volume has not been read yet.");
        };
        let torn = &v.image.torn_seqs;
        if v.consistency == Consistency::App {
            return if torn.is_empty() {
                pass("No torn order: writes were paused while the snapshot was created (application-consistent).")
            } else {
                fail(format!(
                    "Orders {torn:?} are torn although writes were paused: the snapshot was not application-consistent."
                ))
            };
        }
        if v.torn_after_replay > 0 {
            return fail(format!(
                "{} torn orders remain after journal replay.",
                v.torn_after_replay
            ));
        }
        if torn.is_empty() {
            return pass(
                "No torn order this time: the snapshot did not fall between the two writes of an order (it can; try again, or see the crash-consistency notes).",
            );
        }
        pass(format!(
            "Order{} {torn:?} {} torn — caught between {} two writes; never acknowledged, so no promise was broken, and journal replay completed {}.",
            if torn.len() == 1 { "" } else { "s" },
            if torn.len() == 1 { "is" } else { "are" },
            if torn.len() == 1 { "its" } else { "their" },
            if torn.len() == 1 { "it" } else { "them" },
        ))
    }

    async fn nothing_left_behind(&mut self) -> Result<CheckOutcome, LabError> {
        let ec2 = self.target.ec2.clone();
        let mut left = Vec::new();
        for r in self.ctx.resources.clone() {
            let exists = match r.kind.as_str() {
                "volume" => match ec2.volume(&r.id).await {
                    Ok(v) => v.state != "deleting" && v.state != "deleted",
                    Err(e) if e.code() == Some("InvalidVolume.NotFound") => false,
                    Err(e) => return Err(e.into()),
                },
                "snapshot" => match ec2.snapshot(&r.id).await {
                    Ok(_) => true,
                    Err(e) if e.code() == Some("InvalidSnapshot.NotFound") => false,
                    Err(e) => return Err(e.into()),
                },
                _ => false,
            };
            if exists {
                left.push(format!("{} {}", r.kind, r.id));
            } else if !r.deleted {
                self.deleted(&r.id).await;
            }
        }
        if left.is_empty() {
            pass(format!(
                "Everything this run created is gone ({} resources).",
                self.ctx.resources.len()
            ))
        } else {
            fail(format!(
                "Still there: {}. Delete them (detach a volume first), or run snaplab cleanup {}.",
                left.join(", "),
                self.ctx.run_id
            ))
        }
    }
}
