//! Property tests: random, malformed and truncated Query requests never make
//! the emulator panic or answer 5xx; every error is EC2's XML envelope. The
//! data plane and the EBS direct APIs (reads, and sequences of writes with
//! random headers and bodies) likewise, each with its own error shape.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::OnceLock;
use std::time::Duration;

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
    "SourceRegion",
    "SourceSnapshotId",
    "KmsKeyId",
    "DestinationOutpostArn",
    "Attribute",
    "OperationType",
    "UserId.1",
    "UserGroup.1",
    "CreateVolumePermission.Add.1.UserId",
    "CreateVolumePermission.Add.1.Group",
    "CreateVolumePermission.Remove.1.UserId",
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
    "us-east-1",
    "eu-west-1",
    "us-nowhere-1",
    "alias/aws/ebs",
    "alias/",
    "1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "createVolumePermission",
    "productCodes",
    "add",
    "remove",
    "all",
    "111122223333",
];

/// Whom a signed request is from and where it is for: the default account
/// or another one, a region with or without state, or one AWS lacks.
const SCOPES: &[(&str, &str)] = &[
    ("test", "us-east-1"),
    ("test", "eu-west-1"),
    ("111122223333", "us-east-1"),
    ("test", "us-nowhere-1"),
    ("test", ""),
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

/// How long one request may take before the test fails: far more than any
/// machine needs (an in-process request takes microseconds), so only a hung
/// handler reaches it.
const REPLY_WITHIN: Duration = Duration::from_secs(60);

/// A reply as the client sees it.
struct Reply {
    status: u16,
    headers: axum::http::HeaderMap,
    text: String,
}

/// Sends `req` to a fresh emulator; a reply that does not come is a failure.
fn send(req: Request<Body>) -> Result<Reply, TestCaseError> {
    send_to(&app(), req)
}

/// Sends `req` to the emulator `app` serves (one kept across requests).
fn send_to(app: &axum::Router, req: Request<Body>) -> Result<Reply, TestCaseError> {
    let what = format!("{} {}", req.method(), req.uri());
    let app = app.clone();
    runtime()
        .block_on(async move {
            tokio::time::timeout(REPLY_WITHIN, async move {
                let resp = app.oneshot(req).await.unwrap();
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                let bytes = resp.into_body().collect().await.unwrap().to_bytes();
                Reply {
                    status,
                    headers,
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                }
            })
            .await
        })
        .map_err(|_| TestCaseError::fail(format!("no reply to {what} within {REPLY_WITHIN:?}")))
}

/// The text of `<name>…</name>` at the start of `rest`, and what follows it.
fn element<'a>(rest: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let rest = rest.strip_prefix(&format!("<{name}>"))?;
    let close = format!("</{name}>");
    let end = rest.find(&close)?;
    Some((&rest[..end], &rest[end + close.len()..]))
}

/// EC2's Query error envelope, exactly:
/// `<Response><Errors><Error><Code>…</Code><Message>…</Message></Error></Errors><RequestID>…</RequestID></Response>`
/// (after an optional XML declaration), with a code, a message and a request
/// id that are non-empty text; returns the code.
fn ec2_error_code(text: &str) -> Option<String> {
    let mut rest = text.trim_start();
    if rest.starts_with("<?xml") {
        rest = rest[rest.find("?>")? + 2..].trim_start();
    }
    let (response, after) = element(rest, "Response")?;
    if !after.trim().is_empty() {
        return None;
    }
    let (errors, rest) = element(response, "Errors")?;
    let (error, tail) = element(errors, "Error")?;
    if !tail.is_empty() {
        return None;
    }
    let (code, rest_error) = element(error, "Code")?;
    let (message, tail) = element(rest_error, "Message")?;
    let (request_id, tail2) = element(rest, "RequestID")?;
    let is_text = |s: &str| !s.trim().is_empty() && !s.contains('<');
    let code_ok = !code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
    (code_ok && is_text(message) && is_text(request_id) && tail.is_empty() && tail2.is_empty())
        .then(|| code.to_string())
}

