//! Clean-up by tag: every instance, volume and snapshot in the account that
//! carries both snaplab tags (`snaplab:run`, `snaplab:lab`) — of one run, or
//! of every run — found in the account itself, not only in the local
//! record, so what a killed process left is found too. Nothing without
//! both tags is ever touched.

use std::time::Duration;

use aws_sdk_ec2::types::Filter;

use snaplab_cloud::scenario::wait_until;
use snaplab_cloud::{CloudError, VolumeState};

use crate::account::Account;
use crate::error::AwsError;
use crate::plan::{LAB_TAG, RUN_TAG};

/// Which runs' resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runs {
    One(String),
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Leftover {
    pub kind: &'static str,
    pub id: String,
    pub run: String,
    pub state: String,
}

/// What carries snaplab's tags in the account now.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Leftovers {
    pub instances: Vec<Leftover>,
    pub volumes: Vec<Leftover>,
    pub snapshots: Vec<Leftover>,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty() && self.volumes.is_empty() && self.snapshots.is_empty()
    }

    pub fn all(&self) -> impl Iterator<Item = &Leftover> {
        self.instances.iter().chain(&self.volumes).chain(&self.snapshots)
    }
}

fn filters(runs: &Runs) -> Vec<Filter> {
    let run = match runs {
        Runs::One(id) => Filter::builder().name(format!("tag:{RUN_TAG}")).values(id).build(),
        Runs::All => Filter::builder().name("tag-key").values(RUN_TAG).build(),
    };
    vec![run, Filter::builder().name("tag-key").values(LAB_TAG).build()]
}

/// The run tag's value, when both snaplab tags are there (checked again
/// here: a filter a peer ignored must not lead to a deletion).
fn snaplab_run(tags: &[aws_sdk_ec2::types::Tag], runs: &Runs) -> Option<String> {
    let get = |k: &str| tags.iter().find(|t| t.key() == Some(k)).and_then(|t| t.value());
    let run = get(RUN_TAG)?;
    get(LAB_TAG)?;
    match runs {
        Runs::One(id) if id != run => None,
        _ => Some(run.to_string()),
    }
}

/// Lists what carries snaplab's tags.
pub async fn find(account: &Account, runs: &Runs) -> Result<Leftovers, AwsError> {
    let ec2 = account.ec2();
    let mut found = Leftovers::default();
    let out = ec2
        .describe_instances()
        .set_filters(Some(filters(runs)))
        .send()
        .await
        .map_err(|e| account.classify("ec2:DescribeInstances", e))?;
    for i in out.reservations().iter().flat_map(|r| r.instances()) {
        let state = i
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_string())
            .unwrap_or_default();
        if let (Some(run), Some(id), false) = (snaplab_run(i.tags(), runs), i.instance_id(), state == "terminated") {
            found.instances.push(Leftover {
                kind: "instance",
                id: id.to_string(),
                run,
                state,
            });
        }
    }
    let out = ec2
        .describe_volumes()
        .set_filters(Some(filters(runs)))
        .send()
        .await
        .map_err(|e| account.classify("ec2:DescribeVolumes", e))?;
    // A volume being deleted is on its way out.
    let leaving = |v: &aws_sdk_ec2::types::Volume| {
        matches!(
            v.state(),
            Some(aws_sdk_ec2::types::VolumeState::Deleting | aws_sdk_ec2::types::VolumeState::Deleted)
        )
    };
    for v in out.volumes().iter().filter(|v| !leaving(v)) {
        if let (Some(run), Some(id)) = (snaplab_run(v.tags(), runs), v.volume_id()) {
            found.volumes.push(Leftover {
                kind: "volume",
                id: id.to_string(),
                run,
                state: v.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
            });
        }
    }
    let out = ec2
        .describe_snapshots()
        .owner_ids("self")
        .set_filters(Some(filters(runs)))
        .send()
        .await
        .map_err(|e| account.classify("ec2:DescribeSnapshots", e))?;
    for s in out.snapshots() {
        if let (Some(run), Some(id)) = (snaplab_run(s.tags(), runs), s.snapshot_id()) {
            found.snapshots.push(Leftover {
                kind: "snapshot",
                id: id.to_string(),
                run,
                state: s.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
            });
        }
    }
    Ok(found)
}

/// Whether a deletion did something: true when it succeeded, false when the
/// resource was already gone; other errors stand.
fn unless_gone<T>(result: Result<T, CloudError>) -> Result<bool, CloudError> {
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Deletes what `find` found, through the lab's own EC2 operations:
/// instances terminated first (their root volumes go with them, other
/// volumes come off), then volumes (detached if need be), then snapshots.
/// `progress` hears each step. Returns how many were deleted.
pub async fn delete(
    account: &Account,
    found: &Leftovers,
    progress: &(dyn Fn(String) + Sync),
) -> Result<usize, CloudError> {
    let ec2 = account.lab_ec2();
    let every = Duration::from_millis(500);
    let mut deleted = 0;
    for i in &found.instances {
        progress(format!("terminating instance {} (run {})", i.id, i.run));
        deleted += usize::from(unless_gone(ec2.terminate_instance(&i.id).await)?);
    }
    for i in &found.instances {
        wait_until(
            &format!("{} terminating", i.id),
            every,
            Duration::from_secs(600),
            || async {
                match ec2.instance(&i.id).await {
                    Ok(x) => Ok(x.state == "terminated"),
                    Err(e) if e.is_not_found() => Ok(true),
                    Err(e) => Err(e),
                }
            },
        )
        .await?;
    }
    for v in &found.volumes {
        let attachment = match ec2.volume(&v.id).await {
            Ok(now) => now.attachment,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        if let Some(a) = attachment {
            progress(format!("detaching volume {}", v.id));
            match ec2.detach_volume(&v.id, &a.instance_id).await {
                Err(e) if !matches!(e.code(), Some("IncorrectState" | "InvalidAttachment.NotFound")) => return Err(e),
                _ => {}
            }
        }
        wait_until(
            &format!("{} becoming available", v.id),
            every,
            Duration::from_secs(300),
            || async {
                match ec2.volume(&v.id).await {
                    Ok(now) => Ok(now.state == VolumeState::Available && now.attachment.is_none()),
                    Err(e) if e.is_not_found() => Ok(true),
                    Err(e) => Err(e),
                }
            },
        )
        .await?;
        progress(format!("deleting volume {} (run {})", v.id, v.run));
        deleted += usize::from(unless_gone(ec2.delete_volume(&v.id).await)?);
    }
    for s in &found.snapshots {
        progress(format!("deleting snapshot {} (run {})", s.id, s.run));
        deleted += usize::from(unless_gone(ec2.delete_snapshot(&s.id).await)?);
    }
    Ok(deleted)
}
