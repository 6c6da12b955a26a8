//! What a run knows: its settings, target, the ids it learned and the
//! results so far. Recorded after every change, so a killed run can resume.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use snaplab_cloud::scenario::Scenario;
use snaplab_cloud::target::DEFAULT_ACCESS_KEY;
use snaplab_cloud::{BlockComparison, ReadPass, SnapshotState, TargetKind, TargetPace};

use crate::events::StepOutcome;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// The app performs each step, then checks it.
    #[serde(rename = "guided")]
    Guided,
    /// The learner performs each step with the aws CLI; the app checks it.
    #[serde(rename = "hands-on")]
    HandsOn,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guided => "guided",
            Self::HandsOn => "hands-on",
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consistency {
    /// The snapshot is taken while orders flow.
    Crash,
    /// Writes are paused around CreateSnapshot (application-consistent).
    App,
}

impl Consistency {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crash => "crash",
            Self::App => "app",
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TargetInfo {
    pub kind: TargetKind,
    pub endpoint: String,
    pub region: String,
    /// One sentence on where volume data lives (the emulator, or a shadow disk).
    pub data_plane: String,
    pub shadow_disk: bool,
    /// The AWS profile of a real-AWS run (credentials themselves are never recorded).
    #[serde(default)]
    pub profile: Option<String>,
    /// The access key the run used on an endpoint: on a shared snaplab
    /// emulator, the account whose SecureCart it drove (an access key id is
    /// not a secret; none is recorded on AWS). `None` in runs recorded
    /// before keys were per learner: the default key.
    #[serde(default)]
    pub access_key: Option<String>,
}

/// Tag on every resource a run creates: the run's id (clean-up by tag looks for it).
pub const RUN_TAG: &str = "snaplab:run";
/// Tag on every resource a run creates: the lab's id.
pub const LAB_TAG: &str = "snaplab:lab";

/// What kind of cloud resource a run created.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Volume,
    Snapshot,
    /// An instance the run launched (on real AWS: SecureCart's server).
    Instance,
    /// An SNS topic (its ARN).
    AlertTopic,
    /// An EventBridge rule (its name).
    AlertRule,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Volume => "volume",
            Self::Snapshot => "snapshot",
            Self::Instance => "instance",
            Self::AlertTopic => "alert_topic",
            Self::AlertRule => "alert_rule",
        }
    }
}

/// What a resource was for in the lab.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceRole {
    /// The snapshot of SecureCart's data volume.
    Backup,
    /// A volume restored from it (wrong tries included).
    Restored,
    /// SecureCart's server, launched for the run (real AWS).
    AppServer,
    /// SecureCart's data volume, created for the run (real AWS).
    AppData,
    /// The alerting the learner set up: a topic, a rule.
    Alerting,
}

impl ResourceRole {
    /// SecureCart's own, launched for the run (real AWS): the run removes
    /// them when it ends, whatever the learner did.
    pub fn is_the_apps_own(self) -> bool {
        matches!(self, Self::AppServer | Self::AppData)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Backup => "backup",
            Self::Restored => "restored",
            Self::AppServer => "app_server",
            Self::AppData => "app_data",
            Self::Alerting => "alerting",
        }
    }
}

/// A resource this run created, which its clean-up deletes.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunResource {
    pub kind: ResourceKind,
    pub id: String,
    pub role: ResourceRole,
    pub deleted: bool,
    /// When the run recorded it, and its deletion (what it cost on AWS follows from them).
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A pause of the shop around a step, and what it cost.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShopPauseRecord {
    pub step_id: String,
    /// The pause was around a snapshot being created (not, say, a detach).
    #[serde(default)]
    pub around_snapshot: bool,
    /// Held half-way through an order (a torn snapshot), rather than quiesced.
    pub mid_order: bool,
    pub paused_ms: u64,
    /// Orders the shop would have taken at its rate while it stood still.
    pub orders_delayed: u64,
}

/// What the detach-while-pending step observed.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reattach {
    /// The snapshot's state when the volume was about to be detached (`None`: there was no snapshot).
    pub snapshot_state_at_detach: Option<SnapshotState>,
    pub detached: bool,
}

