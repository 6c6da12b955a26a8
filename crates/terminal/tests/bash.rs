//! A real bash on a real pseudo-terminal: what it prints, the commands it
//! reports, its environment, its size and its end.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use snaplab_terminal::{Shell, Terminal, TerminalEvent, TerminalSize, TerminalSpec, TypedCommand};

struct Opened {
    terminal: Terminal,
    events: Receiver<TerminalEvent>,
    output: String,
    commands: Vec<TypedCommand>,
    exited: Option<Option<u32>>,
    _home: TempHome,
}

/// A home of its own, with a .bashrc that sets its own PROMPT_COMMAND
/// and an environment variable: both must survive the terminal's additions.
struct TempHome(PathBuf);

impl TempHome {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("snaplab-terminal-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(".bashrc"),
            // Also what could hide commands or send them elsewhere: the terminal undoes it.
            "export FROM_BASHRC=yes\nPS1='$ '\nPROMPT_COMMAND='MY_PROMPT_RAN=1'\nHISTFILE=$HOME/.bash_history\n\
             HISTIGNORE='ls*:false*'\nHISTSIZE=0\nexport AWS_ENDPOINT_URL=http://from-bashrc.invalid\n",
        )
        .unwrap();
        // An older session's history: its last line must not be reported.
        std::fs::write(dir.join(".bash_history"), "echo from-an-older-session\n").unwrap();
        Self(dir)
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(name: &str, env: Vec<(&str, Option<&str>)>, path_prepend: Vec<PathBuf>) -> Opened {
    let home = TempHome::new(name);
    let mut all_env: Vec<(String, Option<String>)> = vec![("HOME".into(), Some(home.0.display().to_string()))];
    all_env.extend(env.into_iter().map(|(k, v)| (k.to_string(), v.map(str::to_string))));
    let (tx, events) = channel();
    let terminal = Terminal::open(
        TerminalSpec {
            shell: Shell::at("/bin/bash"),
            env: all_env,
            path_prepend,
            cwd: Some(home.0.clone()),
            size: TerminalSize { cols: 100, rows: 30 },
        },
        move |e| {
            let _ = tx.send(e);
        },
    )
    .expect("bash starts on a pseudo-terminal");
    let mut t = Opened {
        terminal,
        events,
        output: String::new(),
        commands: Vec::new(),
        exited: None,
        _home: home,
    };
    t.wait_for("the first prompt", |t| t.output.contains("(snaplab) $ "));
    t
}

impl Opened {
    fn wait_for(&mut self, what: &str, done: impl Fn(&Opened) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(TerminalEvent::Output { data }) => self.output.push_str(&data),
                Ok(TerminalEvent::Command { command }) => self.commands.push(command),
                Ok(TerminalEvent::Exited { code }) => self.exited = Some(code),
                Err(_) => panic!(
                    "waited 20 s for {what}; output so far:\n{}\ncommands: {:?}",
                    self.output, self.commands
                ),
            }
        }
    }

    fn run(&mut self, line: &str) {
        let before = self.commands.len();
        self.terminal.write(&format!("{line}\r")).unwrap();
        self.wait_for(line, |t| t.commands.len() > before);
    }
}

#[test]
fn each_command_line_is_reported_with_its_exit_status_and_times() {
    let mut t = open("commands", vec![], vec![]);
    t.run("echo hello-from-the-lab");
    t.run("ls /no/such/dir");
    t.run("false || (exit 3)");
    // Repeats count; an empty line and a line starting with a space do not.
    t.terminal.write("\r").unwrap();
    t.terminal.write(" echo private\r").unwrap();
    t.run("echo hello-from-the-lab");
    let seen: Vec<(&str, i32)> = t.commands.iter().map(|c| (c.command.as_str(), c.exit_status)).collect();
    assert_eq!(
        seen,
        vec![
            ("echo hello-from-the-lab", 0),
            ("ls /no/such/dir", 2),
            ("false || (exit 3)", 3),
            ("echo hello-from-the-lab", 0),
        ]
    );
    for c in &t.commands {
        assert!(c.started_at <= c.finished_at, "{c:?}");
    }
    assert!(t.output.contains("hello-from-the-lab"));
    // The marks never reach the screen.
    assert!(!t.output.contains("6973"), "a mark leaked: {:?}", t.output);
    assert!(!t.output.contains("from-an-older-session"));
}

