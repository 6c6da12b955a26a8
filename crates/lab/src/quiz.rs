//! Knowledge checks: a lab's questions (`questions.toml` beside its
//! `lab.toml`), asked after a given step or at the end, and the learner's
//! answers — recorded, scored, and never a reason for a run to fail.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::error::LabError;

/// How a question is answered.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One of the listed choices.
    Choice,
    /// "True" or "False".
    TrueFalse,
}

/// One question, as a lab's `questions.toml` gives it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub prompt: String,
    /// The choices, in order (a true/false question's are `True`, `False`).
    #[serde(default)]
    pub choices: Vec<String>,
    /// The right choice, as written in `choices`.
    pub answer: String,
    /// Why, shown after the learner answers.
    pub explanation: String,
    /// Where AWS says so.
    pub source: String,
    /// Asked once this step is done; at the end of the lab when absent.
    #[serde(default)]
    pub after_step: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionsFile {
    #[serde(default)]
    questions: Vec<Question>,
}

impl Question {
    /// The choice a learner's reply names: its number (1-based), its letter
    /// (a, b, …), or its text (any case; `t`/`f` for true/false).
    pub fn parse_reply(&self, reply: &str) -> Option<&str> {
        let reply = reply.trim();
        if reply.is_empty() {
            return None;
        }
        let by_number = reply.parse::<usize>().ok().and_then(|n| n.checked_sub(1));
        let by_letter = (self.kind == QuestionKind::Choice && reply.len() == 1)
            .then(|| reply.chars().next())
            .flatten()
            .map(|c| c.to_ascii_lowercase())
            .filter(char::is_ascii_lowercase)
            .map(|c| (c as u8 - b'a') as usize);
        let by_text = self
            .choices
            .iter()
            .position(|c| c.eq_ignore_ascii_case(reply))
            .or_else(|| match (self.kind, reply.to_ascii_lowercase().as_str()) {
                (QuestionKind::TrueFalse, "t") => Some(0),
                (QuestionKind::TrueFalse, "f") => Some(1),
                _ => None,
            });
        by_text
            .or(by_number)
            .or(by_letter)
            .and_then(|i| self.choices.get(i))
            .map(String::as_str)
    }

    pub fn is_right(&self, choice: &str) -> bool {
        choice == self.answer
    }
}

/// Reads and checks a lab's questions (`questions.toml`; none when absent).
pub fn parse_questions(source: &str, text: &str, step_ids: &[&str]) -> Result<Vec<Question>, LabError> {
    let file: QuestionsFile = toml::from_str(text).map_err(|e| LabError::Definition(format!("{source}: {e}")))?;
    let mut seen = BTreeSet::new();
    let mut questions = file.questions;
    for q in &mut questions {
        let bad = |why: String| LabError::Definition(format!("{source}: question {}: {why}", q.id));
        if !seen.insert(q.id.clone()) {
            return Err(bad("its id is used twice".into()));
        }
        match q.kind {
            QuestionKind::TrueFalse if q.choices.is_empty() => {
                q.choices = vec!["True".to_string(), "False".to_string()];
            }
            QuestionKind::TrueFalse => return Err(bad("a true_false question lists no choices".into())),
            QuestionKind::Choice if q.choices.len() < 2 => return Err(bad("it needs at least two choices".into())),
            QuestionKind::Choice => {}
        }
        if !q.choices.contains(&q.answer) {
            return Err(bad(format!(
                "its answer '{}' is not one of its choices ({})",
                q.answer,
                q.choices.join(" | ")
            )));
        }
        if let Some(step) = &q.after_step {
            if !step_ids.contains(&step.as_str()) {
                return Err(bad(format!("after_step '{step}' is not a step of the lab")));
            }
        }
        if q.explanation.trim().is_empty() || q.source.trim().is_empty() {
            return Err(bad("it needs an explanation and a source".into()));
        }
    }
    Ok(questions)
}

