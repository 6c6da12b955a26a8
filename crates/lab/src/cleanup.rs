//! Deleting what a run created — the one clean-up path, used by the lab's
//! clean-up step and by `snaplab cleanup` / the app's History (through the
//! session crate) for runs that were interrupted.

use snaplab_cloud::VolumeState;

use crate::actions::wait;
use crate::context::ResourceKind;
use crate::error::LabError;
use crate::scope::RunScope;

/// Deletes the run's resources still there — instances it launched first
/// (terminated, which detaches their volumes), then volumes (detached if
/// need be), then snapshots — recording each deletion. Resources already
/// gone count as deleted. Returns how many were deleted now.
pub async fn clean_up(scope: &mut RunScope) -> Result<usize, LabError> {
    let instance = scope.scenario()?.instance_id.clone();
    let ec2 = scope.ec2.clone();
    let mut left: Vec<_> = scope.ctx.resources_left().cloned().collect();
    left.sort_by_key(|r| match r.kind {
        ResourceKind::Instance => 0,
        ResourceKind::Volume => 1,
        ResourceKind::Snapshot => 2,
        // The rule before the topic it sends to.
        ResourceKind::AlertRule => 3,
        ResourceKind::AlertTopic => 4,
    });
    let mut deleted = 0;
    for r in left {
        let deleted_now = match r.kind {
            ResourceKind::Instance => match ec2.instance(&r.id).await {
                Err(e) if e.is_not_found() => false,
                Err(e) => return Err(e.into()),
                Ok(i) if i.state == "terminated" => false,
                Ok(_) => {
                    ec2.terminate_instance(&r.id).await?;
                    wait(scope, "the instance terminating", || async {
                        Ok(ec2.instance(&r.id).await.map_or(true, |i| i.state == "terminated"))
                    })
                    .await?;
                    true
                }
            },
            ResourceKind::Volume => match ec2.volume(&r.id).await {
                Err(e) if e.is_not_found() => false,
                Err(e) => return Err(e.into()),
                Ok(v) if v.state.is_gone() => false,
                Ok(v) => {
                    if v.attachment.is_some() {
                        ec2.detach_volume(&r.id, &instance).await?;
                        wait(scope, "a restored volume detaching", || async {
                            Ok(ec2.volume(&r.id).await?.state == VolumeState::Available)
                        })
                        .await?;
                    }
                    ec2.delete_volume(&r.id).await?;
                    true
                }
            },
            ResourceKind::AlertRule => {
                crate::alerting::alerts(scope).delete_rule(&r.id).await?;
                true
            }
            ResourceKind::AlertTopic => {
                crate::alerting::alerts(scope).delete_topic(&r.id).await?;
                true
            }
            ResourceKind::Snapshot => match ec2.delete_snapshot(&r.id).await {
                Ok(()) => true,
                Err(e) if e.is_not_found() => false,
                // Fast Snapshot Restore still on: AWS deletes the snapshot only once it is off everywhere.
                Err(e) if e.code() == Some("InvalidSnapshot.InUse") => {
                    let zones = crate::initialization::disable_everywhere(scope, &r.id).await?;
                    if !zones.is_empty() {
                        scope.emit_notice(
                            crate::events::Level::Info,
                            format!(
                                "Fast Snapshot Restore for {} was still on in {}: disabled, so it can be deleted.",
                                r.id,
                                zones.join(", ")
                            ),
                        );
                    }
                    ec2.delete_snapshot(&r.id).await?;
                    true
                }
                Err(e) => return Err(e.into()),
            },
        };
        deleted += usize::from(deleted_now);
        scope.record_deleted(&r.id).await?;
    }
    if scope.ctx.first_read_cost_set {
        let plane = scope.plane.clone();
        tokio::task::spawn_blocking(move || plane.reset_first_read_cost()).await??;
        scope.ctx.first_read_cost_set = false;
        scope.record_context().await?;
    }
    Ok(deleted)
}
