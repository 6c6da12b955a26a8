//! The SecureCart scenario on a target: its app instance and data volume.
//! snaplab's emulator seeds them; on LocalStack or moto the lab sets them up
//! (tagged `App=SecureCart`, kept for the next run).

use std::time::Duration;

use crate::ec2::Ec2;
use crate::error::CloudError;
use crate::state::VolumeState;
use crate::target::TargetKind;

pub const INSTANCE_NAME: &str = "securecart-app";
pub const DATA_VOLUME_NAME: &str = "securecart-data";
pub const DATA_DEVICE: &str = "/dev/sdf";
const DATA_VOLUME_GIB: i32 = 8;
/// Any AMI id will do on the peers the lab sets up (they do not boot it).
const PLACEHOLDER_AMI: &str = "ami-0a5c3558529277641";

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Scenario {
    pub instance_id: String,
    pub zone: String,
    pub data_volume_id: String,
    pub data_device: String,
    pub data_volume_bytes: u64,
    /// A second data volume holding SecureCart's stock table, when a lab
    /// splits the store (the multi-volume lab creates it for the run).
    #[serde(default)]
    pub inventory: Option<InventoryVolume>,
}

/// SecureCart's inventory volume: its stock table, apart from the orders.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InventoryVolume {
    pub volume_id: String,
    pub device: String,
    pub bytes: u64,
}

/// Polls `ready` every `every` until it holds, for at most `limit`.
pub async fn wait_until<F, Fut>(what: &str, every: Duration, limit: Duration, mut ready: F) -> Result<(), CloudError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, CloudError>>,
{
    let started = tokio::time::Instant::now();
    loop {
        if ready().await? {
            return Ok(());
        }
        if started.elapsed() >= limit {
            return Err(CloudError::TimedOut {
                what: what.to_string(),
                seconds: limit.as_secs(),
            });
        }
        tokio::time::sleep(every).await;
    }
}

/// Finds the SecureCart scenario, setting it up where the target lacks it.
pub async fn find_or_create(
    ec2: &Ec2,
    kind: &TargetKind,
    region: &str,
    poll: Duration,
) -> Result<Scenario, CloudError> {
    let instance = match ec2.find_instance(INSTANCE_NAME).await? {
        Some(i) => i,
        None if kind.keeps_volume_data() => {
            return Err(CloudError::NoScenario {
                name: INSTANCE_NAME.to_string(),
            })
        }
        None => {
            let zone = format!("{region}a");
            ec2.run_instance(&zone, INSTANCE_NAME, PLACEHOLDER_AMI).await?;
            ec2.find_instance(INSTANCE_NAME)
                .await?
                .ok_or_else(|| CloudError::Other("the instance just launched cannot be found".into()))?
        }
    };
    if let Some((device, volume_id)) = instance.devices.iter().find(|(d, _)| d == DATA_DEVICE) {
        let v = ec2.volume(volume_id).await?;
        return Ok(Scenario {
            instance_id: instance.id,
            zone: instance.zone,
            data_volume_id: v.id.clone(),
            data_device: device.clone(),
            data_volume_bytes: v.size_bytes(),
            inventory: None,
        });
    }
    let existing = ec2
        .volumes_where("tag:Name", DATA_VOLUME_NAME)
        .await?
        .into_iter()
        .find(|v| v.zone == instance.zone && v.state == VolumeState::Available);
    let volume = match existing {
        Some(v) => v,
        None => {
            let v = ec2
                .create_volume(
                    &instance.zone,
                    Some(DATA_VOLUME_GIB),
                    None,
                    &[("Name", DATA_VOLUME_NAME), ("App", "SecureCart")],
                )
                .await?;
            wait_until(
                "the data volume becoming available",
                poll,
                Duration::from_secs(120),
                || async { Ok(ec2.volume(&v.id).await?.state == VolumeState::Available) },
            )
            .await?;
            v
        }
    };
    ec2.attach_volume(&volume.id, &instance.id, DATA_DEVICE).await?;
    wait_until("the data volume attaching", poll, Duration::from_secs(120), || async {
        Ok(ec2.volume(&volume.id).await?.is_attached_to(&instance.id))
    })
    .await?;
    Ok(Scenario {
        instance_id: instance.id,
        zone: instance.zone,
        data_volume_id: volume.id.clone(),
        data_device: DATA_DEVICE.to_string(),
        data_volume_bytes: volume.size_bytes(),
        inventory: None,
    })
}