/// Every non-2xx answer to an EC2 request is 4xx with EC2's error envelope,
/// as an XML document, with the code AWS gives that status.
fn check_ec2_error(r: &Reply) -> Result<(), TestCaseError> {
    let Reply { status, text, headers } = r;
    prop_assert!((400..500).contains(status), "not a 4xx error: {status} {text}");
    let code = ec2_error_code(text);
    prop_assert!(code.is_some(), "{status}: not an EC2 error envelope: {text}");
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    prop_assert!(
        content_type.starts_with("text/xml"),
        "{status} as {content_type:?}: {text}"
    );
    prop_assert_eq!(
        *status == 412,
        code.as_deref() == Some("DryRunOperation"),
        "DryRunOperation is 412 and only it: {} {}",
        status,
        text
    );
    Ok(())
}

/// Sends one request to a fresh emulator and checks the invariants.
fn check(body: Vec<u8>, query: Option<String>, signed: bool) -> Result<(), TestCaseError> {
    check_as(body, query, signed.then_some(SCOPES[0]))
}

/// [`check`], signed as `(access key, region)` when given.
fn check_as(body: Vec<u8>, query: Option<String>, scope: Option<(&str, &str)>) -> Result<(), TestCaseError> {
    let signed = scope.is_some();
    let uri = match query {
        Some(q) => format!("/?{q}"),
        None => "/".to_string(),
    };
    let mut req = Request::post(uri).header("content-type", "application/x-www-form-urlencoded");
    if let Some((key, region)) = scope {
        req = req.header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={key}/20261129/{region}/ec2/aws4_request, SignedHeaders=host, Signature=0"
            ),
        );
    }
    let r = send(req.body(Body::from(body)).unwrap())?;
    prop_assert!(r.status < 500, "5xx: {} {}", r.status, r.text);
    if (200..300).contains(&r.status) {
        return Ok(());
    }
    if signed || ec2_error_code(&r.text).is_some() {
        // Signed for ec2, or unsigned with an Action: an EC2 request.
        return check_ec2_error(&r);
    }
    // Unsigned and no Action: not an AWS request at all, and told so.
    prop_assert_eq!(r.status, 400, "{}", r.text);
    let v: serde_json::Value = serde_json::from_str(&r.text)
        .map_err(|e| TestCaseError::fail(format!("neither EC2's envelope nor JSON ({e}): {}", r.text)))?;
    prop_assert_eq!(&v["error"], "not an AWS request", "{}", r.text);
    prop_assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.text);
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
    fn requests_from_any_account_or_region_never_fail_the_server(
        action in action(),
        pairs in prop::collection::vec(pair(), 0..8),
        scope in prop::sample::select(SCOPES),
    ) {
        let mut all = vec![("Action".to_string(), action)];
        all.extend(pairs);
        check_as(encode(&all), None, Some(scope))?;
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

/// A Query request larger than the emulator reads (1 MiB) is still an EC2
/// request: refused with EC2's error envelope, not a bare 413.
#[test]
fn an_oversized_query_request_gets_the_ec2_error_envelope() {
    let mut body = b"Action=DescribeVolumes&Version=2016-11-15&Description=".to_vec();
    body.resize(body.len() + 1024 * 1024 + 1, b'a');
    check(body, None, true).unwrap();
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
        // The server answers (or closes) rather than holding the connection:
        // a reply that never comes is a failure, not a pass.
        let mut reply = Vec::new();
        match tokio::time::timeout(REPLY_WITHIN, s.read_to_end(&mut reply)).await {
            Err(_) => panic!("{junk:?}: no reply and no close within {REPLY_WITHIN:?}"),
            Ok(Err(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{junk:?}: {e}"),
            Ok(Ok(_)) => {}
        }
        let head = String::from_utf8_lossy(&reply);
        assert!(!head.starts_with("HTTP/1.1 5"), "{head}");
    }
    let health = reqwest::get(format!("{}/_snaplab/health", emulator.endpoint()))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

/// What a data-plane or EBS route must answer when it is not a 2xx.
#[derive(Clone, Copy)]
enum Route {
    /// snaplab's own data plane: `{"error": code, "message": text}` JSON.
    DataPlane,
    /// The EBS direct APIs (REST-JSON): a JSON body with a message, the
    /// error's type in `x-amzn-ErrorType`, a request id in `x-amzn-RequestId`.
    Ebs,
}

/// Sends one request with any method, path and query; checks no 5xx and,
/// for every other error status, the route's error shape.
fn check_path(method: &str, path: String, body: Vec<u8>, route: Route) -> Result<(), TestCaseError> {
    let mut req = Request::builder().method(method).uri(path);
    if matches!(route, Route::Ebs) {
        req = req.header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/ebs/aws4_request, SignedHeaders=host, Signature=0",
        );
    }
    let Ok(req) = req.body(Body::from(body)) else {
        return Ok(()); // not even a valid URI: nothing reaches the server
    };
    check_reply(&send(req)?, route)
}

/// No 5xx, and a non-2xx answer has the route's error shape.
fn check_reply(r: &Reply, route: Route) -> Result<(), TestCaseError> {
    let Reply { status, headers, text } = r;
    prop_assert!(*status < 500, "5xx: {status} {text}");
    if (200..300).contains(status) {
        return Ok(());
    }
    prop_assert!((400..500).contains(status), "not a 4xx error: {status} {text}");
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| TestCaseError::fail(format!("{status}: not a JSON error ({e}): {text:?}")))?;
    let non_empty = |v: &serde_json::Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    match route {
        Route::DataPlane => {
            prop_assert!(non_empty(&v["error"]) && non_empty(&v["message"]), "{status}: {text}");
        }
        Route::Ebs => {
            prop_assert!(non_empty(&v["message"]) || non_empty(&v["Message"]), "{status}: {text}");
            prop_assert!(
                !header("x-amzn-errortype").is_empty(),
                "{status} without x-amzn-ErrorType: {text}"
            );
            prop_assert!(
                !header("x-amzn-requestid").is_empty(),
                "{status} without x-amzn-RequestId: {text}"
            );
        }
    }
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
        check_path(method, format!("/_snaplab/volumes/{volume}/data?offset={offset}&length={length}"), body, Route::DataPlane)?;
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
        check_path(method, path, Vec::new(), Route::Ebs)?;
    }
}

