//! Labs as data: `labs/<id>/lab.toml` and one Markdown page per step. The
//! labs in the repository are built into the binary; `SNAPLAB_LABS_DIR` or
//! `Catalog::from_dir` reads others at run time. A new lab needs no Rust
//! change unless it needs a new action or check.

use std::collections::BTreeMap;
use std::path::Path;

use include_dir::{include_dir, Dir};
use snaplab_cloud::TargetKind;
use snaplab_workload::StoreOptions;

use crate::error::LabError;

static BUILTIN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../labs");

/// What "Run step" does for a step.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    StartShop,
    CreateSnapshot,
    KeepWriting,
    DetachReattach,
    MonitorSnapshot,
    RestoreVolume,
    AttachRestored,
    VerifyRestore,
    CleanUp,
    CompareSnapshots,
    DeletePreviousSnapshot,
    CreateTornSnapshot,
    CreateAppConsistentSnapshot,
    /// CreateSnapshot of the orders volume, then — orders later — of the inventory volume.
    CreateSnapshotsApart,
    /// One CreateSnapshots call for the instance: both volumes at one instant.
    CreateSnapshotSet,
    RestorePair,
    AttachPair,
    /// Times a read of the first half of what the restored volume's snapshot holds.
    ReadRestored,
    /// Reads every block the snapshot holds, once (`dd` over the device).
    InitializeRestored,
    /// DescribeVolumeStatus: how far the restored volume has initialized.
    CheckInitialization,
    EnableFastRestore,
    /// Waits until Fast Snapshot Restore is `enabled` in the instance's zone.
    WaitFastRestore,
    DisableFastRestore,
    /// SNS CreateTopic for the alerts.
    CreateAlertTopic,
    /// SNS Subscribe: the ops address, by email.
    SubscribeAlerts,
    /// EventBridge PutRule: failed createSnapshot notifications.
    PutAlertRule,
    /// EventBridge PutTargets: the rule to the topic.
    TargetAlertTopic,
    /// CreateSnapshot of a volume the emulator was asked to fail.
    CreateFailingSnapshot,
    /// Waits until the snapshot is in `error` and its alert has arrived.
    WaitForAlert,
}

impl Action {
    /// Whether the action creates the run's snapshot.
    pub fn creates_snapshot(self) -> bool {
        matches!(
            self,
            Self::CreateSnapshot
                | Self::CreateTornSnapshot
                | Self::CreateAppConsistentSnapshot
                | Self::CreateSnapshotsApart
                | Self::CreateSnapshotSet
                | Self::CreateFailingSnapshot
        )
    }
}

/// A judgement of the cloud's state after a step.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    ShopTakingOrders,
    SnapshotCreated,
    WritesContinued,
    ReattachedDuringSnapshot,
    SnapshotCompleted,
    RestoredInInstanceZone,
    RestoredAttached,
    PointInTime,
    TornOrdersExplained,
    NothingLeftBehind,
    ChangedBlocksCounted,
    PreviousSnapshotDeleted,
    TornOrderReplayed,
    PairCreated,
    PairTakenTogether,
    PairRestored,
    PairAttached,
    PairDisagrees,
    PairAgrees,
    FirstReadFetched,
    SecondReadCached,
    VolumeInitialized,
    FastRestoreOn,
    FastRestoreEnabled,
    FastRestoreInitialized,
    FastRestoreDisabled,
    AlertTopicCreated,
    AlertSubscribed,
    AlertRuleMatchesFailures,
    AlertRuleTargetsTopic,
    NoAlertForSuccess,
    AlertReceived,
}

