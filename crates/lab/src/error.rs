use snaplab_cloud::CloudError;
use snaplab_workload::WorkloadError;

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("lab definition: {0}")]
    Definition(String),
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error("SecureCart: {0}")]
    Workload(#[from] WorkloadError),
    #[error("{0}")]
    Run(String),
    /// The learner asked to stop; the run is interrupted, not failed.
    #[error("stopped by the learner")]
    Quit,
}
