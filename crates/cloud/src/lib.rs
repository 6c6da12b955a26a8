//! Where the lab runs: targets (the built-in emulator, an endpoint such as
//! LocalStack), the guard that keeps real AWS out, the EC2 operations the
//! lab uses with AWS's states as enums, and the data planes — the block
//! devices the SecureCart workload writes to and the verifier reads.

pub mod alerts;
pub mod block_changes;
pub mod data_plane;
pub mod ebs_direct;
pub mod ec2;
pub mod endpoint;
mod error;
mod pace;
pub mod read_pass;
pub mod scenario;
pub mod shadow;
mod state;
pub mod target;

pub use alerts::{Alerts, Delivery};
pub use block_changes::BlockComparison;
pub use data_plane::{DataPlane, DataSource, EmulatorDisk};
pub use ec2::{ApiCall, ApiObserver, AttachmentInfo, Ec2, InstanceInfo, Launch, SnapshotInfo, VolumeInfo};
pub use error::CloudError;
pub use pace::{TargetPace, UnknownPace};
pub use read_pass::{ReadKind, ReadPass, ReadSample};
pub use shadow::ShadowDisk;
pub use state::{AttachmentState, SnapshotState, VolumeState};
pub use target::{learner_access_key, EndpointScope, Target, TargetKind};
