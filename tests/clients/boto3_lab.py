"""The SecureCart lab through boto3, against a snaplab emulator.

Usage: python3 boto3_lab.py ENDPOINT
Exits 0 when every check passed; prints one line per check and a summary.
boto3's own parser and waiters (with a 1 s delay) judge the emulator's replies.
"""
import sys
import time

import boto3

DATA_VOLUME = "vol-0123456789abcdef0"
from checks import check, error_code, summary  # noqa: E402  (tests/clients/checks.py)


def main(endpoint):
    ec2 = boto3.client(
        "ec2",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    fast = {"Delay": 1, "MaxAttempts": 60}

    res = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["securecart-app"]}])
    instance = res["Reservations"][0]["Instances"][0]
    check("instance found by tag", instance["InstanceId"].startswith("i-"))
    check("instance running in us-east-1a", instance["State"]["Name"] == "running"
          and instance["Placement"]["AvailabilityZone"] == "us-east-1a")

    snap = ec2.create_snapshot(
        VolumeId=DATA_VOLUME,
        Description="Nightly backup",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": "SecureCartBackup"}]}],
    )
    check("create_snapshot answers pending", snap["State"] == "pending", snap["State"])
    check("start time is a datetime", hasattr(snap["StartTime"], "year"))
    sid = snap["SnapshotId"]

    d = ec2.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]
    check("still pending right after creation (demo pace)", d["State"] == "pending", d["State"])
    check("progress is a percentage string", d["Progress"].endswith("%"), d["Progress"])

    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[sid], WaiterConfig=fast)
    d = ec2.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]
    check("waiter ends at completed 100%", d["State"] == "completed" and d["Progress"] == "100%", d)

    paginator = ec2.get_paginator("describe_snapshots")
    found = [s["SnapshotId"] for page in paginator.paginate(OwnerIds=["self"]) for s in page["Snapshots"]]
    check("paginator lists the snapshot for owner self", sid in found, found)

    vol = ec2.create_volume(SnapshotId=sid, AvailabilityZone="us-east-1a")
    check("restore starts creating, 8 GiB", vol["State"] == "creating" and vol["Size"] == 8, vol)
    ec2.get_waiter("volume_available").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig=fast)

    att = ec2.attach_volume(VolumeId=vol["VolumeId"], InstanceId=instance["InstanceId"], Device="/dev/sdg")
    check("attach answers attaching", att["State"] == "attaching", att["State"])
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig=fast)
    # in-use comes with the attach request; the attachment itself settles later.
    v = ec2.describe_volumes(VolumeIds=[vol["VolumeId"]])["Volumes"][0]
    check("in-use while the attachment may still be attaching",
          v["State"] == "in-use" and v["Attachments"][0]["State"] in ("attaching", "attached"), v)
    for _ in range(60):
        v = ec2.describe_volumes(VolumeIds=[vol["VolumeId"]])["Volumes"][0]
        if v["Attachments"][0]["State"] == "attached":
            break
        time.sleep(0.25)
    check("restored volume attached at /dev/sdg",
          v["Attachments"][0]["State"] == "attached" and v["Attachments"][0]["Device"] == "/dev/sdg", v)

    sets = ec2.create_snapshots(InstanceSpecification={"InstanceId": instance["InstanceId"], "ExcludeBootVolume": True},
                                CopyTagsFromSource="volume")
    check("create_snapshots takes the data volumes", len(sets["Snapshots"]) == 2, sets["Snapshots"])

    for name, call, kwargs, expected in [
        ("malformed volume id", ec2.describe_volumes, {"VolumeIds": ["vol-1"]}, ("InvalidVolumeID.Malformed", 400)),
        ("unknown snapshot", ec2.describe_snapshots, {"SnapshotIds": ["snap-0123456789abcdef1"]},
         ("InvalidSnapshot.NotFound", 400)),
        ("zone mismatch", ec2.attach_volume, None, ("InvalidVolume.ZoneMismatch", 400)),
        ("dry run", ec2.create_snapshot, {"VolumeId": DATA_VOLUME, "DryRun": True}, ("DryRunOperation", 412)),
        ("device in use", ec2.attach_volume, {"VolumeId": vol["VolumeId"], "InstanceId": instance["InstanceId"],
                                              "Device": "/dev/sdf"}, ("VolumeInUse", 400)),
    ]:
        if kwargs is None:
            other = ec2.create_volume(AvailabilityZone="us-east-1b", Size=1)
            ec2.get_waiter("volume_available").wait(VolumeIds=[other["VolumeId"]], WaiterConfig=fast)
            kwargs = {"VolumeId": other["VolumeId"], "InstanceId": instance["InstanceId"], "Device": "/dev/sdh"}
        got = error_code(call, **kwargs)
        check(f"error: {name} -> {expected[0]}", got == expected, got)

    return summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
