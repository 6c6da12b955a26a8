//! The runner walks a lab's steps. Guided, it performs each step's action;
//! hands-on, it shows the commands and waits for the learner. Either way it
//! then finds what the step made ([`discover`]) and judges it ([`judge`]) —
//! hands-on again and again until the checks pass, the learner skips, or
//! quits. The shop pauses around an action as the action declares
//! ([`shop_pause`]), in both modes. Everything it does is an event.

use std::sync::Arc;

use snaplab_cloud::{DataPlane, Target, TargetKind, TargetPace};
use snaplab_workload::WriterLog;

use crate::actions::{close_shop, open_shop, perform, prepare, shop_pause, Hold, ShopPause};
use crate::bus::Emitter;
use crate::checks::{judge, CheckOutcome};
use crate::cleanup::clean_up;
use crate::clock::Clock;
use crate::context::{Consistency, Mode, RunContext};
use crate::def::{fill, Action, LabDef, StepDef};
use crate::discover::discover;
use crate::error::LabError;
use crate::events::{Awaiting, EventKind, Level, RunOutcome, StepOutcome};
use crate::input::{LearnerInput, LearnerReply};
use crate::lease::Lease;
use crate::order_log::OrderLog;
use crate::quiz::{Answer, Question, QuizReply};
use crate::scope::RunScope;
use crate::site::Site;

/// A new run's settings. Ids and seeds come from the caller's id source
/// ([`crate::Ids`]), so a test can fix them.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub run_id: String,
    pub learner: String,
    pub mode: Mode,
    pub consistency: Consistency,
    /// The target's pace (`Unpaced` for clouds that set their own).
    pub pace: TargetPace,
    /// Seeds the shop's orders.
    pub store_seed: u64,
}

/// A new run, or one picked up where it stopped.
pub enum Start {
    New(RunSettings),
    /// The recorded context and the shop's log of a run that stopped.
    Resume {
        context: Box<RunContext>,
        log: WriterLog,
    },
}

/// What a run is wired to.
pub struct Wiring {
    pub target: Target,
    pub plane: DataPlane,
    /// Where SecureCart runs; `None`: here, writing through the data plane ([`LocalSite`](crate::LocalSite)).
    pub site: Option<Arc<dyn Site>>,
    pub emitter: Emitter,
    /// Where the shop's order log is recorded.
    pub orders: Arc<dyn OrderLog>,
    /// The run's clock (events, the shop, shadow disks).
    pub clock: Clock,
}

pub struct Runner {
    lab: LabDef,
    scope: RunScope,
    input: Box<dyn LearnerInput>,
    resumed: bool,
    /// This run's hold on SecureCart's instance, where others could drive it too.
    lease: Option<Lease>,
}

impl Runner {
    pub fn new(lab: LabDef, start: Start, wiring: Wiring, input: Box<dyn LearnerInput>) -> Self {
        let resumed = matches!(start, Start::Resume { .. });
        let scope = RunScope::open(&lab, start, wiring);
        Self {
            lab,
            scope,
            input,
            resumed,
            lease: None,
        }
    }

    pub fn context(&self) -> &RunContext {
        &self.scope.ctx
    }

    /// Closes the run's shop if the runner is dropped mid-step (a stop from outside).
    pub fn shop_closer(&self) -> crate::shop::ShopCloser {
        self.scope.shop.closer()
    }

    /// Deletes what the run created, outside a run (`snaplab cleanup`, the
    /// app's Clean up). Returns how many resources were deleted.
    pub async fn clean_up_now(mut self) -> Result<usize, LabError> {
        self.scope.enter_step(Some("cleanup"));
        clean_up(&mut self.scope).await
    }

