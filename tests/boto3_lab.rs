//! boto3 judges the emulator: the lab's steps, waiters, paginators and error
//! codes through botocore's parser (tests/clients/boto3_lab.py).

mod common;

use common::{run_python_client, EmulatorProcess};

#[test]
fn boto3_runs_the_lab_and_parses_every_reply() {
    let emulator = EmulatorProcess::start(&["--pace", "demo"]);
    run_python_client("boto3_lab.py", &emulator.endpoint);
}
