//! Where the lab runs: targets, AWS clients and the data planes — the block
//! devices the SecureCart workload writes to and the verifier reads.

pub mod data_plane;

pub use data_plane::EmulatorDisk;
