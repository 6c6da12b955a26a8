//! The CLI's sink of the run's events: readable lines with live progress on a
//! terminal, or one JSON object per line with `--json`.

use std::io::{IsTerminal, Write};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use snaplab_cloud::{SnapshotState, TargetKind};
use snaplab_lab::{EventKind, EventSink, LabEvent, Level, Mode, RunOutcome, SinkError};

pub struct Renderer {
    json: bool,
    live: Option<Live>,
    last_progress: Option<(SnapshotState, u8)>,
    last_call: Option<String>,
    steps_total: usize,
    /// The run is on AWS: a stop deletes what it made, so it cannot be resumed.
    on_aws: bool,
    /// Knowledge checks answered right, and asked, so far.
    quiz: (u32, u32),
}

/// Progress bars on a terminal.
struct Live {
    bars: MultiProgress,
    snapshot: Option<ProgressBar>,
    orders: Option<ProgressBar>,
}

impl Renderer {
    pub fn new(json: bool, steps_total: usize) -> Self {
        let live = (!json && std::io::stdout().is_terminal()).then(|| Live {
            bars: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            snapshot: None,
            orders: None,
        });
        Self {
            json,
            live,
            last_progress: None,
            last_call: None,
            steps_total,
            on_aws: false,
            quiz: (0, 0),
        }
    }

    fn line(&self, text: impl AsRef<str>) {
        match &self.live {
            Some(live) => {
                let _ = live.bars.println(text.as_ref());
            }
            None => println!("{}", text.as_ref()),
        }
    }

