//! The lab's aws CLI commands, verbatim, against a standalone `snaplab emulator`
//! at pace demo: the real aws CLI parses every reply.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::{Duration, Instant};

use common::{aws, aws_as, aws_json, aws_json_as, EmulatorProcess};

const DATA_VOLUME: &str = "vol-0123456789abcdef0";

fn poll_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "{what} did not happen within {timeout:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// `"37%"` as 37; anything else fails the test.
fn percent(v: &serde_json::Value) -> u8 {
    v.as_str()
        .and_then(|p| p.strip_suffix('%'))
        .and_then(|p| p.parse().ok())
        .filter(|p| *p <= 100)
        .unwrap_or_else(|| panic!("Progress is not a percentage: {v}"))
}

#[test]
fn the_lab_runs_verbatim_with_the_aws_cli() {
    let emulator = EmulatorProcess::start(&["--pace", "demo"]);
    let ep = emulator.endpoint.as_str();

    // Find the SecureCart instance as a learner would.
    let instances = aws_json(
        ep,
        &[
            "ec2",
            "describe-instances",
            "--filters",
            "Name=tag:Name,Values=securecart-app",
            "--output",
            "json",
        ],
    );
    let instance_id = instances["Reservations"][0]["Instances"][0]["InstanceId"]
        .as_str()
        .expect("instance id")
        .to_string();

    // Step 1: create the snapshot, verbatim from the lab.
    let created = aws_json(
        ep,
        &[
            "ec2",
            "create-snapshot",
            "--volume-id",
            DATA_VOLUME,
            "--description",
            "Nightly backup",
            "--tag-specifications",
            "ResourceType=snapshot,Tags=[{Key=Name,Value=SecureCartBackup}]",
        ],
    );
    assert_eq!(created["State"], "pending");
    assert_eq!(created["VolumeId"], DATA_VOLUME);
    assert_eq!(created["Description"], "Nightly backup");
    assert_eq!(created["Tags"][0]["Value"], "SecureCartBackup");
    let snap = created["SnapshotId"].as_str().expect("snapshot id").to_string();
    let created_progress = percent(&created["Progress"]);
    assert!(created_progress < 100, "a pending snapshot is not at 100%: {created}");

    // Step 3: monitor until completed. What holds at any speed: Progress never
    // goes back, stays below 100% while pending, and is 100% once completed.
    // (A value strictly between 0 and 100 is not claimed: the standalone
    // emulator runs on the wall clock, and one aws CLI call can take longer
    // than the whole 6 s pending window on a busy machine, so no poll is
    // guaranteed to land inside it.)
    let mut seen: Vec<(String, u8)> = vec![("pending".to_string(), created_progress)];
    poll_until("snapshot completion", Duration::from_secs(300), || {
        let d = aws_json(ep, &["ec2", "describe-snapshots", "--snapshot-ids", &snap]);
        let s = &d["Snapshots"][0];
        let state = s["State"]
            .as_str()
            .unwrap_or_else(|| panic!("no State: {d}"))
            .to_string();
        let progress = percent(&s["Progress"]);
        let previous = seen.last().map_or(0, |(_, p)| *p);
        assert!(
            progress >= previous,
            "Progress went back: {seen:?} then {state} {progress}%"
        );
        match state.as_str() {
            "pending" => assert!(progress < 100, "pending at {progress}%: {seen:?}"),
            "completed" => assert_eq!(progress, 100, "completed at {progress}%: {seen:?}"),
            other => panic!("unexpected state {other}: {seen:?}"),
        }
        seen.push((state.clone(), progress));
        state == "completed"
    });
    assert_eq!(seen.last(), Some(&("completed".to_string(), 100)), "{seen:?}");
    let waited = aws(ep, &["ec2", "wait", "snapshot-completed", "--snapshot-ids", &snap]);
    assert!(waited.status.success(), "{}", String::from_utf8_lossy(&waited.stderr));

    // Step 4: restore into the instance's zone.
    let restored = aws_json(
        ep,
        &[
            "ec2",
            "create-volume",
            "--snapshot-id",
            &snap,
            "--availability-zone",
            "us-east-1a",
        ],
    );
    assert_eq!(restored["State"], "creating");
    assert_eq!(restored["Size"], 8);
    assert_eq!(restored["SnapshotId"], snap.as_str());
    let vol = restored["VolumeId"].as_str().expect("volume id").to_string();
    poll_until("volume available", Duration::from_secs(120), || {
        let d = aws_json(ep, &["ec2", "describe-volumes", "--volume-ids", &vol]);
        d["Volumes"][0]["State"] == "available"
    });
    let waited = aws(ep, &["ec2", "wait", "volume-available", "--volume-ids", &vol]);
    assert!(waited.status.success());

    // Step 5: attach at /dev/sdg.
    let attached = aws_json(
        ep,
        &[
            "ec2",
            "attach-volume",
            "--volume-id",
            &vol,
            "--instance-id",
            &instance_id,
            "--device",
            "/dev/sdg",
        ],
    );
    assert_eq!(attached["State"], "attaching");
    assert_eq!(attached["Device"], "/dev/sdg");
    poll_until("volume attached", Duration::from_secs(120), || {
        let d = aws_json(ep, &["ec2", "describe-volumes", "--volume-ids", &vol]);
        d["Volumes"][0]["Attachments"][0]["State"] == "attached"
    });
    let waited = aws(ep, &["ec2", "wait", "volume-in-use", "--volume-ids", &vol]);
    assert!(waited.status.success());

    // A second attach of the same volume is refused with AWS's code.
    let again = aws(
        ep,
        &[
            "ec2",
            "attach-volume",
            "--volume-id",
            &vol,
            "--instance-id",
            &instance_id,
            "--device",
            "/dev/sdh",
        ],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("VolumeInUse"));
}

