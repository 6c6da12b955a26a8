//! The runner: walks a lab's steps. Guided, it performs each step's action
//! and then its checks; hands-on, it shows the commands, waits for the
//! learner, and checks the cloud (again and again until the check passes,
//! the learner skips, or quits). Everything it does is an event.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::Utc;
use snaplab_cloud::{ApiCall, ApiObserver, DataPlane, Target};
use snaplab_workload::WriterLog;
use tokio::task::JoinHandle;

use crate::bus::Emitter;
use crate::context::{Consistency, Mode, Reattach, RunContext, RunResource, TargetInfo};
use crate::def::{fill, Action, LabDef, StepDef};
use crate::error::LabError;
use crate::events::{Awaiting, LabEvent, Level, RunOutcome, StepOutcome};
use crate::input::{LearnerInput, LearnerReply};
use crate::shop::Shop;
use crate::tempo::Tempo;
use crate::verification::Verification;

/// The step being run, shared with the API observer so calls are attributed.
pub type CurrentStep = Arc<Mutex<Option<String>>>;

/// An observer that turns each API call into an `api_call` event.
pub fn api_observer(emitter: Emitter, run_id: String, current: CurrentStep) -> ApiObserver {
    Arc::new(move |call: ApiCall| {
        let step_id = current.lock().unwrap_or_else(|p| p.into_inner()).clone();
        emitter.emit(LabEvent::ApiCall {
            run_id: run_id.clone(),
            step_id,
            call,
            at: Utc::now(),
        });
    })
}

/// A new run's settings.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub run_id: String,
    pub learner: String,
    pub mode: Mode,
    pub consistency: Consistency,
    /// The target's pace: `instant`, `demo`, `realistic`, or `none` for peers.
    pub pace: String,
}

/// A fresh run id: sortable by time, unique enough for one learner's machine.
pub fn new_run_id() -> String {
    format!("run-{}-{:04x}", Utc::now().format("%Y%m%d-%H%M%S"), fastrand::u16(..))
}

pub struct Runner {
    pub(crate) lab: LabDef,
    pub(crate) ctx: RunContext,
    pub(crate) target: Target,
    pub(crate) plane: Arc<DataPlane>,
    pub(crate) shop: Arc<Mutex<Shop>>,
    pub(crate) emitter: Emitter,
    pub(crate) current: CurrentStep,
    pub(crate) tempo: Tempo,
    pub(crate) verification: Option<Verification>,
    input: Box<dyn LearnerInput>,
    sampler: Option<(JoinHandle<()>, Arc<AtomicBool>)>,
    resumed: bool,
}

impl Runner {
    pub fn new(
        lab: LabDef,
        settings: RunSettings,
        target: Target,
        plane: DataPlane,
        emitter: Emitter,
        current: CurrentStep,
        input: Box<dyn LearnerInput>,
    ) -> Self {
        let ctx = RunContext {
            run_id: settings.run_id,
            lab_id: lab.id.clone(),
            lab_title: lab.title.clone(),
            learner: settings.learner,
            mode: settings.mode,
            consistency: settings.consistency,
            pace: settings.pace.clone(),
            target: TargetInfo {
                kind: target.kind.clone(),
                endpoint: target.endpoint.clone(),
                region: target.region.clone(),
                data_plane: plane.describe(&target.kind),
                shadow_disk: plane.is_shadow(),
            },
            started_at: Utc::now(),
            store_seed: fastrand::u64(..),
            scenario: None,
            snapshot_id: None,
            snapshot_started_at: None,
            restored_volume_id: None,
            restored_device: "/dev/sdg".to_string(),
            step_started_at: None,
            shop_open: false,
            orders_after_snapshot: None,
            reattach: None,
            finished: Vec::new(),
            resources: Vec::new(),
        };
        Self::build(
            lab,
            ctx,
            target,
            plane,
            emitter,
            current,
            input,
            WriterLog::default(),
            false,
        )
    }