    fn snapshot_bar(&mut self, id: &str, state: SnapshotState, percent: u8) {
        let Some(live) = &mut self.live else {
            // Not a terminal: a line when the state or a quarter changes.
            let quarter = percent / 25;
            let key = (state, quarter);
            if self.last_progress.as_ref() != Some(&key) {
                self.last_progress = Some(key);
                println!("    snapshot {id}: {state} {percent}%");
            }
            return;
        };
        let bar = live.snapshot.get_or_insert_with(|| {
            let bar = live.bars.add(ProgressBar::new(100));
            bar.set_style(
                ProgressStyle::with_template("    snapshot {prefix} [{bar:30}] {pos:>3}% {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        bar.set_prefix(id.to_string());
        bar.set_position(u64::from(percent));
        bar.set_message(state.to_string());
        if state == SnapshotState::Completed {
            bar.finish();
            live.snapshot = None;
        }
    }

    fn orders_line(&mut self, orders_per_s: f64, acknowledged: u64, paused: bool) {
        let Some(live) = &mut self.live else { return };
        let bar = live.orders.get_or_insert_with(|| {
            let bar = live.bars.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("    {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        let state = if paused { " (paused)" } else { "" };
        bar.set_message(format!(
            "SecureCart: {orders_per_s:>6.0} orders/s, {acknowledged} acknowledged{state}"
        ));
    }

    fn stop_orders_line(&mut self) {
        if let Some(live) = &mut self.live {
            if let Some(bar) = live.orders.take() {
                bar.finish_and_clear();
            }
        }
    }

    fn human(&mut self, event: &LabEvent) {
        let run_id = &event.run_id;
        match &event.kind {
            EventKind::RunStarted { resumed, context, .. } => {
                let verb = if *resumed { "Resuming" } else { "Starting" };
                self.on_aws = context.target.kind == TargetKind::Aws;
                self.line(format!("{verb} {} — run {run_id}", context.lab_title));
                self.line(format!(
                    "  learner {} · mode {} · consistency {} · pace {} · target {} {}",
                    context.learner,
                    context.mode.as_str(),
                    context.consistency.as_str(),
                    context.pace,
                    context.target.kind.label(),
                    context.target.endpoint
                ));
                if context.mode == Mode::HandsOn {
                    self.line("  In another terminal, point the aws CLI at this run's cloud:");
                    self.line(format!("    {}", context.terminal_setup()));
                }
            }
            EventKind::Notice { level, message, .. } => {
                let mark = if *level == Level::Warning { "!" } else { "i" };
                self.line(format!("  [{mark}] {message}"));
            }
            EventKind::StepStarted { index, title, .. } => {
                self.last_call = None;
                self.line(format!("\n[{}/{}] {title}", index + 1, self.steps_total));
            }
            EventKind::AwaitingLearner { commands, page, .. } => {
                for l in page.lines() {
                    self.line(format!("  {l}"));
                }
                self.line("  Run:");
                for c in commands {
                    self.line(format!("    {c}"));
                }
                self.line("  Then press Enter to check (s = skip this step, q = stop; resume later with --resume).");
            }
            EventKind::ApiCall { call, .. } => {
                // Polls repeat one call many times: show a run of them once.
                if call.error.is_none() && self.last_call.as_deref() == Some(call.operation.as_str()) {
                    return;
                }
                self.last_call = Some(call.operation.clone());
                let error = call.error.as_deref().map(|e| format!(" — {e}")).unwrap_or_default();
                self.line(format!("    · {} {} ms{error}", call.operation, call.duration_ms));
            }
            EventKind::SnapshotProgress {
                snapshot_id,
                state,
                percent,
            } => self.snapshot_bar(snapshot_id, *state, *percent),
            EventKind::WorkloadSample {
                orders_per_s,
                acknowledged,
                paused,
                ..
            } => self.orders_line(*orders_per_s, *acknowledged, *paused),
            EventKind::CheckResult {
                check_id,
                passed,
                message,
                ..
            } => {
                let mark = if *passed { "PASS" } else { "FAIL" };
                self.line(format!("  {mark} {check_id}: {message}"));
            }
            EventKind::StepFinished { outcome, .. } => self.line(format!("  -> {}", outcome.as_str())),
            EventKind::Verification { verification, .. } => {
                self.stop_orders_line();
                for l in &verification.explanation {
                    self.line(format!("  {l}"));
                }
            }
            EventKind::QuestionAsked { question, index, total } => {
                self.stop_orders_line();
                self.line(format!(
                    "\nKnowledge check {} of {total}: {}",
                    index + 1,
                    question.prompt
                ));
                for (i, c) in question.choices.iter().enumerate() {
                    self.line(format!("  {}) {c}", i + 1));
                }
                self.line("  Answer with its number (s = skip, q = stop):");
            }
            EventKind::QuestionAnswered { question, answer } => {
                if !answer.asked {
                    return;
                }
                self.quiz.1 += 1;
                match (&answer.answer, answer.correct) {
                    (_, true) => {
                        self.quiz.0 += 1;
                        self.line("  ✔ Right.");
                    }
                    (Some(given), false) => {
                        self.line(format!("  ✘ Not \"{given}\": the answer is \"{}\".", question.answer))
                    }
                    (None, false) => self.line(format!("  Skipped: the answer is \"{}\".", question.answer)),
                }
                self.line(format!("  {}", question.explanation));
                self.line(format!("  Source: {}", question.source));
            }
            EventKind::RunFinished {
                outcome,
                steps_passed,
                steps_total,
                ..
            } => {
                self.stop_orders_line();
                if self.quiz.1 > 0 {
                    self.line(format!("\nKnowledge checks: {} of {} right.", self.quiz.0, self.quiz.1));
                }
                let word = match outcome {
                    RunOutcome::Passed => "PASSED",
                    RunOutcome::Failed => "FAILED",
                    RunOutcome::Interrupted => "INTERRUPTED",
                };
                self.line(format!(
                    "\n{word}: {steps_passed} of {steps_total} steps passed. Report: snaplab report {run_id}"
                ));
                if *outcome == RunOutcome::Interrupted && !self.on_aws {
                    self.line(format!("Resume with: snaplab run --resume {run_id}"));
                }
            }
            EventKind::ResourceCreated { .. }
            | EventKind::ResourceDeleted { .. }
            | EventKind::ContextChanged { .. }
            | EventKind::Volumes { .. } => {}
        }
    }
}

#[async_trait::async_trait]
impl EventSink for Renderer {
    async fn handle(&mut self, event: &LabEvent) -> Result<(), SinkError> {
        if self.json {
            if let Ok(line) = serde_json::to_string(event) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
        } else {
            self.human(event);
        }
        // A terminal that went away is no reason to stop the run: the record has it all.
        Ok(())
    }
}