    /// Runs the lab to its end (or to the learner's quit). Errors only when
    /// the record cannot be written at the start or the end; any other
    /// trouble ends the run as failed, with the reason in a notice.
    pub async fn run(mut self) -> Result<RunOutcome, LabError> {
        let ctx = self.scope.ctx.clone();
        self.scope
            .emit_durable(EventKind::RunStarted {
                resumed: self.resumed,
                steps_total: self.lab.steps.len(),
                terminal: ctx.terminal_setup(),
                context: Box::new(ctx.clone()),
            })
            .await?;
        if ctx.target.shadow_disk {
            let message = format!("Shadow disk: {}.", ctx.target.data_plane);
            self.scope.emit_notice(Level::Info, message);
        }
        let outcome = match self.walk().await {
            Ok(o) => o,
            Err(LabError::Quit) => RunOutcome::Interrupted,
            // Nothing went wrong with the lab: the record could not keep up.
            // Interrupted, so it can be resumed once the record is fixed.
            Err(e @ LabError::Record(_)) => {
                self.scope.emit_notice(Level::Warning, format!("The run stopped: {e}"));
                RunOutcome::Interrupted
            }
            Err(e) => {
                self.scope.emit_notice(Level::Warning, format!("The run stopped: {e}"));
                RunOutcome::Failed
            }
        };
        if let Err(e) = close_shop(&mut self.scope).await {
            self.scope
                .emit_notice(Level::Warning, format!("SecureCart did not close cleanly: {e}"));
        }
        if let Some(lease) = self.lease.take() {
            Box::pin(lease.release()).await;
        }
        if outcome != RunOutcome::Interrupted {
            self.remove_the_apps_own().await?;
            if let Some(summary) = self.scope.site.summary(&self.scope.ctx) {
                self.scope
                    .emit_durable(EventKind::Notice {
                        level: Level::Info,
                        message: summary,
                    })
                    .await?;
            }
        }
        let passed = self
            .scope
            .ctx
            .finished
            .iter()
            .filter(|(_, o)| *o == StepOutcome::Passed)
            .count();
        self.scope
            .emit_durable(EventKind::RunFinished {
                outcome,
                steps_passed: passed,
                steps_total: self.lab.steps.len(),
            })
            .await?;
        Ok(outcome)
    }

    /// Deletes SecureCart's server and data volume when the run launched
    /// them (real AWS) and they are still there — with whatever else of the
    /// run is left: nothing keeps running, or costing, after a run.
    async fn remove_the_apps_own(&mut self) -> Result<(), LabError> {
        let scope = &mut self.scope;
        if !scope.ctx.resources_left().any(|r| r.role.is_the_apps_own()) {
            return Ok(());
        }
        let inventory = scope.ctx.scenario.as_ref().and_then(|s| s.inventory.as_ref());
        let only_inventory = scope
            .ctx
            .resources_left()
            .filter(|r| r.role.is_the_apps_own())
            .all(|r| inventory.is_some_and(|i| i.volume_id == r.id));
        scope.emit_notice(
            Level::Info,
            match only_inventory {
                true => "Removing SecureCart's inventory volume, made for this run, and anything else of the run still there.",
                false => "Removing SecureCart's server and data volume, launched for this run, and anything else of it still there.",
            },
        );
        scope.enter_step(Some("cleanup"));
        match clean_up(scope).await {
            Ok(_) => Ok(()),
            Err(e @ LabError::Record(_)) => Err(e),
            Err(e) => {
                let message = format!(
                    "The clean-up did not finish ({e}): run `snaplab cleanup --aws {}`, which finds the run's resources by their tags.",
                    scope.ctx.run_id
                );
                scope.emit_notice(Level::Warning, message);
                Ok(())
            }
        }
    }