impl CheckId {
    /// Its name in lab files, events and the record.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ShopTakingOrders => "shop_taking_orders",
            Self::SnapshotCreated => "snapshot_created",
            Self::WritesContinued => "writes_continued",
            Self::ReattachedDuringSnapshot => "reattached_during_snapshot",
            Self::SnapshotCompleted => "snapshot_completed",
            Self::RestoredInInstanceZone => "restored_in_instance_zone",
            Self::RestoredAttached => "restored_attached",
            Self::PointInTime => "point_in_time",
            Self::TornOrdersExplained => "torn_orders_explained",
            Self::NothingLeftBehind => "nothing_left_behind",
            Self::ChangedBlocksCounted => "changed_blocks_counted",
            Self::PreviousSnapshotDeleted => "previous_snapshot_deleted",
            Self::TornOrderReplayed => "torn_order_replayed",
            Self::PairCreated => "pair_created",
            Self::PairTakenTogether => "pair_taken_together",
            Self::PairRestored => "pair_restored",
            Self::PairAttached => "pair_attached",
            Self::PairDisagrees => "pair_disagrees",
            Self::PairAgrees => "pair_agrees",
            Self::FirstReadFetched => "first_read_fetched",
            Self::SecondReadCached => "second_read_cached",
            Self::VolumeInitialized => "volume_initialized",
            Self::FastRestoreOn => "fast_restore_on",
            Self::FastRestoreEnabled => "fast_restore_enabled",
            Self::FastRestoreInitialized => "fast_restore_initialized",
            Self::FastRestoreDisabled => "fast_restore_disabled",
            Self::AlertTopicCreated => "alert_topic_created",
            Self::AlertSubscribed => "alert_subscribed",
            Self::AlertRuleMatchesFailures => "alert_rule_matches_failures",
            Self::AlertRuleTargetsTopic => "alert_rule_targets_topic",
            Self::NoAlertForSuccess => "no_alert_for_success",
            Self::AlertReceived => "alert_received",
        }
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn yes() -> bool {
    true
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepDef {
    pub id: String,
    pub title: String,
    /// Path of the step's page, relative to the lab's folder.
    pub page: String,
    /// The page's Markdown, with `{{placeholders}}` still in it.
    #[serde(default)]
    pub page_text: String,
    pub action: Action,
    /// Whether the learner can do this step by hand in hands-on mode; if not,
    /// the app does it in both modes.
    #[serde(default = "yes")]
    pub hands_on: bool,
    /// The commands the learner runs in hands-on mode.
    #[serde(default)]
    pub commands: Vec<String>,
    pub checks: Vec<CheckId>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LabDef {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub minutes: u32,
    /// Where the lab stands in lists and on the Start screen (lower first; ties by id).
    #[serde(default = "last")]
    pub order: u32,
    /// Where the lab runs (by default everywhere): a lab whose calls a peer
    /// does not answer leaves it out, and a run there is refused before it starts.
    #[serde(default = "every_target")]
    pub targets: Vec<TargetKind>,
    /// How the lab's SecureCart lays out a new store (`[shop]`).
    #[serde(default)]
    pub shop: ShopSettings,
    pub steps: Vec<StepDef>,
    /// Knowledge checks, from `questions.toml` beside `lab.toml` (none without it).
    #[serde(default)]
    pub questions: Vec<crate::quiz::Question>,
}

/// `[shop]` in lab.toml.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopSettings {
    /// Bytes per order record (a multiple of 512, 512 to 65536; default
    /// 512). Larger records spread the same orders over more 512 KiB
    /// blocks — what the incremental lab needs to show blocks that did not
    /// change.
    #[serde(default = "default_record_size")]
    pub record_size: u32,
    /// Orders a new store takes at once, before the lab's orders flow: the
    /// shop's trading history (default 0) — data a later snapshot does not
    /// change.
    #[serde(default)]
    pub history_orders: u32,
    /// The stock table on a second volume of its own (default false):
    /// created and attached at /dev/sdp when the shop first opens, removed
    /// when the run ends — the multi-volume lab's two volumes.
    #[serde(default)]
    pub inventory_volume: bool,
}

fn default_record_size() -> u32 {
    StoreOptions::default().record_size
}

impl Default for ShopSettings {
    fn default() -> Self {
        Self {
            record_size: default_record_size(),
            history_orders: 0,
            inventory_volume: false,
        }
    }
}

impl ShopSettings {
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            record_size: self.record_size,
            ..StoreOptions::default()
        }
    }
}

fn last() -> u32 {
    100
}

fn every_target() -> Vec<TargetKind> {
    vec![
        TargetKind::Embedded,
        TargetKind::Snaplab,
        TargetKind::LocalStack,
        TargetKind::Moto,
        TargetKind::OtherEndpoint,
        TargetKind::Aws,
    ]
}

impl LabDef {
    /// Refuses a target the lab does not run on, saying where it does.
    pub fn check_target(&self, kind: TargetKind) -> Result<(), LabError> {
        if self.targets.contains(&kind) {
            return Ok(());
        }
        Err(LabError::TargetUnsupported {
            lab: self.id.clone(),
            target: kind.label(),
            supported: self.targets.iter().map(|t| t.label()).collect::<Vec<_>>().join(", "),
        })
    }

