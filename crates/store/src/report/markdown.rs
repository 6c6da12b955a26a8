//! The report as Markdown. Every piece of text that comes from outside the
//! code — a learner's name, a message with an AWS error in it, an id — goes
//! through [`text`], so it reads as itself: a `|` cannot break a table, a
//! `**` or a `<b>` cannot format or inject anything.

use super::{RunReport, StepStatus};

/// `s` as literal Markdown text on one line: what Markdown reads as inline
/// syntax is backslash-escaped, and so is what would start a block (a
/// heading, a list item) at its start; line breaks become spaces. The rest
/// stays as typed, so the `.md` file reads well. (Not for code spans: a
/// backslash is literal there.)
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut leading_digits = true;
    for c in s.chars() {
        let c = if matches!(c, '\r' | '\n' | '\t') { ' ' } else { c };
        let at_start = out.trim_start().is_empty();
        let inline = matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '!' | '~' | '&'
        );
        let starts_block = at_start && matches!(c, '#' | '-' | '+' | '=');
        // "12." or "3)" first would make an ordered list item.
        let ends_list_number = leading_digits && !at_start && matches!(c, '.' | ')');
        leading_digits &= c.is_ascii_digit() || (at_start && c == ' ');
        if inline || starts_block || ends_list_number {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn mark(passed: bool) -> &'static str {
    if passed {
        "PASS"
    } else {
        "FAIL"
    }
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "—".to_string(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

pub fn render(r: &RunReport) -> String {
    let s = &r.summary;
    let c = &r.context;
    let mut out = format!("# {} — run {}\n\n", text(&c.lab_title), text(&s.id));
    out.push_str(&format!("| run | {} |\n|---|---|\n", text(&s.id)));
    let rows = [
        ("learner", text(&s.learner)),
        (
            "outcome",
            format!(
                "**{}** ({} of {} steps passed)",
                s.outcome, s.steps_passed, s.steps_total
            ),
        ),
        ("mode", s.mode.as_str().to_string()),
        ("consistency", s.consistency.as_str().to_string()),
        (
            "target",
            format!("{} ({})", text(c.target.kind.label()), text(&c.target.endpoint)),
        ),
        ("started", when(Some(s.started_at))),
        ("finished", when(s.finished_at)),
    ];
    for (name, value) in rows {
        out.push_str(&format!("| {name} | {value} |\n"));
    }
    out.push('\n');
    if c.target.shadow_disk {
        out.push_str(&format!("> Shadow disk: {}.\n\n", text(&c.target.data_plane)));
    }

    out.push_str("## Steps\n\n");
    for step in &r.steps {
        let status = if step.status == StepStatus::Passed {
            step.status.as_str().to_string()
        } else {
            format!("**{}**", step.status.as_str())
        };
        out.push_str(&format!("### {} — {status}\n\n", text(&step.title)));
        for check in &step.checks {
            out.push_str(&format!(
                "- {} `{}`: {}\n",
                mark(check.passed),
                check.check_id,
                text(&check.message)
            ));
        }
        if !step.commands.is_empty() {
            out.push_str(&typed_commands(&step.commands));
        }
        out.push('\n');
    }

    if let Some(v) = &r.verification {
        let p = &v.point_in_time;
        out.push_str(&format!(
            "## Verification\n\nRestored volume {} from snapshot {} (started {}), read from the {}.\n\n",
            text(&v.restored_volume_id),
            text(&v.snapshot_id),
            v.snapshot_started_at.format("%H:%M:%S%.3f UTC"),
            match v.read_from {
                snaplab_cloud::DataSource::Emulator => "emulator",
                snaplab_cloud::DataSource::ShadowDisk => "shadow disk",
                snaplab_cloud::DataSource::EbsDirect => "snapshot through the EBS direct APIs",
            }
        ));
        out.push_str("| orders | count |\n|---|---|\n");
        let figures = [
            (
                "acknowledged before the snapshot",
                p.acknowledged_before_snapshot.to_string(),
            ),
            ("present in the restore", p.present_in_restore.to_string()),
            ("missing", p.missing.to_string()),
            ("begun after the snapshot", p.begun_after_snapshot.to_string()),
            ("of those, present", p.after_snapshot_present.to_string()),
            ("torn", p.torn.to_string()),
            (
                "replayed from the journal",
                if v.replayed.is_empty() {
                    "none".to_string()
                } else {
                    text(&format!("{:?}", v.replayed))
                },
            ),
        ];
        for (name, value) in figures {
            out.push_str(&format!("| {name} | {value} |\n"));
        }
        out.push('\n');
        for line in &v.explanation {
            out.push_str(&format!("- {}\n", text(line)));
        }
        out.push('\n');
    }

    if let Some(c) = &r.context.comparison {
        out.push_str(&comparison(c));
    }
    if !r.context.reads.is_empty() {
        out.push_str(&reads(&r.context.reads));
    }
    if r.context.alerts.topic_arn.is_some() {
        out.push_str(&alerts_delivered(&r.context.alerts));
    }
    if !r.context.answers.is_empty() {
        out.push_str(&knowledge_checks(&r.context.answers));
    }
    if r.context.verifications.len() > 1 {
        out.push_str(&side_by_side(&r.context));
    }

    if !r.notices.is_empty() {
        out.push_str("## Notes\n\n");
        for n in &r.notices {
            out.push_str(&format!("- {}: {}\n", n.level.as_str(), text(&n.message)));
        }
        out.push('\n');
    }

    if !r.resources.is_empty() {
        out.push_str("## Resources\n\n| kind | id | role | created | deleted | lived |\n|---|---|---|---|---|---|\n");
        for res in &r.resources {
            let lived = res.deleted_at.map_or_else(
                || "still there".to_string(),
                |d| {
                    format!(
                        "{:.1} s",
                        (d - res.created_at).num_milliseconds().max(0) as f64 / 1000.0
                    )
                },
            );
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                res.kind.as_str(),
                text(&res.resource_id),
                res.role.as_str(),
                res.created_at.format("%H:%M:%S UTC"),
                res.deleted_at
                    .map_or_else(|| "—".to_string(), |d| d.format("%H:%M:%S UTC").to_string()),
                lived
            ));
        }
        out.push('\n');
    }

    out.push_str(&format!(
        "## API calls\n\n{} calls.\n\n| step | operation | ms | request id | error |\n|---|---|---|---|---|\n",
        r.api_calls.len()
    ));
    for call in &r.api_calls {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            call.step_id.as_deref().map_or_else(|| "—".to_string(), text),
            text(&call.operation),
            call.duration_ms,
            call.request_id.as_deref().map_or_else(|| "—".to_string(), text),
            call.error.as_deref().map(text).unwrap_or_default()
        ));
    }
    out
}

