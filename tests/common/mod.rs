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

    /// Sends SIGTERM and returns how long the process took to exit.
    pub fn terminate(&mut self) -> (Duration, std::process::ExitStatus) {
        let started = Instant::now();
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return (started.elapsed(), status);
            }
            assert!(started.elapsed() < Duration::from_secs(10), "emulator ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the aws CLI against `endpoint` with test credentials (as a learner's
/// terminal would after `export AWS_ENDPOINT_URL=…`).
pub fn aws(endpoint: &str, args: &[&str]) -> Output {
    Command::new(aws_cli())
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
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
    let out = aws(endpoint, args);
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