/// The inventory volume's snapshot and restore for the current pair.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InventoryCopies {
    pub snapshot_id: Option<String>,
    pub restored_volume_id: Option<String>,
    /// Where it attaches: `/dev/sdq`, then `/dev/sdr` for a second pair.
    pub restored_device: String,
}

impl Default for InventoryCopies {
    fn default() -> Self {
        Self {
            snapshot_id: None,
            restored_volume_id: None,
            restored_device: "/dev/sdq".to_string(),
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunContext {
    pub run_id: String,
    pub lab_id: String,
    pub lab_title: String,
    pub learner: String,
    pub mode: Mode,
    pub consistency: Consistency,
    /// The target's pace (`none`: the cloud sets its own, as peers do).
    pub pace: TargetPace,
    pub target: TargetInfo,
    pub started_at: DateTime<Utc>,
    pub store_seed: u64,
    pub scenario: Option<Scenario>,
    pub snapshot_id: Option<String>,
    pub snapshot_started_at: Option<DateTime<Utc>>,
    /// The snapshot an earlier step made, once a later step made another
    /// (the incremental lab compares the two, then deletes this one).
    #[serde(default)]
    pub previous_snapshot_id: Option<String>,
    /// When the step that recorded `snapshot_id` began (a retry in the same
    /// step replaces it; a later step's snapshot makes it the previous one).
    #[serde(default)]
    pub snapshot_step_started_at: Option<DateTime<Utc>>,
    /// How the current snapshot was taken, when its step said (else the run's consistency).
    #[serde(default)]
    pub snapshot_consistency: Option<Consistency>,
    /// Every restore verified so far, oldest first (a lab that restores
    /// twice shows them side by side).
    #[serde(default)]
    pub verifications: Vec<crate::verification::Verification>,
    /// How long the shop stopped writing around each step that paused it.
    #[serde(default)]
    pub pauses: Vec<ShopPauseRecord>,
    /// The two snapshots compared block by block.
    #[serde(default)]
    pub comparison: Option<BlockComparison>,
    /// Timed reads of restored volumes (the restore-initialization lab), oldest first.
    #[serde(default)]
    pub reads: Vec<ReadPass>,
    /// The run set the emulator's first-read cost (given back at clean-up).
    #[serde(default)]
    pub first_read_cost_set: bool,
    /// The snapshot-alerts lab's topic and what it delivered.
    #[serde(default)]
    pub alerts: crate::alerting::AlertSetup,
    /// The knowledge checks answered (or passed over) so far, in order.
    #[serde(default)]
    pub answers: Vec<crate::quiz::Answer>,
    pub restored_volume_id: Option<String>,
    pub restored_device: String,
    /// The multi-volume lab's copies of the inventory volume (the current
    /// pair's other half: `snapshot_id` and `restored_volume_id` are the orders').
    #[serde(default)]
    pub inventory: InventoryCopies,
    /// When the current step began (hands-on checks look for what came after).
    pub step_started_at: Option<DateTime<Utc>>,
    pub shop_open: bool,
    pub reattach: Option<Reattach>,
    /// Steps finished so far, in order.
    pub finished: Vec<(String, StepOutcome)>,
    pub resources: Vec<RunResource>,
}

impl RunContext {
    pub fn outcome_of(&self, step_id: &str) -> Option<StepOutcome> {
        self.finished.iter().rev().find(|(s, _)| s == step_id).map(|(_, o)| *o)
    }

    /// Resources this run made that are not deleted yet.
    pub fn resources_left(&self) -> impl Iterator<Item = &RunResource> {
        self.resources.iter().filter(|r| !r.deleted)
    }

    /// Values for the `{{placeholders}}` of pages and commands.
    pub fn placeholders(&self) -> BTreeMap<&'static str, String> {
        let mut v = BTreeMap::new();
        v.insert("run_id", self.run_id.clone());
        v.insert("lab_id", self.lab_id.clone());
        v.insert("endpoint", self.target.endpoint.clone());
        v.insert("region", self.target.region.clone());
        v.insert("consistency", self.consistency.as_str().to_string());
        v.insert("restored_device", self.restored_device.clone());
        if let Some(s) = &self.scenario {
            v.insert("instance_id", s.instance_id.clone());
            v.insert("zone", s.zone.clone());
            v.insert("data_volume_id", s.data_volume_id.clone());
            v.insert("data_device", s.data_device.clone());
            if let Some(i) = &s.inventory {
                v.insert("inventory_volume_id", i.volume_id.clone());
                v.insert("inventory_device", i.device.clone());
            }
        }
        v.insert("restored_inventory_device", self.inventory.restored_device.clone());
        if let Some(id) = &self.inventory.snapshot_id {
            v.insert("inventory_snapshot_id", id.clone());
        }
        if let Some(id) = &self.inventory.restored_volume_id {
            v.insert("restored_inventory_id", id.clone());
        }
        if let Some(id) = &self.snapshot_id {
            v.insert("snapshot_id", id.clone());
        }
        if let Some(id) = &self.previous_snapshot_id {
            v.insert("previous_snapshot_id", id.clone());
        }
        if let Some(id) = &self.restored_volume_id {
            v.insert("restored_volume_id", id.clone());
        }
        if let Some(arn) = &self.alerts.topic_arn {
            v.insert("topic_arn", arn.clone());
        }
        v
    }

    /// The environment a terminal needs to use this run's target: each
    /// variable set (`Some`) or removed (`None`). On AWS: the run's profile
    /// and region, and never a credential (keys in the environment would
    /// win over the profile, so they are removed); the endpoint only when
    /// the run's calls went elsewhere (a stand-in). The region goes in both
    /// variables: the aws CLI v2 reads AWS_REGION first, and a learner's own
    /// AWS_REGION would send the calls to another region.
    pub fn terminal_env(&self) -> Vec<(&'static str, Option<String>)> {
        let region = Some(self.target.region.clone());
        if self.target.kind != TargetKind::Aws {
            let key = self.target.access_key.as_deref().unwrap_or(DEFAULT_ACCESS_KEY);
            return vec![
                ("AWS_ENDPOINT_URL", Some(self.target.endpoint.clone())),
                ("AWS_ACCESS_KEY_ID", Some(key.to_string())),
                ("AWS_SECRET_ACCESS_KEY", Some(DEFAULT_ACCESS_KEY.into())),
                ("AWS_REGION", region.clone()),
                ("AWS_DEFAULT_REGION", region),
            ];
        }
        let endpoint = self
            .target
            .endpoint
            .starts_with("http")
            .then(|| self.target.endpoint.clone());
        let mut env = vec![("AWS_ENDPOINT_URL", endpoint)];
        if let Some(profile) = &self.target.profile {
            env.extend([
                ("AWS_ACCESS_KEY_ID", None),
                ("AWS_SECRET_ACCESS_KEY", None),
                ("AWS_SESSION_TOKEN", None),
                ("AWS_PROFILE", Some(profile.clone())),
            ]);
        }
        env.extend([("AWS_REGION", region.clone()), ("AWS_DEFAULT_REGION", region)]);
        env
    }

    /// The lines a learner pastes into a terminal of their own to use this
    /// run's target: [`Self::terminal_env`] as shell.
    pub fn terminal_setup(&self) -> String {
        let env = self.terminal_env();
        let unset: Vec<&str> = env.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| *k).collect();
        let set: Vec<String> = env
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", shell_word(v))))
            .collect();
        let mut line = String::new();
        if !unset.is_empty() {
            line.push_str(&format!("unset {}; ", unset.join(" ")));
        }
        line.push_str(&format!("export {}", set.join(" ")));
        line
    }
}

/// `value` as one shell word: as it is when it is plain, else single-quoted.
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+,=".contains(c));
    match plain {
        true => value.to_string(),
        false => format!("'{}'", value.replace('\'', r"'\''")),
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn a_value_pasted_into_a_shell_stays_one_word() {
        assert_eq!(shell_word("http://127.0.0.1:4566"), "http://127.0.0.1:4566");
        assert_eq!(shell_word("us-east-1"), "us-east-1");
        assert_eq!(shell_word("http://h/?a=1&b=2"), "'http://h/?a=1&b=2'");
        assert_eq!(shell_word("my profile's"), r"'my profile'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
