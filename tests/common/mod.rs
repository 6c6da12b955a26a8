//! Harness for end-to-end tests of the `snaplab` binary and real AWS clients.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The aws CLI to judge the emulator with: `SNAPLAB_AWS_CLI`, else `aws` on PATH.
/// `make test` points it at a venv when the machine has none.
pub fn aws_cli() -> String {
    std::env::var("SNAPLAB_AWS_CLI").unwrap_or_else(|_| "aws".to_string())
}

/// Python with boto3: `SNAPLAB_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("SNAPLAB_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `snaplab emulator` child process, killed on drop.
pub struct EmulatorProcess {
    pub child: Child,
    pub endpoint: String,
    pub ready_line: String,
}

impl EmulatorProcess {
    /// Starts `snaplab emulator --bind 127.0.0.1:0 <args>` and waits for its ready line.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_snaplab"))
            .arg("emulator")
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("snaplab emulator starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("ready line");
        let endpoint = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no endpoint in {line:?}"))
            .to_string();
        Self {
            child,
            endpoint,
            ready_line: line,
        }
    }

    /// Sends SIGTERM and returns how long the process took to exit (for the
    /// record, not for judging: a busy machine may take its time). Fails if it
    /// has not exited within a minute: it ignored the signal.
    pub fn terminate(&mut self) -> (Duration, std::process::ExitStatus) {
        let started = Instant::now();
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return (started.elapsed(), status);
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "emulator ignored SIGTERM for 60 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for EmulatorProcess {
    /// SIGTERM first, so a `--run-commands` emulator kills its instances'
    /// processes (a failed test must not leave a writer running); then SIGKILL.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the aws CLI against `endpoint` with test credentials (as a learner's
/// terminal would after `export AWS_ENDPOINT_URL=…`).
pub fn aws(endpoint: &str, args: &[&str]) -> Output {
    aws_as(endpoint, "test", args)
}

/// [`aws`] with another access key: 12 digits are that account to the emulator.
pub fn aws_as(endpoint: &str, access_key: &str, args: &[&str]) -> Output {
    Command::new(aws_cli())
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", access_key)
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_PAGER", "")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run the aws CLI ({}): {e}; run `make test`, which installs it",
                aws_cli()
            )
        })
}

/// Runs an aws CLI command that must succeed, returning its JSON output.
pub fn aws_json(endpoint: &str, args: &[&str]) -> serde_json::Value {
    aws_json_as(endpoint, "test", args)
}

/// [`aws_json`] with another access key.
pub fn aws_json_as(endpoint: &str, access_key: &str, args: &[&str]) -> serde_json::Value {
    let out = aws_as(endpoint, access_key, args);
    assert!(
        out.status.success(),
        "aws {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "aws {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Creates a 1 GiB volume in us-east-1a with the aws CLI, with `tags`
/// (`Key=…,Value=…` pairs, as `--tag-specifications` takes them) if any: its id.
pub fn create_volume(endpoint: &str, tags: Option<&str>) -> String {
    create_volume_as(endpoint, "test", tags)
}

/// [`create_volume`] in the account of another access key.
pub fn create_volume_as(endpoint: &str, access_key: &str, tags: Option<&str>) -> String {
    let spec = tags.map(|t| format!("ResourceType=volume,Tags=[{t}]"));
    let mut args = vec![
        "ec2",
        "create-volume",
        "--availability-zone",
        "us-east-1a",
        "--size",
        "1",
    ];
    if let Some(spec) = &spec {
        args.extend(["--tag-specifications", spec.as_str()]);
    }
    let made = aws_json_as(endpoint, access_key, &args);
    let id = made["VolumeId"].as_str().unwrap_or_default().to_string();
    assert!(id.starts_with("vol-"), "create-volume answered {made}");
    id
}

/// A plain HTTP/1.1 request to the emulator's `/_snaplab/` routes: the
/// reply's JSON body (a route that answers JSON), or a panic naming the reply.
#[allow(dead_code)] // not every test file reads the extension routes
pub fn snaplab_route(endpoint: &str, method: &str, path: &str, body: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let host = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).expect("connect to the emulator");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send the request");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read reply");
    let json = reply.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{method} {path}: no JSON ({e}): {reply}"))
}

/// Writes `data` at `offset` of an attached volume through the data plane
/// (what the instance's OS would do), with a plain HTTP/1.1 PUT.
pub fn put_data(endpoint: &str, volume_id: &str, offset: u64, data: &[u8]) {
    use std::io::{Read, Write};
    let host = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).expect("connect to the emulator");
    write!(
        s,
        "PUT /_snaplab/volumes/{volume_id}/data?offset={offset} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        data.len()
    )
    .expect("send head");
    s.write_all(data).expect("send body");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read reply");
    assert!(reply.starts_with("HTTP/1.1 200"), "write refused: {reply}");
}

/// A temporary folder for one test's run record, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("snaplab-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    pub fn db(&self) -> String {
        self.0.join("snaplab.db").display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `snaplab <args>` to completion, without any AWS endpoint in the environment.
