//! How the runner hears from the learner: hands-on, that they did a step
//! and want it checked; guided step by step, that the app may run it.

use crate::events::Awaiting;

/// What the learner says when the runner waits for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerReply {
    /// Guided step by step: "run this step now".
    Run,
    /// Hands-on: "I did it: check the cloud".
    Check,
    Skip,
    Quit,
}

#[async_trait::async_trait]
pub trait LearnerInput: Send + Sync {
    /// Waits for the learner's word on a step. `awaiting` says what the
    /// runner waits for: [`LearnerReply::Check`] hands-on,
    /// [`LearnerReply::Run`] guided step by step (a reply of the other kind
    /// is ignored and the runner waits again).
    async fn next(&mut self, step_id: &str, awaiting: Awaiting) -> LearnerReply;

    /// Whether a guided run waits for the learner before each step (the
    /// desktop app's "Run step" button) instead of running straight through.
    fn paces_guided_steps(&self) -> bool {
        false
    }
}

/// For guided runs straight through: nobody to ask; says "go on" to whatever is awaited.
pub struct NoLearner;

#[async_trait::async_trait]
impl LearnerInput for NoLearner {
    async fn next(&mut self, _step_id: &str, awaiting: Awaiting) -> LearnerReply {
        match awaiting {
            Awaiting::Check => LearnerReply::Check,
            Awaiting::Run => LearnerReply::Run,
        }
    }
}
