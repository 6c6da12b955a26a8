//! The run scope: everything a step needs — the run's context, the cloud,
//! the data plane, the shop, the event emitter, the tempo and the clock — in
//! one value handed to the free functions that do the lab's work:
//! [`perform`](crate::actions::perform), [`discover`](crate::discover::discover),
//! [`judge`](crate::checks::judge) and [`clean_up`](crate::cleanup::clean_up).
//! Functions here that write to the record or the stream say so in their
//! names (`record_…`, `emit_…`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use snaplab_cloud::scenario::Scenario;
use snaplab_cloud::{ApiObserver, DataPlane, Ec2, SnapshotInfo, SnapshotState, Target};

use crate::bus::Emitter;
use crate::clock::{self, Clock};
use crate::context::{ResourceKind, ResourceRole, RunContext, RunResource, TargetInfo};
use crate::def::LabDef;
use crate::error::{LabError, Prerequisite};
use crate::events::{EventKind, LabEvent, Level};
use crate::runner::{RunSettings, Start, Wiring};
use crate::shop::RunShop;
use crate::site::{LocalSite, Site};
use crate::tempo::Tempo;
use crate::verification::Verification;
use snaplab_workload::WriterLog;

/// Emits one run's events, stamped with its id and its clock's time.
#[derive(Clone)]
pub struct RunEvents {
    emitter: Emitter,
    run_id: Arc<str>,
    clock: Clock,
}

