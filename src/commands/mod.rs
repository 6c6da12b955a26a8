//! One module per `snaplab` subcommand.

pub mod class;
pub mod cleanup;
pub mod consent;
pub mod emulator;
pub mod history;
pub mod labs;
pub mod preflight;
pub mod report;
pub mod run;
pub mod sync;