    /// Picks up a run that stopped: its recorded context and the shop's log.
    #[allow(clippy::too_many_arguments)]
    pub fn resume(
        lab: LabDef,
        ctx: RunContext,
        log: WriterLog,
        target: Target,
        plane: DataPlane,
        emitter: Emitter,
        current: CurrentStep,
        input: Box<dyn LearnerInput>,
    ) -> Self {
        Self::build(lab, ctx, target, plane, emitter, current, input, log, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        lab: LabDef,
        ctx: RunContext,
        target: Target,
        plane: DataPlane,
        emitter: Emitter,
        current: CurrentStep,
        input: Box<dyn LearnerInput>,
        log: WriterLog,
        resumed: bool,
    ) -> Self {
        Self {
            tempo: Tempo::for_pace(&ctx.pace),
            lab,
            ctx,
            target,
            plane: Arc::new(plane),
            shop: Arc::new(Mutex::new(Shop::closed(log))),
            emitter,
            current,
            verification: None,
            input,
            sampler: None,
            resumed,
        }
    }

    pub fn context(&self) -> &RunContext {
        &self.ctx
    }

    /// Deletes what the run created, outside a run (`snaplab cleanup`).
    /// Returns how many resources were deleted.
    pub async fn clean_up_now(mut self) -> Result<usize, LabError> {
        let before = self.ctx.resources.iter().filter(|r| !r.deleted).count();
        self.clean_up().await?;
        let after = self.ctx.resources.iter().filter(|r| !r.deleted).count();
        Ok(before - after)
    }

    pub(crate) fn shop(&self) -> MutexGuard<'_, Shop> {
        self.shop.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn notice(&self, level: Level, message: impl Into<String>) {
        self.emitter.emit(LabEvent::Notice {
            run_id: self.ctx.run_id.clone(),
            level,
            message: message.into(),
            at: Utc::now(),
        });
    }

    /// Records the context; a resumed run starts from the last one recorded.
    pub(crate) async fn save_context(&self) {
        self.emitter
            .emit_durable(LabEvent::ContextChanged {
                run_id: self.ctx.run_id.clone(),
                context: Box::new(self.ctx.clone()),
                at: Utc::now(),
            })
            .await;
    }

    /// Remembers a resource this run made (durably, before going on).
    pub(crate) async fn created(&mut self, kind: &str, id: &str, role: &str) {
        if self.ctx.resources.iter().any(|r| r.id == id) {
            return;
        }
        self.ctx.resources.push(RunResource {
            kind: kind.to_string(),
            id: id.to_string(),
            role: role.to_string(),
            deleted: false,
        });
        self.emitter
            .emit_durable(LabEvent::ResourceCreated {
                run_id: self.ctx.run_id.clone(),
                kind: kind.to_string(),
                resource_id: id.to_string(),
                role: role.to_string(),
                at: Utc::now(),
            })
            .await;
        self.save_context().await;
    }

    /// Runs the lab to its end (or to the learner's quit).
    pub async fn run(mut self) -> Result<RunOutcome, LabError> {
        self.emitter
            .emit_durable(LabEvent::RunStarted {
                run_id: self.ctx.run_id.clone(),
                resumed: self.resumed,
                context: Box::new(self.ctx.clone()),
                terminal: self.ctx.terminal_setup(),
                at: Utc::now(),
            })
            .await;
        if self.ctx.target.shadow_disk {
            self.notice(Level::Info, format!("Shadow disk: {}.", self.ctx.target.data_plane));
        }
        let outcome = match self.walk().await {
            Ok(o) => o,
            Err(LabError::Quit) => RunOutcome::Interrupted,
            Err(e) => {
                self.notice(Level::Warning, format!("The run stopped: {e}"));
                RunOutcome::Failed
            }
        };
        if let Err(e) = self.close_shop().await {
            self.notice(Level::Warning, format!("SecureCart did not close cleanly: {e}"));
        }
        let passed = self
            .ctx
            .finished
            .iter()
            .filter(|(_, o)| *o == StepOutcome::Passed)
            .count();
        self.emitter
            .emit_durable(LabEvent::RunFinished {
                run_id: self.ctx.run_id.clone(),
                outcome,
                steps_passed: passed,
                steps_total: self.lab.steps.len(),
                at: Utc::now(),
            })
            .await;
        Ok(outcome)
    }

    async fn walk(&mut self) -> Result<RunOutcome, LabError> {
        if self.ctx.scenario.is_none() {
            let poll = self.tempo.poll;
            let scenario =
                snaplab_cloud::scenario::find_or_create(&self.target.ec2, &self.target.kind, &self.target.region, poll)
                    .await?;
            self.ctx.scenario = Some(scenario);
            self.save_context().await;
        }
        if self.resumed && self.ctx.shop_open {
            self.open_shop().await?;
        }
        // Where the volumes (and a resumed run's snapshot) stand now, for
        // whoever draws them.
        self.emit_volumes().await;
        if let Some(id) = self.ctx.snapshot_id.clone() {
            if let Ok(s) = self.target.ec2.snapshot(&id).await {
                self.progress(&s);
            }
        }
        let steps = self.lab.steps.clone();
        let mut failed = false;
        for (index, step) in steps.iter().enumerate() {
            if self.ctx.outcome_of(&step.id).is_some() {
                continue;
            }
            if failed && step.action != Action::CleanUp {
                continue;
            }
            let outcome = self.run_step(index, step).await?;
            self.finish_step(step, outcome).await;
            // Guided, later steps build on this one: stop, but still clean up.
            failed |= outcome == StepOutcome::Failed && self.ctx.mode == Mode::Guided;
        }
        let all_passed = self
            .lab
            .steps
            .iter()
            .all(|s| self.ctx.outcome_of(&s.id) == Some(StepOutcome::Passed));
        Ok(if all_passed {
            RunOutcome::Passed
        } else {
            RunOutcome::Failed
        })
    }

    async fn finish_step(&mut self, step: &StepDef, outcome: StepOutcome) {
        self.emit_volumes().await;
        self.ctx.finished.push((step.id.clone(), outcome));
        self.ctx.step_started_at = None;
        self.emitter
            .emit_durable(LabEvent::StepFinished {
                run_id: self.ctx.run_id.clone(),
                step_id: step.id.clone(),
                outcome,
                at: Utc::now(),
            })
            .await;
        self.save_context().await;
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    async fn run_step(&mut self, index: usize, step: &StepDef) -> Result<StepOutcome, LabError> {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(step.id.clone());
        // A step interrupted by a kill keeps its start, so what the learner
        // (or the app) did before the kill is still found.
        let resuming_this_step = self.ctx.step_started_at.is_some();
        if !resuming_this_step {
            self.ctx.step_started_at = Some(Utc::now());
        }
        let values = self.ctx.placeholders();
        self.emitter
            .emit_durable(LabEvent::StepStarted {
                run_id: self.ctx.run_id.clone(),
                step_id: step.id.clone(),
                index,
                title: step.title.clone(),
                page: fill(&step.page_text, &values),
                commands: step.commands.iter().map(|c| fill(c, &values)).collect(),
                at: Utc::now(),
            })
            .await;
        self.save_context().await;

        if resuming_this_step && self.checks_pass_quietly(step).await {
            self.notice(
                Level::Info,
                format!("{}: already done before the interruption.", step.title),
            );
            self.report_checks(step).await;
            return Ok(StepOutcome::Passed);
        }
        let hands_on = self.ctx.mode == Mode::HandsOn && step.hands_on;
        if !hands_on {
            if self.input.paces_guided_steps() {
                self.await_learner(step, Awaiting::Run).await;
                match self.input.next(&step.id).await {
                    LearnerReply::Check => {}
                    LearnerReply::Skip => return Ok(StepOutcome::Skipped),
                    LearnerReply::Quit => return Err(LabError::Quit),
                }
            }
            if let Err(e) = self.perform(step.action).await {
                if matches!(e, LabError::Quit) {
                    return Err(e);
                }
                self.notice(Level::Warning, format!("{} failed: {e}", step.title));
                self.report_checks(step).await;
                return Ok(StepOutcome::Failed);
            }
            return Ok(if self.report_checks(step).await {
                StepOutcome::Passed
            } else {
                StepOutcome::Failed
            });
        }

        self.before_hands_on(step.action).await?;
        loop {
            self.await_learner(step, Awaiting::Check).await;
            match self.input.next(&step.id).await {
                LearnerReply::Check => {
                    if self.report_checks(step).await {
                        self.after_hands_on(step.action).await?;
                        return Ok(StepOutcome::Passed);
                    }
                }
                LearnerReply::Skip => {
                    self.after_hands_on(step.action).await?;
                    return Ok(StepOutcome::Skipped);
                }
                LearnerReply::Quit => return Err(LabError::Quit),
            }
        }
    }

    /// Describes the run's volumes (data volume, restored volume) for the
    /// app's diagram. A volume deleted by clean-up simply drops out.
    async fn emit_volumes(&self) {
        let Some(scenario) = &self.ctx.scenario else { return };
        let mut ids = vec![scenario.data_volume_id.clone()];
        let restored = self
            .ctx
            .restored_volume_id
            .clone()
            .filter(|id| !self.ctx.resources.iter().any(|r| &r.id == id && r.deleted));
        ids.extend(restored);
        if let Ok(volumes) = self.target.ec2.volumes(&ids).await {
            self.emitter.emit(LabEvent::Volumes {
                run_id: self.ctx.run_id.clone(),
                volumes,
                at: Utc::now(),
            });
        }
    }

    /// Tells the learner what the step is (page and commands, ids filled in)
    /// and that the runner now waits for them.
    async fn await_learner(&self, step: &StepDef, awaiting: Awaiting) {
        let values = self.ctx.placeholders();
        self.emitter
            .emit_durable(LabEvent::AwaitingLearner {
                run_id: self.ctx.run_id.clone(),
                step_id: step.id.clone(),
                awaiting,
                commands: step.commands.iter().map(|c| fill(c, &values)).collect(),
                page: fill(&step.page_text, &values),
                at: Utc::now(),
            })
            .await;
    }

    /// Runs a step's checks, emitting each result; true when all passed.
    async fn report_checks(&mut self, step: &StepDef) -> bool {
        let mut all = true;
        for check in &step.checks {
            let outcome = self.check(*check).await;
            all &= outcome.passed;
            self.emitter
                .emit_durable(LabEvent::CheckResult {
                    run_id: self.ctx.run_id.clone(),
                    step_id: step.id.clone(),
                    check_id: check.name(),
                    passed: outcome.passed,
                    message: outcome.message,
                    at: Utc::now(),
                })
                .await;
        }
        self.save_context().await;
        all
    }

    async fn checks_pass_quietly(&mut self, step: &StepDef) -> bool {
        for check in &step.checks {
            if !self.check(*check).await.passed {
                return false;
            }
        }
        true
    }

    /// Hands-on: what the shop does around the learner's commands.
    async fn before_hands_on(&mut self, action: Action) -> Result<(), LabError> {
        let pause = match action {
            Action::DetachReattach => {
                self.ctx.reattach = Some(Reattach {
                    snapshot_state_at_detach: self.snapshot_state_now().await,
                    detached: true,
                });
                Some("SecureCart has stopped writing and unmounted the data volume: detach it now.")
            }
            Action::CreateSnapshot if self.ctx.consistency == Consistency::App => {
                Some("SecureCart has paused writes (order in flight finished, flushed): create the snapshot now; writes resume once it is pending.")
            }
            _ => None,
        };
        if let Some(message) = pause {
            self.quiesce_shop().await?;
            self.notice(Level::Info, message);
        }
        Ok(())
    }

    async fn after_hands_on(&mut self, action: Action) -> Result<(), LabError> {
        let resumes = matches!(action, Action::DetachReattach)
            || (action == Action::CreateSnapshot && self.ctx.consistency == Consistency::App);
        if resumes {
            self.shop().resume();
            self.notice(Level::Info, "SecureCart is writing again.");
        }
        Ok(())
    }

    /// Opens the shop on the data volume and starts sampling it.
    pub(crate) async fn open_shop(&mut self) -> Result<(), LabError> {
        let scenario = self
            .ctx
            .scenario
            .clone()
            .ok_or_else(|| LabError::Run("no SecureCart scenario".into()))?;
        let disk = self
            .plane
            .live_disk(&scenario.data_volume_id, scenario.data_volume_bytes)
            .map_err(|e| LabError::Run(e.to_string()))?;
        let shop = self.shop.clone();
        let (seed, rate) = (self.ctx.store_seed, self.tempo.orders_per_sec);
        let recovery = tokio::task::spawn_blocking(move || {
            shop.lock()
                .unwrap_or_else(|p| p.into_inner())
                .open(disk, seed, Some(rate))
        })
        .await
        .map_err(|e| LabError::Run(e.to_string()))??;
        if !recovery.replayed.is_empty() {
            self.notice(
                Level::Info,
                format!(
                    "SecureCart replayed its journal on opening the store: orders {:?} were completed.",
                    recovery.replayed
                ),
            );
        }
        self.ctx.shop_open = true;
        self.save_context().await;
        self.start_sampler();
        Ok(())
    }

    fn start_sampler(&mut self) {
        let stop = Arc::new(AtomicBool::new(false));
        let (shop, emitter, run_id, every) = (
            self.shop.clone(),
            self.emitter.clone(),
            self.ctx.run_id.clone(),
            self.tempo.sample,
        );
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            while !flag.load(Ordering::Relaxed) {
                tokio::time::sleep(every).await;
                // Skip a tick rather than wait while a quiesce holds the shop.
                let sample = match shop.try_lock() {
                    Ok(mut s) => s.sample(),
                    Err(_) => None,
                };
                if let Some(s) = sample {
                    emit_sample(&emitter, &run_id, &s);
                }
            }
        });
        self.sampler = Some((task, stop));
    }