/// The commands typed during a step, as a code block (a command is shown
/// as typed: the fence is longer than any run of backticks in it).
fn typed_commands(commands: &[crate::CommandRow]) -> String {
    let lines: Vec<String> = commands
        .iter()
        .map(|c| {
            format!(
                "$ {}    # exit {}, {}",
                c.command.replace('\n', "\n  "),
                c.exit_status,
                c.finished_at.format("%H:%M:%S")
            )
        })
        .collect();
    let longest_run = lines
        .iter()
        .flat_map(|l| l.split(|ch| ch != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat((longest_run + 1).max(3));
    format!(
        "\nTyped in the terminal:\n\n{fence}text\n{}\n{fence}\n",
        lines.join("\n")
    )
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The snapshot-alerts lab's inbox: each alert the topic delivered.
fn alerts_delivered(alerts: &snaplab_lab::alerting::AlertSetup) -> String {
    let mut out = format!(
        "## Alerts delivered\n\nTopic {}: {} alert(s).\n\n",
        alerts.topic_arn.as_deref().map(text).unwrap_or_default(),
        alerts.inbox.len()
    );
    if !alerts.inbox.is_empty() {
        out.push_str("| at | to | alert |\n|---|---|---|\n");
        for d in &alerts.inbox {
            out.push_str(&format!(
                "| {} | {} ({}) | {} |\n",
                text(&d.at),
                text(&d.endpoint),
                text(&d.protocol),
                text(&snaplab_lab::alerting::alert_line(d))
            ));
        }
        out.push('\n');
    }
    out
}

/// The knowledge checks: the score, then each question and what was answered.
fn knowledge_checks(answers: &[snaplab_lab::Answer]) -> String {
    let score = snaplab_lab::quiz::score(answers);
    let mut out = match score.asked {
        0 => String::from("## Knowledge checks\n\nNot asked (the run was not interactive).\n\n"),
        n => format!("## Knowledge checks\n\n{} of {n} right.\n\n", score.correct),
    };
    out.push_str("| question | answered | right answer | |\n|---|---|---|---|\n");
    for a in answers {
        let given = match (&a.answer, a.asked) {
            (Some(given), _) => text(given),
            (None, true) => "skipped".to_string(),
            (None, false) => "not asked".to_string(),
        };
        let mark = match (a.asked, a.correct) {
            (false, _) => "—",
            (true, true) => "✔",
            (true, false) => "✘",
        };
        out.push_str(&format!(
            "| {} | {given} | {} | {mark} |\n",
            text(&a.prompt),
            text(&a.right_answer)
        ));
    }
    out.push('\n');
    out
}

/// What a read of a restored volume is called in reports.
pub(crate) fn read_name(p: &snaplab_cloud::ReadPass) -> &'static str {
    match (p.kind, p.started_initialized()) {
        (snaplab_cloud::ReadKind::Initialize, _) => "initialize (every block once)",
        (snaplab_cloud::ReadKind::Again, _) => "second read",
        (snaplab_cloud::ReadKind::First, true) => "first read, initialized at creation (Fast Snapshot Restore)",
        (snaplab_cloud::ReadKind::First, false) => "first read",
    }
}

/// The restore-initialization lab's timed reads, one row each.
fn reads(passes: &[snaplab_cloud::ReadPass]) -> String {
    let mut out = String::from(
        "## Reads of the restored volumes

| read | volume | MiB | median MiB/s | overall MiB/s | blocks fetched | initialized before → after |\n|---|---|---|---|---|---|---|\n",
    );
    for p in passes {
        let pct = |v: Option<i64>| v.map_or_else(|| "—".to_string(), |v| format!("{v}%"));
        out.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.0} | {} | {} → {} |\n",
            read_name(p),
            text(&p.volume_id),
            p.length / (1024 * 1024),
            p.median_mib_per_s(),
            p.mib_per_s(),
            p.blocks_fetched.map_or_else(|| "—".to_string(), |n| n.to_string()),
            pct(p.progress_before),
            pct(p.progress_after)
        ));
    }
    out.push('\n');
    out
}