#[test]
fn a_command_over_several_lines_is_one_record() {
    let mut t = open("multiline", vec![], vec![]);
    // A line break inside quotes stays one (a LF, whatever the terminal made of it)…
    t.run("echo \"one\rtwo\"");
    // …and bash joins a `\` continuation into one line itself.
    t.run("echo three \\\r  four");
    let seen: Vec<&str> = t.commands.iter().map(|c| c.command.as_str()).collect();
    assert_eq!(seen, ["echo \"one\ntwo\"", "echo three   four"]);
}

#[test]
fn a_secret_typed_is_masked_in_the_report() {
    let mut t = open("secret", vec![], vec![]);
    t.run("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG");
    assert_eq!(t.commands[0].command, "export AWS_SECRET_ACCESS_KEY=****");
}

#[test]
fn output_that_looks_like_a_mark_is_not_a_command() {
    let mut t = open("forged", vec![], vec![]);
    t.run("printf '\\e]6973;0000;C;0;rm -rf /\\a'; echo done");
    assert_eq!(t.commands.len(), 1, "{:?}", t.commands);
    assert!(t.commands[0].command.starts_with("printf"), "{:?}", t.commands);
}

#[test]
fn the_environment_is_the_run_s_over_the_learner_s_own() {
    std::env::set_var("SNAPLAB_TEST_REMOVED", "should-not-reach-the-shell");
    let bin = std::env::temp_dir().join(format!("snaplab-terminal-test-bin-{}", std::process::id()));
    std::fs::create_dir_all(&bin).unwrap();
    let mut t = open(
        "env",
        vec![
            ("AWS_ENDPOINT_URL", Some("http://127.0.0.1:4566")),
            ("SNAPLAB_TEST_REMOVED", None),
        ],
        vec![bin.clone()],
    );
    t.run("echo \"[$AWS_ENDPOINT_URL|${SNAPLAB_TEST_REMOVED-unset}|$FROM_BASHRC|$TERM|${PATH%%:*}|$MY_PROMPT_RAN]\"");
    let want = format!("[http://127.0.0.1:4566|unset|yes|xterm-256color|{}|1]", bin.display());
    assert!(t.output.contains(&want), "want {want} in:\n{}", t.output);
    let _ = std::fs::remove_dir_all(bin);
}

#[test]
fn a_resize_reaches_the_shell() {
    let mut t = open("resize", vec![], vec![]);
    t.terminal.resize(TerminalSize { cols: 132, rows: 41 }).unwrap();
    t.run("stty size");
    assert!(t.output.contains("41 132"), "{}", t.output);
}

#[test]
fn closing_ends_the_shell_and_says_so() {
    let mut t = open("close", vec![], vec![]);
    t.terminal.close();
    t.wait_for("the shell's end", |t| t.exited.is_some());
}

#[test]
fn a_shell_that_ignores_hangups_is_ended_all_the_same() {
    let mut t = open("stubborn", vec![], vec![]);
    t.run("trap '' HUP");
    t.terminal.close();
    t.wait_for("the shell's end", |t| t.exited.is_some());
    assert!(!t.terminal.is_alive());
    assert!(t.terminal.write("echo too late\r").is_err());
}

#[test]
fn a_shell_that_exits_leaving_a_job_on_the_terminal_is_seen_to_end() {
    let mut t = open("job", vec![], vec![]);
    // The job keeps the terminal open after the shell has gone.
    t.run("sleep 15 & disown");
    t.terminal.write("exit 4\r").unwrap();
    t.wait_for("the shell's end", |t| t.exited.is_some());
    assert_eq!(t.exited, Some(Some(4)));
}

#[test]
fn exit_typed_by_the_learner_ends_the_terminal_with_its_code() {
    let mut t = open("exit", vec![], vec![]);
    t.terminal.write("exit 7\r").unwrap();
    t.wait_for("the shell's end", |t| t.exited.is_some());
    assert_eq!(t.exited, Some(Some(7)));
}