    pub fn step(&self, id: &str) -> Option<&StepDef> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Parses `lab.toml`, reading each page through `read_page`.
    fn parse(source: &str, text: &str, read_page: impl Fn(&str) -> Option<String>) -> Result<Self, LabError> {
        let mut lab: LabDef = toml::from_str(text).map_err(|e| LabError::Definition(format!("{source}: {e}")))?;
        for step in &mut lab.steps {
            step.page_text = read_page(&step.page).ok_or_else(|| {
                LabError::Definition(format!(
                    "{source}: step {} names page {}, which is missing",
                    step.id, step.page
                ))
            })?;
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = lab.steps.iter().find(|s| !seen.insert(s.id.as_str())) {
            return Err(LabError::Definition(format!(
                "{source}: step id {} is used twice",
                dup.id
            )));
        }
        let rs = lab.shop.record_size;
        if !(512..=65536).contains(&rs) || !rs.is_multiple_of(512) {
            return Err(LabError::Definition(format!(
                "{source}: [shop] record_size = {rs}: it must be a multiple of 512 from 512 to 65536"
            )));
        }
        if lab.steps.is_empty() {
            return Err(LabError::Definition(format!("{source}: a lab needs at least one step")));
        }
        if !lab.questions.is_empty() {
            return Err(LabError::Definition(format!(
                "{source}: questions go in questions.toml beside lab.toml, not in lab.toml"
            )));
        }
        if let Some(text) = read_page("questions.toml") {
            let ids: Vec<&str> = lab.steps.iter().map(|s| s.id.as_str()).collect();
            let file = source.replace("lab.toml", "questions.toml");
            lab.questions = crate::quiz::parse_questions(&file, &text, &ids)?;
        }
        Ok(lab)
    }
}

/// The labs available.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    labs: Vec<LabDef>,
}

impl Catalog {
    /// The labs built into this binary.
    pub fn builtin() -> Result<Self, LabError> {
        let mut labs = Vec::new();
        for dir in BUILTIN.dirs() {
            let Some(file) = dir.get_file(dir.path().join("lab.toml")) else {
                continue;
            };
            let text = file.contents_utf8().unwrap_or_default();
            let lab = LabDef::parse(&file.path().display().to_string(), text, |page| {
                BUILTIN
                    .get_file(dir.path().join(page))
                    .and_then(|f| f.contents_utf8())
                    .map(String::from)
            })?;
            labs.push(lab);
        }
        labs.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        Ok(Self { labs })
    }

    /// Labs in a folder on disk (one subfolder with a `lab.toml` per lab).
    pub fn from_dir(root: &Path) -> Result<Self, LabError> {
        let entries = std::fs::read_dir(root)
            .map_err(|e| LabError::Definition(format!("cannot read labs folder {}: {e}", root.display())))?;
        let mut labs = Vec::new();
        for entry in entries.flatten() {
            let toml_path = entry.path().join("lab.toml");
            let Ok(text) = std::fs::read_to_string(&toml_path) else {
                continue;
            };
            let dir = entry.path();
            labs.push(LabDef::parse(&toml_path.display().to_string(), &text, |page| {
                std::fs::read_to_string(dir.join(page)).ok()
            })?);
        }
        labs.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        Ok(Self { labs })
    }

    /// `SNAPLAB_LABS_DIR` if set, else the built-in labs.
    pub fn load() -> Result<Self, LabError> {
        match std::env::var_os("SNAPLAB_LABS_DIR") {
            Some(dir) => Self::from_dir(Path::new(&dir)),
            None => Self::builtin(),
        }
    }

    pub fn labs(&self) -> &[LabDef] {
        &self.labs
    }

