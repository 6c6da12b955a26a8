//! Test harness shared by the crates' tests: an emulator on loopback and real
//! AWS SDK clients for it (EC2 and EBS), with waiter sleeps cut short.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ec2::config::{AsyncSleep, BehaviorVersion, Credentials, Region, SharedAsyncSleep, Sleep};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::Client;
use chrono::{TimeZone, Utc};
use snaplab_emulator::{Emulator, EmulatorConfig, ManualClock, Pace};

pub use snaplab_emulator::seed::{DATA_DEVICE, DATA_VOLUME_ID, INSTANCE_ID, ROOT_VOLUME_ID};

/// Sleeps a hundredth of what the SDK asks, so waiters (15 s between polls)
/// run their real logic in test time.
#[derive(Debug)]
struct FastSleep;

impl AsyncSleep for FastSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        Sleep::new(tokio::time::sleep(duration / 100))
    }
}

pub struct Lab {
    pub emulator: Emulator,
    pub ec2: Client,
    pub clock: Option<Arc<ManualClock>>,
}

impl Lab {
    /// Seeded scenario at `pace`, on the wall clock.
    pub async fn start(pace: Pace) -> Self {
        Self::with_config(
            EmulatorConfig {
                pace,
                ..Default::default()
            },
            None,
        )
        .await
    }

    /// Seeded scenario at `pace`, on a clock only the test moves.
    pub async fn manual(pace: Pace) -> Self {
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap()));
        let config = EmulatorConfig {
            pace,
            clock: clock.clone(),
            ..Default::default()
        };
        Self::with_config(config, Some(clock)).await
    }

    /// Seeded scenario at `pace` whose error messages carry a learner's hint (`--hints`).
    pub async fn hinting(pace: Pace) -> Self {
        Self::with_config(
            EmulatorConfig {
                pace,
                hints: true,
                ..Default::default()
            },
            None,
        )
        .await
    }

    pub async fn empty(pace: Pace) -> Self {
        Self::with_config(
            EmulatorConfig {
                pace,
                seeded: false,
                ..Default::default()
            },
            None,
        )
        .await
    }

    async fn with_config(config: EmulatorConfig, clock: Option<Arc<ManualClock>>) -> Self {
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let ec2 = client(emulator.endpoint());
        Self { emulator, ec2, clock }
    }

    pub fn advance(&self, by: Duration) {
        self.clock.as_ref().expect("a manual clock").advance(by);
    }

    pub fn endpoint(&self) -> &str {
        self.emulator.endpoint()
    }

    /// Writes `data` at `offset` of a volume, as its instance's OS would
    /// (the emulator's data plane).
    pub async fn write(&self, volume: &str, offset: u64, data: &[u8]) {
        let r = reqwest::Client::new()
            .put(format!(
                "{}/_snaplab/volumes/{volume}/data?offset={offset}",
                self.endpoint()
            ))
            .body(data.to_vec())
            .send()
            .await
            .expect("the data plane answers");
        assert_eq!(r.status().as_u16(), 200, "writing {volume}");
    }

    pub async fn snapshot(&self, id: &str) -> aws_sdk_ec2::types::Snapshot {
        let out = self
            .ec2
            .describe_snapshots()
            .snapshot_ids(id)
            .send()
            .await
            .expect("describe snapshot");
        out.snapshots().first().cloned().expect("one snapshot")
    }

    pub async fn volume(&self, id: &str) -> aws_sdk_ec2::types::Volume {
        let out = self
            .ec2
            .describe_volumes()
            .volume_ids(id)
            .send()
            .await
            .expect("describe volume");
        out.volumes().first().cloned().expect("one volume")
    }

    pub async fn create_snapshot(&self, volume_id: &str) -> String {
        let out = self
            .ec2
            .create_snapshot()
            .volume_id(volume_id)
            .send()
            .await
            .expect("create snapshot");
        out.snapshot_id().expect("snapshot id").to_string()
    }

    /// CreateVolume of a gp3 volume in `zone`; returns its id at once (still `creating` at a slow pace).
    pub async fn create_volume(&self, zone: &str, size: i32) -> String {
        let out = self
            .ec2
            .create_volume()
            .availability_zone(zone)
            .size(size)
            .volume_type(aws_sdk_ec2::types::VolumeType::Gp3)
            .send()
            .await
            .expect("create volume");
        out.volume_id().expect("volume id").to_string()
    }

    /// A new gp3 volume in `zone`, available (the clock moved on if manual).
    pub async fn new_volume(&self, zone: &str, size: i32) -> String {
        let id = self.create_volume(zone, size).await;
        if self.clock.is_some() {
            self.advance(Duration::from_secs(60));
        }
        id
    }
}

