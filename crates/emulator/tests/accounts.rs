//! One emulator, a world per learner: every access key is an account with a
//! SecureCart of its own, ids unique across accounts, and no call made with
//! one key sees or touches another account's resources — every EC2 action,
//! the EBS direct APIs, SSM, SNS, EventBridge and the `/_snaplab/` routes.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;
use aws_sdk_ec2::Client;
use snaplab_emulator::Pace;
use snaplab_testkit::*;

const ALICE: &str = "AKIASNAPLABALICE";
const BOB: &str = "AKIASNAPLABBOB";
const REGION: &str = "us-east-1";

/// An access key's SecureCart, found as the lab finds it: by its Name tags.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Securecart {
    instance: String,
    data_volume: String,
    root_volume: String,
    vpc: String,
    subnet: String,
}

async fn securecart(ec2: &Client) -> Securecart {
    let found = ec2
        .describe_instances()
        .filters(Filter::builder().name("tag:Name").values("securecart-app").build())
        .send()
        .await
        .unwrap();
    let instances: Vec<_> = found.reservations().iter().flat_map(|r| r.instances()).collect();
    assert_eq!(instances.len(), 1, "{instances:?}");
    let i = instances[0];
    let device = |name: &str| {
        i.block_device_mappings()
            .iter()
            .find(|m| m.device_name() == Some(name))
            .and_then(|m| m.ebs()?.volume_id())
            .unwrap()
            .to_string()
    };
    Securecart {
        instance: i.instance_id().unwrap().to_string(),
        data_volume: device("/dev/sdf"),
        root_volume: device("/dev/xvda"),
        vpc: i.vpc_id().unwrap().to_string(),
        subnet: i.subnet_id().unwrap().to_string(),
    }
}

async fn account_of(lab: &Lab, key: &str) -> String {
    let body = query(
        lab,
        key,
        "sts",
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
    )
    .await
    .1;
    between(&body, "<Account>", "</Account>").unwrap().to_string()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    Some(&text[start..start + text[start..].find(close)?])
}

/// A Query request signed (in form only: the emulator checks no
/// signature) with `key` for `service`: its status and body.
async fn query(lab: &Lab, key: &str, service: &str, params: &[(&str, &str)]) -> (u16, String) {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={key}/20261130/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0"
    );
    let r = reqwest::Client::new()
        .post(lab.endpoint())
        .header("authorization", auth)
        .form(params)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A JSON 1.1 request (SSM, EventBridge) signed with `key`.
async fn json11(lab: &Lab, key: &str, service: &str, target: &str, body: serde_json::Value) -> (u16, String) {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={key}/20261130/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0"
    );
    let r = reqwest::Client::new()
        .post(lab.endpoint())
        .header("authorization", auth)
        .header("x-amz-target", target)
        .header("content-type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn ebs_as(lab: &Lab, key: &str) -> aws_sdk_ebs::Client {
    let config = aws_sdk_ebs::Config::builder()
        .behavior_version(aws_sdk_ebs::config::BehaviorVersion::latest())
        .region(aws_sdk_ebs::config::Region::new(REGION))
        .endpoint_url(lab.endpoint())
        .credentials_provider(aws_sdk_ebs::config::Credentials::new(key, "test", None, None, "tests"))
        .build();
    aws_sdk_ebs::Client::from_conf(config)
}

fn data_url(lab: &Lab, volume: &str, key: &str, rest: &str) -> String {
    format!(
        "{}/_snaplab/volumes/{volume}/data?access_key={key}&region={REGION}&{rest}",
        lab.endpoint()
    )
}

