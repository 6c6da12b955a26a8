//! SecureCart on the learner's AWS account: its server launched for the
//! run (the plan's image, type and zone; IMDSv2 only, no key pair, no
//! inbound ports, the SSM instance profile), a gp3 data volume attached at
//! `/dev/sdf`, every resource tagged `snaplab:run` and `snaplab:lab` at
//! creation; the writer on the instance ([`RemoteShop`]); and the restored
//! volume verified on the instance by SecureCart's own verifier.

use std::time::Duration;

use snaplab_cloud::scenario::Scenario;
use snaplab_cloud::{CloudError, Ec2, Launch, VolumeState};
use snaplab_lab::site::{Created, OpenedShop, Site};
use snaplab_lab::tempo::Tempo;
use snaplab_lab::ShopSettings;
use snaplab_lab::{Clock, InstanceVerdict, LabError, ResourceKind, ResourceRole};

use crate::account::Account;
use crate::error::AwsError;
use crate::plan::{RunPlan, LAB_TAG, RUN_TAG};
use crate::remote_shop::{locations, nitro_device, RemoteShop};
use crate::ssm_shell::Shell;

/// The device the data volume is attached at, as the lab's pages name it.
pub const DATA_DEVICE: &str = "/dev/sdf";
/// Longest wait for the instance to be online in SSM.
const SSM_ONLINE_LIMIT: Duration = Duration::from_secs(15 * 60);

/// Something a learner should see while the instance comes up.
pub type Progress = std::sync::Arc<dyn Fn(String) + Send + Sync>;

pub struct AwsSite {
    pub account: Account,
    pub plan: RunPlan,
    pub progress: Progress,
    /// Hears every command sent to the instance (the run's API-call log).
    pub observer: Option<snaplab_cloud::ApiObserver>,
}

fn lab_error(e: AwsError) -> LabError {
    LabError::Cloud(CloudError::Other(e.to_string()))
}

impl AwsSite {
    fn shell(&self, instance_id: &str, tempo: &Tempo) -> Shell {
        Shell::new(
            &self.account,
            instance_id,
            tempo.poll.min(Duration::from_secs(2)),
            self.observer.clone(),
        )
    }

    fn say(&self, message: impl Into<String>) {
        (self.progress)(message.into());
    }

    /// Launches SecureCart's server and its data volume, tagged at creation,
    /// and attaches the volume at `/dev/sdf`; returns them and what was created.
    pub async fn launch(&self, ec2: &Ec2, run_id: &str, tempo: &Tempo) -> Result<(Scenario, Vec<Created>), LabError> {
        let (zone, image) = match (&self.plan.zone, &self.plan.image_id) {
            (Some(z), Some(i)) => (z.clone(), i.clone()),
            _ => {
                return Err(lab_error(AwsError::Other {
                    action: "provisioning".into(),
                    detail: "the plan has no zone or image: run `snaplab preflight` and fix what it reports".into(),
                }))
            }
        };
        let lab_id = self.plan.lab_id.as_str();
        let mut created = Vec::new();
        let server_tags = [("Name", "securecart-app"), (RUN_TAG, run_id), (LAB_TAG, lab_id)];
        self.say(format!(
            "Launching SecureCart's server: {} in {zone}, Amazon Linux 2023 ({image}).",
            self.plan.instance_type
        ));
        let instance = ec2
            .launch(&Launch {
                image_id: &image,
                instance_type: &self.plan.instance_type,
                zone: &zone,
                instance_profile: &self.plan.instance_profile,
                tags: &server_tags,
            })
            .await?;
        created.push(Created {
            kind: ResourceKind::Instance,
            id: instance.id.clone(),
            role: ResourceRole::AppServer,
            at: instance.launch_time,
        });
        let data_tags = [("Name", "securecart-data"), (RUN_TAG, run_id), (LAB_TAG, lab_id)];
        let volume = ec2
            .create_volume(&zone, Some(self.plan.data_gib), None, &data_tags)
            .await?;
        created.push(Created {
            kind: ResourceKind::Volume,
            id: volume.id.clone(),
            role: ResourceRole::AppData,
            at: volume.create_time,
        });
        self.say(format!(
            "Created the {} GiB gp3 data volume {}; waiting for the instance to run.",
            self.plan.data_gib, volume.id
        ));
        snaplab_cloud::scenario::wait_until(
            "the data volume becoming available",
            tempo.poll,
            tempo.patience,
            || async { Ok(ec2.volume(&volume.id).await?.state == VolumeState::Available) },
        )
        .await?;
        snaplab_cloud::scenario::wait_until("the instance running", tempo.poll, tempo.patience, || async {
            Ok(ec2.instance(&instance.id).await?.state == "running")
        })
        .await?;
        ec2.attach_volume(&volume.id, &instance.id, DATA_DEVICE).await?;
        snaplab_cloud::scenario::wait_until("the data volume attaching", tempo.poll, tempo.patience, || async {
            Ok(ec2.volume(&volume.id).await?.is_attached_to(&instance.id))
        })
        .await?;
        self.say(format!(
            "{} is running with the data volume at {DATA_DEVICE}.",
            instance.id
        ));
        Ok((
            Scenario {
                instance_id: instance.id,
                zone,
                data_volume_id: volume.id.clone(),
                data_device: DATA_DEVICE.to_string(),
                data_volume_bytes: volume.size_bytes(),
                inventory: None,
            },
            created,
        ))
    }