impl RunEvents {
    pub fn new(emitter: Emitter, run_id: &str, clock: Clock) -> Self {
        Self {
            emitter,
            run_id: Arc::from(run_id),
            clock,
        }
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn now(&self) -> DateTime<Utc> {
        clock::now(&self.clock)
    }

    fn stamp(&self, kind: EventKind) -> LabEvent {
        LabEvent {
            run_id: self.run_id.to_string(),
            at: self.now(),
            kind,
        }
    }

    /// Emits `kind` without waiting for the sinks.
    pub fn emit(&self, kind: EventKind) {
        self.emitter.emit(self.stamp(kind));
    }

    /// Emits `kind` and waits until every sink has it; a sink's failure is the run's.
    pub async fn emit_durable(&self, kind: EventKind) -> Result<(), LabError> {
        Ok(self.emitter.emit_durable(self.stamp(kind)).await?)
    }

    /// An observer that turns each of the cloud's API calls into an `api_call` event.
    pub fn api_observer(&self) -> ApiObserver {
        let events = self.clone();
        Arc::new(move |call| events.emit(EventKind::ApiCall { call }))
    }
}

/// See the module docs.
pub struct RunScope {
    pub ctx: RunContext,
    /// The target; its EC2 client reports to the event stream.
    pub cloud: Target,
    /// The EC2 client for the current step: its calls are attributed to it.
    pub ec2: Ec2,
    pub plane: Arc<DataPlane>,
    /// Where SecureCart runs (here, or on the run's instance).
    pub site: Arc<dyn Site>,
    pub shop: RunShop,
    /// Private: what is recorded goes through `&mut self` methods, so a
    /// check — which gets `&RunScope` — can show things but not record them.
    events: RunEvents,
    pub tempo: Tempo,
    /// What the verify step found on the restored volume.
    pub verification: Option<Verification>,
    /// How a new store is laid out and filled (the lab's `[shop]`).
    pub shop_settings: crate::def::ShopSettings,
    /// The step under way.
    step: Option<String>,
}

impl RunScope {
    /// The scope of a new run of `lab`, or of a run picked up where it stopped.
    pub fn open(lab: &LabDef, start: Start, wiring: Wiring) -> Self {
        let Wiring {
            target,
            plane,
            site,
            emitter,
            orders,
            clock,
        } = wiring;
        let plane = Arc::new(plane);
        let site = site.unwrap_or_else(|| {
            Arc::new(LocalSite {
                plane: plane.clone(),
                kind: target.kind,
                region: target.region.clone(),
            })
        });
        let (ctx, log) = match start {
            Start::New(settings) => (
                new_context(lab, settings, &target, &plane, &clock),
                WriterLog::default(),
            ),
            Start::Resume { context, log } => (*context, log),
        };
        let events = RunEvents::new(emitter, &ctx.run_id, clock);
        let cloud = target.observed_by(events.api_observer());
        Self {
            tempo: Tempo::for_target(
                ctx.pace,
                std::time::Duration::from_micros(u64::try_from(cloud.kind.start_time_precision_us()).unwrap_or(0)),
            ),
            ec2: cloud.ec2.for_step(None),
            cloud,
            plane,
            site,
            shop: RunShop::new(log, orders, events.clone()),
            events,
            ctx,
            verification: None,
            shop_settings: lab.shop,
            step: None,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.events.now()
    }

    pub fn clock(&self) -> &Clock {
        self.events.clock()
    }

    /// From now on, API calls are attributed to `step_id` (`None`: to no step).
    pub fn enter_step(&mut self, step_id: Option<&str>) {
        self.ec2 = self.cloud.ec2.for_step(step_id);
        self.step = step_id.map(String::from);
    }

    /// The step under way, for the API calls made outside EC2's client.
    pub fn step(&self) -> Option<&str> {
        self.step.as_deref()
    }

    /// An observer that puts a call in the run's API log.
    pub fn api_observer(&self) -> snaplab_cloud::ApiObserver {
        self.events.api_observer()
    }

    /// Whether the run has set up snapshot alerts (their topic exists).
    pub fn lab_uses_alerts(&self) -> bool {
        self.ctx.alerts.topic_arn.is_some()
    }

    pub fn scenario(&self) -> Result<&Scenario, LabError> {
        self.ctx
            .scenario
            .as_ref()
            .ok_or(LabError::NotYet(Prerequisite::Scenario))
    }

    pub fn snapshot_id(&self) -> Result<String, LabError> {
        self.ctx
            .snapshot_id
            .clone()
            .ok_or(LabError::NotYet(Prerequisite::Snapshot))
    }

    pub fn previous_snapshot_id(&self) -> Result<String, LabError> {
        self.ctx
            .previous_snapshot_id
            .clone()
            .ok_or(LabError::NotYet(Prerequisite::PreviousSnapshot))
    }

    pub fn restored_id(&self) -> Result<String, LabError> {
        self.ctx
            .restored_volume_id
            .clone()
            .ok_or(LabError::NotYet(Prerequisite::RestoredVolume))
    }

    /// The run's snapshot's state now (`None`: no snapshot yet; `Unknown`: it cannot be read).
    pub async fn snapshot_state_now(&self) -> Option<SnapshotState> {
        let id = self.ctx.snapshot_id.as_deref()?;
        Some(self.ec2.snapshot(id).await.map_or(SnapshotState::Unknown, |s| s.state))
    }

    /// Emits `kind` for whoever shows it, without waiting.
    pub fn emit(&self, kind: EventKind) {
        self.events.emit(kind);
    }

    /// Emits `kind` and waits until every sink (the record first) has it.
    pub async fn emit_durable(&mut self, kind: EventKind) -> Result<(), LabError> {
        self.events.emit_durable(kind).await
    }

    /// Tells the learner something.
    pub fn emit_notice(&self, level: Level, message: impl Into<String>) {
        self.events.emit(EventKind::Notice {
            level,
            message: message.into(),
        });
    }

    pub fn emit_progress(&self, s: &SnapshotInfo) {
        self.events.emit(EventKind::SnapshotProgress {
            snapshot_id: s.id.clone(),
            state: s.state,
            percent: s.progress,
        });
    }

    /// Records the context; a resumed run starts from the last one recorded.
    pub async fn record_context(&mut self) -> Result<(), LabError> {
        self.events
            .emit_durable(EventKind::ContextChanged {
                context: Box::new(self.ctx.clone()),
            })
            .await
    }

    /// Records a resource this run made (durably, before going on); once per id.
    pub async fn record_created(&mut self, kind: ResourceKind, id: &str, role: ResourceRole) -> Result<(), LabError> {
        self.record_created_at(kind, id, role, None).await
    }

    /// [`record_created`](Self::record_created), with the time the cloud gives
    /// for its creation (`None`: now).
    pub async fn record_created_at(
        &mut self,
        kind: ResourceKind,
        id: &str,
        role: ResourceRole,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), LabError> {
        if self.ctx.resources.iter().any(|r| r.id == id) {
            return Ok(());
        }
        let now = at.unwrap_or_else(|| self.now());
        self.ctx.resources.push(RunResource {
            kind,
            id: id.to_string(),
            role,
            deleted: false,
            created_at: Some(now),
            deleted_at: None,
        });
        self.events
            .emit_durable(EventKind::ResourceCreated {
                kind,
                resource_id: id.to_string(),
                role,
            })
            .await?;
        self.record_context().await
    }

    /// Records that a resource of this run is gone.
    pub async fn record_deleted(&mut self, id: &str) -> Result<(), LabError> {
        let now = self.now();
        if let Some(r) = self.ctx.resources.iter_mut().find(|r| r.id == id) {
            r.deleted = true;
            r.deleted_at.get_or_insert(now);
        }
        self.events
            .emit_durable(EventKind::ResourceDeleted {
                resource_id: id.to_string(),
            })
            .await?;
        self.record_context().await
    }

    /// Makes `id` the restored volume to go on with. One that replaces a
    /// restore of an earlier step (a lab restoring two snapshots) gets the
    /// next device, so both can stay attached; a retry in the same step
    /// keeps the device.
    pub fn set_restored(&mut self, id: &str) {
        let next = self.next_restore_device(self.ctx.restored_volume_id.as_deref(), id, &self.ctx.restored_device);
        self.ctx.restored_device = next;
        self.ctx.restored_volume_id = Some(id.to_string());
    }

    /// [`set_restored`](Self::set_restored) for the inventory half of a pair
    /// (its own devices: `/dev/sdq`, then `/dev/sdr`).
    pub fn set_restored_inventory(&mut self, id: &str) {
        let copies = &self.ctx.inventory;
        let next = self.next_restore_device(copies.restored_volume_id.as_deref(), id, &copies.restored_device);
        self.ctx.inventory.restored_device = next;
        self.ctx.inventory.restored_volume_id = Some(id.to_string());
    }

    /// The device for restore `id` replacing `old` at `device`: the next one
    /// when `old` came from an earlier step (both stay attached), the same
    /// for a retry within this step.
    fn next_restore_device(&self, old: Option<&str>, id: &str, device: &str) -> String {
        let step_began = self.ctx.step_started_at.unwrap_or(self.ctx.started_at);
        let earlier_step = old.is_some_and(|old| {
            old != id
                && self
                    .ctx
                    .resources
                    .iter()
                    .any(|r| r.id == old && r.created_at.is_some_and(|t| t < step_began))
        });
        match earlier_step {
            true => next_device(device),
            false => device.to_string(),
        }
    }

    /// Records the run's snapshot (found or made) and shows its progress. A
    /// snapshot an earlier step made becomes the previous one; one made
    /// earlier in this same step (a retry) is simply replaced.
    pub async fn record_snapshot(&mut self, s: &SnapshotInfo) -> Result<(), LabError> {
        let this_step = self.ctx.step_started_at;
        if let Some(old) = self.ctx.snapshot_id.clone().filter(|old| *old != s.id) {
            if self.ctx.snapshot_step_started_at != this_step {
                self.ctx.previous_snapshot_id = Some(old);
            }
        }
        if self.ctx.snapshot_id.as_deref() != Some(&s.id) {
            self.ctx.snapshot_step_started_at = this_step;
        }
        self.ctx.snapshot_id = Some(s.id.clone());
        self.ctx.snapshot_started_at = Some(s.start_time);
        self.emit_progress(s);
        self.record_created(ResourceKind::Snapshot, &s.id, ResourceRole::Backup)
            .await
    }
}

/// The device after `device` (`/dev/sdg` → `/dev/sdh`).
fn next_device(device: &str) -> String {
    match device.char_indices().last() {
        Some((i, c)) if c.is_ascii_lowercase() && c < 'z' => format!("{}{}", &device[..i], (c as u8 + 1) as char),
        _ => device.to_string(),
    }
}

/// A new run's context, before it knows the scenario.
fn new_context(lab: &LabDef, settings: RunSettings, target: &Target, plane: &DataPlane, clock: &Clock) -> RunContext {
    RunContext {
        run_id: settings.run_id,
        lab_id: lab.id.clone(),
        lab_title: lab.title.clone(),
        learner: settings.learner,
        mode: settings.mode,
        consistency: settings.consistency,
        pace: settings.pace,
        target: TargetInfo {
            kind: target.kind,
            endpoint: target.endpoint.clone(),
            region: target.region.clone(),
            data_plane: plane.describe(&target.kind),
            shadow_disk: plane.is_shadow(),
            profile: target.profile.clone(),
            access_key: target.access_key.clone(),
        },
        started_at: clock::now(clock),
        store_seed: settings.store_seed,
        scenario: None,
        snapshot_id: None,
        snapshot_started_at: None,
        previous_snapshot_id: None,
        snapshot_step_started_at: None,
        snapshot_consistency: None,
        verifications: Vec::new(),
        pauses: Vec::new(),
        comparison: None,
        reads: Vec::new(),
        alerts: Default::default(),
        first_read_cost_set: false,
        answers: Vec::new(),
        restored_volume_id: None,
        restored_device: "/dev/sdg".to_string(),
        inventory: Default::default(),
        step_started_at: None,
        shop_open: false,
        reattach: None,
        finished: Vec::new(),
        resources: Vec::new(),
    }
}
