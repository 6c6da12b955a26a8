//! Clean-up by tag: every instance, volume and snapshot in the account that
//! carries both snaplab tags (`snaplab:run`, `snaplab:lab`) — of one run, or
//! of every run — found in the account itself, not only in the local
//! record, so what a killed process left is found too. Nothing without
//! both tags is ever touched.

use std::time::Duration;

use aws_sdk_ec2::types::Filter;

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

async fn wait_for<F, Fut>(what: &str, limit: Duration, mut done: F) -> Result<(), AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, AwsError>>,
{
    let started = tokio::time::Instant::now();
    while !done().await? {
        if started.elapsed() > limit {
            return Err(AwsError::Other {
                action: "clean-up".into(),
                detail: format!("{what} did not happen within {} s", limit.as_secs()),
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

/// Deletes what `find` found: instances terminated first (their root
/// volumes go with them, other volumes come off), then volumes, then
/// snapshots. `progress` hears each step. Returns how many were deleted.
pub async fn delete(
    account: &Account,
    found: &Leftovers,
    progress: &(dyn Fn(String) + Sync),
) -> Result<usize, AwsError> {
    let ec2 = account.ec2();
    let mut deleted = 0;
    for i in &found.instances {
        progress(format!("terminating instance {} (run {})", i.id, i.run));
        let done = ec2.terminate_instances().instance_ids(&i.id).send().await;
        deleted += usize::from(unless_gone(
            done.map_err(|e| account.classify("ec2:TerminateInstances", e)),
        )?);
    }
    for i in &found.instances {
        wait_for(&format!("{} terminating", i.id), Duration::from_secs(600), || async {
            let out = ec2
                .describe_instances()
                .instance_ids(&i.id)
                .send()
                .await
                .map_err(|e| account.classify("ec2:DescribeInstances", e));
            match out {
                Ok(o) => Ok(o
                    .reservations()
                    .iter()
                    .flat_map(|r| r.instances())
                    .all(|x| x.state().and_then(|s| s.name()).map(|n| n.as_str()) == Some("terminated"))),
                Err(e) if gone(&e) => Ok(true),
                Err(e) => Err(e),
            }
        })
        .await?;
    }
    for v in &found.volumes {
        let state = |ec2: aws_sdk_ec2::Client, id: String| async move {
            match ec2.describe_volumes().volume_ids(&id).send().await {
                Ok(o) => Ok(o.volumes().first().map(|v| {
                    (
                        v.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                        !v.attachments().is_empty(),
                    )
                })),
                Err(e) => {
                    let e = account.classify("ec2:DescribeVolumes", e);
                    if gone(&e) {
                        Ok(None)
                    } else {
                        Err(e)
                    }
                }
            }
        };
        let Some((_, attached)) = state(ec2.clone(), v.id.clone()).await? else {
            continue;
        };
        if attached {
            progress(format!("detaching volume {}", v.id));
            if let Err(e) = ec2.detach_volume().volume_id(&v.id).send().await {
                let e = account.classify("ec2:DetachVolume", e);
                if e.code() != Some("IncorrectState") && e.code() != Some("InvalidAttachment.NotFound") {
                    return Err(e);
                }
            }
        }
        wait_for(
            &format!("{} becoming available", v.id),
            Duration::from_secs(300),
            || async {
                Ok(match state(ec2.clone(), v.id.clone()).await? {
                    None => true,
                    Some((s, attached)) => s == "available" && !attached,
                })
            },
        )
        .await?;
        progress(format!("deleting volume {} (run {})", v.id, v.run));
        let done = ec2.delete_volume().volume_id(&v.id).send().await;
        deleted += usize::from(unless_gone(done.map_err(|e| account.classify("ec2:DeleteVolume", e)))?);
    }
    for s in &found.snapshots {
        progress(format!("deleting snapshot {} (run {})", s.id, s.run));
        let done = ec2.delete_snapshot().snapshot_id(&s.id).send().await;
        deleted += usize::from(unless_gone(
            done.map_err(|e| account.classify("ec2:DeleteSnapshot", e)),
        )?);
    }
    Ok(deleted)
}

/// The resource is gone (any `….NotFound`).
fn gone(e: &AwsError) -> bool {
    e.code().is_some_and(|c| c.ends_with(".NotFound"))
}

/// Whether a deletion did something: true when it succeeded, false when the
/// resource was already gone; other errors stand.
fn unless_gone<T>(result: Result<T, AwsError>) -> Result<bool, AwsError> {
    match result {
        Ok(_) => Ok(true),
        Err(e) if gone(&e) => Ok(false),
        Err(e) => Err(e),
    }
}