    async fn walk(&mut self) -> Result<RunOutcome, LabError> {
        let scope = &mut self.scope;
        if scope.ctx.scenario.is_none() {
            let (site, tempo, run_id) = (scope.site.clone(), scope.tempo, scope.ctx.run_id.clone());
            let (scenario, created) = site.scenario(&scope.ec2, &run_id, &tempo).await?;
            scope.ctx.scenario = Some(scenario);
            for c in created {
                scope.record_created_at(c.kind, &c.id, c.role, c.at).await?;
            }
            scope.record_context().await?;
        }
        // On a shared world, before anything touches SecureCart: this run's alone.
        if scope.ctx.target.kind != TargetKind::Aws {
            let instance = scope.scenario()?.instance_id.clone();
            let settle = (scope.tempo.poll * 2).max(std::time::Duration::from_millis(50));
            let (run_id, learner) = (scope.ctx.run_id.clone(), scope.ctx.learner.clone());
            // Boxed: the run's future stays small (it lives on a thread's stack).
            let lease = Box::pin(Lease::take(
                &scope.ec2,
                &instance,
                &run_id,
                &learner,
                scope.clock(),
                settle,
            ))
            .await?;
            self.lease = Some(lease);
        }
        let scope = &mut self.scope;
        if self.resumed && scope.ctx.shop_open {
            open_shop(scope).await?;
        }
        // Where the volumes (and a resumed run's snapshot) stand now, for
        // whoever draws them.
        emit_volumes(scope).await;
        if let Some(id) = scope.ctx.snapshot_id.clone() {
            if let Ok(s) = scope.ec2.snapshot(&id).await {
                scope.emit_progress(&s);
            }
        }
        let steps = self.lab.steps.clone();
        let mut failed = false;
        for (index, step) in steps.iter().enumerate() {
            if self.scope.ctx.outcome_of(&step.id).is_some() {
                // A stop between a step and its questions: ask them now.
                self.ask_questions(Some(&step.id)).await?;
                continue;
            }
            if failed && step.action != Action::CleanUp {
                continue;
            }
            let outcome = self.run_step(index, step).await?;
            self.finish_step(step, outcome).await?;
            self.ask_questions(Some(&step.id)).await?;
            // Guided, later steps build on this one: stop, but still clean up.
            failed |= outcome == StepOutcome::Failed && self.scope.ctx.mode == Mode::Guided;
        }
        // The lab ends with its knowledge checks (whatever the steps' outcome).
        self.ask_questions(None).await?;
        self.pass_over_unreached().await?;
        let all_passed = self
            .lab
            .steps
            .iter()
            .all(|s| self.scope.ctx.outcome_of(&s.id) == Some(StepOutcome::Passed));
        Ok(if all_passed {
            RunOutcome::Passed
        } else {
            RunOutcome::Failed
        })
    }

    /// Asks the knowledge checks due after `step` (`None`: at the end) that
    /// are not answered yet. A reply that names no choice is asked again.
    async fn ask_questions(&mut self, after: Option<&str>) -> Result<(), LabError> {
        let total = self.lab.questions.len();
        let due: Vec<(usize, Question)> = self
            .lab
            .questions
            .iter()
            .enumerate()
            .filter(|(_, q)| q.after_step.as_deref() == after)
            .filter(|(_, q)| !self.scope.ctx.answers.iter().any(|a| a.question_id == q.id))
            .map(|(i, q)| (i, q.clone()))
            .collect();
        for (index, question) in due {
            let (answer, asked) = match self.input.answers(&question) {
                false => (None, false),
                true => {
                    self.scope
                        .emit_durable(EventKind::QuestionAsked {
                            question: Box::new(question.clone()),
                            index,
                            total,
                        })
                        .await?;
                    self.reply_to(&question).await?
                }
            };
            self.record_answer(question, answer, asked).await?;
        }
        Ok(())
    }

    /// Records a question's answer (`None`: skipped, or not asked).
    async fn record_answer(&mut self, question: Question, answer: Option<String>, asked: bool) -> Result<(), LabError> {
        let answer = Answer {
            question_id: question.id.clone(),
            prompt: question.prompt.clone(),
            right_answer: question.answer.clone(),
            correct: answer.as_deref().is_some_and(|c| question.is_right(c)),
            answer,
            asked,
            at: self.scope.now(),
        };
        // The answer's row first, then the context that says it was asked:
        // a stop between them asks again rather than lose the row.
        self.scope
            .emit_durable(EventKind::QuestionAnswered {
                question: Box::new(question),
                answer: Box::new(answer.clone()),
            })
            .await?;
        self.scope.ctx.answers.push(answer);
        self.scope.record_context().await
    }

    /// Records as not asked the questions of steps the run never reached
    /// (a guided run stops at a failed step), so every run lists them all.
    async fn pass_over_unreached(&mut self) -> Result<(), LabError> {
        let unreached: Vec<Question> = self
            .lab
            .questions
            .iter()
            .filter(|q| {
                q.after_step
                    .as_deref()
                    .is_some_and(|s| self.scope.ctx.outcome_of(s).is_none())
            })
            .filter(|q| !self.scope.ctx.answers.iter().any(|a| a.question_id == q.id))
            .cloned()
            .collect();
        for question in unreached {
            self.record_answer(question, None, false).await?;
        }
        Ok(())
    }

