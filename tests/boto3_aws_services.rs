//! boto3 judges what the real-AWS path calls besides EC2 volumes — STS,
//! IAM, SSM parameters, the default VPC, RunInstances — and `--deny`
//! (tests/clients/boto3_aws_services.py).

mod common;

use common::{run_python_client, EmulatorProcess};

#[test]
fn boto3_parses_sts_iam_and_ssm_and_sees_denied_actions_refused() {
    let emulator = EmulatorProcess::start(&[
        "--pace",
        "demo",
        "--deny",
        "ec2:TerminateInstances,ssm:GetParameter,iam:GetRole",
    ]);
    run_python_client("boto3_aws_services.py", &emulator.endpoint);
}
