//! Property tests: random, malformed and truncated Query requests never make
//! the emulator panic or answer 5xx; every error is EC2's XML envelope.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use proptest::prelude::*;
use snaplab_emulator::{router, EmulatorConfig, Pace, ACTIONS};
use tower::ServiceExt;

const KEYS: &[&str] = &[
    "VolumeId",
    "VolumeId.1",
    "VolumeId.2",
    "SnapshotId",
    "SnapshotId.1",
    "InstanceId",
    "InstanceId.1",
    "Device",
    "Size",
    "AvailabilityZone",
    "AvailabilityZoneId",
    "VolumeType",
    "Iops",
    "Throughput",
    "Encrypted",
    "DryRun",
    "MaxResults",
    "NextToken",
    "Description",
    "Owner.1",
    "RestorableBy.1",
    "Filter.1.Name",
    "Filter.1.Value.1",
    "Filter.2.Name",
    "Filter.1.Value.x",
    "Filter.99999999999.Name",
    "TagSpecification.1.ResourceType",
    "TagSpecification.1.Tag.1.Key",
    "TagSpecification.1.Tag.1.Value",
    "ResourceId.1",
    "Tag.1.Key",
    "Tag.1.Value",
    "InstanceSpecification.InstanceId",
    "InstanceSpecification.ExcludeBootVolume",
    "InstanceSpecification.ExcludeDataVolumeId.1",
    "CopyTagsFromSource",
    "ZoneName.1",
    "ZoneId.1",
    "Force",
    "MultiAttachEnabled",
    "AllAvailabilityZones",
];

const VALUES: &[&str] = &[
    "vol-0123456789abcdef0",
    "vol-0f1e2d3c4b5a69788",
    "i-0a1b2c3d4e5f60789",
    "snap-0123456789abcdef0",
    "vol-",
    "us-east-1a",
    "us-east-1z",
    "use1-az2",
    "/dev/sdg",
    "/dev/sdf",
    "/dev/xvda",
    "gp3",
    "st1",
    "io2",
    "true",
    "false",
    "0",
    "-1",
    "5",
    "8",
    "125",
    "99999999999999999999",
    "status",
    "tag:Name",
    "volume-id",
    "*",
    "?",
    "snapshot",
    "volume",
    "instance",
    "self",
    "amazon",
    "",
    "%",
    "%zz",
    "\u{0}",
    "é",
    "<x>&",
    "volume",
];

fn app() -> axum::Router {
    static CONFIG: OnceLock<EmulatorConfig> = OnceLock::new();
    router(CONFIG.get_or_init(|| EmulatorConfig {
        pace: Pace::Instant,
        ..Default::default()
    }))
    .unwrap()
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Sends one request to a fresh emulator and checks the invariants.
fn check(body: Vec<u8>, query: Option<String>, signed: bool) -> Result<(), TestCaseError> {
    let (status, text) = runtime().block_on(async move {
        let uri = match query {
            Some(q) => format!("/?{q}"),
            None => "/".to_string(),
        };
        let mut req = Request::post(uri).header("content-type", "application/x-www-form-urlencoded");
        if signed {
            req = req.header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0",
            );
        }
        let resp = app().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    });
    prop_assert!(status < 500, "5xx: {status} {text}");
    if status == 400 && signed {
        prop_assert!(
            text.contains("<Response><Errors><Error><Code>"),
            "not an EC2 error envelope: {text}"
        );
    }
    Ok(())
}

fn encode(pairs: &[(String, String)]) -> Vec<u8> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

fn action() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(ACTIONS.iter().map(|(n, ..)| n.to_string()).collect::<Vec<_>>()),
        1 => "[A-Za-z]{0,20}",
    ]
}