pub fn snaplab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snaplab"))
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env("USER", "tester")
        .output()
        .expect("snaplab runs")
}

/// A proxy nothing answers at: should a request slip past the real-AWS guard,
/// a client that honours the proxy variables fails on loopback instead of
/// reaching out.
pub const DEAD_PROXY: &str = "http://127.0.0.1:9";

/// Runs `snaplab <args>` unable to act on a real AWS account if its guard ever
/// let a request through: every `AWS_*` variable of the caller's environment
/// removed (credentials, profiles, endpoints), the config and credentials
/// files pointed at /dev/null, instance metadata off, and every proxy
/// variable set to [`DEAD_PROXY`]. `env` is set on top (e.g. an
/// `AWS_ENDPOINT_URL` under test).
pub fn snaplab_sealed(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_snaplab"));
    cmd.args(args);
    for (name, _) in std::env::vars_os() {
        let upper = name.to_string_lossy().to_ascii_uppercase();
        if upper.starts_with("AWS_") || upper == "NO_PROXY" {
            cmd.env_remove(&name);
        }
    }
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_EC2",
        "AWS_ENDPOINT_URL_EBS",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(name);
    }
    cmd.env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for name in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env(name, DEAD_PROXY);
    }
    cmd.env("USER", "tester").envs(env.iter().copied());
    cmd.output().expect("snaplab runs")
}

/// Asserts that the record at `db` holds no run: `history --json` exits 0 and
/// prints nothing (a failing `history` also prints nothing, so its status counts).
pub fn assert_nothing_recorded(db: &str) {
    let out = snaplab(&["history", "--json", "--db", db]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "history failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = json_lines(&out);
    assert!(runs.is_empty(), "nothing recorded, yet: {runs:#?}");
}

/// The JSON lines a command printed.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A real moto server on loopback, killed on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// moto with extra settings (e.g. `MOTO_IAM_LOAD_MANAGED_POLICIES`).
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let child = Command::new(python())
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start moto with {} ({e}); run `make test`, which installs it",
                    python()
                )
            });
        let endpoint = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            let up = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
            if up {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, endpoint }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `snaplab` child whose JSON events arrive on a channel, line by line.
pub struct LiveRun {
    pub child: Child,
    pub events: std::sync::mpsc::Receiver<serde_json::Value>,
    pub seen: Vec<serde_json::Value>,
}

impl LiveRun {
    /// `snaplab run <lab> --mode hands-on --pace instant` on a built-in
    /// emulator at any free port, events as JSON, recorded in `db`; and the
    /// endpoint its terminal line names (from `run_started`).
    pub fn hands_on(lab: &str, db: &str) -> (Self, String) {
        let mut run = Self::start(&[
            "run",
            lab,
            "--mode",
            "hands-on",
            "--pace",
            "instant",
            "--emulator-port",
            "0",
            "--json",
            "--db",
            db,
        ]);
        let started = run.until(Duration::from_secs(60), "run_started", |e| e["event"] == "run_started");
        let endpoint = started["context"]["target"]["endpoint"]
            .as_str()
            .expect("run_started names the endpoint")
            .to_string();
        (run, endpoint)
    }

    pub fn start(args: &[&str]) -> Self {
        Self::start_with(args, &[])
    }

    /// [`start`](Self::start) with `env` set on top (e.g. a stand-in for AWS).
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_snaplab"))
            .args(args)
            .env_remove("AWS_ENDPOINT_URL")
            .env("USER", "tester")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("snaplab starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, events) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        Self {
            child,
            events,
            seen: Vec::new(),
        }
    }

    /// The next event, waiting at most `within`.
    pub fn next(&mut self, within: Duration) -> Option<serde_json::Value> {
        let e = self.events.recv_timeout(within).ok()?;
        self.seen.push(e.clone());
        Some(e)
    }

    /// Reads events until one matches; panics after `within`.
    pub fn until(
        &mut self,
        within: Duration,
        what: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let started = Instant::now();
        loop {
            let left = within.saturating_sub(started.elapsed());
            match self.next(left) {
                Some(e) if pred(&e) => return e,
                Some(_) => {}
                None => panic!(
                    "no {what} within {within:?}; saw {} events, last: {:?}",
                    self.seen.len(),
                    self.seen.last()
                ),
            }
        }
    }

    pub fn answer(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("answer the learner prompt");
        stdin.flush().expect("flush");
    }

    /// Plays a hands-on learner to the run's end: at a step's first prompt
    /// each command it shows goes to `run_command`, then Enter; a prompt for
    /// a step already done (checked too early) gets Enter again after a
    /// pause. The run must pass.
    #[allow(dead_code)] // not every test file plays a hands-on run
    pub fn play_hands_on(&mut self, mut run_command: impl FnMut(&str)) {
        let mut answered: Vec<String> = Vec::new();
        loop {
            let e = self.until(Duration::from_secs(120), "a prompt or the end", |e| {
                matches!(e["event"].as_str(), Some("awaiting_learner" | "run_finished"))
            });
            if e["event"] == "run_finished" {
                assert_eq!(e["outcome"], "passed", "{:#?}", self.seen);
                return;
            }
            let step = e["step_id"].as_str().unwrap_or_default().to_string();
            if answered.contains(&step) {
                std::thread::sleep(Duration::from_millis(300));
            } else {
                for c in e["commands"].as_array().into_iter().flatten() {
                    run_command(c.as_str().unwrap_or_default());
                }
                answered.push(step);
            }
            self.answer("");
        }
    }

    /// Reads every remaining event and waits for the exit status.
    pub fn finish(&mut self, within: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        while self.next(within.saturating_sub(started.elapsed())).is_some() {}
        self.child.wait().expect("exit status")
    }
}

