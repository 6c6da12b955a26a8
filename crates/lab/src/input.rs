//! How the runner hears from the learner: hands-on, that they did a step
//! and want it checked; guided step by step, that the app may run it.

use std::collections::BTreeMap;

use crate::events::Awaiting;
use crate::quiz::{Question, QuizReply};

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

    /// Whether anyone answers this knowledge check; if not, it is recorded
    /// as not asked (and [`answer`](Self::answer) is not called).
    fn answers(&self, _question: &Question) -> bool {
        false
    }

    /// The learner's reply to a knowledge check (announced by a `question_asked` event).
    async fn answer(&mut self, _question: &Question) -> QuizReply {
        QuizReply::NotAsked
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

/// Another input, with knowledge-check answers given up front (`snaplab run
/// --answers FILE`): question id → reply. Questions the map does not name
/// go to the inner input.
pub struct WithAnswers {
    inner: Box<dyn LearnerInput>,
    answers: BTreeMap<String, String>,
}

impl WithAnswers {
    pub fn new(inner: Box<dyn LearnerInput>, answers: BTreeMap<String, String>) -> Self {
        Self { inner, answers }
    }
}

#[async_trait::async_trait]
impl LearnerInput for WithAnswers {
    async fn next(&mut self, step_id: &str, awaiting: Awaiting) -> LearnerReply {
        self.inner.next(step_id, awaiting).await
    }

    fn paces_guided_steps(&self) -> bool {
        self.inner.paces_guided_steps()
    }

    fn answers(&self, question: &Question) -> bool {
        self.answers.contains_key(&question.id) || self.inner.answers(question)
    }

    async fn answer(&mut self, question: &Question) -> QuizReply {
        // Each given answer is used once: a reply that names no choice is
        // not given again (the runner would ask for ever).
        match self.answers.remove(&question.id) {
            Some(reply) => QuizReply::Reply(reply),
            None if self.inner.answers(question) => self.inner.answer(question).await,
            None => QuizReply::NotAsked,
        }
    }
}
