//! One module per `snaplab` subcommand.

pub mod cleanup;
pub mod emulator;
pub mod history;
pub mod labs;
pub mod report;
pub mod run;
