//! SecureCart's Python writer and verifier (crates/aws/remote/securecart.py,
//! what runs on a real instance) against files, held to the Rust workload:
//! the Rust verifier accepts what the Python writer writes, orders as its
//! log says; a writer killed with SIGKILL leaves an image both verifiers
//! read alike; a torn order is found and replayed by either.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use snaplab_aws::remote_shop::parse_log;
use snaplab_workload::{judge, verify, FileDevice, VerifyOptions, WriterLog};

const MIB: u64 = 1024 * 1024;

fn python() -> String {
    std::env::var("SNAPLAB_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("remote/securecart.py")
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("snaplab-py-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn image(&self, size: u64) -> PathBuf {
        let path = self.0.join("volume.img");
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(size).unwrap();
        path
    }

    fn state(&self) -> PathBuf {
        self.0.join("state")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn securecart(args: &[&str]) -> Output {
    Command::new(python())
        .arg(script())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); run `make test`", python()))
}

fn start_writer(image: &Path, state: &Path, rate: &str) -> Child {
    Command::new(python())
        .arg(script())
        .args(["write", "--device"])
        .arg(image)
        .arg("--state")
        .arg(state)
        .args(["--rate", rate])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the writer has logged at least `orders` orders.
fn wait_for_orders(state: &Path, orders: usize) {
    let started = Instant::now();
    loop {
        let n = std::fs::read_to_string(state.join("orders.log"))
            .map(|s| s.lines().count())
            .unwrap_or(0);
        if n >= orders {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the writer logged {n} orders"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The writer's log as the Rust workload keeps it (a line cut short by a kill is no acknowledgement).
fn log_of(state: &Path) -> WriterLog {
    let text = std::fs::read_to_string(state.join("orders.log")).unwrap_or_default();
    WriterLog::from_entries(parse_log(&text))
}

fn python_verdict(image: &Path, replay: bool) -> serde_json::Value {
    let mut args = vec!["verify", "--device", image.to_str().unwrap()];
    if replay {
        args.push("--replay");
    }
    let out = securecart(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rust_report(image: &Path) -> snaplab_workload::ImageReport {
    let device = FileDevice::open_or_create(image, 0).unwrap();
    verify(&device, &VerifyOptions::default()).unwrap()
}

#[test]
fn the_rust_verifier_accepts_what_the_python_writer_writes_and_its_log_holds() {
    let s = Scratch::new("writer");
    let image = s.image(8 * MIB);
    let writer = start_writer(&image, &s.state(), "0");
    wait_for_orders(&s.state(), 200);
    std::fs::write(s.state().join("stop"), "").unwrap();
    let out = writer.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let report = rust_report(&image);
    let log = log_of(&s.state());
    assert!(report.is_intact(), "{report:?}");
    assert!(report.torn.is_empty(), "a writer stopped cleanly leaves no torn order");
    assert_eq!(report.last_seq, summary["last_seq"].as_u64().unwrap());
    assert_eq!(report.last_seq, log.last_seq(), "every order written was logged");
    assert_eq!(report.committed, log.acknowledged() as u64);
    // Judged as a snapshot taken now: every acknowledged order is there.
    let now_us = chrono_now_us();
    let pit = judge(&report, &log, now_us, 1_000);
    assert!(pit.holds(), "{pit:?}");
    let python = python_verdict(&image, false);
    assert_eq!(python["committed"], report.committed);
    assert_eq!(python["intact"], true);
}

fn chrono_now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap()
}

#[test]
fn a_writer_killed_mid_order_leaves_an_image_both_verifiers_read_alike_and_replay_repairs() {
    let s = Scratch::new("kill");
    let image = s.image(8 * MIB);
    let mut writer = start_writer(&image, &s.state(), "0");
    wait_for_orders(&s.state(), 300);
    writer.kill().unwrap(); // SIGKILL, wherever it was
    writer.wait().unwrap();

    let report = rust_report(&image);
    let python = python_verdict(&image, false);
    assert_eq!(python["committed"], report.committed);
    assert_eq!(python["last_seq"], report.last_seq);
    assert_eq!(
        python["torn"],
        serde_json::json!(report.torn.iter().map(|t| t.seq).collect::<Vec<_>>())
    );
    assert!(
        report.is_intact(),
        "a kill tears at most the order in flight: {report:?}"
    );
    assert!(report.torn.len() <= 1);
    let log = log_of(&s.state());
    assert!(
        report.committed >= log.acknowledged() as u64,
        "nothing acknowledged is lost"
    );

    // The writer picks the store up again where it stopped.
    let mut writer = start_writer(&image, &s.state(), "0");
    wait_for_orders(&s.state(), log.entries().len() + 50);
    std::fs::write(s.state().join("stop"), "").unwrap();
    assert!(writer.wait().unwrap().success());
    let after = rust_report(&image);
    assert!(after.is_intact() && after.torn.is_empty(), "{after:?}");
    assert!(after.last_seq > report.last_seq);
}

#[test]
fn a_torn_order_is_found_by_both_and_replayed_by_the_python_verifier() {
    let s = Scratch::new("torn");
    let image = s.image(4 * MIB);
    // One more order's journal record but not its row: what a crash-consistent snapshot can hold.
    let program = format!(
        "import sys; sys.path.insert(0, {dir:?}); import securecart as s\n\
         img = s.Image({img:?}, writable=True)\n\
         st = s.Store.format(img, 512, 64, 1000000, bytes(range(16)), 1)\n\
         for k in range(20):\n    q = st.write_record(k % 64, 2, 999, 10 + k); st.apply(q, k % 64, 2, 11 + k)\n\
         st.write_record(7, 3, 999, 100)\n",
        dir = script().parent().unwrap().to_str().unwrap(),
        img = image.to_str().unwrap()
    );
    let out = Command::new(python()).args(["-c", &program]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let report = rust_report(&image);
    assert_eq!(report.torn.iter().map(|t| t.seq).collect::<Vec<_>>(), [21]);
    let python = python_verdict(&image, true);
    assert_eq!(python["torn"], serde_json::json!([21]));
    assert_eq!(python["replayed"], serde_json::json!([21]));
    assert_eq!(python["torn_after_replay"], 0);
    let repaired = rust_report(&image);
    assert!(repaired.torn.is_empty() && repaired.is_intact(), "{repaired:?}");
    assert_eq!(repaired.committed, 21);
}

#[test]
fn the_log_comes_in_whole_lines_and_status_says_what_the_writer_is_doing() {
    let s = Scratch::new("log");
    let image = s.image(4 * MIB);
    let mut writer = start_writer(&image, &s.state(), "0");
    wait_for_orders(&s.state(), 100);
    std::fs::write(s.state().join("pause"), "").unwrap();
    let started = Instant::now();
    while !s.state().join("paused").exists() {
        assert!(started.elapsed() < Duration::from_secs(30), "the writer did not pause");
        std::thread::sleep(Duration::from_millis(10));
    }
    let state = s.state();
    let status = securecart(&["status", "--state", state.to_str().unwrap()]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["paused"], true);
    assert_eq!(status["running"], true);

    let part = securecart(&[
        "log",
        "--state",
        state.to_str().unwrap(),
        "--offset",
        "0",
        "--max-bytes",
        "1000",
    ]);
    let text = String::from_utf8(part.stdout).unwrap();
    assert!(text.len() <= 1000 && text.ends_with('\n'), "{text:?}");
    assert_eq!(text.lines().next().map(|l| l.split(' ').count()), Some(5));
    let rest = securecart(&[
        "log",
        "--state",
        state.to_str().unwrap(),
        "--offset",
        &text.len().to_string(),
        "--max-bytes",
        "1000000",
    ]);
    let whole = std::fs::read_to_string(state.join("orders.log")).unwrap();
    assert_eq!(
        text + &String::from_utf8(rest.stdout).unwrap(),
        whole,
        "two pieces make the whole log"
    );

    std::fs::remove_file(state.join("pause")).unwrap();
    wait_for_orders(&state, whole.lines().count() + 20);
    std::fs::write(state.join("stop"), "").unwrap();
    assert!(writer.wait().unwrap().success());
    assert!(rust_report(&image).is_intact());
}
