//! The lab engine: lab definitions (from `labs/`), the runner (guided or
//! hands-on), and the one stream of events everything records and renders.
//!
//! A step's work is done by free functions over one [`RunScope`] (the run's
//! context, cloud, data plane, shop, emitter, tempo and clock):
//! [`perform`](actions::perform) does an action for the learner,
//! [`discover`](discover::discover) finds and records what a step made, and
//! [`judge`](checks::judge) decides a check without recording anything. A new
//! step kind is an `Action` arm in `perform`, a `CheckId` arm in `judge`, and
//! the lab's TOML. See `events` for the stream's wire format.

pub mod actions;
mod alert_checks;
pub mod alerting;
pub mod bus;
pub mod checks;
pub mod cleanup;
pub mod clock;
pub mod context;
pub mod def;
pub mod discover;
mod error;
pub mod events;
mod explain;
pub mod initialization;
mod initialization_checks;
pub mod input;
pub mod lease;
mod order_log;
pub mod pair;
mod pair_checks;
pub mod quiz;
pub mod runner;
pub mod scope;
mod shop;
pub mod site;
pub mod tempo;
pub mod verification;

pub use bus::{Emitter, EventBus};
pub use checks::CheckOutcome;
pub use clock::{fixed_clock, system_clock, Clock, Ids};
pub use context::{
    Consistency, InventoryCopies, Mode, ResourceKind, ResourceRole, RunContext, RunResource, TargetInfo, LAB_TAG,
    RUN_TAG,
};
pub use def::{Action, Catalog, CheckId, LabDef, ShopSettings, StepDef};
pub use error::{LabError, Prerequisite};
pub use events::{Awaiting, EventKind, EventSink, LabEvent, Level, RunOutcome, RunStatus, SinkError, StepOutcome};
pub use input::{LearnerInput, LearnerReply, NoLearner, WithAnswers};
pub use order_log::{OrderLog, UnrecordedOrders};
pub use quiz::{Answer, Question, QuestionKind, QuizReply, Score};
pub use runner::{RunSettings, Runner, Start, Wiring};
pub use scope::{RunEvents, RunScope};
pub use shop::ShopCloser;
pub use site::{Created, InstanceVerdict, LocalSite, Site};
pub use verification::{PairFinding, Verification};