fn pair() -> impl Strategy<Value = (String, String)> {
    let key = prop_oneof![4 => prop::sample::select(KEYS).prop_map(String::from), 1 => "[A-Za-z.0-9]{0,24}"];
    let value = prop_oneof![4 => prop::sample::select(VALUES).prop_map(String::from), 1 => ".{0,40}"];
    (key, value)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn random_well_encoded_requests_never_fail_the_server(
        action in action(),
        pairs in prop::collection::vec(pair(), 0..8),
        in_query in any::<bool>(),
    ) {
        let mut all = vec![("Action".to_string(), action), ("Version".to_string(), "2016-11-15".to_string())];
        all.extend(pairs);
        let encoded = encode(&all);
        if in_query {
            check(Vec::new(), Some(String::from_utf8_lossy(&encoded).into_owned()), true)?;
        } else {
            check(encoded, None, true)?;
        }
    }

    #[test]
    fn truncated_requests_never_fail_the_server(
        action in action(),
        pairs in prop::collection::vec(pair(), 0..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut all = vec![("Action".to_string(), action)];
        all.extend(pairs);
        let encoded = encode(&all);
        let at = cut.index(encoded.len() + 1);
        check(encoded[..at].to_vec(), None, true)?;
    }

    #[test]
    fn arbitrary_bytes_never_fail_the_server(body in prop::collection::vec(any::<u8>(), 0..512), signed in any::<bool>()) {
        check(body, None, signed)?;
    }
}

/// Garbage that is not even HTTP, over a real socket: the listener survives.
#[tokio::test]
async fn garbage_on_the_socket_leaves_the_listener_serving() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emulator = snaplab_emulator::Emulator::start(EmulatorConfig {
        pace: Pace::Instant,
        ..Default::default()
    })
    .await
    .unwrap();
    for junk in [
        &b"GARBAGE\r\n\r\n"[..],
        b"\x00\x01\x02\xff",
        b"POST / HTTP/1.1\r\nContent-Length: 99\r\n\r\nAct",
    ] {
        let mut s = tokio::net::TcpStream::connect(emulator.addr()).await.unwrap();
        s.write_all(junk).await.unwrap();
        s.shutdown().await.unwrap();
        let mut reply = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), s.read_to_end(&mut reply)).await;
        let head = String::from_utf8_lossy(&reply);
        assert!(!head.starts_with("HTTP/1.1 5"), "{head}");
    }
    let health = reqwest::get(format!("{}/_snaplab/health", emulator.endpoint()))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

/// Sends one request with any method, path and query; checks no 5xx.
fn check_path(method: &str, path: String, body: Vec<u8>, scope: Option<&str>) -> Result<(), TestCaseError> {
    let method = method.to_string();
    let scope = scope.map(String::from);
    let (status, text) = runtime().block_on(async move {
        let mut req = Request::builder().method(method.as_str()).uri(path);
        if let Some(service) = scope {
            req = req.header(
                "authorization",
                format!("AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"),
            );
        }
        let Ok(req) = req.body(Body::from(body)) else {
            return (400, String::new()); // not even a valid URI: nothing reaches the server
        };
        let resp = app().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    });
    prop_assert!(status < 500, "5xx: {status} {text}");
    Ok(())
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("8589934591".to_string()),
        Just("18446744073709551615".to_string()),
        Just("-1".to_string()),
        Just("".to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (0u64..20_000_000).prop_map(|n| n.to_string()),
        "[a-z%]{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn data_plane_requests_never_fail_the_server(
        method in prop::sample::select(vec!["GET", "PUT", "POST", "DELETE"]),
        volume in prop::sample::select(vec!["vol-0123456789abcdef0", "vol-0f1e2d3c4b5a69788", "vol-1", "x", "vol-0123456789abcdef1"]),
        offset in number(),
        length in number(),
        body in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        check_path(method, format!("/_snaplab/volumes/{volume}/data?offset={offset}&length={length}"), body, None)?;
    }

    #[test]
    fn ebs_requests_never_fail_the_server(
        method in prop::sample::select(vec!["GET", "POST", "PUT"]),
        snapshot in prop::sample::select(vec!["snap-0123456789abcdef0", "snap-", "vol-0123456789abcdef0", "%00"]),
        tail in prop::sample::select(vec!["blocks", "changedblocks", "blocks/0", "blocks/-1", "blocks/x", "", "blocks/0/extra"]),
        token in "[A-Za-z0-9+/=%]{0,40}",
        max in number(),
    ) {
        let path = format!("/snapshots/{snapshot}/{tail}?blockToken={token}&pageToken={token}&maxResults={max}&startingBlockIndex={max}&firstSnapshotId={snapshot}");
        check_path(method, path, Vec::new(), Some("ebs"))?;
    }
}