#[tokio::test]
async fn every_access_key_is_an_account_with_a_securecart_of_its_own() {
    let lab = Lab::start(Pace::Instant).await;
    let (alice, bob) = (
        client_in(lab.endpoint(), REGION, ALICE),
        client_in(lab.endpoint(), REGION, BOB),
    );
    let (a, b, home) = (
        securecart(&alice).await,
        securecart(&bob).await,
        securecart(&client(lab.endpoint())).await,
    );

    // The default account keeps the ids the docs show; the others are derived, all distinct.
    assert_eq!(home.instance, INSTANCE_ID);
    assert_eq!(home.data_volume, DATA_VOLUME_ID);
    let ids = |s: &Securecart| {
        [
            s.instance.clone(),
            s.data_volume.clone(),
            s.root_volume.clone(),
            s.vpc.clone(),
            s.subnet.clone(),
        ]
    };
    let mut all: Vec<String> = [ids(&a), ids(&b), ids(&home)].concat();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 15, "ids are unique across accounts: {a:?} {b:?} {home:?}");

    // Accounts: derived from the key, stable, never the default one; 12 digits are the account.
    let (alice_account, bob_account) = (account_of(&lab, ALICE).await, account_of(&lab, BOB).await);
    assert_ne!(alice_account, bob_account);
    assert_ne!(alice_account, "000000000000");
    assert_eq!(account_of(&lab, "test").await, "000000000000");
    assert_eq!(account_of(&lab, "210987654321").await, "210987654321");
    let again = Lab::start(Pace::Instant).await;
    assert_eq!(
        account_of(&again, ALICE).await,
        alice_account,
        "the same key, the same account, anywhere"
    );
    assert_eq!(
        securecart(&client_in(again.endpoint(), REGION, ALICE)).await,
        a,
        "and the same SecureCart"
    );
    let owner = alice
        .describe_volumes()
        .volume_ids(&a.data_volume)
        .send()
        .await
        .unwrap();
    assert!(owner.volumes()[0]
        .tags()
        .iter()
        .any(|t| t.value() == Some("SecureCart")));
}

/// An action's parameters, and what the other account must get for them.
type Case = (Vec<(String, String)>, Expect);

/// What Bob's request with Alice's ids must get.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// An error whose code names what was not found (in Bob's account).
    NotFound,
    /// A reply that mentions none of Alice's ids.
    Hidden,
    /// An account-wide setting: Bob's own, checked on Alice's side afterwards.
    OwnSetting,
}

