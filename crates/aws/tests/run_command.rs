//! SSM Run Command on snaplab's emulator with `--run-commands`, judged by
//! aws-sdk-ssm, aws-sdk-ec2 and aws-sdk-ebs: an instance launched with the
//! SSM instance profile registers, its attached volume is a file in its
//! sandbox, a script writes to it, and a snapshot taken while a process
//! writes holds a point in time of the file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{IamInstanceProfileSpecification, InstanceType, Placement, VolumeType};
use aws_sdk_ssm::types::CommandInvocationStatus;
use snaplab_emulator::{Emulator, EmulatorConfig, Pace};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("snaplab-{name}-{}-{}", std::process::id(), fastrand_id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

fn fastrand_id() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Clients {
    ec2: aws_sdk_ec2::Client,
    ssm: aws_sdk_ssm::Client,
    ebs: aws_sdk_ebs::Client,
}

fn clients(endpoint: &str) -> Clients {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(
            aws_sdk_ec2::config::Credentials::new("test", "test", None, None, "test"),
        ))
        .build();
    Clients {
        ec2: aws_sdk_ec2::Client::new(&config),
        ssm: aws_sdk_ssm::Client::new(&config),
        ebs: aws_sdk_ebs::Client::new(&config),
    }
}

async fn emulator(run_commands: Option<PathBuf>) -> Emulator {
    Emulator::start(EmulatorConfig {
        pace: Pace::Instant,
        run_commands,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

/// A managed instance with a 1 GiB volume attached at /dev/sdf.
async fn instance_with_volume(c: &Clients) -> (String, String) {
    let out = c
        .ec2
        .run_instances()
        .image_id("ami-0a17023c0ffee8601")
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .placement(Placement::builder().availability_zone("us-east-1a").build())
        .iam_instance_profile(IamInstanceProfileSpecification::builder().name("snaplab-ssm").build())
        .send()
        .await
        .unwrap();
    let instance = out.instances()[0].instance_id().unwrap().to_string();
    let volume = c
        .ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .volume_type(VolumeType::Gp3)
        .send()
        .await
        .unwrap()
        .volume_id()
        .unwrap()
        .to_string();
    c.ec2
        .attach_volume()
        .volume_id(&volume)
        .instance_id(&instance)
        .device("/dev/sdf")
        .send()
        .await
        .unwrap();
    (instance, volume)
}

fn device(volume: &str) -> String {
    format!(
        "$SNAPLAB_ROOT/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_{}",
        volume.replacen('-', "", 1)
    )
}

async fn send(c: &Clients, instance: &str, script: &str) -> String {
    c.ssm
        .send_command()
        .instance_ids(instance)
        .document_name("AWS-RunShellScript")
        .parameters("commands", vec![script.to_string()])
        .send()
        .await
        .unwrap()
        .command()
        .and_then(|c| c.command_id())
        .unwrap()
        .to_string()
}

/// Polls the invocation until it leaves InProgress.
async fn finished(
    c: &Clients,
    command: &str,
    instance: &str,
) -> aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput {
    let started = Instant::now();
    loop {
        let out = c
            .ssm
            .get_command_invocation()
            .command_id(command)
            .instance_id(instance)
            .send()
            .await
            .unwrap();
        if out.status() != Some(&CommandInvocationStatus::InProgress) {
            return out;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the command did not finish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn snapshot_block(c: &Clients, volume: &str, index: i32) -> Option<Vec<u8>> {
    let snap = c.ec2.create_snapshot().volume_id(volume).send().await.unwrap();
    let id = snap.snapshot_id().unwrap().to_string();
    let blocks = c.ebs.list_snapshot_blocks().snapshot_id(&id).send().await.unwrap();
    let block = blocks.blocks().iter().find(|b| b.block_index() == Some(index))?;
    let data = c
        .ebs
        .get_snapshot_block()
        .snapshot_id(&id)
        .block_index(index)
        .block_token(block.block_token().unwrap())
        .send()
        .await
        .unwrap();
    Some(data.block_data.collect().await.unwrap().into_bytes().to_vec())
}

#[tokio::test]
async fn a_script_writes_the_attached_volume_and_the_snapshot_holds_it() {
    let dir = TempDir::new("run-command");
    let emulator = emulator(Some(dir.0.clone())).await;
    let c = clients(emulator.endpoint());
    let (instance, volume) = instance_with_volume(&c).await;

    let info = c.ssm.describe_instance_information().send().await.unwrap();
    let listed: Vec<&str> = info
        .instance_information_list()
        .iter()
        .filter_map(|i| i.instance_id())
        .collect();
    assert_eq!(
        listed,
        [instance.as_str()],
        "only the instance with the SSM profile is managed"
    );

    let script = format!(
        "printf 'SecureCart' | dd of={} bs=1 seek=1048576 conv=notrunc 2>/dev/null && echo written",
        device(&volume)
    );
    let command = send(&c, &instance, &script).await;
    let out = finished(&c, &command, &instance).await;
    assert_eq!(out.status(), Some(&CommandInvocationStatus::Success), "{out:?}");
    assert_eq!(out.standard_output_content(), Some("written\n"));
    assert_eq!(out.response_code(), 0);

    let block = snapshot_block(&c, &volume, 2).await.expect("block 2 was written");
    assert_eq!(&block[..10], b"SecureCart");
}

#[tokio::test]
async fn a_snapshot_taken_while_a_process_writes_is_a_point_in_time_and_the_process_goes_on() {
    let dir = TempDir::new("point-in-time");
    let emulator = emulator(Some(dir.0.clone())).await;
    let c = clients(emulator.endpoint());
    let (instance, volume) = instance_with_volume(&c).await;
    // Writes an ever-growing counter, twice (at 0 and at 1 MiB): a point in time has both equal.
    let script = format!(
        "i=0; while true; do i=$((i+1)); printf '%010d' $i | dd of={d} bs=1 seek=0 conv=notrunc 2>/dev/null; \
         printf '%010d' $i | dd of={d} bs=1 seek=1048576 conv=notrunc 2>/dev/null; done",
        d = device(&volume)
    );
    let command = send(&c, &instance, &script).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let first = snapshot_block(&c, &volume, 0).await.expect("written");
    let second = snapshot_block(&c, &volume, 0).await.expect("written");
    let n = |b: &[u8]| String::from_utf8_lossy(&b[..10]).parse::<u64>().unwrap();
    assert!(n(&second) > n(&first), "the writer went on between the snapshots");

    // Both copies agree within one snapshot's point in time, or differ by the
    // one write the process was between (it is stopped, never torn mid-byte).
    let snap = c.ec2.create_snapshot().volume_id(&volume).send().await.unwrap();
    let id = snap.snapshot_id().unwrap();
    let blocks = c.ebs.list_snapshot_blocks().snapshot_id(id).send().await.unwrap();
    let mut counters = Vec::new();
    for index in [0, 2] {
        let b = blocks.blocks().iter().find(|b| b.block_index() == Some(index)).unwrap();
        let data = c
            .ebs
            .get_snapshot_block()
            .snapshot_id(id)
            .block_index(index)
            .block_token(b.block_token().unwrap())
            .send()
            .await
            .unwrap();
        counters.push(n(&data.block_data.collect().await.unwrap().into_bytes()));
    }
    assert!(
        counters[0] == counters[1] || counters[0] == counters[1] + 1,
        "{counters:?}"
    );
    let status = c
        .ssm
        .get_command_invocation()
        .command_id(&command)
        .instance_id(&instance)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), Some(&CommandInvocationStatus::InProgress));

    // Terminated: the process is killed, the sandbox goes, the volume is detached.
    c.ec2
        .terminate_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    let out = finished(&c, &command, &instance).await;
    assert_ne!(out.status(), Some(&CommandInvocationStatus::Success));
    assert!(!dir.0.join(&instance).exists());
    let v = c.ec2.describe_volumes().volume_ids(&volume).send().await.unwrap();
    assert_eq!(v.volumes()[0].state().map(|s| s.as_str()), Some("available"));
}

#[tokio::test]
async fn commands_go_only_to_managed_instances_and_say_when_the_emulator_does_not_run_them() {
    let emulator = emulator(None).await;
    let c = clients(emulator.endpoint());
    let refused = c
        .ssm
        .send_command()
        .instance_ids("i-0a1b2c3d4e5f60789")
        .document_name("AWS-RunShellScript")
        .parameters("commands", vec!["true".to_string()])
        .send()
        .await
        .unwrap_err();
    use aws_sdk_ssm::error::ProvideErrorMetadata;
    assert_eq!(
        refused.code(),
        Some("InvalidInstanceId"),
        "the seeded server has no SSM profile"
    );

    let (instance, _) = instance_with_volume(&c).await;
    let command = send(&c, &instance, "echo hi").await;
    let out = finished(&c, &command, &instance).await;
    assert_eq!(out.status(), Some(&CommandInvocationStatus::Failed));
    assert!(
        out.standard_error_content()
            .unwrap_or_default()
            .contains("--run-commands"),
        "{out:?}"
    );
}

#[tokio::test]
async fn when_the_emulator_stops_no_process_it_started_outlives_it() {
    let dir = TempDir::new("rc-stop");
    let emulator = emulator(Some(dir.0.clone())).await;
    let c = clients(emulator.endpoint());
    let (instance, _) = instance_with_volume(&c).await;
    // A writer that would run for minutes: its pid is written where the test can read it.
    send(
        &c,
        &instance,
        "sleep 300 & echo $! > \"$SNAPLAB_ROOT/writer.pid\"; wait",
    )
    .await;
    let pid_file = dir.0.join(&instance).join("writer.pid");
    let started = Instant::now();
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file).ok().filter(|p| p.ends_with('\n')) {
            break pid.trim().to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the command never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let alive = |pid: &str| std::path::Path::new(&format!("/proc/{pid}")).exists();
    assert!(alive(&pid), "the writer is not running");
    emulator.stop().await;
    let stopped = Instant::now();
    // Killed processes linger as zombies until reaped by their parent: read their state.
    let gone = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.split_whitespace().nth(2) == Some("Z"))
    };
    while !gone(&pid) {
        assert!(
            stopped.elapsed() < Duration::from_secs(5),
            "process {pid} outlived the emulator"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
