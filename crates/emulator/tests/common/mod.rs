//! Test harness: an emulator on loopback and a real aws-sdk-ec2 client for it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ec2::config::{AsyncSleep, BehaviorVersion, Credentials, Region, SharedAsyncSleep, Sleep};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::Client;
use chrono::{TimeZone, Utc};
use snaplab_emulator::{Emulator, EmulatorConfig, ManualClock, Pace};

#[allow(unused_imports)]
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

    /// A new gp3 volume in `zone`, available (the clock moved on if manual).
    pub async fn new_volume(&self, zone: &str, size: i32) -> String {
        let out = self
            .ec2
            .create_volume()
            .availability_zone(zone)
            .size(size)
            .volume_type(aws_sdk_ec2::types::VolumeType::Gp3)
            .send()
            .await
            .expect("create volume");
        if self.clock.is_some() {
            self.advance(Duration::from_secs(60));
        }
        out.volume_id().expect("volume id").to_string()
    }
}

pub fn client(endpoint: &str) -> Client {
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "snaplab-tests"))
        .sleep_impl(SharedAsyncSleep::new(FastSleep))
        .build();
    Client::from_conf(config)
}

/// The AWS error code of a failed call, judged by the SDK's own parser.
pub fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, aws_sdk_ec2::config::http::HttpResponse>>,
) -> String {
    let err = result.expect_err("the call should fail");
    let status = err.raw_response().map(|r| r.status().as_u16());
    assert!(status.is_some_and(|s| s < 500), "error must not be a 5xx: {status:?}");
    err.code()
        .unwrap_or_else(|| panic!("no error code in {err:?}"))
        .to_string()
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