#[tokio::test]
async fn no_call_with_one_key_sees_or_touches_another_accounts_resources() {
    let lab = Lab::start(Pace::Instant).await;
    let (alice, bob) = (
        client_in(lab.endpoint(), REGION, ALICE),
        client_in(lab.endpoint(), REGION, BOB),
    );
    let (a, b) = (securecart(&alice).await, securecart(&bob).await);

    // Alice's world: orders on her volume, a snapshot, a restored volume, a tag.
    let http = reqwest::Client::new();
    let put = http
        .put(data_url(&lab, &a.data_volume, ALICE, "offset=4096"))
        .body(b"alice's order".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let snap = alice
        .create_snapshot()
        .volume_id(&a.data_volume)
        .send()
        .await
        .unwrap()
        .snapshot_id()
        .unwrap()
        .to_string();
    let restored = alice
        .create_volume()
        .snapshot_id(&snap)
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap()
        .volume_id()
        .unwrap()
        .to_string();
    // And one she writes through the EBS direct APIs (pending until she completes it).
    let ebs_alice = ebs_as(&lab, ALICE);
    let direct = ebs_alice.start_snapshot().volume_size(1).send().await.unwrap();
    let direct = direct.snapshot_id().unwrap().to_string();
    let alice_ids = [
        &a.instance,
        &a.data_volume,
        &a.root_volume,
        &a.vpc,
        &a.subnet,
        &snap,
        &restored,
        &direct,
    ];
    let before = world_of(&alice).await;

    // Every EC2 action, with Alice's ids, signed by Bob.
    let n = |i: &str| i.to_string();
    let requests: BTreeMap<&str, Case> = [
        ("DescribeAvailabilityZones", (vec![], Expect::OwnSetting)),
        (
            "DescribeInstances",
            (vec![(n("InstanceId.1"), a.instance.clone())], Expect::NotFound),
        ),
        (
            "RunInstances",
            (
                vec![
                    (n("ImageId"), n("ami-0a5c3558529277641")),
                    (n("InstanceType"), n("t3.micro")),
                    (n("MinCount"), n("1")),
                    (n("MaxCount"), n("1")),
                    (n("SubnetId"), a.subnet.clone()),
                ],
                Expect::NotFound,
            ),
        ),
        (
            "TerminateInstances",
            (vec![(n("InstanceId.1"), a.instance.clone())], Expect::NotFound),
        ),
        ("DescribeVpcs", (vec![], Expect::Hidden)),
        ("DescribeInstanceTypeOfferings", (vec![], Expect::OwnSetting)),
        ("DescribeSubnets", (vec![], Expect::Hidden)),
        (
            "DescribeVolumes",
            (vec![(n("VolumeId.1"), a.data_volume.clone())], Expect::NotFound),
        ),
        (
            "DescribeVolumeStatus",
            (vec![(n("VolumeId.1"), a.data_volume.clone())], Expect::NotFound),
        ),
        (
            "CreateVolume",
            (
                vec![
                    (n("SnapshotId"), snap.clone()),
                    (n("AvailabilityZone"), n("us-east-1a")),
                ],
                Expect::NotFound,
            ),
        ),
        (
            "DeleteVolume",
            (vec![(n("VolumeId"), restored.clone())], Expect::NotFound),
        ),
        (
            "AttachVolume",
            (
                vec![
                    (n("VolumeId"), restored.clone()),
                    (n("InstanceId"), b.instance.clone()),
                    (n("Device"), n("/dev/sdh")),
                ],
                Expect::NotFound,
            ),
        ),
        (
            "DetachVolume",
            (vec![(n("VolumeId"), a.data_volume.clone())], Expect::NotFound),
        ),
        (
            "CreateSnapshot",
            (vec![(n("VolumeId"), a.data_volume.clone())], Expect::NotFound),
        ),
        (
            "ModifyVolume",
            (
                vec![(n("VolumeId"), a.data_volume.clone()), (n("Size"), n("20"))],
                Expect::NotFound,
            ),
        ),
        (
            "DescribeVolumesModifications",
            (vec![(n("VolumeId.1"), a.data_volume.clone())], Expect::NotFound),
        ),
        (
            "CreateSnapshots",
            (
                vec![(n("InstanceSpecification.InstanceId"), a.instance.clone())],
                Expect::NotFound,
            ),
        ),
        (
            "DescribeSnapshots",
            (vec![(n("SnapshotId.1"), snap.clone())], Expect::NotFound),
        ),
        (
            "DeleteSnapshot",
            (vec![(n("SnapshotId"), snap.clone())], Expect::NotFound),
        ),
        (
            "CopySnapshot",
            (
                vec![(n("SourceSnapshotId"), snap.clone()), (n("SourceRegion"), n(REGION))],
                Expect::NotFound,
            ),
        ),
        (
            "EnableFastSnapshotRestores",
            (
                vec![
                    (n("AvailabilityZone.1"), n("us-east-1a")),
                    (n("SourceSnapshotId.1"), snap.clone()),
                ],
                Expect::NotFound,
            ),
        ),
        (
            "DisableFastSnapshotRestores",
            (
                vec![
                    (n("AvailabilityZone.1"), n("us-east-1a")),
                    (n("SourceSnapshotId.1"), snap.clone()),
                ],
                Expect::NotFound,
            ),
        ),
        ("DescribeFastSnapshotRestores", (vec![], Expect::Hidden)),
        (
            "DescribeSnapshotAttribute",
            (
                vec![
                    (n("SnapshotId"), snap.clone()),
                    (n("Attribute"), n("createVolumePermission")),
                ],
                Expect::NotFound,
            ),
        ),
        (
            "ModifySnapshotAttribute",
            (
                vec![
                    (n("SnapshotId"), snap.clone()),
                    (n("Attribute"), n("createVolumePermission")),
                    (n("OperationType"), n("add")),
                    (n("UserId.1"), account_of(&lab, BOB).await),
                ],
                Expect::NotFound,
            ),
        ),
        (
            "ResetSnapshotAttribute",
            (
                vec![
                    (n("SnapshotId"), snap.clone()),
                    (n("Attribute"), n("createVolumePermission")),
                ],
                Expect::NotFound,
            ),
        ),
        ("EnableEbsEncryptionByDefault", (vec![], Expect::OwnSetting)),
        ("DisableEbsEncryptionByDefault", (vec![], Expect::OwnSetting)),
        ("GetEbsEncryptionByDefault", (vec![], Expect::OwnSetting)),
        ("GetEbsDefaultKmsKeyId", (vec![], Expect::OwnSetting)),
        (
            "ModifyEbsDefaultKmsKeyId",
            (vec![(n("KmsKeyId"), n("alias/bobs-key"))], Expect::OwnSetting),
        ),
        ("ResetEbsDefaultKmsKeyId", (vec![], Expect::OwnSetting)),
        (
            "CreateTags",
            (
                vec![
                    (n("ResourceId.1"), a.data_volume.clone()),
                    (n("Tag.1.Key"), n("Owner")),
                    (n("Tag.1.Value"), n("bob")),
                ],
                Expect::NotFound,
            ),
        ),
        (
            "DeleteTags",
            (
                vec![(n("ResourceId.1"), a.data_volume.clone()), (n("Tag.1.Key"), n("Name"))],
                Expect::NotFound,
            ),
        ),
        ("DescribeTags", (vec![], Expect::Hidden)),
    ]
    .into_iter()
    .collect();

    for (action, _, _) in snaplab_emulator::ACTIONS {
        let Some((params, expect)) = requests.get(action) else {
            panic!("{action} has no isolation case here: add one");
        };
        let mut form: Vec<(&str, &str)> = vec![("Action", action), ("Version", "2016-11-15")];
        form.extend(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let (status, body) = query(&lab, BOB, "ec2", &form).await;
        match expect {
            Expect::NotFound => {
                let code = between(&body, "<Code>", "</Code>").unwrap_or_default();
                let unsuccessful = body.contains("<unsuccessful>") && body.contains("NotFound");
                assert!(
                    (status == 400 && code.contains("NotFound")) || (status == 200 && unsuccessful),
                    "{action} from another account: {status} {body}"
                );
            }
            Expect::Hidden => {
                assert_eq!(status, 200, "{action}: {body}");
                let seen: Vec<_> = alice_ids.iter().filter(|id| body.contains(id.as_str())).collect();
                assert!(seen.is_empty(), "{action} from another account shows {seen:?}: {body}");
            }
            Expect::OwnSetting => assert_eq!(status, 200, "{action}: {body}"),
        }
    }
    // Unsigned requests act in the default account: none of Alice's either.
    let (status, body) = reqwest::Client::new()
        .post(lab.endpoint())
        .form(&[("Action", "DescribeVolumes"), ("Version", "2016-11-15")])
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 200);
    let body = body.text().await.unwrap();
    assert!(
        !body.contains(&a.data_volume) && body.contains(DATA_VOLUME_ID),
        "{body}"
    );

    // EBS direct: Alice's snapshot's blocks are not Bob's to list, read or compare.
    let blocks = ebs_alice
        .list_snapshot_blocks()
        .snapshot_id(&snap)
        .send()
        .await
        .unwrap();
    let block = &blocks.blocks()[0];
    let ebs_bob = ebs_as(&lab, BOB);
    let e = ebs_bob
        .list_snapshot_blocks()
        .snapshot_id(&snap)
        .send()
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("ResourceNotFound"), "{e:?}");
    let e = ebs_bob
        .get_snapshot_block()
        .snapshot_id(&snap)
        .block_index(block.block_index().unwrap())
        .block_token(block.block_token().unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("ResourceNotFound"), "{e:?}");
    let e = ebs_bob
        .list_changed_blocks()
        .second_snapshot_id(&snap)
        .send()
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("ResourceNotFound"), "{e:?}");
    let e = ebs_bob
        .start_snapshot()
        .volume_size(8)
        .parent_snapshot_id(&snap)
        .send()
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("ResourceNotFound"), "{e:?}");
    // Alice's snapshot written through the EBS direct APIs: Bob cannot complete it.
    let e = ebs_bob
        .complete_snapshot()
        .snapshot_id(&direct)
        .changed_blocks_count(0)
        .send()
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("ResourceNotFound"), "{e:?}");

    // The data plane: Bob can neither read nor write Alice's volume, nor fail her next snapshot.
    let read = http
        .get(data_url(&lab, &a.data_volume, BOB, "offset=4096&length=13"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 404, "{:?}", read.text().await);
    let write = http
        .put(data_url(&lab, &a.data_volume, BOB, "offset=4096"))
        .body(b"bob was here!".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 404);
    let fail = http
        .put(format!(
            "{}/_snaplab/volumes/{}/fail-next-snapshot?access_key={BOB}&region={REGION}",
            lab.endpoint(),
            a.data_volume
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(fail.status(), 404);
    // Alice's EBS events are hers.
    let events = |key: &str| {
        let url = format!("{}/_snaplab/events?access_key={key}&region={REGION}", lab.endpoint());
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    assert!(events(ALICE).await.contains(&snap));
    assert!(!events(BOB).await.contains(&snap));

    // SSM, SNS and EventBridge: Alice's instance, topic and rule are not Bob's.
    let (status, body) = json11(
        &lab,
        BOB,
        "ssm",
        "AmazonSSM.SendCommand",
        serde_json::json!({"DocumentName": "AWS-RunShellScript", "InstanceIds": [a.instance], "Parameters": {"commands": ["true"]}}),
    )
    .await;
    assert!(status == 400 && body.contains("InvalidInstanceId"), "{status} {body}");
    let (_, topic) = query(
        &lab,
        ALICE,
        "sns",
        &[("Action", "CreateTopic"), ("Name", "alice-alerts")],
    )
    .await;
    let topic_arn = between(&topic, "<TopicArn>", "</TopicArn>").unwrap().to_string();
    let (status, body) = query(
        &lab,
        BOB,
        "sns",
        &[("Action", "Publish"), ("TopicArn", &topic_arn), ("Message", "hi")],
    )
    .await;
    assert!(status == 404 && body.contains("NotFound"), "{status} {body}");
    let (_, body) = query(&lab, BOB, "sns", &[("Action", "ListTopics")]).await;
    assert!(!body.contains("alice-alerts"), "{body}");
    json11(
        &lab,
        ALICE,
        "events",
        "AWSEvents.PutRule",
        serde_json::json!({"Name": "alice-rule", "EventPattern": "{\"source\":[\"aws.ec2\"]}"}),
    )
    .await;
    let (_, body) = json11(&lab, BOB, "events", "AWSEvents.ListRules", serde_json::json!({})).await;
    assert!(!body.contains("alice-rule"), "{body}");

    // Alice's world is as she left it: the same resources, tags, attributes and settings, and her order.
    assert_eq!(world_of(&alice).await, before);
    let read = http
        .get(data_url(&lab, &a.data_volume, ALICE, "offset=4096&length=13"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.bytes().await.unwrap().as_ref(), b"alice's order");
}

/// What Alice can see of her world, to compare before and after Bob's calls.
async fn world_of(ec2: &Client) -> String {
    let volumes = ec2.describe_volumes().send().await.unwrap();
    let snapshots = ec2.describe_snapshots().owner_ids("self").send().await.unwrap();
    let instances = ec2.describe_instances().send().await.unwrap();
    let encryption = ec2.get_ebs_encryption_by_default().send().await.unwrap();
    let key = ec2.get_ebs_default_kms_key_id().send().await.unwrap();
    let mut attributes = Vec::new();
    for s in snapshots.snapshots() {
        let a = ec2
            .describe_snapshot_attribute()
            .snapshot_id(s.snapshot_id().unwrap())
            .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
            .send()
            .await
            .unwrap();
        attributes.push(format!("{:?}", a.create_volume_permissions()));
    }
    let volumes: Vec<String> = volumes
        .volumes()
        .iter()
        .map(|v| {
            format!(
                "{:?} {:?} {:?} {:?} {:?}",
                v.volume_id(),
                v.state(),
                v.size(),
                v.attachments(),
                v.tags()
            )
        })
        .collect();
    let snapshots: Vec<String> = snapshots
        .snapshots()
        .iter()
        .map(|s| format!("{:?} {:?} {:?}", s.snapshot_id(), s.state(), s.tags()))
        .collect();
    let instances: Vec<String> = instances
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| format!("{:?} {:?}", i.instance_id(), i.state().and_then(|s| s.name())))
        .collect();
    format!(
        "{volumes:#?}\n{snapshots:#?}\n{instances:#?}\n{attributes:?}\n{:?} {:?}",
        encryption.ebs_encryption_by_default(),
        key.kms_key_id()
    )
}