impl Drop for LiveRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Drives a hands-on [`LiveRun`] to its end as a learner would. At each
/// prompt `choose(step, commands, refused, first)` may give the commands to
/// run instead (a mistake, or its fix after a refusal); otherwise a step's
/// shown commands run once, on its first prompt. Returns the messages of
/// the checks that failed, in order.
#[allow(dead_code)] // not every test file runs a lab hands-on
pub fn drive_hands_on(
    run: &mut LiveRun,
    endpoint: &str,
    mut choose: impl FnMut(&str, &[String], &[String], bool) -> Option<Vec<String>>,
) -> Vec<String> {
    let mut done: Vec<String> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    loop {
        let e = run.until(Duration::from_secs(120), "a prompt or the end", |e| {
            matches!(
                e["event"].as_str(),
                Some("awaiting_learner" | "run_finished" | "check_result")
            )
        });
        match e["event"].as_str().unwrap_or_default() {
            "run_finished" => return refused,
            "check_result" => {
                if e["passed"] == false {
                    refused.push(e["message"].as_str().unwrap_or_default().to_string());
                }
            }
            _ => {
                let step = e["step_id"].as_str().unwrap_or_default().to_string();
                let commands: Vec<String> = e["commands"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|c| c.as_str().map(String::from)).collect())
                    .unwrap_or_default();
                let first = !done.contains(&step);
                match choose(&step, &commands, &refused, first) {
                    Some(chosen) => chosen.iter().for_each(|c| drop(run_shown(endpoint, c))),
                    None if first => {
                        for c in &commands {
                            assert!(!c.contains("not known yet"), "every id is filled in: {c}");
                            run_shown(endpoint, c);
                        }
                    }
                    None => std::thread::sleep(Duration::from_millis(300)),
                }
                if first {
                    done.push(step);
                }
                run.answer("");
            }
        }
    }
}

/// Creates the SSM instance profile the real-AWS path launches with, as
/// docs/real-aws.md says to (a role EC2 can take, with the SSM core policy).
pub fn create_ssm_instance_profile(endpoint: &str) {
    for args in [
        vec![
            "iam",
            "create-role",
            "--role-name",
            "snaplab-ssm",
            "--assume-role-policy-document",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        ],
        vec![
            "iam",
            "attach-role-policy",
            "--role-name",
            "snaplab-ssm",
            "--policy-arn",
            "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        ],
        vec![
            "iam",
            "create-instance-profile",
            "--instance-profile-name",
            "snaplab-ssm",
        ],
        vec![
            "iam",
            "add-role-to-instance-profile",
            "--instance-profile-name",
            "snaplab-ssm",
            "--role-name",
            "snaplab-ssm",
        ],
    ] {
        let out = aws(endpoint, &args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs one of the Python clients in tests/clients against `endpoint`;
/// asserts it exits 0 with every check passed, and returns its output.
pub fn run_python_client(script: &str, endpoint: &str) -> String {
    let path = repo_root().join("tests/clients").join(script);
    let out = Command::new(python())
        .arg(&path)
        .arg(endpoint)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); run `make test`, which installs boto3", python()));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    stdout
}

/// Runs one shown command in a shell, with the run's endpoint, retrying while
/// the cloud is mid-transition (e.g. attach right after detach).
pub fn run_shown(endpoint: &str, command: &str) -> String {
    run_shown_as(endpoint, "test", command)
}

/// [`run_shown`] with another access key (another account, to the emulator).
pub fn run_shown_as(endpoint: &str, access_key: &str, command: &str) -> String {
    let command = match command.strip_prefix("aws ") {
        Some(rest) => format!("{} {rest}", aws_cli()),
        None => command.to_string(),
    };
    let started = Instant::now();
    loop {
        let out = Command::new("sh")
            .args(["-c", &command])
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", access_key)
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_PAGER", "")
            .output()
            .expect("sh runs");
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{command} keeps failing: {stderr}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `snaplab run <lab> --json` with `extra` flags, recorded in a fresh
/// directory's database; the run must exit 0. Returns the directory and
/// the run's events.
#[allow(dead_code)] // not every test file runs a lab guided
pub fn guided_run(lab: &str, extra: &[&str]) -> (TempDir, Vec<serde_json::Value>) {
    let dir = TempDir::new(lab);
    let db = dir.db();
    let mut args = vec!["run", lab, "--json", "--db", &db];
    args.extend_from_slice(extra);
    let out = snaplab(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events = json_lines(&out);
    (dir, events)
}
