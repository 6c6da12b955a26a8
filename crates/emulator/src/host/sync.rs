//! Keeping a sandboxed volume's file and the volume's data in step around
//! the EC2 actions that read or change them: before a snapshot, a detach or
//! a termination, the holder's processes stop and the file's changed blocks
//! go into the volume; after an attach, the file appears; after a detach or
//! termination, it goes.

use bytes::Bytes;

use super::{FileBlock, Hosts};
use crate::blocks::{VolumeData, BLOCK_SIZE};
use crate::model::Cloud;
use crate::wire::query::QueryParams;

/// Where an EC2 action that reads volume data (or ends an attachment)
/// names its volumes.
enum Names {
    /// `VolumeId`: CreateSnapshot, DetachVolume.
    Volume,
    /// `InstanceSpecification.InstanceId`: CreateSnapshots.
    InstanceSpecification,
    /// `InstanceId.N`: TerminateInstances.
    Instances,
}

fn names(action: &str) -> Option<Names> {
    match action {
        "CreateSnapshot" | "DetachVolume" => Some(Names::Volume),
        "CreateSnapshots" => Some(Names::InstanceSpecification),
        "TerminateInstances" => Some(Names::Instances),
        _ => None,
    }
}

/// Whether `action` may need sandboxed volumes' files read first.
/// A request the sandboxes cannot follow, refused before it is handled: a
/// sandbox holds a volume as one instance's file, so a Multi-Attach volume
/// attaches to one sandboxed instance at a time.
pub fn refused(cloud: &Cloud, action: &str, params: &QueryParams) -> Option<crate::error::Ec2Error> {
    if action != "AttachVolume" {
        return None;
    }
    let volume = cloud.volumes.get(params.str("VolumeId")?)?;
    (volume.multi_attach && !volume.attachments.is_empty()).then(|| {
        crate::ec2_error!(
            UnsupportedOperation,
            "snaplab emulator --run-commands keeps a volume's data as one instance's file: a Multi-Attach volume attaches to one instance at a time here. Detach {} first, or run the emulator without --run-commands.",
            volume.id
        )
    })
}

pub fn reads_volumes(action: &str) -> bool {
    names(action).is_some()
}

/// The volumes whose files must be read into the cloud before `action` runs.
pub fn volumes_to_sync(cloud: &Cloud, hosts: &Hosts, action: &str, params: &QueryParams) -> Vec<String> {
    let of_instances = |ids: Vec<&str>| -> Vec<String> {
        ids.iter()
            .flat_map(|i| cloud.attached_to(i).map(|v| v.id.clone()).collect::<Vec<_>>())
            .collect()
    };
    let candidates = match names(action) {
        Some(Names::Volume) => params.str("VolumeId").map(String::from).into_iter().collect(),
        Some(Names::InstanceSpecification) => of_instances(
            params
                .nested("InstanceSpecification")
                .str("InstanceId")
                .into_iter()
                .collect(),
        ),
        Some(Names::Instances) => of_instances(params.list("InstanceId")),
        None => Vec::new(),
    };
    candidates.into_iter().filter(|v| hosts.holds(v)).collect()
}

/// Files read with their holders stopped, waiting to go into the cloud.
#[derive(Debug, Default)]
pub struct Prepared {
    paused: Vec<String>,
    files: Vec<(String, Vec<FileBlock>)>,
}

/// Stops the holders of `volumes` and reads their files. Blocking.
pub fn prepare(hosts: &Hosts, volumes: &[String]) -> Prepared {
    let mut prepared = Prepared::default();
    for v in volumes {
        if let Some(instance) = hosts.pause_holder(v) {
            if !prepared.paused.contains(&instance) {
                prepared.paused.push(instance);
            }
        }
        match hosts.read_volume_file(v) {
            Ok(Some(blocks)) => prepared.files.push((v.clone(), blocks)),
            Ok(None) => {}
            Err(e) => tracing::error!(volume = %v, error = %e, "cannot read a sandboxed volume's file"),
        }
    }
    prepared
}

impl Prepared {
    /// Copies every block that differs into its volume; returns the writes
    /// made (for the journal). Under the cloud lock: memory only.
    pub fn apply(&self, cloud: &mut Cloud) -> Vec<(String, u64, Bytes)> {
        let mut writes = Vec::new();
        for (volume, blocks) in &self.files {
            let Some(v) = cloud.volumes.get(volume) else { continue };
            let changed: Vec<(u64, Bytes)> = blocks
                .iter()
                .filter_map(|(index, data)| {
                    let now = v.data.block_bytes(*index);
                    let differs = match (now, data) {
                        (None, None) => false,
                        (Some(held), Some(new)) => held[..new.len()] != new[..],
                        (Some(held), None) => held != &vec![0u8; held.len()][..],
                        (None, Some(_)) => true,
                    };
                    let len = usize::try_from(BLOCK_SIZE).unwrap_or(0);
                    differs.then(|| {
                        let bytes = data.clone().unwrap_or_else(|| vec![0; len]);
                        (index * BLOCK_SIZE, Bytes::from(bytes))
                    })
                })
                .collect();
            for (offset, bytes) in changed {
                if cloud.write_volume(volume, offset, &bytes).is_ok() {
                    writes.push((volume.clone(), offset, bytes));
                }
            }
        }
        writes
    }

    /// Lets the stopped processes go on.
    pub fn resume(&self, hosts: &Hosts) {
        for instance in &self.paused {
            hosts.resume(instance);
        }
    }
}

/// What to do to the sandboxes once `action` succeeded.
#[derive(Debug)]
pub enum After {
    /// Make the volume's file appear in the instance's sandbox.
    Attach {
        instance: String,
        volume: String,
        size: u64,
        data: VolumeData,
    },
    Detach(String),
    Terminate(Vec<String>),
    Nothing,
}

/// Reads, under the lock, what a successful `action` means for the sandboxes.
pub fn after(cloud: &Cloud, action: &str, params: &QueryParams) -> After {
    match action {
        "AttachVolume" => {
            let (Some(volume), Some(instance)) = (params.str("VolumeId"), params.str("InstanceId")) else {
                return After::Nothing;
            };
            let capable = cloud.instances.get(instance).is_some_and(|i| cloud.ssm_capable(i));
            match cloud.volumes.get(volume) {
                Some(v) if capable => After::Attach {
                    instance: instance.to_string(),
                    volume: volume.to_string(),
                    size: v.size_bytes(),
                    data: v.data.clone(),
                },
                _ => After::Nothing,
            }
        }
        "DetachVolume" => params
            .str("VolumeId")
            .map_or(After::Nothing, |v| After::Detach(v.to_string())),
        "TerminateInstances" => After::Terminate(params.list("InstanceId").into_iter().map(String::from).collect()),
        _ => After::Nothing,
    }
}

impl After {
    /// Does it. Blocking (writes files).
    pub fn apply(self, hosts: &Hosts) {
        match self {
            Self::Attach {
                instance,
                volume,
                size,
                data,
            } => {
                if let Err(e) = hosts.attach(&instance, &volume, size, &data) {
                    tracing::error!(%volume, %instance, error = %e, "cannot put a volume's file in the instance's sandbox");
                }
            }
            Self::Detach(volume) => hosts.detach(&volume),
            Self::Terminate(instances) => instances.iter().for_each(|i| hosts.terminate(i)),
            Self::Nothing => {}
        }
    }
}
