//! Where the lab runs: targets (the built-in emulator, an endpoint such as
//! LocalStack), the EC2 operations the lab uses, and the data planes — the
//! block devices the SecureCart workload writes to and the verifier reads.

pub mod data_plane;
pub mod ec2;
mod error;
pub mod scenario;
pub mod shadow;
pub mod target;

pub use data_plane::{DataPlane, EmulatorDisk};
pub use ec2::{ApiCall, ApiObserver, Ec2, InstanceInfo, SnapshotInfo, VolumeInfo};
pub use error::CloudError;
pub use shadow::ShadowDisk;
pub use target::{Target, TargetKind};
