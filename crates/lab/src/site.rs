//! Where SecureCart runs for a run. On an emulator, LocalStack or moto its
//! server and data volume are found (or set up) there and its writer runs
//! in this process, writing the volume through the data plane
//! ([`LocalSite`]). On real AWS (crates/aws) they are launched for the run
//! and the writer runs on the instance, driven through SSM — so a site also
//! says what it created (to be recorded and cleaned up) and can verify the
//! restored volume a second time, on the instance.

use std::sync::Arc;

use snaplab_cloud::scenario::{find_or_create, Scenario};
use snaplab_cloud::{DataPlane, Ec2, TargetKind};
use snaplab_workload::store::{read_layout, read_rows};
use snaplab_workload::{BlockDevice, OrderTaker, OrderWriter, Recovery, SplitDevice, Workload, WorkloadConfig};

use crate::clock::Clock;
use crate::context::{ResourceKind, ResourceRole};
use crate::def::ShopSettings;
use crate::error::LabError;
use crate::tempo::Tempo;

/// A resource a site created for the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub kind: ResourceKind,
    pub id: String,
    pub role: ResourceRole,
    /// When the cloud says it was created (its launch or create time), if it said.
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What the verifier on the instance found on the restored volume.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstanceVerdict {
    /// Where it read (the device path on the instance).
    pub device: String,
    pub last_seq: u64,
    pub committed: u64,
    pub torn: Vec<u64>,
    pub intact: bool,
    pub replayed: Vec<u64>,
}

/// An order taker opened on the data volume, and what opening found.
pub type OpenedShop = (Box<dyn OrderTaker>, Recovery);

#[async_trait::async_trait]
pub trait Site: Send + Sync {
    /// SecureCart's server and data volume — found, or set up for this run
    /// (what was created comes back, to be recorded).
    async fn scenario(&self, ec2: &Ec2, run_id: &str, tempo: &Tempo) -> Result<(Scenario, Vec<Created>), LabError>;

    /// Starts SecureCart on the data volume (formatting it the first time,
    /// replaying its journal otherwise). `recorded_through` is the last order
    /// the record already holds (a resumed run's): later ones are news.
    async fn open_shop(
        &self,
        scenario: &Scenario,
        seed: u64,
        tempo: &Tempo,
        clock: Clock,
        recorded_through: u64,
        shop: &ShopSettings,
    ) -> Result<OpenedShop, LabError>;

    /// A sentence for the record once the run has ended (on AWS: what the
    /// run's resources cost for as long as they lived).
    fn summary(&self, _ctx: &crate::context::RunContext) -> Option<String> {
        None
    }

    /// The restored volume verified where it is attached, when the site can
    /// (`None`: only the lab's own reading counts).
    async fn verify_attached(
        &self,
        _scenario: &Scenario,
        _restored_volume_id: &str,
        _scan_through: u64,
        _tempo: &Tempo,
    ) -> Result<Option<InstanceVerdict>, LabError> {
        Ok(None)
    }
}

/// A formatted store whose stock table cannot be read at all: a new,
/// empty inventory volume under an existing journal, or a journal left
/// after its inventory volume was deleted. SecureCart starts a new store.
fn stock_table_missing(disk: &dyn BlockDevice) -> bool {
    let Ok(layout) = read_layout(disk) else {
        return false;
    };
    read_rows(disk, &layout).is_ok_and(|rows| rows.iter().all(Option::is_none))
}

/// The emulators and peers: the scenario is there (or set up once, kept),
/// and the writer runs here, through the data plane.
pub struct LocalSite {
    pub plane: Arc<DataPlane>,
    pub kind: TargetKind,
    pub region: String,
}

#[async_trait::async_trait]
impl Site for LocalSite {
    async fn scenario(&self, ec2: &Ec2, _run_id: &str, tempo: &Tempo) -> Result<(Scenario, Vec<Created>), LabError> {
        let scenario = find_or_create(ec2, &self.kind, &self.region, tempo.poll).await?;
        Ok((scenario, Vec::new()))
    }

    async fn open_shop(
        &self,
        scenario: &Scenario,
        seed: u64,
        tempo: &Tempo,
        clock: Clock,
        _recorded_through: u64,
        shop: &ShopSettings,
    ) -> Result<OpenedShop, LabError> {
        let plane = self.plane.clone();
        let shop = *shop;
        let (volume, size) = (scenario.data_volume_id.clone(), scenario.data_volume_bytes);
        let inventory = scenario.inventory.clone();
        let rate = tempo.orders_per_sec;
        // Opening a disk and replaying a journal read and write: off the async threads.
        tokio::task::spawn_blocking(move || -> Result<OpenedShop, LabError> {
            let orders = plane.live_disk(&volume, size)?;
            let disk: Box<dyn BlockDevice + Send> = match &inventory {
                None => orders,
                Some(i) => Box::new(SplitDevice::inventory_on(
                    orders,
                    plane.live_disk(&i.volume_id, i.bytes)?,
                )?),
            };
            // A journal whose stock table is not here at all: the table was
            // on an inventory volume (now gone), or moves to a new one.
            let new_table = stock_table_missing(&disk);
            let (mut writer, recovery) = match new_table {
                true => (
                    OrderWriter::create(disk, &shop.store_options(), clock, seed)?,
                    Recovery {
                        replayed: Vec::new(),
                        last_seq: 0,
                    },
                ),
                false => OrderWriter::open_or_create(disk, &shop.store_options(), clock, seed)?,
            };
            // A new store takes its trading history at once.
            if recovery.last_seq == 0 {
                for _ in 0..shop.history_orders {
                    writer.place_order()?;
                }
            }
            let workload = Workload::start(
                writer,
                WorkloadConfig {
                    orders_per_sec: Some(rate),
                },
            );
            Ok((Box::new(workload), recovery))
        })
        .await?
    }
}
