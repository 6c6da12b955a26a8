//! The learner's buttons ("Run step", "Check", "Skip", "Quit") as the
//! runner's input.

use snaplab_lab::{LearnerInput, LearnerReply};
use tokio::sync::mpsc;

pub struct ButtonLearner {
    replies: mpsc::UnboundedReceiver<LearnerReply>,
    step_by_step: bool,
}

impl ButtonLearner {
    /// The learner and the sender its buttons press. `step_by_step`: a guided
    /// run waits for "Run step" before each step.
    pub fn new(step_by_step: bool) -> (Self, mpsc::UnboundedSender<LearnerReply>) {
        let (tx, replies) = mpsc::unbounded_channel();
        (Self { replies, step_by_step }, tx)
    }
}

#[async_trait::async_trait]
impl LearnerInput for ButtonLearner {
    async fn next(&mut self, _step_id: &str) -> LearnerReply {
        // The window closing drops the sender: treat it as quitting (the run
        // is then interrupted, and resumable).
        self.replies.recv().await.unwrap_or(LearnerReply::Quit)
    }

    fn paces_guided_steps(&self) -> bool {
        self.step_by_step
    }
}