    pub fn get(&self, id: &str) -> Result<&LabDef, LabError> {
        self.labs.iter().find(|l| l.id == id).ok_or_else(|| {
            LabError::Definition(format!(
                "no lab '{id}'; available: {}",
                self.labs.iter().map(|l| l.id.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })
    }
}

/// Fills `{{name}}` placeholders; an unknown one reads `<name not known yet>`.
pub fn fill(template: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = after[..end].trim();
                match values.get(key) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('<');
                        out.push_str(key);
                        out.push_str(" not known yet>");
                    }
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_lab_loads_with_every_page() {
        let catalog = Catalog::builtin().unwrap();
        let lab = catalog.get("securecart-snapshot").unwrap();
        assert_eq!(lab.steps.len(), 9);
        assert!(lab.steps.iter().all(|s| s.page_text.starts_with("# ")));
        assert!(catalog.get("nope").is_err());
    }

    #[test]
    fn the_incremental_lab_lays_out_big_records_and_says_where_it_runs() {
        let catalog = Catalog::builtin().unwrap();
        let lab = catalog.get("incremental").unwrap();
        assert_eq!(lab.steps.len(), 12);
        assert_eq!(lab.shop.store_options().record_size, 8192);
        assert_eq!(lab.shop.history_orders, 4000);
        assert!(lab.check_target(TargetKind::Moto).is_ok());
        let first = catalog.get("securecart-snapshot").unwrap();
        assert_eq!(first.shop, ShopSettings::default(), "[shop] is optional");
        assert!(
            first.check_target(TargetKind::OtherEndpoint).is_ok(),
            "targets default to all"
        );
        let mut aws_only = lab.clone();
        aws_only.targets = vec![TargetKind::Aws];
        let err = aws_only.check_target(TargetKind::Embedded).unwrap_err().to_string();
        assert_eq!(
            err,
            "lab incremental does not run on built-in emulator: it runs on AWS. Choose one of those"
        );
    }

    #[test]
    fn a_bad_shop_or_target_is_named() {
        let base = "id = 'x'\ntitle='t'\nsummary='s'\nminutes=1\n";
        let step = "[[steps]]\nid='a'\ntitle='A'\npage='p.md'\naction='start_shop'\nchecks=[]\n";
        let page = |_: &str| Some("# p".to_string());
        let err = LabDef::parse("x/lab.toml", &format!("{base}[shop]\nrecord_size = 1000\n{step}"), page).unwrap_err();
        assert!(err.to_string().contains("record_size = 1000"), "{err}");
        let err = LabDef::parse("x/lab.toml", &format!("{base}[shop]\nrecords = 2\n{step}"), page).unwrap_err();
        assert!(err.to_string().contains("records"), "{err}");
        let err = LabDef::parse("x/lab.toml", &format!("{base}targets = ['mars']\n{step}"), page).unwrap_err();
        assert!(err.to_string().contains("mars"), "{err}");
    }

    #[test]
    fn placeholders_fill_and_literal_braces_stay() {
        let mut v = BTreeMap::new();
        v.insert("run_id", "run-1".to_string());
        let s = fill("Tags=[{Key=snaplab:run,Value={{run_id}}}] {{snapshot_id}}", &v);
        assert_eq!(s, "Tags=[{Key=snaplab:run,Value=run-1}] <snapshot_id not known yet>");
    }

    #[test]
    fn check_names_are_their_serde_names() {
        for check in [
            CheckId::ShopTakingOrders,
            CheckId::SnapshotCreated,
            CheckId::WritesContinued,
            CheckId::ReattachedDuringSnapshot,
            CheckId::SnapshotCompleted,
            CheckId::RestoredInInstanceZone,
            CheckId::RestoredAttached,
            CheckId::PointInTime,
            CheckId::TornOrdersExplained,
            CheckId::NothingLeftBehind,
            CheckId::ChangedBlocksCounted,
            CheckId::PreviousSnapshotDeleted,
            CheckId::TornOrderReplayed,
        ] {
            assert_eq!(serde_json::to_value(check).unwrap(), check.as_str());
        }
    }

    #[test]
    fn a_bad_lab_file_names_its_problem() {
        let err = LabDef::parse("x/lab.toml", "id = 'x'\ntitle='t'\nsummary='s'\nminutes=1\n[[steps]]\nid='a'\ntitle='A'\npage='p.md'\naction='fly'\nchecks=[]\n", |_| Some("# p".into())).unwrap_err();
        assert!(err.to_string().contains("fly"), "{err}");
        let err = LabDef::parse("x/lab.toml", "id = 'x'\ntitle='t'\nsummary='s'\nminutes=1\n[[steps]]\nid='a'\ntitle='A'\npage='p.md'\naction='start_shop'\nchecks=[]\n", |_| None).unwrap_err();
        assert!(err.to_string().contains("p.md"), "{err}");
    }

    #[test]
    fn every_builtin_lab_ends_with_three_to_six_knowledge_checks() {
        let catalog = Catalog::builtin().unwrap();
        for lab in catalog.labs() {
            let n = lab.questions.len();
            assert!((3..=6).contains(&n), "{}: {n} questions", lab.id);
            // At least one is asked at the end.
            assert!(lab.questions.iter().any(|q| q.after_step.is_none()), "{}", lab.id);
        }
        let main = catalog.get("securecart-snapshot").unwrap();
        let detach = main.questions.iter().find(|q| q.id == "detach-while-pending").unwrap();
        assert_eq!(detach.answer, "False", "the scenario's wrong row, corrected");
    }

    #[test]
    fn questions_belong_in_their_own_file_and_a_bad_one_is_named() {
        let lab = "id = 'x'\ntitle='t'\nsummary='s'\nminutes=1\n[[steps]]\nid='a'\ntitle='A'\npage='p.md'\naction='start_shop'\nchecks=[]\n";
        let inline = format!(
            "{lab}[[questions]]\nid='q'\nkind='true_false'\nprompt='p'\nanswer='True'\nexplanation='e'\nsource='s'\n"
        );
        let err = LabDef::parse("x/lab.toml", &inline, |_| Some(String::new())).unwrap_err();
        assert!(err.to_string().contains("questions go in questions.toml"), "{err}");
        let bad = "[[questions]]\nid='q'\nkind='choice'\nprompt='p'\nchoices=['a','b']\nanswer='c'\nexplanation='e'\nsource='s'\n";
        let err = LabDef::parse("x/lab.toml", lab, |page| match page {
            "questions.toml" => Some(bad.to_string()),
            _ => Some(String::new()),
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("x/questions.toml: question q: its answer 'c'"),
            "{err}"
        );
    }
}