    /// The choice the learner names (`None` when they skip), asking again
    /// after a reply that names none.
    async fn reply_to(&mut self, question: &Question) -> Result<(Option<String>, bool), LabError> {
        loop {
            match self.input.answer(question).await {
                QuizReply::Reply(reply) => match question.parse_reply(&reply) {
                    Some(choice) => return Ok((Some(choice.to_string()), true)),
                    None => self.scope.emit_notice(
                        Level::Warning,
                        format!(
                            "'{reply}' is not one of the choices: answer with its number (1 to {}) or its text.",
                            question.choices.len()
                        ),
                    ),
                },
                QuizReply::NotAsked => return Ok((None, false)),
                QuizReply::Skip => return Ok((None, true)),
                QuizReply::Quit => return Err(LabError::Quit),
            }
        }
    }

    async fn finish_step(&mut self, step: &StepDef, outcome: StepOutcome) -> Result<(), LabError> {
        emit_volumes(&self.scope).await;
        let scope = &mut self.scope;
        scope.ctx.finished.push((step.id.clone(), outcome));
        scope.ctx.step_started_at = None;
        scope
            .emit_durable(EventKind::StepFinished {
                step_id: step.id.clone(),
                outcome,
            })
            .await?;
        scope.record_context().await?;
        scope.enter_step(None);
        scope.shop.ensure_recorded()
    }

    async fn run_step(&mut self, index: usize, step: &StepDef) -> Result<StepOutcome, LabError> {
        self.scope.enter_step(Some(&step.id));
        // A step interrupted by a kill keeps its start, so what the learner
        // (or the app) did before the kill is still found.
        let resuming_this_step = self.scope.ctx.step_started_at.is_some();
        if !resuming_this_step {
            self.scope.ctx.step_started_at = Some(self.scope.now());
        }
        let values = self.scope.ctx.placeholders();
        self.scope
            .emit_durable(EventKind::StepStarted {
                step_id: step.id.clone(),
                index,
                title: step.title.clone(),
                page: fill(&step.page_text, &values),
                commands: step.commands.iter().map(|c| fill(c, &values)).collect(),
            })
            .await?;
        self.scope.record_context().await?;

        if resuming_this_step {
            discover(&mut self.scope, step.action).await?;
            if self.all_checks_pass_quietly(step).await {
                let message = format!("{}: already done before the interruption.", step.title);
                self.scope.emit_notice(Level::Info, message);
                self.record_checks(step).await?;
                return Ok(StepOutcome::Passed);
            }
        }
        let hands_on = self.scope.ctx.mode == Mode::HandsOn && step.hands_on;
        if !hands_on && self.input.paces_guided_steps() && self.ask(step, Awaiting::Run).await? == LearnerReply::Skip {
            return Ok(StepOutcome::Skipped);
        }
        let pause = shop_pause(step.action, self.scope.ctx.consistency);
        prepare(&mut self.scope, step.action).await?;
        let paused_at = tokio::time::Instant::now();
        if let Some(p) = pause {
            match p.hold {
                Hold::Quiesce => self.scope.shop.quiesce().await?,
                Hold::MidOrder => self.scope.shop.hold_mid_order().await?,
            }
            let message = if hands_on {
                format!("{} {}", p.paused, p.cue)
            } else {
                p.paused.to_string()
            };
            self.scope.emit_notice(Level::Info, message);
        }
        if hands_on {
            let outcome = self.learner_does(step).await;
            // Whatever happened, the shop does not stay paused.
            self.resume_shop(step, pause, paused_at).await?;
            outcome
        } else {
            self.app_does(step, pause, paused_at).await
        }
    }

    /// Lets the shop write again and records how long it stood still.
    async fn resume_shop(
        &mut self,
        step: &StepDef,
        pause: Option<ShopPause>,
        paused_at: tokio::time::Instant,
    ) -> Result<(), LabError> {
        let Some(p) = pause else { return Ok(()) };
        self.scope.shop.resume().await;
        let paused = paused_at.elapsed();
        self.scope.emit_notice(Level::Info, p.resumed);
        self.scope.ctx.pauses.push(crate::context::ShopPauseRecord {
            step_id: step.id.clone(),
            around_snapshot: step.action.creates_snapshot(),
            mid_order: p.hold == Hold::MidOrder,
            paused_ms: paused.as_millis() as u64,
            orders_delayed: (paused.as_secs_f64() * self.scope.tempo.orders_per_sec).round() as u64,
        });
        self.scope.record_context().await
    }