    pub(crate) async fn quiesce_shop(&self) -> Result<(), LabError> {
        let shop = self.shop.clone();
        tokio::task::spawn_blocking(move || shop.lock().unwrap_or_else(|p| p.into_inner()).quiesce().map(|_| ()))
            .await
            .map_err(|e| LabError::Run(e.to_string()))?
    }

    /// Stops the shop, recording the last orders it acknowledged.
    pub(crate) async fn close_shop(&mut self) -> Result<(), LabError> {
        if let Some((task, stop)) = self.sampler.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = task.await;
        }
        if !self.shop().is_open() {
            return Ok(());
        }
        let shop = self.shop.clone();
        let fresh = tokio::task::spawn_blocking(move || shop.lock().unwrap_or_else(|p| p.into_inner()).close())
            .await
            .map_err(|e| LabError::Run(e.to_string()))??;
        if !fresh.is_empty() {
            self.emitter
                .emit_durable(LabEvent::OrdersAcknowledged {
                    run_id: self.ctx.run_id.clone(),
                    entries: fresh,
                })
                .await;
        }
        self.ctx.shop_open = false;
        self.save_context().await;
        Ok(())
    }
}

/// A runner dropped mid-step (the run was stopped from outside) stops its
/// sampler, so nothing keeps the event stream or the shop alive; the shop's
/// writer then stops after the order in flight.
impl Drop for Runner {
    fn drop(&mut self) {
        if let Some((task, stop)) = self.sampler.take() {
            stop.store(true, Ordering::Relaxed);
            task.abort();
        }
    }
}

fn emit_sample(emitter: &Emitter, run_id: &str, s: &crate::shop::Sample) {
    if !s.fresh.is_empty() {
        emitter.emit(LabEvent::OrdersAcknowledged {
            run_id: run_id.to_string(),
            entries: s.fresh.clone(),
        });
    }
    emitter.emit(LabEvent::WorkloadSample {
        run_id: run_id.to_string(),
        orders_per_s: s.orders_per_s,
        acknowledged: s.stats.acknowledged,
        last_seq: s.stats.last_seq,
        paused: s.stats.paused,
        at: Utc::now(),
    });
}
