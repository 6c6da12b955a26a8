//! A run's lease on SecureCart's instance, so two runs that land in the same
//! world (one emulator, one access key) never drive one SecureCart at once:
//! their orders would interleave on one volume and their steps detach each
//! other's volumes. The lease is a tag on the instance — `snaplab:lease` =
//! `<until> <run id> <learner>` — which every target keeps (the emulator,
//! LocalStack, moto). The run renews it while it lives and removes it when
//! the runner ends; a runner dropped mid-run (a stop from outside) or a
//! process killed lets it lapse after [`TTL`].
//!
//! Tags cannot be compared-and-set, so taking the lease is write, wait,
//! read back: of two runs starting at the same moment, the one whose write
//! landed last keeps it and the other says the instance is in use.

use std::time::Duration;

use chrono::{DateTime, Utc};
use snaplab_cloud::Ec2;
use tokio::task::JoinHandle;

use crate::clock::{self, Clock};
use crate::error::LabError;

pub const LEASE_TAG: &str = "snaplab:lease";
/// How long a lease lasts unless renewed.
pub const TTL: Duration = Duration::from_secs(120);
/// How often a live run renews it.
const RENEW_EVERY: Duration = Duration::from_secs(30);

/// Who holds a lease, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub until: DateTime<Utc>,
    pub run_id: String,
    pub learner: String,
}

impl Holder {
    /// `run_id`'s lease from `now` for [`TTL`].
    fn from(now: DateTime<Utc>, run_id: &str, learner: &str) -> Self {
        Self {
            until: now + chrono::Duration::from_std(TTL).unwrap_or_default(),
            run_id: run_id.to_string(),
            learner: learner.to_string(),
        }
    }

    fn tag_value(&self) -> String {
        format!("{} {} {}", self.until.to_rfc3339(), self.run_id, self.learner)
    }

    /// A tag's value read back (`None`: not a lease snaplab wrote).
    fn parse(value: &str) -> Option<Self> {
        let mut parts = value.splitn(3, ' ');
        let until = DateTime::parse_from_rfc3339(parts.next()?).ok()?.with_timezone(&Utc);
        let run_id = parts.next()?.to_string();
        let learner = parts.next().unwrap_or_default().to_string();
        Some(Self { until, run_id, learner })
    }
}

/// A lease held by this run; renewed in the background until released.
#[derive(Debug)]
pub struct Lease {
    ec2: Ec2,
    instance_id: String,
    run_id: String,
    renewing: JoinHandle<()>,
}

impl Lease {
    /// Takes the lease on `instance_id` for `run_id`, or says who holds it.
    /// `settle`: how long to wait before reading the tag back.
    pub async fn take(
        ec2: &Ec2,
        instance_id: &str,
        run_id: &str,
        learner: &str,
        clock: &Clock,
        settle: Duration,
    ) -> Result<Self, LabError> {
        let ec2 = ec2.unobserved();
        let held = |value: Option<String>| value.as_deref().and_then(Holder::parse);
        let now = clock::now(clock);
        let busy = |h: Holder| LabError::InUse {
            instance_id: instance_id.to_string(),
            run_id: h.run_id,
            learner: h.learner,
            until: h.until.format("%H:%M:%S UTC").to_string(),
        };
        if let Some(h) = held(ec2.tag_value(instance_id, LEASE_TAG).await?) {
            if h.run_id != run_id && h.until > now {
                return Err(busy(h));
            }
        }
        let value = Holder::from(now, run_id, learner).tag_value();
        ec2.set_tag(instance_id, LEASE_TAG, &value).await?;
        tokio::time::sleep(settle).await;
        match held(ec2.tag_value(instance_id, LEASE_TAG).await?) {
            Some(h) if h.run_id == run_id => {}
            Some(h) => return Err(busy(h)),
            None => {
                return Err(LabError::Cloud(snaplab_cloud::CloudError::Other(format!(
                    "the lease tag on {instance_id} did not stay: another run may be taking it; try again"
                ))))
            }
        }
        let renewing = {
            let (ec2, instance_id, clock) = (ec2.clone(), instance_id.to_string(), clock.clone());
            let (run_id, learner) = (run_id.to_string(), learner.to_string());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(RENEW_EVERY).await;
                    let value = Holder::from(clock::now(&clock), &run_id, &learner).tag_value();
                    if let Err(e) = ec2.set_tag(&instance_id, LEASE_TAG, &value).await {
                        tracing::warn!(error = %e, instance = %instance_id, "cannot renew the run's lease");
                    }
                }
            })
        };
        Ok(Self {
            ec2,
            instance_id: instance_id.to_string(),
            run_id: run_id.to_string(),
            renewing,
        })
    }

    /// Stops renewing and removes the tag, if it is still this run's.
    pub async fn release(self) {
        self.renewing.abort();
        let still_mine = matches!(
            self.ec2.tag_value(&self.instance_id, LEASE_TAG).await,
            Ok(Some(v)) if Holder::parse(&v).is_some_and(|h| h.run_id == self.run_id)
        );
        if still_mine {
            if let Err(e) = self.ec2.remove_tag(&self.instance_id, LEASE_TAG).await {
                tracing::warn!(error = %e, instance = %self.instance_id, "cannot remove the run's lease; it lapses by itself");
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewing.abort();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_reads_back_as_written_even_with_spaces_in_the_name() {
        let h = Holder {
            until: DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            run_id: "run-20261130-100000-ab12".into(),
            learner: "Ada Lovelace".into(),
        };
        assert_eq!(Holder::parse(&h.tag_value()), Some(h));
        assert_eq!(Holder::parse("not a lease"), None);
    }
}