    /// Guided: the app performs the step — writes resume as soon as it is
    /// done — then finds and judges what it made.
    async fn app_does(
        &mut self,
        step: &StepDef,
        pause: Option<ShopPause>,
        paused_at: tokio::time::Instant,
    ) -> Result<StepOutcome, LabError> {
        let performed = perform(&mut self.scope, step.action).await;
        self.resume_shop(step, pause, paused_at).await?;
        if let Err(e) = performed {
            if matches!(e, LabError::Quit | LabError::Record(_)) {
                return Err(e);
            }
            self.scope
                .emit_notice(Level::Warning, format!("{} failed: {e}", step.title));
            self.record_checks(step).await?;
            return Ok(StepOutcome::Failed);
        }
        discover(&mut self.scope, step.action).await?;
        Ok(if self.record_checks(step).await? {
            StepOutcome::Passed
        } else {
            StepOutcome::Failed
        })
    }

    /// Hands-on: the learner does the step; each "check" finds and judges it.
    async fn learner_does(&mut self, step: &StepDef) -> Result<StepOutcome, LabError> {
        loop {
            if self.ask(step, Awaiting::Check).await? == LearnerReply::Skip {
                return Ok(StepOutcome::Skipped);
            }
            discover(&mut self.scope, step.action).await?;
            if self.record_checks(step).await? {
                return Ok(StepOutcome::Passed);
            }
        }
    }

    /// Tells the learner what the step is (page and commands, ids filled in)
    /// and waits for the reply `awaiting` asks for (or Skip); Quit stops the run.
    async fn ask(&mut self, step: &StepDef, awaiting: Awaiting) -> Result<LearnerReply, LabError> {
        let values = self.scope.ctx.placeholders();
        self.scope
            .emit_durable(EventKind::AwaitingLearner {
                step_id: step.id.clone(),
                awaiting,
                commands: step.commands.iter().map(|c| fill(c, &values)).collect(),
                page: fill(&step.page_text, &values),
            })
            .await?;
        loop {
            let reply = self.input.next(&step.id, awaiting).await;
            match (reply, awaiting) {
                (LearnerReply::Quit, _) => return Err(LabError::Quit),
                (LearnerReply::Skip, _)
                | (LearnerReply::Run, Awaiting::Run)
                | (LearnerReply::Check, Awaiting::Check) => return Ok(reply),
                // A reply meant for the other kind of wait: keep waiting.
                (LearnerReply::Run, Awaiting::Check) | (LearnerReply::Check, Awaiting::Run) => {}
            }
        }
    }

    async fn judge_all(&self, step: &StepDef) -> Vec<CheckOutcome> {
        let mut outcomes = Vec::with_capacity(step.checks.len());
        for check in &step.checks {
            outcomes.push(judge(&self.scope, *check).await);
        }
        outcomes
    }

    /// Judges a step's checks, recording each result; true when all passed.
    async fn record_checks(&mut self, step: &StepDef) -> Result<bool, LabError> {
        let outcomes = self.judge_all(step).await;
        let mut all = true;
        for (check, outcome) in step.checks.iter().zip(outcomes) {
            all &= outcome.passed;
            self.scope
                .emit_durable(EventKind::CheckResult {
                    step_id: step.id.clone(),
                    check_id: *check,
                    passed: outcome.passed,
                    message: outcome.message,
                })
                .await?;
        }
        self.scope.record_context().await?;
        Ok(all)
    }

    async fn all_checks_pass_quietly(&self, step: &StepDef) -> bool {
        self.judge_all(step).await.iter().all(|o| o.passed)
    }
}

/// Describes the run's volumes (data volume, restored volume; and an
/// inventory volume with its restore) for the app's diagram. A volume
/// deleted by clean-up simply drops out.
async fn emit_volumes(scope: &RunScope) {
    let Some(scenario) = &scope.ctx.scenario else { return };
    let deleted = |id: &String| scope.ctx.resources.iter().any(|r| &r.id == id && r.deleted);
    let mut ids = vec![scenario.data_volume_id.clone()];
    ids.extend(scenario.inventory.as_ref().map(|i| i.volume_id.clone()));
    ids.extend(scope.ctx.restored_volume_id.clone());
    ids.extend(scope.ctx.inventory.restored_volume_id.clone());
    ids.retain(|id| !deleted(id));
    if let Ok(volumes) = scope.ec2.volumes(&ids).await {
        scope.emit(EventKind::Volumes { volumes });
    }
}