const EBS_AUTH: &str =
    "AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/ebs/aws4_request, SignedHeaders=host, Signature=0";

/// One EBS request to `app`, checked; `None` if it cannot even be built.
fn ebs_call(
    app: &axum::Router,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Result<Option<Reply>, TestCaseError> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", EBS_AUTH);
    for (name, value) in headers {
        req = req.header(*name, value.as_str());
    }
    let Ok(req) = req.body(Body::from(body)) else {
        return Ok(None); // an invalid header value never reaches a server
    };
    let reply = send_to(app, req)?;
    check_reply(&reply, Route::Ebs)?;
    Ok(Some(reply))
}

/// A JSON member value of any type, including ones no field accepts.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-5i64..70_000).prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        Just(serde_json::json!([{ "Key": "k", "Value": "v" }])),
        Just(serde_json::json!([{ "Key": 1 }, "x"])),
        Just(serde_json::json!({ "nested": [] })),
        Just(Value::from("snap-0123456789abcdef0")),
        Just(Value::from("arn:aws:kms:us-east-1:123456789012:key/k")),
    ]
}

/// StartSnapshot bodies: objects of random members, and bytes that are no JSON.
fn start_body() -> impl Strategy<Value = Vec<u8>> {
    let member = prop::sample::select(vec![
        "VolumeSize",
        "Timeout",
        "ParentSnapshotId",
        "Tags",
        "Description",
        "ClientToken",
        "Encrypted",
        "KmsKeyArn",
        "Other",
    ]);
    prop_oneof![
        3 => prop::collection::vec((member, json_value()), 0..8).prop_map(|members| {
            let map: serde_json::Map<String, serde_json::Value> =
                members.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            serde_json::Value::Object(map).to_string().into_bytes()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => prop::sample::select(vec!["", "null", "[]", "{", "\"x\"", "{\"VolumeSize\": 1e400}"])
            .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

/// One write request against the snapshot under test.
#[derive(Debug, Clone)]
struct WriteStep {
    method: &'static str,
    /// A path template: `{id}` is the snapshot, `{index}` the block index.
    path: &'static str,
    index: String,
    body_len: usize,
    fill: u8,
    /// `None`: a PutSnapshotBlock gets the right checksum of its body, a
    /// CompleteSnapshot none; `Some`: this text.
    checksum: Option<String>,
    headers: Vec<(&'static str, String)>,
}

/// Mostly the valid value, sometimes anything; present nine times in ten.
fn header(valid: impl Strategy<Value = String>) -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(0.9, prop_oneof![3 => valid, 1 => number(), 1 => "\\PC{0,6}"])
}

fn write_step() -> impl Strategy<Value = WriteStep> {
    // Mostly PutSnapshotBlock and CompleteSnapshot on the snapshot, sometimes any route.
    let route = prop_oneof![
        6 => Just(("PUT", "/snapshots/{id}/blocks/{index}")),
        3 => Just(("POST", "/snapshots/completion/{id}")),
        1 => (
            prop::sample::select(vec!["PUT", "POST", "GET", "DELETE"]),
            prop::sample::select(vec![
                "/snapshots",
                "/snapshots/completion/{id}/x",
                "/snapshots/snap-0123456789abcdef0/blocks/{index}",
                "/snapshots/completion/snap-0123456789abcdef0",
                "/snapshots/{id}/blocks/{index}",
            ]),
        ),
    ];
    let index = prop_oneof![4 => (0u64..2100).prop_map(|i| i.to_string()), 1 => number()];
    let body_len =
        prop_oneof![4 => Just(524_288usize), 1 => prop::sample::select(vec![0usize, 1, 4096, 524_287, 524_289])];
    let checksum = prop_oneof![
        4 => Just(None),
        1 => "[A-Za-z0-9+/=]{0,70}".prop_map(Some),
        1 => "\\PC{0,8}".prop_map(Some),
    ];
    let headers = (
        header(Just("524288".to_string())),
        header(Just("SHA256".to_string())),
        header((0u8..=100).prop_map(|p| p.to_string())),
        header((0u8..4).prop_map(|n| n.to_string())),
        header(Just("LINEAR".to_string())),
    )
        .prop_map(|(length, algorithm, progress, count, aggregation)| {
            [
                ("x-amz-data-length", length),
                ("x-amz-checksum-algorithm", algorithm),
                ("x-amz-progress", progress),
                ("x-amz-changedblockscount", count),
                ("x-amz-checksum-aggregation-method", aggregation),
            ]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v)))
            .collect::<Vec<_>>()
        });
    (route, index, body_len, any::<u8>(), checksum, headers).prop_map(
        |((method, path), index, body_len, fill, checksum, headers)| WriteStep {
            method,
            path,
            index,
            body_len,
            fill,
            checksum,
            headers,
        },
    )
}

fn run_write_sequence(start: Vec<u8>, steps: Vec<WriteStep>) -> Result<(), TestCaseError> {
    use base64::Engine;
    use sha2::Digest;
    let app = app();
    ebs_call(&app, "POST", "/snapshots", &[], start)?;
    let Some(started) = ebs_call(&app, "POST", "/snapshots", &[], br#"{"VolumeSize": 1}"#.to_vec())? else {
        return Err(TestCaseError::fail("a plain StartSnapshot could not be sent"));
    };
    prop_assert_eq!(started.status, 201, "{}", started.text);
    let v: serde_json::Value = serde_json::from_str(&started.text).unwrap();
    let id = v["SnapshotId"].as_str().unwrap().to_string();
    for step in steps {
        let body = vec![step.fill; step.body_len];
        let mut headers = step.headers.clone();
        let is_put = step.method == "PUT";
        let sum = match step.checksum.clone() {
            Some(text) => Some(text),
            None if is_put => Some(base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&body))),
            None => None,
        };
        if let Some(sum) = sum {
            headers.push(("x-amz-checksum", sum));
        }
        let path = step.path.replace("{id}", &id).replace("{index}", &step.index);
        ebs_call(
            &app,
            step.method,
            &path,
            &headers,
            if is_put { body } else { Vec::new() },
        )?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn ebs_write_sequences_never_fail_the_server(
        start in start_body(),
        steps in prop::collection::vec(write_step(), 1..6),
    ) {
        run_write_sequence(start, steps)?;
    }
}