    /// Polls DescribeInstanceInformation until the instance's agent is online.
    async fn wait_online(&self, instance_id: &str, tempo: &Tempo) -> Result<(), LabError> {
        let started = tokio::time::Instant::now();
        let ssm = self.account.ssm();
        loop {
            let out = ssm
                .describe_instance_information()
                .filters(
                    aws_sdk_ssm::types::InstanceInformationStringFilter::builder()
                        .key("InstanceIds")
                        .values(instance_id)
                        .build()
                        .map_err(|e| {
                            lab_error(AwsError::Other {
                                action: "ssm:DescribeInstanceInformation".into(),
                                detail: e.to_string(),
                            })
                        })?,
                )
                .send()
                .await
                .map_err(|e| lab_error(self.account.classify("ssm:DescribeInstanceInformation", e)))?;
            let online = out.instance_information_list().iter().any(|i| {
                i.instance_id() == Some(instance_id) && i.ping_status() == Some(&aws_sdk_ssm::types::PingStatus::Online)
            });
            if online {
                return Ok(());
            }
            if started.elapsed() >= SSM_ONLINE_LIMIT {
                return Err(lab_error(AwsError::Other {
                    action: "ssm:DescribeInstanceInformation".into(),
                    detail: format!(
                        "{instance_id} did not come online in SSM within {} minutes: it needs outbound HTTPS to SSM (the default VPC has it) and the instance profile {} with AmazonSSMManagedInstanceCore",
                        SSM_ONLINE_LIMIT.as_secs() / 60,
                        self.plan.instance_profile
                    ),
                }));
            }
            self.say(format!(
                "Waiting for {instance_id} to register with SSM ({} s so far)…",
                started.elapsed().as_secs()
            ));
            tokio::time::sleep(tempo.poll).await;
        }
    }
}

#[async_trait::async_trait]
impl Site for AwsSite {
    async fn scenario(&self, ec2: &Ec2, run_id: &str, tempo: &Tempo) -> Result<(Scenario, Vec<Created>), LabError> {
        let (scenario, created) = self.launch(ec2, run_id, tempo).await?;
        self.wait_online(&scenario.instance_id, tempo).await?;
        self.say(format!(
            "{} is online in SSM: SecureCart can start.",
            scenario.instance_id
        ));
        Ok((scenario, created))
    }