#[test]
fn cli_queries_filters_and_text_output_work() {
    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let ep = emulator.endpoint.as_str();
    let zones = aws(
        ep,
        &[
            "ec2",
            "describe-availability-zones",
            "--query",
            "AvailabilityZones[].ZoneName",
            "--output",
            "text",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&zones.stdout)
            .split_whitespace()
            .collect::<Vec<_>>(),
        [
            "us-east-1a",
            "us-east-1b",
            "us-east-1c",
            "us-east-1d",
            "us-east-1e",
            "us-east-1f"
        ]
    );
    let sized = aws_json(
        ep,
        &[
            "ec2",
            "describe-volumes",
            "--filters",
            "Name=attachment.device,Values=/dev/sdf",
            "--query",
            "Volumes[0].Size",
        ],
    );
    assert_eq!(sized, 8);
    let tags = aws_json(
        ep,
        &[
            "ec2",
            "describe-tags",
            "--filters",
            "Name=resource-id,Values=vol-0123456789abcdef0",
        ],
    );
    assert!(tags["Tags"].as_array().is_some_and(|t| t.len() == 2), "{tags}");
    // Elastic Volumes: grow the data volume, then read the modification back.
    let modified = aws_json(
        ep,
        &[
            "ec2",
            "modify-volume",
            "--volume-id",
            DATA_VOLUME,
            "--size",
            "16",
            "--volume-type",
            "gp3",
            "--throughput",
            "250",
        ],
    );
    let m = &modified["VolumeModification"];
    assert_eq!(
        (m["OriginalSize"].as_i64(), m["TargetSize"].as_i64()),
        (Some(8), Some(16)),
        "{modified}"
    );
    assert_eq!(m["TargetThroughput"].as_i64(), Some(250), "{modified}");
    let state = aws_json(
        ep,
        &[
            "ec2",
            "describe-volumes-modifications",
            "--volume-ids",
            DATA_VOLUME,
            "--query",
            "VolumesModifications[0].[ModificationState,Progress]",
        ],
    );
    assert_eq!(state, serde_json::json!(["completed", 100]), "pace instant");
}

