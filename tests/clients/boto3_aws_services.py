"""What the real-AWS path calls besides EC2 volumes, through boto3, against a
snaplab emulator started with `--deny ec2:TerminateInstances,ssm:GetParameter,iam:GetRole`.

Usage: python3 boto3_aws_services.py ENDPOINT
Exits 0 when every check passed; prints one line per check and a summary.
botocore's parsers for STS and IAM (Query/XML) and SSM (JSON 1.1) judge the replies.
"""
import sys

import boto3

from checks import check, error_code, summary  # noqa: E402  (tests/clients/checks.py)

AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def main(endpoint):
    def client(name):
        return boto3.client(name, endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id="AKIDSNAPLABTEST", aws_secret_access_key="test")

    sts, iam, ssm, ec2 = client("sts"), client("iam"), client("ssm"), client("ec2")

    me = sts.get_caller_identity()
    check("sts: account is 12 digits", len(me["Account"]) == 12 and me["Account"].isdigit(), me)
    check("sts: arn names the account", me["Arn"].startswith(f"arn:aws:iam::{me['Account']}:"), me)
    check("sts: user id is the access key", me["UserId"] == "AKIDSNAPLABTEST", me)

    p = iam.get_instance_profile(InstanceProfileName="snaplab-ssm")["InstanceProfile"]
    check("iam: instance profile holds its role", [r["RoleName"] for r in p["Roles"]] == ["snaplab-ssm"], p)
    check("iam: create date parsed", hasattr(p["CreateDate"], "year"), p["CreateDate"])
    policy = p["Roles"][0]["AssumeRolePolicyDocument"]
    check("iam: trust policy decoded to a document", policy["Statement"][0]["Principal"]["Service"] == "ec2.amazonaws.com", policy)
    attached = iam.list_attached_role_policies(RoleName="snaplab-ssm")["AttachedPolicies"]
    check("iam: the SSM core policy is attached",
          any(a["PolicyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" for a in attached), attached)
    check("iam: unknown profile is NoSuchEntity 404",
          error_code(iam.get_instance_profile, InstanceProfileName="nope") == ("NoSuchEntity", 404))
    check("iam: denied action is AccessDenied 403",
          error_code(iam.get_role, RoleName="snaplab-ssm") == ("AccessDenied", 403))

    check("ssm: denied GetParameter is AccessDeniedException",
          error_code(ssm.get_parameter, Name=AL2023)[0] == "AccessDeniedException")
    check("ssm: unknown operation answered, not 5xx",
          error_code(ssm.describe_instance_information)[1] < 500)

    zone_a = [s for s in ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
              if s["AvailabilityZone"] == "us-east-1a"]
    check("ec2: a default subnet in us-east-1a", len(zone_a) == 1, zone_a)
    check("ec2: RunInstances dry run succeeds",
          error_code(ec2.run_instances, DryRun=True, ImageId="ami-0a17023c0ffee8601", InstanceType="t3.micro",
                   MinCount=1, MaxCount=1) == ("DryRunOperation", 412))
    check("ec2: denied dry run is UnauthorizedOperation 403",
          error_code(ec2.terminate_instances, DryRun=True, InstanceIds=["i-0a1b2c3d4e5f60789"])
          == ("UnauthorizedOperation", 403))
    r = ec2.run_instances(ImageId="ami-0a17023c0ffee8601", InstanceType="t3.micro", MinCount=1, MaxCount=1,
                          IamInstanceProfile={"Name": "snaplab-ssm"},
                          MetadataOptions={"HttpTokens": "required"},
                          TagSpecifications=[{"ResourceType": "instance",
                                              "Tags": [{"Key": "snaplab:run", "Value": "r1"}]}])
    iid = r["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    d = ec2.describe_instances(Filters=[{"Name": "tag:snaplab:run", "Values": ["r1"]}])["Reservations"]
    check("ec2: launched instance found by its tag and running",
          d and d[0]["Instances"][0]["State"]["Name"] == "running", d)

    return summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
