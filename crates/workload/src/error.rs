use crate::device::DeviceError;

#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error("the volume holds no SecureCart store: {0}")]
    NotFormatted(String),
    #[error("invalid store options: {0}")]
    InvalidOptions(String),
    #[error("order {0} is still in flight: commit it before beginning another")]
    OrderInFlight(u64),
    #[error("the order journal is full ({capacity} orders); format a larger volume or a larger record size")]
    JournalFull { capacity: u64 },
    #[error("the workload stopped: {0}")]
    Stopped(String),
}
