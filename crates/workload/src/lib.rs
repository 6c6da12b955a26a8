//! The SecureCart order workload: what the shop writes to its EBS volume, and
//! the verifier that judges a restored copy of it.
//!
//! An order touches two places on the volume — a record appended to the order
//! journal, then its product's stock row — so a crash-consistent snapshot can
//! catch one half of an order (a *torn* order). Records carry a sequence
//! number, a CRC-32C and a link to their predecessor; the format is specified
//! in `docs/journal.md`. The crate has no I/O dependencies: it reads and
//! writes through the [`BlockDevice`] trait.

pub mod device;
pub mod driver;
mod error;
pub mod format;
pub mod replay;
pub mod split;
pub mod store;
pub mod verify;
pub mod writer;

pub use device::{BlockDevice, DeviceError, FileDevice, MemoryDevice};
pub use driver::{OrderTaker, Quiesced, Workload, WorkloadConfig, WorkloadStats};
pub use error::WorkloadError;
pub use replay::{replay, ReplayReport};
pub use split::SplitDevice;
pub use store::StoreOptions;
pub use verify::{judge, verify, ImageReport, OrderState, PointInTime, VerifyOptions};
pub use writer::{system_clock, Clock, LogEntry, OrderWriter, PendingOrder, Recovery, WriterLog};