/// EventBridge operations and members, valid and not.
const EVENTS_OPS: &[&str] = &[
    "PutRule",
    "DescribeRule",
    "ListRules",
    "DeleteRule",
    "PutTargets",
    "RemoveTargets",
    "ListTargetsByRule",
    "PutEvents",
    "",
];
const EVENTS_MEMBERS: &[&str] = &[
    "Name",
    "EventPattern",
    "State",
    "Description",
    "EventBusName",
    "ScheduleExpression",
    "Rule",
    "Targets",
    "Ids",
    "NamePrefix",
];
/// SNS actions and parameters, valid and not.
const SNS_ACTIONS: &[&str] = &[
    "CreateTopic",
    "DeleteTopic",
    "ListTopics",
    "Subscribe",
    "Unsubscribe",
    "ListSubscriptionsByTopic",
    "Publish",
    "SetTopicAttributes",
];
const SNS_KEYS: &[&str] = &[
    "Name",
    "TopicArn",
    "Protocol",
    "Endpoint",
    "SubscriptionArn",
    "Message",
    "Subject",
];

fn events_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        json_value(),
        Just(serde_json::json!(
            r#"{"source":["aws.ec2"],"detail":{"result":["failed"]}}"#
        )),
        Just(serde_json::json!(r#"{"source":[{"prefix":"aws"}]}"#)),
        Just(serde_json::json!("{not json")),
        Just(serde_json::json!([{ "Id": "a", "Arn": "arn:aws:sns:us-east-1:000000000000:t" }])),
        Just(serde_json::json!([{ "Id": 7 }])),
    ]
}

