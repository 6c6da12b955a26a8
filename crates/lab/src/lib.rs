//! The lab engine: lab definitions (from `labs/`), the runner (guided or
//! hands-on), the checks, and the one stream of events everything records
//! and renders. See `events` for the stream's wire format.

mod actions;
pub mod bus;
mod checks;
pub mod context;
pub mod def;
mod error;
pub mod events;
mod explain;
pub mod input;
pub mod runner;
mod shop;
pub mod tempo;
pub mod verification;

pub use bus::{Emitter, EventBus};
pub use checks::CheckOutcome;
pub use context::{Consistency, Mode, RunContext, RunResource, TargetInfo};
pub use def::{Catalog, LabDef, StepDef};
pub use error::LabError;
pub use events::{Awaiting, EventSink, LabEvent, Level, RunOutcome, StepOutcome};
pub use input::{LearnerInput, LearnerReply, NoLearner};
pub use runner::{api_observer, new_run_id, CurrentStep, RunSettings, Runner};
pub use verification::Verification;