/// The incremental lab's two snapshots compared block by block.
fn comparison(c: &snaplab_cloud::BlockComparison) -> String {
    let mut out = format!(
        "## Blocks changed between the snapshots\n\nFrom {} to {} ({} KiB blocks).\n\n| blocks | count | size |\n|---|---|---|\n",
        text(&c.first_snapshot_id),
        text(&c.second_snapshot_id),
        c.block_size / 1024
    );
    let rows = [
        (
            "changed (what the second snapshot stores)",
            c.changed.len() as u64,
            c.changed_bytes(),
        ),
        ("held by the second snapshot", c.held.len() as u64, c.held_bytes()),
        ("in the volume", c.volume_blocks(), c.volume_size_bytes),
    ];
    for (name, n, bytes) in rows {
        out.push_str(&format!("| {name} | {n} | {} |\n", mib(bytes)));
    }
    out.push('\n');
    out
}

/// Two or more restores verified, one column each, with the pauses they cost.
fn side_by_side(c: &snaplab_lab::RunContext) -> String {
    let vs = &c.verifications;
    let mut out = String::from("## The restores side by side\n\n| |");
    for v in vs {
        out.push_str(&format!(" {} ({}) |", v.consistency.as_str(), text(&v.snapshot_id)));
    }
    out.push_str(&format!("\n|---|{}\n", "---|".repeat(vs.len())));
    let row = |name: &str, cell: &dyn Fn(&snaplab_lab::Verification) -> String| {
        let cells: String = vs.iter().map(|v| format!(" {} |", cell(v))).collect();
        format!("| {name} |{cells}\n")
    };
    out.push_str(&row("acknowledged before the snapshot, found", &|v| {
        format!(
            "{} / {}",
            v.point_in_time.present_in_restore, v.point_in_time.acknowledged_before_snapshot
        )
    }));
    out.push_str(&row("missing", &|v| v.point_in_time.missing.to_string()));
    out.push_str(&row("torn", &|v| v.image.torn_seqs.len().to_string()));
    out.push_str(&row("completed by journal replay", &|v| v.replayed.len().to_string()));
    if vs.iter().any(|v| v.pair.is_some()) {
        let pair = |v: &snaplab_lab::Verification, f: &dyn Fn(&snaplab_lab::PairFinding) -> String| {
            v.pair.as_ref().map_or_else(|| "—".to_string(), f)
        };
        out.push_str(&row("inventory snapshot began after the orders one", &|v| {
            pair(v, &|p| format!("{} ms", p.apart_ms))
        }));
        out.push_str(&row("stock changes without their order", &|v| {
            pair(v, &|p| p.stock_without_order.len().to_string())
        }));
        out.push_str(&row("products whose stock does not add up", &|v| {
            pair(v, &|p| p.products_mismatched.to_string())
        }));
    }
    out.push('\n');
    for p in &c.pauses {
        out.push_str(&format!(
            "- {}: {} {} ms (about {} orders waited)\n",
            text(&p.step_id),
            if p.mid_order {
                "an order held half-written for"
            } else {
                "writes paused for"
            },
            p.paused_ms,
            p.orders_delayed
        ));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_stays_text() {
        assert_eq!(text("a|b"), "a\\|b");
        assert_eq!(text("**bold** <b>x</b>"), "\\*\\*bold\\*\\* \\<b\\>x\\</b\\>");
        assert_eq!(text("two\nlines"), "two lines");
        // What only matters at the start is escaped only there.
        assert_eq!(text("# not a heading - really"), "\\# not a heading - really");
        assert_eq!(text("- item"), "\\- item");
        assert_eq!(text("12. not a list, 3. either"), "12\\. not a list, 3. either");
        assert_eq!(
            text("run-20261129-120000-ab12: done. a=b"),
            "run-20261129-120000-ab12: done. a=b"
        );
    }

    #[test]
    fn typed_commands_are_shown_as_typed_whatever_they_hold() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T12:00:05Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default();
        let row = |command: &str, exit_status| crate::CommandRow {
            step_id: None,
            command: command.into(),
            exit_status,
            started_at: at,
            finished_at: at,
        };
        let md = typed_commands(&[
            row("echo ````x | <b>", 0),
            row("aws ec2 describe-snapshots \\\n--owner-ids self", 255),
        ]);
        assert_eq!(
            md,
            "\nTyped in the terminal:\n\n`````text\n$ echo ````x | <b>    # exit 0, 12:00:05\n\
             $ aws ec2 describe-snapshots \\\n  --owner-ids self    # exit 255, 12:00:05\n`````\n"
        );
    }
}
