//! How a hands-on runner hears from the learner.

/// What the learner says after reading a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerReply {
    /// "I did it: check the cloud."
    Check,
    Skip,
    Quit,
}

#[async_trait::async_trait]
pub trait LearnerInput: Send + Sync {
    /// Waits for the learner's word on a step. Hands-on: `Check` after doing
    /// it. Guided with [`paces_guided_steps`](Self::paces_guided_steps): `Check`
    /// means "run it now".
    async fn next(&mut self, step_id: &str) -> LearnerReply;

    /// Whether a guided run waits for the learner before each step (the
    /// desktop app's "Run step" button) instead of running straight through.
    fn paces_guided_steps(&self) -> bool {
        false
    }
}

/// For guided runs: nobody to ask, always check.
pub struct NoLearner;

#[async_trait::async_trait]
impl LearnerInput for NoLearner {
    async fn next(&mut self, _step_id: &str) -> LearnerReply {
        LearnerReply::Check
    }
}