/// A learner's answer to one question, as recorded.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    pub question_id: String,
    /// The question as it was asked, and its right answer (a report reads them without the lab).
    pub prompt: String,
    pub right_answer: String,
    /// The choice given (`None`: not asked — a run nobody answers — or skipped).
    pub answer: Option<String>,
    pub correct: bool,
    /// Whether the learner was asked at all.
    pub asked: bool,
    pub at: DateTime<Utc>,
}

/// Right answers out of the questions asked.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Score {
    pub correct: u32,
    pub asked: u32,
}

pub fn score(answers: &[Answer]) -> Score {
    Score {
        correct: answers.iter().filter(|a| a.correct).count() as u32,
        asked: answers.iter().filter(|a| a.asked).count() as u32,
    }
}

/// What the learner said to a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuizReply {
    /// Their reply, as typed or chosen (parsed against the choices by the runner).
    Reply(String),
    /// Nobody to ask (a run straight through, no answers file): recorded as not asked.
    NotAsked,
    /// They chose not to answer.
    Skip,
    Quit,
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
[[questions]]
id = "keep-using"
kind = "true_false"
prompt = "SecureCart must stop writing while its snapshot is pending."
answer = "False"
explanation = "The snapshot is point-in-time; the volume stays usable."
source = "EC2 API reference, CreateSnapshot"
after_step = "snapshot"

[[questions]]
id = "pick"
kind = "choice"
prompt = "Which call snapshots every volume of an instance at one instant?"
choices = ["CreateSnapshot", "CreateSnapshots", "CopySnapshot"]
answer = "CreateSnapshots"
explanation = "A multi-volume set is crash-consistent across its volumes."
source = "EC2 API reference, CreateSnapshots"
"#;

    fn questions() -> Vec<Question> {
        parse_questions("questions.toml", TOML, &["snapshot"]).unwrap()
    }

    #[test]
    fn true_false_gets_its_two_choices_and_replies_parse_by_number_letter_or_text() {
        let qs = questions();
        assert_eq!(qs[0].choices, ["True", "False"]);
        assert_eq!(qs[0].parse_reply("f"), Some("False"));
        assert_eq!(qs[0].parse_reply("TRUE"), Some("True"));
        assert_eq!(qs[0].parse_reply("2"), Some("False"));
        assert_eq!(qs[1].parse_reply("2"), Some("CreateSnapshots"));
        assert_eq!(qs[1].parse_reply("c"), Some("CopySnapshot"));
        assert_eq!(qs[1].parse_reply("createsnapshots"), Some("CreateSnapshots"));
        for bad in ["", "4", "0", "d", "maybe"] {
            assert_eq!(qs[1].parse_reply(bad), None, "{bad}");
        }
        assert!(qs[1].is_right("CreateSnapshots") && !qs[1].is_right("CreateSnapshot"));
    }

    #[test]
    fn a_bad_file_says_which_question_and_why() {
        let wrong_answer = TOML.replace("answer = \"CreateSnapshots\"", "answer = \"DescribeSnapshots\"");
        let e = parse_questions("q.toml", &wrong_answer, &["snapshot"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("question pick: its answer 'DescribeSnapshots' is not one of its choices"),
            "{e}"
        );
        let e = parse_questions("q.toml", TOML, &["other"]).unwrap_err().to_string();
        assert!(e.contains("after_step 'snapshot' is not a step of the lab"), "{e}");
        let twice = format!(
            "{TOML}\n{}",
            &TOML[TOML.find("[[questions]]\nid = \"pick\"").unwrap()..]
        );
        assert!(parse_questions("q.toml", &twice, &["snapshot"])
            .unwrap_err()
            .to_string()
            .contains("used twice"));
        assert!(parse_questions("q.toml", "[[questions]]\nid = 1", &[]).is_err());
    }

    #[test]
    fn the_score_counts_right_answers_out_of_those_asked() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let a = |correct, asked: bool| Answer {
            question_id: "q".into(),
            prompt: "?".into(),
            right_answer: "x".into(),
            answer: asked.then(|| "x".into()),
            correct,
            asked,
            at,
        };
        assert_eq!(
            score(&[a(true, true), a(false, true), a(false, false)]),
            Score { correct: 1, asked: 2 }
        );
    }
}
