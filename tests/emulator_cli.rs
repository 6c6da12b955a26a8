//! `snaplab emulator` as a process: its ready line, its flags, its shutdown.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::Command;
use std::time::Duration;

use common::{aws_json, EmulatorProcess};

#[test]
fn prints_one_ready_line_with_the_endpoint_and_answers_health() {
    let emulator = EmulatorProcess::start(&[]);
    assert!(
        emulator.ready_line.contains("ready at http://127.0.0.1:"),
        "{}",
        emulator.ready_line
    );
    assert!(
        emulator.ready_line.contains("pace demo"),
        "default pace is demo: {}",
        emulator.ready_line
    );
    let health: serde_json::Value = http_get::json(&format!("{}/_snaplab/health", emulator.endpoint));
    assert_eq!(health["service"], "snaplab-emulator");
    assert_eq!(health["pace"], "demo");
}

#[test]
fn sigterm_stops_it_cleanly_and_it_stops_serving() {
    use std::io::{Read, Write};
    let mut emulator = EmulatorProcess::start(&["--pace", "instant"]);
    // A request first, so a connection has been served.
    aws_json(&emulator.endpoint, &["ec2", "describe-volumes"]);
    // And a keep-alive connection left open and idle after one reply, as an
    // SDK's connection pool leaves them: shutdown must not wait for it.
    let host = emulator.endpoint.trim_start_matches("http://").to_string();
    let mut idle = std::net::TcpStream::connect(&host).unwrap();
    write!(idle, "GET /_snaplab/health HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
    let health = read_one_reply(&mut idle);
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let started_at = http_get::json(&format!("{}/_snaplab/health", emulator.endpoint))["started_at"].clone();

    // Generous deadline inside terminate(); how long it took is not judged.
    let (_took, status) = emulator.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");

    // It stopped serving: the idle connection is closed, not left hanging…
    idle.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut rest = Vec::new();
    match idle.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty(), "unexpected bytes after shutdown: {rest:?}"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    // …and nothing of it answers at its address any more (the port may have
    // gone to another listener since, which is not this emulator).
    match std::net::TcpStream::connect(&host) {
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}"),
        Ok(_) => {
            let now = std::panic::catch_unwind(|| http_get::json(&format!("http://{host}/_snaplab/health")));
            if let Ok(other) = now {
                assert_ne!(
                    other["started_at"], started_at,
                    "the stopped emulator still answers: {other}"
                );
            }
        }
    }
}

/// Reads one HTTP/1.1 reply with a Content-Length body, leaving the connection open.
fn read_one_reply(s: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(
            s.read(&mut byte).unwrap(),
            1,
            "reply cut short: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no Content-Length: {head}"));
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

#[test]
fn empty_starts_without_the_scenario() {
    let emulator = EmulatorProcess::start(&["--empty", "--pace", "instant"]);
    let vols = aws_json(&emulator.endpoint, &["ec2", "describe-volumes"]);
    assert_eq!(vols["Volumes"].as_array().map(Vec::len), Some(0));
    let zones = aws_json(&emulator.endpoint, &["ec2", "describe-availability-zones"]);
    // us-east-1 has six Availability Zones (a–f).
    assert_eq!(zones["AvailabilityZones"].as_array().map(Vec::len), Some(6));
    // Without --hints, an error is AWS's words only.
    let out = common::aws(
        &emulator.endpoint,
        &["ec2", "describe-volumes", "--volume-ids", "vol-0123456789abcdef0"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .trim_end()
            .ends_with("The volume 'vol-0123456789abcdef0' does not exist."),
        "{stderr}"
    );
}

#[test]
fn hints_tell_a_learner_at_the_aws_cli_what_to_do_next() {
    let emulator = EmulatorProcess::start(&["--pace", "instant", "--hints"]);
    let out = common::aws(
        &emulator.endpoint,
        &["ec2", "delete-volume", "--volume-id", "vol-0123456789abcdef0"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("(VolumeInUse)")
            && stderr.contains("is currently attached to i-")
            && stderr.contains("Detach it first: aws ec2 detach-volume --volume-id vol-0123456789abcdef0"),
        "{stderr}"
    );
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let first = EmulatorProcess::start(&[]);
    let port = first.endpoint.rsplit(':').next().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_snaplab"))
        .args(["emulator", "--bind", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot start the emulator") && stderr.contains("--bind"),
        "{stderr}"
    );
}

#[test]
fn a_wrong_pace_names_the_valid_ones() {
    let out = Command::new(env!("CARGO_BIN_EXE_snaplab"))
        .args(["emulator", "--pace", "fast"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("instant, demo or realistic"), "{stderr}");
}

#[test]
fn a_region_aws_lacks_is_refused_with_the_real_ones() {
    let out = Command::new(env!("CARGO_BIN_EXE_snaplab"))
        .args(["emulator", "--region", "mars-1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not an AWS region") && stderr.contains("eu-west-1"),
        "{stderr}"
    );
}

#[test]
fn help_explains_the_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_snaplab"))
        .args(["emulator", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--bind", "--pace", "--empty", "--hints", "AWS_ENDPOINT_URL"] {
        assert!(help.contains(flag), "help mentions {flag}: {help}");
    }
}

mod http_get {
    /// A tiny blocking GET for JSON over loopback (std only).
    pub fn json(url: &str) -> serde_json::Value {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").expect("http url");
        let (host, path) = rest
            .split_once('/')
            .map(|(h, p)| (h, format!("/{p}")))
            .unwrap_or((rest, "/".into()));
        let mut s = std::net::TcpStream::connect(host).expect("connect");
        write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        let body = reply.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {reply}"))
    }
}

/// Listening on every interface (a classroom): the emulator says what that
/// exposes, how to keep it to the class, and what learners point at; it
/// answers there. On loopback it says none of it.
#[test]
fn beyond_loopback_the_emulator_says_what_it_exposes() {
    use std::io::{BufRead, BufReader};
    let stderr_until_ready = |bind: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_snaplab"))
            .args(["emulator", "--pace", "instant", "--bind", bind])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        let port = ready
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .to_string();
        let mut said = String::new();
        for line in BufReader::new(child.stderr.take().unwrap()).lines() {
            let line = line.unwrap();
            said.push_str(&line);
            said.push('\n');
            if line.starts_with("Stop with Ctrl-C") {
                break;
            }
        }
        (child, port, said)
    };
    let (mut child, port, said) = stderr_until_ready("0.0.0.0:0");
    for text in [
        "any machine that can reach this one",
        "checks no signature or password",
        "share one world",
        "ufw allow from",
        &format!("to any port {port} proto tcp"),
        &format!(":{port} AWS_ACCESS_KEY_ID=test"),
    ] {
        assert!(said.contains(text), "{text:?} not in:\n{said}");
    }
    let out = common::aws(
        &format!("http://127.0.0.1:{port}"),
        &["ec2", "describe-volumes", "--volume-ids", "vol-0123456789abcdef0"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = child.kill();
    let _ = child.wait();

    let (mut child, _, said) = stderr_until_ready("127.0.0.1:0");
    assert!(!said.contains("any machine that can reach"), "{said}");
    let _ = child.kill();
    let _ = child.wait();
}