/// An EBS direct API client for the emulator at `endpoint`.
pub fn ebs_client(endpoint: &str) -> aws_sdk_ebs::Client {
    ebs_client_in(endpoint, "us-east-1")
}

/// An EBS direct API client signing for `region`.
pub fn ebs_client_in(endpoint: &str, region: &str) -> aws_sdk_ebs::Client {
    let config = aws_sdk_ebs::Config::builder()
        .behavior_version(aws_sdk_ebs::config::BehaviorVersion::latest())
        .region(aws_sdk_ebs::config::Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ebs::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "snaplab-tests",
        ))
        .sleep_impl(SharedAsyncSleep::new(FastSleep))
        .build();
    aws_sdk_ebs::Client::from_conf(config)
}

/// An EC2 client for the emulator at `endpoint`.
pub fn client(endpoint: &str) -> Client {
    client_in(endpoint, "us-east-1", "test")
}

/// An EC2 client signing for `region` with `access_key` (12 digits: that
/// account, as LocalStack reads it; anything else: the default account).
pub fn client_in(endpoint: &str, region: &str, access_key: &str) -> Client {
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(access_key, "test", None, None, "snaplab-tests"))
        .sleep_impl(SharedAsyncSleep::new(FastSleep))
        .build();
    Client::from_conf(config)
}

/// The AWS error code of a failed call, judged by the SDK's own parser.
pub fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, aws_sdk_ec2::config::http::HttpResponse>>,
) -> String {
    failure(result).0
}

/// The code and the message of a failed call, judged by the SDK's own parser.
pub fn failure<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, aws_sdk_ec2::config::http::HttpResponse>>,
) -> (String, String) {
    let err = result.expect_err("the call should fail");
    let status = err.raw_response().map(|r| r.status().as_u16());
    assert!(status.is_some_and(|s| s < 500), "error must not be a 5xx: {status:?}");
    (
        err.code()
            .unwrap_or_else(|| panic!("no error code in {err:?}"))
            .to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

/// The message of a failed call (for checking it says what to do).
pub fn message<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, aws_sdk_ec2::config::http::HttpResponse>>,
) -> String {
    result
        .expect_err("the call should fail")
        .message()
        .unwrap_or_default()
        .to_string()
}

impl Lab {
    /// Waits (SDK waiter) until the snapshot is `completed`.
    pub async fn wait_completed(&self, snapshot_id: &str) {
        use aws_sdk_ec2::client::Waiters;
        self.ec2
            .wait_until_snapshot_completed()
            .snapshot_ids(snapshot_id)
            .wait(Duration::from_secs(300))
            .await
            .expect("snapshot completes");
    }

    /// Waits (SDK waiter) until the volume is `available`.
    pub async fn wait_available(&self, volume_id: &str) {
        use aws_sdk_ec2::client::Waiters;
        self.ec2
            .wait_until_volume_available()
            .volume_ids(volume_id)
            .wait(Duration::from_secs(300))
            .await
            .expect("volume available");
    }

    /// Waits until the volume's attachment reports `attached`.
    pub async fn wait_attached(&self, volume_id: &str) {
        for _ in 0..600 {
            let v = self.volume(volume_id).await;
            let state = v.attachments().first().and_then(|a| a.state().cloned());
            if state == Some(aws_sdk_ec2::types::VolumeAttachmentState::Attached) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{volume_id} never attached");
    }

    /// The lab's restore and attach steps: a new volume from the completed
    /// snapshot in the instance's zone, attached at `device`. Returns its id.
    pub async fn restore_and_attach(&self, snapshot_id: &str, device: &str) -> String {
        use aws_sdk_ec2::client::Waiters;
        self.wait_completed(snapshot_id).await;
        let out = self
            .ec2
            .create_volume()
            .snapshot_id(snapshot_id)
            .availability_zone("us-east-1a")
            .send()
            .await
            .expect("restore");
        let id = out.volume_id().expect("volume id").to_string();
        self.ec2
            .wait_until_volume_available()
            .volume_ids(&id)
            .wait(Duration::from_secs(300))
            .await
            .expect("restored volume available");
        self.ec2
            .attach_volume()
            .volume_id(&id)
            .instance_id(INSTANCE_ID)
            .device(device)
            .send()
            .await
            .expect("attach");
        self.wait_attached(&id).await;
        id
    }
}

/// The snapshot's StartTime as the API reports it, in microseconds since the epoch.
pub fn start_time_us(s: &aws_sdk_ec2::types::Snapshot) -> i64 {
    let t = s.start_time().expect("start time");
    t.secs() * 1_000_000 + i64::from(t.subsec_nanos() / 1000)
}
