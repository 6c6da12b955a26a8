//! The learner's buttons as the runner's input: the one "go" button ("Run
//! step" guided, "Check" hands-on), Skip, and Stop — and a knowledge
//! check's chosen answer.

use snaplab_lab::{Awaiting, LearnerInput, LearnerReply, Question, QuizReply};
use tokio::sync::mpsc;

/// A button the learner pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Button {
    /// "Run step" or "Check": whichever the runner is waiting for.
    Go,
    Skip,
    Quit,
    /// The choice picked on a question card.
    Answer(String),
}

pub struct ButtonLearner {
    replies: mpsc::UnboundedReceiver<Button>,
    step_by_step: bool,
}

impl ButtonLearner {
    /// The learner and the sender its buttons press. `step_by_step`: a guided
    /// run waits for "Run step" before each step.
    pub fn new(step_by_step: bool) -> (Self, mpsc::UnboundedSender<Button>) {
        let (tx, replies) = mpsc::unbounded_channel();
        (Self { replies, step_by_step }, tx)
    }
}

#[async_trait::async_trait]
impl LearnerInput for ButtonLearner {
    async fn next(&mut self, _step_id: &str, awaiting: Awaiting) -> LearnerReply {
        // The window closing drops the sender: treat it as quitting (the run
        // is then interrupted, and resumable).
        loop {
            return match self.replies.recv().await.unwrap_or(Button::Quit) {
                Button::Go => match awaiting {
                    Awaiting::Run => LearnerReply::Run,
                    Awaiting::Check => LearnerReply::Check,
                },
                Button::Skip => LearnerReply::Skip,
                Button::Quit => LearnerReply::Quit,
                // An answer from a card no longer shown.
                Button::Answer(_) => continue,
            };
        }
    }

    fn answers(&self, _question: &Question) -> bool {
        true
    }

    async fn answer(&mut self, _question: &Question) -> QuizReply {
        loop {
            return match self.replies.recv().await.unwrap_or(Button::Quit) {
                Button::Answer(choice) => QuizReply::Reply(choice),
                Button::Skip => QuizReply::Skip,
                Button::Quit => QuizReply::Quit,
                // "Run step" pressed twice: the card waits for its answer.
                Button::Go => continue,
            };
        }
    }

    fn paces_guided_steps(&self) -> bool {
        self.step_by_step
    }
}