fn signed_as(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
    )
}

/// Any reply but a 2xx is the service's own error shape, and never a 5xx.
fn check_service_reply(r: &Reply, json: bool) -> Result<(), TestCaseError> {
    prop_assert!(r.status < 500, "5xx: {} {}", r.status, r.text);
    if (200..300).contains(&r.status) {
        return Ok(());
    }
    if json {
        let v: serde_json::Value =
            serde_json::from_str(&r.text).map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {}", r.text)))?;
        prop_assert!(v["__type"].as_str().is_some_and(|t| !t.is_empty()), "{}", r.text);
        prop_assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.text);
    } else {
        prop_assert!(
            r.text.contains("<ErrorResponse") && r.text.contains("<Code>"),
            "{}",
            r.text
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn eventbridge_and_sns_requests_never_fail_the_server(
        ops in prop::collection::vec(
            (prop::sample::select(EVENTS_OPS), prop::collection::vec((prop::sample::select(EVENTS_MEMBERS), events_value()), 0..5)),
            1..6,
        ),
        sns in prop::collection::vec(
            (prop::sample::select(SNS_ACTIONS), prop::collection::vec((prop::sample::select(SNS_KEYS), "[ -~]{0,40}"), 0..5)),
            1..6,
        ),
        raw in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        // One emulator for the sequence, so later calls meet what earlier ones made.
        let app = app();
        for (op, members) in ops {
            let body: serde_json::Map<String, serde_json::Value> =
                members.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            let req = Request::post("/")
                .header("authorization", signed_as("events"))
                .header("x-amz-target", format!("AWSEvents.{op}"))
                .header("content-type", "application/x-amz-json-1.1")
                .body(Body::from(serde_json::Value::Object(body).to_string()))
                .unwrap();
            check_service_reply(&send_to(&app, req)?, true)?;
        }
        let req = Request::post("/")
            .header("authorization", signed_as("events"))
            .header("x-amz-target", "AWSEvents.PutRule")
            .body(Body::from(raw.clone()))
            .unwrap();
        check_service_reply(&send_to(&app, req)?, true)?;
        for (action, pairs) in sns {
            let mut all = vec![("Action".to_string(), action.to_string())];
            all.extend(pairs.into_iter().map(|(k, v)| (k.to_string(), v)));
            let req = Request::post("/")
                .header("authorization", signed_as("sns"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(encode(&all)))
                .unwrap();
            check_service_reply(&send_to(&app, req)?, false)?;
        }
        let req = Request::post("/")
            .header("authorization", signed_as("sns"))
            .body(Body::from(raw))
            .unwrap();
        check_service_reply(&send_to(&app, req)?, false)?;
    }
}
