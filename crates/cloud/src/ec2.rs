//! The EC2 operations the lab uses, over aws-sdk-ec2. Every call reports its
//! operation, request id, duration, error and the lab step it was made for
//! to an observer, so the lab can show and record each API call it makes.
//! [`Ec2::for_step`] gives a handle whose calls are attributed to a step.

use std::sync::Arc;
use std::time::Instant;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::operation::RequestId;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use chrono::{DateTime, Utc};

use crate::error::CloudError;
use crate::state::{AttachmentState, SnapshotState, VolumeState};

/// One API call, as the lab shows and records it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiCall {
    /// The lab step the call was made for (none outside a step).
    pub step_id: Option<String>,
    pub operation: String,
    pub request_id: Option<String>,
    pub duration_ms: u64,
    pub error: Option<String>,
}

pub type ApiObserver = Arc<dyn Fn(ApiCall) + Send + Sync>;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotInfo {
    pub id: String,
    pub volume_id: String,
    pub state: SnapshotState,
    pub progress: u8,
    pub start_time: DateTime<Utc>,
    pub completion_time: Option<DateTime<Utc>>,
    pub description: String,
    pub tags: Vec<(String, String)>,
}

impl SnapshotInfo {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttachmentInfo {
    pub instance_id: String,
    pub device: String,
    pub state: AttachmentState,
    pub attach_time: Option<DateTime<Utc>>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VolumeInfo {
    pub id: String,
    pub state: VolumeState,
    pub zone: String,
    pub size_gib: i32,
    pub snapshot_id: Option<String>,
    pub create_time: Option<DateTime<Utc>>,
    pub attachment: Option<AttachmentInfo>,
    pub tags: Vec<(String, String)>,
}

impl VolumeInfo {
    pub fn size_bytes(&self) -> u64 {
        u64::try_from(self.size_gib).unwrap_or(0) << 30
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn is_attached_to(&self, instance_id: &str) -> bool {
        self.attachment
            .as_ref()
            .is_some_and(|a| a.instance_id == instance_id && a.state == AttachmentState::Attached)
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstanceInfo {
    pub id: String,
    pub zone: String,
    pub state: String,
    pub root_device: String,
    /// (device, volume id) of every attached volume.
    pub devices: Vec<(String, String)>,
    pub launch_time: Option<DateTime<Utc>>,
}

fn chrono_time(t: Option<&aws_sdk_ec2::primitives::DateTime>) -> Option<DateTime<Utc>> {
    let t = t?;
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn tags_of(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A `SnapshotInfo` from DescribeSnapshots' `Snapshot` or CreateSnapshot's
/// output: two SDK types with the same accessors and no trait in common.
macro_rules! snapshot_info {
    ($s:expr) => {{
        let s = $s;
        SnapshotInfo {
            id: s.snapshot_id().unwrap_or_default().to_string(),
            volume_id: s.volume_id().unwrap_or_default().to_string(),
            state: s.state().map_or(SnapshotState::Unknown, SnapshotState::from),
            progress: s
                .progress()
                .and_then(|p| p.trim_end_matches('%').parse().ok())
                .unwrap_or(0),
            start_time: chrono_time(s.start_time()).unwrap_or_default(),
            completion_time: chrono_time(s.completion_time()),
            description: s.description().unwrap_or_default().to_string(),
            tags: tags_of(s.tags()),
        }
    }};
}

fn snapshot_info(s: &aws_sdk_ec2::types::Snapshot) -> SnapshotInfo {
    snapshot_info!(s)
}

fn volume_info(v: &aws_sdk_ec2::types::Volume) -> VolumeInfo {
    VolumeInfo {
        id: v.volume_id().unwrap_or_default().to_string(),
        state: v.state().map_or(VolumeState::Unknown, VolumeState::from),
        zone: v.availability_zone().unwrap_or_default().to_string(),
        size_gib: v.size().unwrap_or(0),
        snapshot_id: v.snapshot_id().filter(|s| !s.is_empty()).map(String::from),
        create_time: chrono_time(v.create_time()),
        attachment: v.attachments().first().map(|a| AttachmentInfo {
            instance_id: a.instance_id().unwrap_or_default().to_string(),
            device: a.device().unwrap_or_default().to_string(),
            state: a.state().map_or(AttachmentState::Unknown, AttachmentState::from),
            attach_time: chrono_time(a.attach_time()),
        }),
        tags: tags_of(v.tags()),
    }
}

fn instance_info(i: &aws_sdk_ec2::types::Instance) -> InstanceInfo {
    InstanceInfo {
        id: i.instance_id().unwrap_or_default().to_string(),
        zone: i
            .placement()
            .and_then(|p| p.availability_zone())
            .unwrap_or_default()
            .to_string(),
        state: i
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_string())
            .unwrap_or_default(),
        root_device: i.root_device_name().unwrap_or_default().to_string(),
        devices: i
            .block_device_mappings()
            .iter()
            .map(|m| {
                (
                    m.device_name().unwrap_or_default().to_string(),
                    m.ebs().and_then(|e| e.volume_id()).unwrap_or_default().to_string(),
                )
            })
            .collect(),
        launch_time: chrono_time(i.launch_time()),
    }
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn tag_spec(kind: ResourceType, tags: &[(&str, &str)]) -> TagSpecification {
    let mut spec = TagSpecification::builder().resource_type(kind);
    for (k, v) in tags {
        spec = spec.tags(Tag::builder().key(*k).value(*v).build());
    }
    spec.build()
}

/// What [`Ec2::launch`] launches.
#[derive(Debug, Clone)]
pub struct Launch<'a> {
    pub image_id: &'a str,
    pub instance_type: &'a str,
    pub zone: &'a str,
    pub instance_profile: &'a str,
    pub tags: &'a [(&'a str, &'a str)],
}

/// The EC2 client the lab uses, instrumented.
#[derive(Clone)]
pub struct Ec2 {
    client: aws_sdk_ec2::Client,
    endpoint: String,
    observer: Option<ApiObserver>,
    step: Option<Arc<str>>,
}

impl std::fmt::Debug for Ec2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ec2")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Ec2 {
    /// A client whose calls nobody observes yet (see [`observed_by`](Self::observed_by)).
    pub fn new(client: aws_sdk_ec2::Client, endpoint: &str) -> Self {
        Self {
            client,
            endpoint: endpoint.to_string(),
            observer: None,
            step: None,
        }
    }

    /// The same client, reporting every call to `observer`.
    pub fn observed_by(&self, observer: ApiObserver) -> Self {
        Self {
            observer: Some(observer),
            ..self.clone()
        }
    }

    /// The same client, reporting its calls to nobody (the lab's own
    /// bookkeeping, which is not what the learner is there to see).
    pub fn unobserved(&self) -> Self {
        Self {
            observer: None,
            step: None,
            ..self.clone()
        }
    }

    /// The same client, attributing its calls to lab step `step_id` (`None`: to no step).
    pub fn for_step(&self, step_id: Option<&str>) -> Self {
        Self {
            step: step_id.map(Arc::from),
            ..self.clone()
        }
    }

    /// Where its calls go (an endpoint URL, or a label such as `AWS us-east-1`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn client(&self) -> &aws_sdk_ec2::Client {
        &self.client
    }

    /// Runs one SDK call, reporting it to the observer.
    async fn call<T, E, R>(
        &self,
        operation: &str,
        request: impl std::future::Future<Output = Result<T, aws_sdk_ec2::error::SdkError<E, R>>>,
    ) -> Result<T, CloudError>
    where
        T: RequestId,
        E: ProvideErrorMetadata + RequestId + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let started = Instant::now();
        let result = request.await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (request_id, outcome) = match result {
            Ok(out) => (out.request_id().map(String::from), Ok(out)),
            Err(e) => {
                let id = match &e {
                    aws_sdk_ec2::error::SdkError::ServiceError(s) => s.err().request_id().map(String::from),
                    _ => None,
                };
                (id, Err(CloudError::from_sdk(&self.endpoint, e)))
            }
        };
        if let Some(observer) = &self.observer {
            observer(ApiCall {
                step_id: self.step.as_deref().map(String::from),
                operation: operation.to_string(),
                request_id,
                duration_ms,
                error: outcome.as_ref().err().map(ToString::to_string),
            });
        }
        outcome
    }

    /// The running (or pending) instance tagged `Name=<name>`.
    pub async fn find_instance(&self, name: &str) -> Result<Option<InstanceInfo>, CloudError> {
        let out = self
            .call(
                "DescribeInstances",
                self.client
                    .describe_instances()
                    .filters(filter("tag:Name", name))
                    .filters(
                        Filter::builder()
                            .name("instance-state-name")
                            .values("running")
                            .values("pending")
                            .build(),
                    )
                    .send(),
            )
            .await?;
        let found = out.reservations().iter().flat_map(|r| r.instances()).next();
        Ok(found.map(instance_info))
    }

    /// Launches an instance (used to set the scenario up on LocalStack or moto).
    pub async fn run_instance(&self, zone: &str, name: &str, image_id: &str) -> Result<String, CloudError> {
        let out = self
            .call(
                "RunInstances",
                self.client
                    .run_instances()
                    .image_id(image_id)
                    .instance_type(aws_sdk_ec2::types::InstanceType::T3Medium)
                    .min_count(1)
                    .max_count(1)
                    .placement(aws_sdk_ec2::types::Placement::builder().availability_zone(zone).build())
                    .tag_specifications(tag_spec(ResourceType::Instance, &[("Name", name)]))
                    .send(),
            )
            .await?;
        out.instances()
            .first()
            .and_then(|i| i.instance_id())
            .map(String::from)
            .ok_or_else(|| CloudError::Other("RunInstances returned no instance".into()))
    }

    /// Launches one instance as the real-AWS path does: tagged at launch
    /// (the instance and its root volume), IMDSv2 only, with an instance
    /// profile, no key pair, in `zone`'s default subnet.
    pub async fn launch(&self, spec: &Launch<'_>) -> Result<InstanceInfo, CloudError> {
        let out = self
            .call(
                "RunInstances",
                self.client
                    .run_instances()
                    .image_id(spec.image_id)
                    .instance_type(aws_sdk_ec2::types::InstanceType::from(spec.instance_type))
                    .min_count(1)
                    .max_count(1)
                    .placement(
                        aws_sdk_ec2::types::Placement::builder()
                            .availability_zone(spec.zone)
                            .build(),
                    )
                    .iam_instance_profile(
                        aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                            .name(spec.instance_profile)
                            .build(),
                    )
                    .metadata_options(
                        aws_sdk_ec2::types::InstanceMetadataOptionsRequest::builder()
                            .http_tokens(aws_sdk_ec2::types::HttpTokensState::Required)
                            .build(),
                    )
                    .tag_specifications(tag_spec(ResourceType::Instance, spec.tags))
                    .tag_specifications(tag_spec(ResourceType::Volume, spec.tags))
                    .send(),
            )
            .await?;
        out.instances()
            .first()
            .map(instance_info)
            .ok_or_else(|| CloudError::Other("RunInstances returned no instance".into()))
    }

    pub async fn instance(&self, id: &str) -> Result<InstanceInfo, CloudError> {
        let out = self
            .call(
                "DescribeInstances",
                self.client.describe_instances().instance_ids(id).send(),
            )
            .await?;
        out.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .next()
            .map(instance_info)
            .ok_or_else(|| CloudError::not_found("InvalidInstanceID.NotFound", "instance ID", id))
    }

    /// The value of one tag on a resource (`None`: not tagged so).
    pub async fn tag_value(&self, resource_id: &str, key: &str) -> Result<Option<String>, CloudError> {
        let out = self
            .call(
                "DescribeTags",
                self.client
                    .describe_tags()
                    .filters(filter("resource-id", resource_id))
                    .filters(filter("key", key))
                    .send(),
            )
            .await?;
        Ok(out
            .tags()
            .iter()
            .find(|t| t.key() == Some(key))
            .and_then(|t| t.value())
            .map(str::to_string))
    }

    /// Tags a resource (replacing the tag's value if it has one).
    pub async fn set_tag(&self, resource_id: &str, key: &str, value: &str) -> Result<(), CloudError> {
        self.call(
            "CreateTags",
            self.client
                .create_tags()
                .resources(resource_id)
                .tags(Tag::builder().key(key).value(value).build())
                .send(),
        )
        .await
        .map(|_| ())
    }

    /// Removes a tag from a resource.
    pub async fn remove_tag(&self, resource_id: &str, key: &str) -> Result<(), CloudError> {
        self.call(
            "DeleteTags",
            self.client
                .delete_tags()
                .resources(resource_id)
                .tags(Tag::builder().key(key).build())
                .send(),
        )
        .await
        .map(|_| ())
    }

    pub async fn terminate_instance(&self, id: &str) -> Result<(), CloudError> {
        self.call(
            "TerminateInstances",
            self.client.terminate_instances().instance_ids(id).send(),
        )
        .await
        .map(|_| ())
    }

    pub async fn volume(&self, id: &str) -> Result<VolumeInfo, CloudError> {
        let out = self
            .call("DescribeVolumes", self.client.describe_volumes().volume_ids(id).send())
            .await?;
        out.volumes()
            .first()
            .map(volume_info)
            .ok_or_else(|| CloudError::not_found("InvalidVolume.NotFound", "volume", id))
    }

    /// These volumes, in one call (ids that do not exist fail it: NotFound).
    pub async fn volumes(&self, ids: &[String]) -> Result<Vec<VolumeInfo>, CloudError> {
        let out = self
            .call(
                "DescribeVolumes",
                self.client.describe_volumes().set_volume_ids(Some(ids.to_vec())).send(),
            )
            .await?;
        Ok(out.volumes().iter().map(volume_info).collect())
    }

    /// Volumes matching one filter, e.g. `snapshot-id` or `tag:Name`.
    pub async fn volumes_where(&self, name: &str, value: &str) -> Result<Vec<VolumeInfo>, CloudError> {
        let out = self
            .call(
                "DescribeVolumes",
                self.client.describe_volumes().filters(filter(name, value)).send(),
            )
            .await?;
        Ok(out.volumes().iter().map(volume_info).collect())
    }

    pub async fn create_volume(
        &self,
        zone: &str,
        size_gib: Option<i32>,
        snapshot_id: Option<&str>,
        tags: &[(&str, &str)],
    ) -> Result<VolumeInfo, CloudError> {
        let mut req = self
            .client
            .create_volume()
            .availability_zone(zone)
            .volume_type(aws_sdk_ec2::types::VolumeType::Gp3)
            .set_size(size_gib)
            .set_snapshot_id(snapshot_id.map(String::from));
        if !tags.is_empty() {
            req = req.tag_specifications(tag_spec(ResourceType::Volume, tags));
        }
        let out = self.call("CreateVolume", req.send()).await?;
        Ok(VolumeInfo {
            id: out.volume_id().unwrap_or_default().to_string(),
            state: out.state().map_or(VolumeState::Unknown, VolumeState::from),
            zone: out.availability_zone().unwrap_or_default().to_string(),
            size_gib: out.size().unwrap_or(0),
            snapshot_id: out.snapshot_id().filter(|s| !s.is_empty()).map(String::from),
            create_time: chrono_time(out.create_time()),
            attachment: None,
            tags: tags_of(out.tags()),
        })
    }

    pub async fn attach_volume(&self, volume_id: &str, instance_id: &str, device: &str) -> Result<(), CloudError> {
        self.call(
            "AttachVolume",
            self.client
                .attach_volume()
                .volume_id(volume_id)
                .instance_id(instance_id)
                .device(device)
                .send(),
        )
        .await
        .map(|_| ())
    }

    pub async fn detach_volume(&self, volume_id: &str, instance_id: &str) -> Result<(), CloudError> {
        self.call(
            "DetachVolume",
            self.client
                .detach_volume()
                .volume_id(volume_id)
                .instance_id(instance_id)
                .send(),
        )
        .await
        .map(|_| ())
    }

    pub async fn delete_volume(&self, volume_id: &str) -> Result<(), CloudError> {
        self.call("DeleteVolume", self.client.delete_volume().volume_id(volume_id).send())
            .await
            .map(|_| ())
    }

    pub async fn create_snapshot(
        &self,
        volume_id: &str,
        description: &str,
        tags: &[(&str, &str)],
    ) -> Result<SnapshotInfo, CloudError> {
        let mut req = self
            .client
            .create_snapshot()
            .volume_id(volume_id)
            .description(description);
        // AWS refuses a TagSpecification without tags: send one only with tags.
        if !tags.is_empty() {
            req = req.tag_specifications(tag_spec(ResourceType::Snapshot, tags));
        }
        let out = self.call("CreateSnapshot", req.send()).await?;
        Ok(snapshot_info!(&out))
    }

    /// CreateSnapshots: every volume attached to `instance_id` at one instant,
    /// the boot volume and `exclude` left out; the set as DescribeSnapshots
    /// reports it (CreateSnapshots' own reply has no completion time).
    pub async fn create_snapshots(
        &self,
        instance_id: &str,
        exclude: &[String],
        description: &str,
        tags: &[(&str, &str)],
    ) -> Result<Vec<SnapshotInfo>, CloudError> {
        let spec = aws_sdk_ec2::types::InstanceSpecification::builder()
            .instance_id(instance_id)
            .exclude_boot_volume(true)
            .set_exclude_data_volume_ids((!exclude.is_empty()).then(|| exclude.to_vec()))
            .build();
        let mut req = self
            .client
            .create_snapshots()
            .instance_specification(spec)
            .description(description);
        if !tags.is_empty() {
            req = req.tag_specifications(tag_spec(ResourceType::Snapshot, tags));
        }
        let out = self.call("CreateSnapshots", req.send()).await?;
        let mut set = Vec::new();
        for s in out.snapshots() {
            set.push(self.snapshot(s.snapshot_id().unwrap_or_default()).await?);
        }
        Ok(set)
    }

    pub async fn snapshot(&self, id: &str) -> Result<SnapshotInfo, CloudError> {
        let out = self
            .call(
                "DescribeSnapshots",
                self.client.describe_snapshots().snapshot_ids(id).send(),
            )
            .await?;
        out.snapshots()
            .first()
            .map(snapshot_info)
            .ok_or_else(|| CloudError::not_found("InvalidSnapshot.NotFound", "snapshot", id))
    }

    /// Snapshots of one volume, owned by this account.
    pub async fn snapshots_of(&self, volume_id: &str) -> Result<Vec<SnapshotInfo>, CloudError> {
        let out = self
            .call(
                "DescribeSnapshots",
                self.client
                    .describe_snapshots()
                    .owner_ids("self")
                    .filters(filter("volume-id", volume_id))
                    .send(),
            )
            .await?;
        Ok(out.snapshots().iter().map(snapshot_info).collect())
    }

    /// Snapshots carrying tag `key=value`, of any volume.
    pub async fn snapshots_tagged(&self, key: &str, value: &str) -> Result<Vec<SnapshotInfo>, CloudError> {
        let out = self
            .call(
                "DescribeSnapshots",
                self.client
                    .describe_snapshots()
                    .owner_ids("self")
                    .filters(filter(&format!("tag:{key}"), value))
                    .send(),
            )
            .await?;
        Ok(out.snapshots().iter().map(snapshot_info).collect())
    }

    pub async fn delete_snapshot(&self, id: &str) -> Result<(), CloudError> {
        self.call("DeleteSnapshot", self.client.delete_snapshot().snapshot_id(id).send())
            .await
            .map(|_| ())
    }

    /// How far a restored volume has initialized (DescribeVolumeStatus's
    /// `InitializationStatusDetails.Progress`, 0–100); `None` where the cloud
    /// reports none (a volume created empty, or a cloud without it).
    pub async fn initialization_progress(&self, volume_id: &str) -> Result<Option<i64>, CloudError> {
        let out = self
            .call(
                "DescribeVolumeStatus",
                self.client.describe_volume_status().volume_ids(volume_id).send(),
            )
            .await?;
        Ok(out
            .volume_statuses()
            .iter()
            .find(|s| s.volume_id() == Some(volume_id))
            .and_then(|s| s.initialization_status_details())
            .and_then(|d| d.progress()))
    }

    /// EnableFastSnapshotRestores for one snapshot in one zone: the state it
    /// reports, or the reason the cloud refused this pair.
    pub async fn enable_fast_restore(&self, snapshot_id: &str, zone: &str) -> Result<String, CloudError> {
        let out = self
            .call(
                "EnableFastSnapshotRestores",
                self.client
                    .enable_fast_snapshot_restores()
                    .source_snapshot_ids(snapshot_id)
                    .availability_zones(zone)
                    .send(),
            )
            .await?;
        let refused = out.unsuccessful().first().map(|r| {
            r.fast_snapshot_restore_state_errors()
                .iter()
                .filter_map(|e| e.error())
                .map(|e| (e.code(), e.message()))
                .collect::<Vec<_>>()
        });
        let state = out.successful().first().and_then(|s| s.state()).map(|s| s.as_str());
        fast_restore_answer(snapshot_id, zone, refused, state)
    }

    /// DisableFastSnapshotRestores for one snapshot in one zone: the state it reports.
    pub async fn disable_fast_restore(&self, snapshot_id: &str, zone: &str) -> Result<String, CloudError> {
        let out = self
            .call(
                "DisableFastSnapshotRestores",
                self.client
                    .disable_fast_snapshot_restores()
                    .source_snapshot_ids(snapshot_id)
                    .availability_zones(zone)
                    .send(),
            )
            .await?;
        let refused = out.unsuccessful().first().map(|r| {
            r.fast_snapshot_restore_state_errors()
                .iter()
                .filter_map(|e| e.error())
                .map(|e| (e.code(), e.message()))
                .collect::<Vec<_>>()
        });
        let state = out.successful().first().and_then(|s| s.state()).map(|s| s.as_str());
        fast_restore_answer(snapshot_id, zone, refused, state)
    }

    /// Fast Snapshot Restore for a snapshot: (zone, state) for every zone it was enabled in.
    pub async fn fast_restores(&self, snapshot_id: &str) -> Result<Vec<(String, String)>, CloudError> {
        let out = self
            .call(
                "DescribeFastSnapshotRestores",
                self.client
                    .describe_fast_snapshot_restores()
                    .filters(filter("snapshot-id", snapshot_id))
                    .send(),
            )
            .await?;
        Ok(out
            .fast_snapshot_restores()
            .iter()
            .filter(|r| r.snapshot_id() == Some(snapshot_id))
            .map(|r| {
                (
                    r.availability_zone().unwrap_or_default().to_string(),
                    r.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                )
            })
            .collect())
    }
}

/// One (snapshot, zone)'s answer: its state, or its `Unsuccessful` item as an error.
fn fast_restore_answer(
    snapshot_id: &str,
    zone: &str,
    refused: Option<Vec<(Option<&str>, Option<&str>)>>,
    state: Option<&str>,
) -> Result<String, CloudError> {
    match refused {
        Some(errors) => Err(refusal(snapshot_id, zone, &errors)),
        None => Ok(state.unwrap_or_default().to_string()),
    }
}

/// An `Unsuccessful` item as an error: its first code and message.
fn refusal(snapshot_id: &str, zone: &str, errors: &[(Option<&str>, Option<&str>)]) -> CloudError {
    let (code, message) = errors.first().copied().unwrap_or((None, None));
    CloudError::Aws {
        code: code.unwrap_or("Unsuccessful").to_string(),
        message: format!(
            "Fast Snapshot Restore for {snapshot_id} in {zone}: {}",
            message.unwrap_or("refused without a reason")
        ),
    }
}
