//! The instructor's summary: one row per learner and lab, from the history.

use chrono::{DateTime, Utc};
use snaplab_lab::RunStatus;

use crate::RunSummary;

/// A learner's record on one lab.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SummaryRow {
    pub learner: String,
    pub lab: String,
    pub runs: usize,
    pub passed_runs: usize,
    /// The latest run's outcome.
    pub last_outcome: RunStatus,
    pub last_started_at: DateTime<Utc>,
    /// The latest finished run's wall time, in seconds.
    pub last_duration_s: Option<f64>,
    pub best_steps_passed: i64,
    pub steps_total: i64,
    /// The knowledge checks of the latest run that asked any: right, of asked (0 of 0: none asked).
    pub quiz_correct: i64,
    pub quiz_asked: i64,
}

/// Groups runs (any order) by learner and lab, sorted by learner then lab.
pub fn instructor_summary(runs: &[RunSummary]) -> Vec<SummaryRow> {
    let mut rows: Vec<SummaryRow> = Vec::new();
    let mut sorted: Vec<&RunSummary> = runs.iter().collect();
    sorted.sort_by_key(|r| r.started_at);
    for run in sorted {
        let at = match rows.iter().position(|r| r.learner == run.learner && r.lab == run.lab) {
            Some(at) => at,
            None => {
                rows.push(SummaryRow {
                    learner: run.learner.clone(),
                    lab: run.lab.clone(),
                    runs: 0,
                    passed_runs: 0,
                    last_outcome: run.outcome,
                    last_started_at: run.started_at,
                    last_duration_s: None,
                    best_steps_passed: 0,
                    steps_total: 0,
                    quiz_correct: 0,
                    quiz_asked: 0,
                });
                rows.len() - 1
            }
        };
        // Runs come oldest first, so each one is the row's latest so far.
        let row = &mut rows[at];
        row.runs += 1;
        row.passed_runs += usize::from(run.outcome == RunStatus::Passed);
        row.last_outcome = run.outcome;
        row.last_started_at = run.started_at;
        row.last_duration_s = run
            .finished_at
            .map(|f| (f - run.started_at).num_milliseconds() as f64 / 1000.0);
        row.best_steps_passed = row.best_steps_passed.max(run.steps_passed);
        row.steps_total = run.steps_total;
        if run.quiz_asked > 0 {
            (row.quiz_correct, row.quiz_asked) = (run.quiz_correct, run.quiz_asked);
        }
    }
    rows.sort_by(|a, b| (&a.learner, &a.lab).cmp(&(&b.learner, &b.lab)));
    rows
}

/// RFC 4180 CSV with a header line.
pub fn summary_csv(rows: &[SummaryRow]) -> String {
    let mut out = String::from(
        "learner,lab,runs,passed_runs,last_outcome,last_started_at,last_duration_s,best_steps_passed,steps_total,quiz_correct,quiz_asked\r\n",
    );
    for r in rows {
        let fields = [
            csv_field(&r.learner),
            csv_field(&r.lab),
            r.runs.to_string(),
            r.passed_runs.to_string(),
            r.last_outcome.as_str().to_string(),
            r.last_started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            r.last_duration_s.map(|d| format!("{d:.1}")).unwrap_or_default(),
            r.best_steps_passed.to_string(),
            r.steps_total.to_string(),
            r.quiz_correct.to_string(),
            r.quiz_asked.to_string(),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Quotes a field when it holds a comma, quote or line break; a leading
/// `=`, `+`, `-`, `@`, tab or carriage return is defused (OWASP's list) so a
/// spreadsheet does not run it as a formula.
fn csv_field(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use snaplab_cloud::TargetKind;
    use snaplab_lab::{Consistency, Mode};

    fn run(learner: &str, lab: &str, minute: u32, outcome: &str, passed: i64) -> RunSummary {
        let started = Utc.with_ymd_and_hms(2026, 11, 29, 10, minute, 0).single().unwrap();
        RunSummary {
            id: format!("run-{minute}"),
            lab: lab.into(),
            target_kind: TargetKind::Embedded,
            target_endpoint: None,
            target_label: "built-in emulator".into(),
            learner: learner.into(),
            mode: Mode::Guided,
            consistency: Consistency::Crash,
            started_at: started,
            finished_at: Some(started + chrono::Duration::seconds(42)),
            outcome: RunStatus::parse(outcome).unwrap(),
            steps_passed: passed,
            steps_total: 9,
            resources_left: 0,
            quiz_correct: 0,
            quiz_asked: 0,
        }
    }

    #[test]
    fn one_row_per_learner_and_lab_with_the_latest_outcome() {
        let runs = [
            run("bo", "securecart-snapshot", 5, "passed", 9),
            run("ann", "securecart-snapshot", 1, "failed", 4),
            run("ann", "securecart-snapshot", 3, "passed", 9),
            run("ann", "other-lab", 2, "interrupted", 1),
        ];
        let rows = instructor_summary(&runs);
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[0].learner.as_str(), rows[0].lab.as_str()), ("ann", "other-lab"));
        let ann = &rows[1];
        assert_eq!((ann.runs, ann.passed_runs, ann.last_outcome.as_str()), (2, 1, "passed"));
        assert_eq!(ann.best_steps_passed, 9);
        assert_eq!(ann.last_duration_s, Some(42.0));
        assert_eq!(rows[2].learner, "bo");
    }

    #[test]
    fn the_score_is_the_latest_run_that_asked_any_questions() {
        let mut first = run("ann", "lab", 1, "passed", 9);
        (first.quiz_correct, first.quiz_asked) = (2, 5);
        let mut second = run("ann", "lab", 2, "passed", 9);
        (second.quiz_correct, second.quiz_asked) = (4, 5);
        // A later run straight through asked none: the score stands.
        let third = run("ann", "lab", 3, "passed", 9);
        let rows = instructor_summary(&[first, third, second]);
        assert_eq!((rows[0].quiz_correct, rows[0].quiz_asked), (4, 5));
        let csv = summary_csv(&rows);
        assert!(csv.lines().nth(1).unwrap().ends_with(",9,9,4,5"), "{csv}");
    }

    #[test]
    fn every_formula_lead_and_line_break_is_defused_or_quoted() {
        for (learner, field) in [
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            ("ann\nbob", "\"ann\nbob\""),
            ("plain", "plain"),
            ("a\"b", "\"a\"\"b\""),
        ] {
            let csv = summary_csv(&instructor_summary(&[run(learner, "lab", 1, "failed", 3)]));
            let row = csv.split_once("\r\n").map(|(_, rest)| rest).unwrap();
            assert!(
                row.starts_with(&format!("{field},lab,1,0,failed,")),
                "{learner:?} -> {row:?}"
            );
        }
    }

    #[test]
    fn csv_quotes_and_defuses_what_a_spreadsheet_would_misread() {
        let mut r = run("=HYPERLINK(\"x\")", "lab, two", 1, "passed", 9);
        r.finished_at = None;
        let csv = summary_csv(&instructor_summary(&[r]));
        let mut lines = csv.split("\r\n");
        assert!(lines.next().unwrap().starts_with("learner,lab,runs"));
        assert_eq!(
            lines.next().unwrap(),
            "\"'=HYPERLINK(\"\"x\"\")\",\"lab, two\",1,1,passed,2026-11-29T10:01:00Z,,9,9,0,0"
        );
    }
}