    async fn open_shop(
        &self,
        scenario: &Scenario,
        seed: u64,
        tempo: &Tempo,
        _clock: Clock,
        recorded_through: u64,
        shop: &ShopSettings,
    ) -> Result<OpenedShop, LabError> {
        let shell = self.shell(&scenario.instance_id, tempo);
        let (shop, recovery) = RemoteShop::start(
            shell,
            &scenario.data_volume_id,
            seed,
            tempo.orders_per_sec,
            tempo.sample,
            recorded_through,
            shop,
        )
        .await
        .map_err(lab_error)?;
        Ok((Box::new(shop), recovery))
    }

    /// What the run's resources cost at snaplab's prices, for as long as
    /// they lived (the bill itself is AWS's to say).
    fn summary(&self, ctx: &snaplab_lab::RunContext) -> Option<String> {
        let table = crate::prices::table().ok()?;
        let (prices, region_priced) = table.for_region(&ctx.target.region);
        let hours = |r: &snaplab_lab::RunResource| -> f64 {
            match (r.created_at, r.deleted_at) {
                (Some(from), Some(to)) => (to - from).num_milliseconds().max(0) as f64 / 3_600_000.0,
                _ => 0.0,
            }
        };
        let of = |role: ResourceRole| ctx.resources.iter().filter(move |r| r.role == role);
        let server: f64 = of(ResourceRole::AppServer).map(hours).sum();
        if server == 0.0 {
            return None;
        }
        let data = f64::from(self.plan.data_gib);
        let usage = crate::prices::Usage {
            instance_type: self.plan.instance_type.clone(),
            instance_hours: server,
            gp3_gib_hours: f64::from(self.plan.root_gib) * server
                + data
                    * (of(ResourceRole::AppData).map(hours).sum::<f64>()
                        + of(ResourceRole::Restored).map(hours).sum::<f64>()),
            snapshot_gib_hours: data * of(ResourceRole::Backup).map(hours).sum::<f64>(),
            ebs_direct_blocks: u64::try_from(self.plan.data_gib).unwrap_or(0) * 2048,
            ebs_direct_list_requests: 1,
        };
        let cost = crate::prices::cost(prices, region_priced, &usage);
        let lines: Vec<String> = cost.lines.iter().map(|l| format!("{} ${:.4}", l.item, l.usd)).collect();
        Some(format!(
            "What this run's resources cost at snaplab's prices ({}, checked {}; the bill is AWS's to say): ${:.4} — {} (EBS direct reads counted at most: every block).",
            if region_priced { ctx.target.region.as_str() } else { "us-east-1's, none for this region" },
            table.checked,
            cost.total_usd,
            lines.join("; ")
        ))
    }

    async fn verify_attached(
        &self,
        scenario: &Scenario,
        restored_volume_id: &str,
        scan_through: u64,
        tempo: &Tempo,
    ) -> Result<Option<InstanceVerdict>, LabError> {
        let shell = self.shell(&scenario.instance_id, tempo);
        let script = format!(
            "{}\nfor i in $(seq 1 600); do [ -e \"$DEV\" ] && break; sleep 0.1; done\n\
             python3 \"$S\" verify --device \"$DEV\" --scan-through {scan_through} --replay",
            locations(restored_volume_id)
        );
        let out = shell
            .run(
                &script,
                Duration::from_secs(600),
                "SecureCart's verifier on the restored volume",
            )
            .await
            .map_err(lab_error)?;
        let v: serde_json::Value = serde_json::from_str(out.trim()).map_err(|e| {
            lab_error(AwsError::Other {
                action: "verifying on the instance".into(),
                detail: format!("the verifier's answer is not JSON ({e}): {}", out.trim()),
            })
        })?;
        Ok(Some(InstanceVerdict {
            device: nitro_device(restored_volume_id),
            last_seq: v["last_seq"].as_u64().unwrap_or(0),
            committed: v["committed"].as_u64().unwrap_or(0),
            torn: serde_json::from_value(v["torn"].clone()).unwrap_or_default(),
            intact: v["intact"].as_bool().unwrap_or(false),
            replayed: serde_json::from_value(v["replayed"].clone()).unwrap_or_default(),
        }))
    }
}