#[test]
fn cli_reports_errors_with_aws_codes() {
    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let ep = emulator.endpoint.as_str();
    for (args, expected) in [
        (
            vec!["ec2", "describe-volumes", "--volume-ids", "vol-123"],
            "InvalidVolumeID.Malformed",
        ),
        (
            vec!["ec2", "describe-snapshots", "--snapshot-ids", "snap-0123456789abcdef0"],
            "InvalidSnapshot.NotFound",
        ),
        (
            vec![
                "ec2",
                "create-volume",
                "--availability-zone",
                "us-east-1z",
                "--size",
                "8",
            ],
            "InvalidZone.NotFound",
        ),
        (
            vec!["ec2", "create-volume", "--availability-zone", "us-east-1a"],
            "MissingParameter",
        ),
        (vec!["ec2", "delete-volume", "--volume-id", DATA_VOLUME], "VolumeInUse"),
        (
            vec!["ec2", "create-snapshot", "--volume-id", DATA_VOLUME, "--dry-run"],
            "DryRunOperation",
        ),
    ] {
        let out = aws(ep, &args);
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: expected {expected}, got {stderr}");
    }
}

#[test]
fn cli_reads_snapshot_blocks_with_aws_ebs() {
    use base64::Engine;
    use sha2::{Digest, Sha256};

    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let ep = emulator.endpoint.as_str();
    common::put_data(ep, DATA_VOLUME, 0, b"SecureCart order journal");
    let first = aws_json(ep, &["ec2", "create-snapshot", "--volume-id", DATA_VOLUME]);
    let first = first["SnapshotId"].as_str().unwrap().to_string();
    common::put_data(ep, DATA_VOLUME, 3 * 524_288 + 10, b"a later order");
    let second = aws_json(ep, &["ec2", "create-snapshot", "--volume-id", DATA_VOLUME]);
    let second = second["SnapshotId"].as_str().unwrap().to_string();

    let listed = aws_json(ep, &["ebs", "list-snapshot-blocks", "--snapshot-id", &second]);
    let indexes: Vec<i64> = listed["Blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["BlockIndex"].as_i64().unwrap())
        .collect();
    assert_eq!(indexes, [0, 3]);
    assert_eq!(listed["BlockSize"], 524_288);

    let changed = aws_json(
        ep,
        &[
            "ebs",
            "list-changed-blocks",
            "--first-snapshot-id",
            &first,
            "--second-snapshot-id",
            &second,
        ],
    );
    assert_eq!(changed["ChangedBlocks"].as_array().map(Vec::len), Some(1));
    assert_eq!(changed["ChangedBlocks"][0]["BlockIndex"], 3);

    let token = listed["Blocks"][0]["BlockToken"].as_str().unwrap();
    let out_file = std::env::temp_dir().join(format!("snaplab-block-{}.bin", std::process::id()));
    let got = aws_json(
        ep,
        &[
            "ebs",
            "get-snapshot-block",
            "--snapshot-id",
            &second,
            "--block-index",
            "0",
            "--block-token",
            token,
            out_file.to_str().unwrap(),
        ],
    );
    let bytes = std::fs::read(&out_file).unwrap();
    std::fs::remove_file(&out_file).unwrap();
    assert_eq!(bytes.len(), 524_288);
    assert!(bytes.starts_with(b"SecureCart order journal"));
    assert_eq!(got["DataLength"], 524_288);
    assert_eq!(got["ChecksumAlgorithm"], "SHA256");
    let ours = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
    assert_eq!(got["Checksum"], ours.as_str());
}

/// Regions, accounts, encryption, copies, sharing and Multi-Attach as a
/// learner types them: every reply parsed by the real aws CLI.
#[test]
fn cli_copies_shares_and_encrypts_across_regions_and_accounts() {
    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let ep = emulator.endpoint.as_str();
    let other = "111122223333";
    let zones = aws_json(
        ep,
        &[
            "ec2",
            "describe-availability-zones",
            "--region",
            "eu-west-1",
            "--query",
            "AvailabilityZones[].ZoneName",
        ],
    );
    assert_eq!(zones, serde_json::json!(["eu-west-1a", "eu-west-1b", "eu-west-1c"]));

    // Encryption by default, then a snapshot of an encrypted volume.
    let on = aws_json(ep, &["ec2", "enable-ebs-encryption-by-default"]);
    assert_eq!(on["EbsEncryptionByDefault"], true, "{on}");
    let key = aws_json(ep, &["ec2", "get-ebs-default-kms-key-id", "--query", "KmsKeyId"]);
    let vol = aws_json(
        ep,
        &[
            "ec2",
            "create-volume",
            "--availability-zone",
            "us-east-1a",
            "--size",
            "1",
        ],
    );
    assert_eq!(key, "alias/aws/ebs");
    assert_eq!(vol["Encrypted"], true, "{vol}");
    assert!(
        vol["KmsKeyId"]
            .as_str()
            .is_some_and(|k| k.starts_with("arn:aws:kms:us-east-1:000000000000:key/")),
        "{vol}"
    );
    aws_json(ep, &["ec2", "disable-ebs-encryption-by-default"]);

    // A snapshot of SecureCart's data volume, copied to another region.
    let snap = aws_json(ep, &["ec2", "create-snapshot", "--volume-id", DATA_VOLUME]);
    let snap = snap["SnapshotId"].as_str().unwrap().to_string();
    let copy = aws_json(
        ep,
        &[
            "ec2",
            "copy-snapshot",
            "--region",
            "eu-west-1",
            "--source-region",
            "us-east-1",
            "--source-snapshot-id",
            &snap,
            "--description",
            "DR copy",
        ],
    );
    let copy_id = copy["SnapshotId"].as_str().unwrap().to_string();
    let in_eu = aws_json(
        ep,
        &[
            "ec2",
            "describe-snapshots",
            "--region",
            "eu-west-1",
            "--owner-ids",
            "self",
            "--query",
            "Snapshots[].[SnapshotId,Description,VolumeId]",
        ],
    );
    assert_eq!(in_eu, serde_json::json!([[copy_id, "DR copy", "vol-ffffffff"]]));

    // Shared with another account, which then sees and restores it.
    let hidden = aws_as(ep, other, &["ec2", "describe-snapshots", "--snapshot-ids", &snap]);
    assert!(String::from_utf8_lossy(&hidden.stderr).contains("InvalidSnapshot.NotFound"));
    aws_json(
        ep,
        &[
            "ec2",
            "modify-snapshot-attribute",
            "--snapshot-id",
            &snap,
            "--attribute",
            "createVolumePermission",
            "--operation-type",
            "add",
            "--user-ids",
            other,
        ],
    );
    let attr = aws_json(
        ep,
        &[
            "ec2",
            "describe-snapshot-attribute",
            "--snapshot-id",
            &snap,
            "--attribute",
            "createVolumePermission",
        ],
    );
    assert_eq!(
        attr["CreateVolumePermissions"],
        serde_json::json!([{ "UserId": other }]),
        "{attr}"
    );
    let seen = aws_json_as(
        ep,
        other,
        &[
            "ec2",
            "describe-snapshots",
            "--restorable-by-user-ids",
            "self",
            "--query",
            "Snapshots[].OwnerId",
        ],
    );
    assert_eq!(seen, serde_json::json!(["000000000000"]));
    let restored = aws_json_as(
        ep,
        other,
        &[
            "ec2",
            "create-volume",
            "--availability-zone",
            "us-east-1a",
            "--snapshot-id",
            &snap,
        ],
    );
    assert_eq!(restored["SnapshotId"].as_str(), Some(snap.as_str()), "{restored}");
    let identity = aws_json_as(ep, other, &["sts", "get-caller-identity", "--query", "Account"]);
    assert_eq!(identity, other);

    // Multi-Attach: io2 only.
    let refused = aws(
        ep,
        &[
            "ec2",
            "create-volume",
            "--availability-zone",
            "us-east-1a",
            "--size",
            "4",
            "--volume-type",
            "gp3",
            "--multi-attach-enabled",
        ],
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("InvalidParameterCombination"));
    let multi = aws_json(
        ep,
        &[
            "ec2",
            "create-volume",
            "--availability-zone",
            "us-east-1a",
            "--size",
            "4",
            "--volume-type",
            "io2",
            "--iops",
            "1000",
            "--multi-attach-enabled",
        ],
    );
    assert_eq!(multi["MultiAttachEnabled"], true, "{multi}");
}

/// A snapshot written block by block with `aws ebs`, then read back by EC2
/// and the EBS direct read APIs.
#[test]
fn cli_writes_a_snapshot_with_aws_ebs() {
    use base64::Engine;
    use sha2::{Digest, Sha256};

    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let ep = emulator.endpoint.as_str();
    let started = aws_json(
        ep,
        &[
            "ebs",
            "start-snapshot",
            "--volume-size",
            "1",
            "--description",
            "written",
        ],
    );
    assert_eq!(started["Status"], "pending", "{started}");
    assert_eq!(started["BlockSize"], 524288, "{started}");
    let snap = started["SnapshotId"].as_str().unwrap().to_string();

    let block = vec![7u8; 524_288];
    let file = std::env::temp_dir().join(format!("snaplab-block-{}", std::process::id()));
    std::fs::write(&file, &block).unwrap();
    // The aws CLI v1 takes a streaming blob as a plain path.
    let data = file.display().to_string();
    let checksum = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&block));
    let put = |index: &str, sum: &str| {
        aws(
            ep,
            &[
                "ebs",
                "put-snapshot-block",
                "--snapshot-id",
                &snap,
                "--block-index",
                index,
                "--block-data",
                &data,
                "--data-length",
                "524288",
                "--checksum",
                sum,
                "--checksum-algorithm",
                "SHA256",
            ],
        )
    };
    let wrong = put("3", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("ValidationException"));
    let ok = put("3", &checksum);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let wrong_count = aws(
        ep,
        &[
            "ebs",
            "complete-snapshot",
            "--snapshot-id",
            &snap,
            "--changed-blocks-count",
            "2",
        ],
    );
    assert!(String::from_utf8_lossy(&wrong_count.stderr).contains("ValidationException"));
    let done = aws_json(
        ep,
        &[
            "ebs",
            "complete-snapshot",
            "--snapshot-id",
            &snap,
            "--changed-blocks-count",
            "1",
        ],
    );
    assert!(
        matches!(done["Status"].as_str(), Some("pending" | "completed")),
        "{done}"
    );
    std::fs::remove_file(&file).unwrap();

    let described = aws_json(
        ep,
        &[
            "ec2",
            "describe-snapshots",
            "--snapshot-ids",
            &snap,
            "--query",
            "Snapshots[0].[State,Description,VolumeSize]",
        ],
    );
    assert_eq!(described, serde_json::json!(["completed", "written", 1]));
    let blocks = aws_json(
        ep,
        &[
            "ebs",
            "list-snapshot-blocks",
            "--snapshot-id",
            &snap,
            "--query",
            "Blocks[].BlockIndex",
        ],
    );
    assert_eq!(blocks, serde_json::json!([3]));
}

