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
pub trait LearnerInput: Send {
    async fn next(&mut self, step_id: &str) -> LearnerReply;
}

/// For guided runs: nobody to ask, always check.
pub struct NoLearner;

#[async_trait::async_trait]
impl LearnerInput for NoLearner {
    async fn next(&mut self, _step_id: &str) -> LearnerReply {
        LearnerReply::Check
    }
}
