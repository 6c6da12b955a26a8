//! One module per `snaplab` subcommand.

pub mod emulator;