/// CreateSnapshots as a learner types it: one instant across the instance's
/// data volumes (the boot volume excluded), the volume's tags copied, the set
/// completing together.
#[test]
fn cli_creates_a_multi_volume_snapshot_set() {
    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let ep = emulator.endpoint.as_str();
    let instance = "i-0a1b2c3d4e5f60789";
    let set = aws_json(
        ep,
        &[
            "ec2",
            "create-snapshots",
            "--instance-specification",
            &format!("InstanceId={instance},ExcludeBootVolume=true"),
            "--copy-tags-from-source",
            "volume",
            "--description",
            "one instant",
            "--tag-specifications",
            "ResourceType=snapshot,Tags=[{Key=set,Value=nightly}]",
        ],
    );
    let snaps = set["Snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 1, "the data volume only: {set}");
    let s = &snaps[0];
    assert_eq!(s["VolumeId"], DATA_VOLUME);
    assert_eq!(s["Description"], "one instant");
    let keys: Vec<&str> = s["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["Key"].as_str())
        .collect();
    assert!(
        keys.contains(&"set") && keys.contains(&"Name"),
        "request tags and the volume's: {keys:?}"
    );
    let with_boot = aws_json(
        ep,
        &[
            "ec2",
            "create-snapshots",
            "--instance-specification",
            &format!("InstanceId={instance}"),
            "--query",
            "Snapshots[].VolumeId",
        ],
    );
    assert_eq!(with_boot.as_array().unwrap().len(), 2, "boot and data: {with_boot}");
    let refused = aws(
        ep,
        &[
            "ec2",
            "create-snapshots",
            "--instance-specification",
            &format!("InstanceId={instance},ExcludeBootVolume=true,ExcludeDataVolumeIds=[{DATA_VOLUME}]"),
        ],
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("InvalidParameterValue"),
        "nothing left to snapshot: {}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// Fast Snapshot Restore as a learner types it: enabled in a zone, listed
/// with its state, the deletion refused while it is on, then disabled.
#[test]
fn cli_enables_lists_and_disables_fast_snapshot_restore() {
    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let ep = emulator.endpoint.as_str();
    let snap = aws_json(
        ep,
        &[
            "ec2",
            "create-snapshot",
            "--volume-id",
            DATA_VOLUME,
            "--query",
            "SnapshotId",
        ],
    );
    let snap = snap.as_str().unwrap();
    aws_json(ep, &["ec2", "wait", "snapshot-completed", "--snapshot-ids", snap]);
    let on = aws_json(
        ep,
        &[
            "ec2",
            "enable-fast-snapshot-restores",
            "--availability-zones",
            "us-east-1a",
            "--source-snapshot-ids",
            snap,
        ],
    );
    assert_eq!(on["Successful"][0]["AvailabilityZone"], "us-east-1a", "{on}");
    assert_eq!(on["Unsuccessful"], serde_json::json!([]), "{on}");
    let listed = aws_json(
        ep,
        &[
            "ec2",
            "describe-fast-snapshot-restores",
            "--filters",
            &format!("Name=snapshot-id,Values={snap}"),
            "--query",
            "FastSnapshotRestores[].[AvailabilityZone,State]",
        ],
    );
    assert_eq!(listed, serde_json::json!([["us-east-1a", "enabled"]]), "instant pace");
    // A restore where it is enabled is initialized at creation, as
    // describe-volume-status reports.
    let restored = aws_json(
        ep,
        &[
            "ec2",
            "create-volume",
            "--snapshot-id",
            snap,
            "--availability-zone",
            "us-east-1a",
            "--query",
            "VolumeId",
        ],
    );
    let status = aws_json(
        ep,
        &[
            "ec2",
            "describe-volume-status",
            "--volume-ids",
            restored.as_str().unwrap(),
            "--query",
            "VolumeStatuses[0].[VolumeStatus.Status,InitializationStatusDetails]",
        ],
    );
    assert_eq!(
        status,
        serde_json::json!(["ok", {"InitializationType": "default", "Progress": 100}]),
        "{status}"
    );
    let off = aws_json(
        ep,
        &[
            "ec2",
            "disable-fast-snapshot-restores",
            "--availability-zones",
            "us-east-1a",
            "--source-snapshot-ids",
            snap,
            "--query",
            "Successful[0].State",
        ],
    );
    assert_eq!(off, "disabled", "instant pace: off at once");
    aws_json(ep, &["ec2", "delete-snapshot", "--snapshot-id", snap]);
}
