//! The EBS direct write APIs: StartSnapshot, PutSnapshotBlock, CompleteSnapshot.
//!
//! Facts relied on, and where they come from:
//! - Shapes, paths, headers, status codes, limits and error types: the service
//!   model `ebs-2019-11-02` (botocore's `service-2.json`, the aws-sdk-ebs
//!   crate) and the EBS direct APIs reference pages API_StartSnapshot,
//!   API_PutSnapshotBlock and API_CompleteSnapshot. StartSnapshot is
//!   `POST /snapshots` → 201; VolumeSize (GiB) is required, at least 1 and
//!   (reference) at most 65536; Timeout is 10–4320 minutes, 60 if omitted;
//!   Description ≤ 255, tag keys ≤ 127, values ≤ 255 characters; ClientToken
//!   ≤ 255 non-blank characters. PutSnapshotBlock is
//!   `PUT /snapshots/{id}/blocks/{index}` → 201, `x-amz-Data-Length` must be
//!   524288, `x-amz-Checksum` is the base64 SHA-256 of the data (≤ 64
//!   characters of `[A-Za-z0-9+/=]`), `x-amz-Checksum-Algorithm` is `SHA256`,
//!   `x-amz-Progress` 0–100; the reply echoes checksum and algorithm. The
//!   target snapshot must be `pending`. CompleteSnapshot is
//!   `POST /snapshots/completion/{id}` → 202 with a Status;
//!   `x-amz-ChangedBlocksCount` (≥ 0) is required; after it no block can be
//!   written. ConflictException (409) exists for StartSnapshot only;
//!   PutSnapshotBlock and CompleteSnapshot refuse with ValidationException.
//! - "Ensure idempotency in StartSnapshot API requests" (EBS user guide): the
//!   same client token and parameters return the original result; the same
//!   token with other parameters is ConflictException.
//! - "Write Amazon EBS snapshots with EBS direct APIs": with a parent, the new
//!   snapshot is incremental — blocks not written are the parent's.
//! - StartSnapshot's Timeout documentation: the snapshot is cancelled if no
//!   block is written, or it is not completed after the last block, within it.
//! - "You can't specify ParentSnapshotId and Encrypted in the same request …
//!   ValidationException" (StartSnapshot reference).
//! - The LINEAR aggregated checksum: the CompleteSnapshot reference says to
//!   concatenate the blocks' checksums in ascending block order and SHA-256
//!   the result; which bytes are concatenated is taken from AWS's own
//!   uploader, awslabs/coldsnap (`upload.rs`): the raw 32-byte digests.
//! - A body shorter than its declared length: real AWS answered
//!   ValidationException `INVALID_PARAMETER_VALUE` "Failed to read block
//!   data" (logged in nanovms/ops pull request 1268).
//!
//! The Reasons for the other refusals are this emulator's choice among the
//! model's `ValidationExceptionReason` values (AWS documents none per case):
//! INVALID_VOLUME_SIZE, INVALID_TAG, INVALID_SNAPSHOT_ID, INVALID_BLOCK
//! (block index out of range), WRITE_REQUEST_TIMEOUT (a snapshot whose
//! Timeout passed), INVALID_PARAMETER_VALUE for the rest.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{check_snapshot_id, with_request_id, EbsError, EbsRequest, Invalid, Tokens};
use crate::blocks::BLOCK_SIZE;
use crate::clock::Timestamp;
use crate::model::snapshot::{DirectStart, DirectWrite};
use crate::model::{Cloud, Snapshot, SnapshotState, Tag, TagSet};
use crate::persist::EbsCall;

const MAX_VOLUME_SIZE_GIB: i64 = 65_536;
const BLOCKS_PER_GIB: u64 = (1 << 30) / BLOCK_SIZE;
const TIMEOUT_MINUTES: std::ops::RangeInclusive<i64> = 10..=4320;
const DEFAULT_TIMEOUT_MINUTES: i64 = 60;
const MAX_DESCRIPTION: usize = 255;
const MAX_CLIENT_TOKEN: usize = 255;
const MAX_TAG_KEY: usize = 127;
const MAX_TAG_VALUE: usize = 255;
const MAX_TAGS: usize = crate::model::tags::MAX_TAGS_PER_RESOURCE;
const MAX_CHECKSUM: usize = 64;

/// The headers the write handlers read: what a journaled request keeps.
const JOURNALED_HEADERS: &[&str] = &[
    "x-amz-data-length",
    "x-amz-checksum",
    "x-amz-checksum-algorithm",
    "x-amz-checksum-aggregation-method",
    "x-amz-progress",
    "x-amz-changedblockscount",
];

fn invalid(message: impl Into<String>) -> EbsError {
    EbsError::validation(Invalid::ParameterValue, message)
}

/// StartSnapshot's body, checked against the model's constraints.
#[derive(Debug)]
struct StartInput {
    volume_size: i64,
    parent_snapshot_id: Option<String>,
    tags: Vec<Tag>,
    description: Option<String>,
    client_token: Option<String>,
    encrypted: Option<bool>,
    kms_key_arn: Option<String>,
    timeout_minutes: i64,
}

/// A JSON body's members; `null` counts as absent, as AWS's parsers treat it.
struct Members(Map<String, Value>);

impl Members {
    fn parse(body: &[u8]) -> Result<Self, EbsError> {
        let text = if body.iter().all(u8::is_ascii_whitespace) {
            &b"{}"[..]
        } else {
            body
        };
        match serde_json::from_slice::<Value>(text) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(invalid("The request body must be a JSON object.")),
            Err(e) => Err(invalid(format!("The request body is not valid JSON: {e}"))),
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn int(&self, name: &str, reason: Invalid) -> Result<Option<i64>, EbsError> {
        self.get(name)
            .map(|v| {
                v.as_i64()
                    .ok_or_else(|| EbsError::validation(reason, format!("{name} must be a whole number, not {v}.")))
            })
            .transpose()
    }

    fn string(&self, name: &str) -> Result<Option<String>, EbsError> {
        self.get(name)
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(format!("{name} must be a string, not {v}.")))
            })
            .transpose()
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>, EbsError> {
        self.get(name)
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| invalid(format!("{name} must be true or false, not {v}.")))
            })
            .transpose()
    }
}

/// The message AWS's request validation writes for a broken constraint.
fn constraint(value: impl std::fmt::Display, member: &str, rule: &str) -> String {
    format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}")
}

impl StartInput {
    fn parse(body: &[u8]) -> Result<Self, EbsError> {
        let m = Members::parse(body)?;
        let volume_size = m.int("VolumeSize", Invalid::VolumeSize)?.ok_or_else(|| {
            EbsError::validation(
                Invalid::VolumeSize,
                constraint("null", "volumeSize", "Member must not be null"),
            )
        })?;
        if volume_size < 1 {
            return Err(EbsError::validation(
                Invalid::VolumeSize,
                constraint(
                    volume_size,
                    "volumeSize",
                    "Member must have value greater than or equal to 1",
                ),
            ));
        }
        if volume_size > MAX_VOLUME_SIZE_GIB {
            return Err(EbsError::validation(
                Invalid::VolumeSize,
                format!("The volume size {volume_size} GiB is larger than the maximum of {MAX_VOLUME_SIZE_GIB} GiB (64 TiB)."),
            ));
        }
        let timeout_minutes = m
            .int("Timeout", Invalid::ParameterValue)?
            .unwrap_or(DEFAULT_TIMEOUT_MINUTES);
        if !TIMEOUT_MINUTES.contains(&timeout_minutes) {
            let rule = if timeout_minutes < *TIMEOUT_MINUTES.start() {
                "Member must have value greater than or equal to 10"
            } else {
                "Member must have value less than or equal to 4320"
            };
            return Err(invalid(constraint(timeout_minutes, "timeout", rule)));
        }
        let parent_snapshot_id = m.string("ParentSnapshotId")?;
        if let Some(id) = &parent_snapshot_id {
            check_snapshot_id(id)?;
        }
        let description = m.string("Description")?;
        if let Some(d) = &description {
            if d.is_empty() || d.chars().count() > MAX_DESCRIPTION {
                return Err(invalid(constraint(
                    d,
                    "description",
                    "Member must have length less than or equal to 255 and match ^[\\S\\s]+$",
                )));
            }
        }
        let client_token = m.string("ClientToken")?;
        if let Some(t) = &client_token {
            if t.is_empty() || t.chars().count() > MAX_CLIENT_TOKEN || t.chars().any(char::is_whitespace) {
                return Err(invalid(constraint(
                    t,
                    "clientToken",
                    "Member must have length less than or equal to 255 and match ^[\\S]+$",
                )));
            }
        }
        let encrypted = m.boolean("Encrypted")?;
        let kms_key_arn = m.string("KmsKeyArn")?;
        if let Some(arn) = &kms_key_arn {
            if !is_kms_key_arn(arn) {
                return Err(invalid(
                    "1 validation error detected: Value at 'kmsKeyArn' failed to satisfy constraint: Member must match arn:aws[a-z\\-]*:kms:.*:[0-9]{12}:key/.*",
                ));
            }
        }
        Ok(Self {
            volume_size,
            parent_snapshot_id,
            tags: tags_of(m.get("Tags"))?,
            description,
            client_token,
            encrypted,
            kms_key_arn,
            timeout_minutes,
        })
    }

    /// Everything but the client token, normalized: a retry must match it.
    fn fingerprint(&self) -> String {
        let tags: Vec<(&str, &str)> = self.tags.iter().map(|t| (t.key.as_str(), t.value.as_str())).collect();
        json!({
            "VolumeSize": self.volume_size,
            "ParentSnapshotId": self.parent_snapshot_id,
            "Tags": tags,
            "Description": self.description,
            "Encrypted": self.encrypted,
            "KmsKeyArn": self.kms_key_arn,
            "Timeout": self.timeout_minutes,
        })
        .to_string()
    }
}

/// `arn:aws[a-z-]*:kms:<region>:<12 digits>:key/<id>`, 1–2048 characters (the model's pattern).
fn is_kms_key_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, _region, account, resource] = parts.as_slice() else {
        return false;
    };
    arn.len() <= 2048
        && *scheme == "arn"
        && partition
            .strip_prefix("aws")
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        && *service == "kms"
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource.starts_with("key/")
}

fn tags_of(value: Option<&Value>) -> Result<Vec<Tag>, EbsError> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let bad_tag = |m: String| EbsError::validation(Invalid::Tag, m);
    let list = value
        .as_array()
        .ok_or_else(|| bad_tag("Tags must be a list of {\"Key\": …, \"Value\": …} objects.".into()))?;
    if list.len() > MAX_TAGS {
        return Err(bad_tag(format!(
            "{} tags were given; a snapshot has at most {MAX_TAGS}.",
            list.len()
        )));
    }
    let mut tags = Vec::with_capacity(list.len());
    for item in list {
        let text = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
        let (key, value) = (text("Key"), text("Value"));
        if key.is_empty() || key.chars().count() > MAX_TAG_KEY {
            return Err(bad_tag(format!(
                "Tag key '{key}' is invalid: a key is 1 to {MAX_TAG_KEY} characters long."
            )));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(bad_tag(format!(
                "Tag key '{key}' is invalid: keys starting with 'aws:' are reserved."
            )));
        }
        if value.chars().count() > MAX_TAG_VALUE {
            return Err(bad_tag(format!(
                "The value of tag '{key}' is longer than {MAX_TAG_VALUE} characters."
            )));
        }
        tags.push(Tag { key, value });
    }
    Ok(tags)
}

fn epoch_seconds(t: &Timestamp) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// StartSnapshot's reply (201), for a new snapshot or an idempotent retry.
fn start_reply(s: &Snapshot, request_id: &str) -> Response {
    let mut body = json!({
        "SnapshotId": s.id,
        "OwnerId": s.owner_id,
        "Status": s.state.as_str(),
        "StartTime": epoch_seconds(&s.start_time),
        "VolumeSize": s.volume_size_gib,
        "BlockSize": BLOCK_SIZE,
        "SseType": if s.encrypted { "sse-ebs" } else { "none" },
    });
    if !s.description.is_empty() {
        body["Description"] = s.description.clone().into();
    }
    if !s.tags.as_slice().is_empty() {
        body["Tags"] = s
            .tags
            .iter()
            .map(|t| json!({ "Key": t.key, "Value": t.value }))
            .collect::<Vec<_>>()
            .into();
    }
    if let Some(d) = s.direct.as_deref() {
        if let Some(parent) = &d.parent_id {
            body["ParentSnapshotId"] = parent.clone().into();
        }
        if let Some(arn) = &d.kms_key_arn {
            body["KmsKeyArn"] = arn.clone().into();
        }
    }
    with_request_id((StatusCode::CREATED, axum::Json(body)).into_response(), request_id)
}

pub(super) fn start_snapshot(
    cloud: &mut Cloud,
    req: &EbsRequest<'_>,
    now: Timestamp,
    request_id: &str,
) -> Result<Response, EbsError> {
    let input = StartInput::parse(req.body)?;
    let fingerprint = input.fingerprint();
    if let Some(token) = &input.client_token {
        let earlier = cloud.snapshots.values().find(|s| {
            s.direct
                .as_deref()
                .is_some_and(|d| d.client_token.as_ref() == Some(token))
        });
        if let Some(earlier) = earlier {
            let same = earlier
                .direct
                .as_deref()
                .is_some_and(|d| d.request_fingerprint == fingerprint);
            return if same {
                Ok(start_reply(earlier, request_id))
            } else {
                Err(EbsError::conflict(format!(
                    "The client token '{token}' was used by an earlier StartSnapshot ({}) with other parameters; use a new token for a new snapshot.",
                    earlier.id
                )))
            };
        }
    }
    if input.parent_snapshot_id.is_some() && input.encrypted.is_some() {
        return Err(invalid(
            "You can't specify ParentSnapshotId and Encrypted in the same request: a snapshot with a parent is encrypted as its parent is.",
        ));
    }
    let parent = match &input.parent_snapshot_id {
        None => None,
        Some(id) => {
            // A parent is read like any snapshot: it must exist and be completed.
            let p = super::readable(cloud, id)?;
            if input.volume_size < p.volume_size_gib {
                return Err(EbsError::validation(
                    Invalid::VolumeSize,
                    format!(
                        "The volume size {} GiB is smaller than the parent snapshot '{id}' ({} GiB).",
                        input.volume_size, p.volume_size_gib
                    ),
                ));
            }
            Some(p)
        }
    };
    let parent_key = parent.and_then(|p| p.kms_key_id.clone());
    // Encryption by default covers snapshots written here too.
    let encrypted = input.encrypted.unwrap_or(false) || parent_key.is_some() || cloud.encryption.by_default;
    if input.kms_key_arn.is_some() && !encrypted {
        return Err(invalid(
            "KmsKeyArn encrypts the snapshot: send Encrypted=true with it (or start from an encrypted parent).",
        ));
    }
    let kms_key_arn = encrypted.then(|| {
        input
            .kms_key_arn
            .clone()
            .or(parent_key)
            .unwrap_or_else(|| cloud.default_kms_key())
    });
    let parent = parent.map(|p| (p.id.clone(), p.data.clone()));
    let id = cloud.new_id(crate::ids::IdKind::Snapshot);
    let timeout_s = u64::try_from(input.timeout_minutes).unwrap_or(0) * 60;
    let snapshot = Snapshot::started_direct(
        DirectStart {
            id: id.clone(),
            owner_id: cloud.account.clone(),
            volume_size_gib: input.volume_size,
            description: input.description.unwrap_or_default(),
            encrypted,
            tags: TagSet::from_tags(input.tags),
            parent,
            client_token: input.client_token,
            request_fingerprint: fingerprint,
            kms_key_arn,
            timeout: Duration::from_secs(timeout_s),
        },
        now,
    );
    let reply = start_reply(&snapshot, request_id);
    cloud.snapshots.insert(id, snapshot);
    Ok(reply)
}

/// A header the model requires.
fn required(req: &EbsRequest<'_>, name: &str) -> Result<String, EbsError> {
    req.header(name)
        .ok_or_else(|| invalid(format!("The {name} header is required.")))
}

fn whole_number(name: &str, text: &str) -> Result<i64, EbsError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| invalid(format!("The {name} header must be a whole number, not '{text}'.")))
}

/// `x-amz-Checksum`: at most 64 characters of `[A-Za-z0-9+/=]` (the model),
/// decoding to a 32-byte SHA-256 digest.
fn checksum_header(value: &str) -> Result<[u8; 32], EbsError> {
    let shaped = !value.is_empty()
        && value.len() <= MAX_CHECKSUM
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
    let digest = shaped
        .then(|| STANDARD.decode(value).ok())
        .flatten()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
    digest.ok_or_else(|| {
        invalid(format!(
            "x-amz-Checksum '{value}' is not a base64-encoded SHA-256 digest (44 characters of A-Z, a-z, 0-9, +, / and =)."
        ))
    })
}

fn check_algorithm(value: &str) -> Result<(), EbsError> {
    if value == "SHA256" {
        return Ok(());
    }
    Err(invalid(format!(
        "x-amz-Checksum-Algorithm '{value}' is not supported: the only algorithm is SHA256."
    )))
}

/// The open direct write of a snapshot that blocks may be written to, or why not.
fn open_direct<'a>(snap: &'a mut Snapshot, action: &str) -> Result<&'a mut DirectWrite, EbsError> {
    let id = snap.id.clone();
    let state = snap.state;
    let sealed = snap.direct.as_deref().map(|d| d.sealed_at.is_some());
    match (state, sealed) {
        (_, None) => Err(EbsError::validation(
            Invalid::SnapshotId,
            format!("Snapshot '{id}' was not started with StartSnapshot; {action} works only on those."),
        )),
        (SnapshotState::Error, _) => Err(EbsError::validation(
            Invalid::WriteRequestTimeout,
            format!(
                "Snapshot '{id}' is in the error state: its Timeout passed with no block written, or without CompleteSnapshot after the last one. Start a new snapshot."
            ),
        )),
        (SnapshotState::Pending, Some(false)) => snap.open_direct_mut().ok_or_else(|| {
            EbsError::validation(Invalid::SnapshotId, format!("Snapshot '{id}' cannot be written."))
        }),
        _ => Err(EbsError::validation(
            Invalid::SnapshotId,
            format!(
                "Snapshot '{id}' is {} and CompleteSnapshot was already called: no block can be written to it, nor can it be completed again.",
                state.as_str()
            ),
        )),
    }
}

pub(super) fn put_snapshot_block(
    cloud: &mut Cloud,
    req: &EbsRequest<'_>,
    id: &str,
    index: &str,
    now: Timestamp,
    request_id: &str,
) -> Result<Response, EbsError> {
    check_snapshot_id(id)?;
    let index = super::block_index(index)?;
    let data_length = whole_number("x-amz-Data-Length", &required(req, "x-amz-Data-Length")?)?;
    check_algorithm(&required(req, "x-amz-Checksum-Algorithm")?)?;
    let checksum_text = required(req, "x-amz-Checksum")?;
    let claimed = checksum_header(&checksum_text)?;
    let progress = match req.header("x-amz-Progress") {
        None => None,
        Some(text) => {
            let p = whole_number("x-amz-Progress", &text)?;
            Some(
                u8::try_from(p)
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| invalid(constraint(p, "progress", "Member must have value between 0 and 100")))?,
            )
        }
    };
    let snap = cloud
        .snapshots
        .get_mut(id)
        .ok_or_else(|| EbsError::not_found(format!("The snapshot '{id}' does not exist.")))?;
    let blocks = u64::try_from(snap.volume_size_gib).unwrap_or(0) * BLOCKS_PER_GIB;
    let direct = open_direct(snap, "PutSnapshotBlock")?;
    if index >= blocks {
        return Err(EbsError::validation(
            Invalid::Block,
            format!(
                "Block index {index} is out of range: snapshot '{id}' has {blocks} blocks of 512 KiB (indexes 0 to {}).",
                blocks.saturating_sub(1)
            ),
        ));
    }
    if u64::try_from(data_length).ok() != Some(BLOCK_SIZE) {
        return Err(invalid(format!(
            "x-amz-Data-Length is {data_length}: the only supported block size is {BLOCK_SIZE} bytes."
        )));
    }
    if req.body.len() as u64 != BLOCK_SIZE {
        return Err(invalid(format!(
            "Failed to read block data: the body holds {} bytes, x-amz-Data-Length says {BLOCK_SIZE}.",
            req.body.len()
        )));
    }
    let digest: [u8; 32] = Sha256::digest(req.body).into();
    if digest != claimed {
        return Err(invalid(format!(
            "The checksum of the data ({}) does not match x-amz-Checksum ({checksum_text}): the block was damaged in transit or the checksum was computed over other bytes.",
            STANDARD.encode(digest)
        )));
    }
    direct.blocks.write(index * BLOCK_SIZE, req.body);
    direct.digests.insert(index, digest);
    direct.last_activity = now;
    if let Some(p) = progress {
        direct.reported_progress = p;
    }
    let mut r = StatusCode::CREATED.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&STANDARD.encode(digest)) {
        h.insert("x-amz-Checksum", v);
    }
    h.insert("x-amz-Checksum-Algorithm", HeaderValue::from_static("SHA256"));
    Ok(with_request_id(r, request_id))
}

/// The LINEAR aggregation: SHA-256 over each written block's digest in
/// ascending block order, base64-encoded.
fn linear_checksum(digests: &BTreeMap<u64, [u8; 32]>) -> String {
    let mut all = Sha256::new();
    for d in digests.values() {
        all.update(d);
    }
    STANDARD.encode(all.finalize())
}

pub(super) fn complete_snapshot(
    cloud: &mut Cloud,
    req: &EbsRequest<'_>,
    id: &str,
    now: Timestamp,
    request_id: &str,
) -> Result<Response, EbsError> {
    check_snapshot_id(id)?;
    let count = whole_number("x-amz-ChangedBlocksCount", &required(req, "x-amz-ChangedBlocksCount")?)?;
    if count < 0 {
        return Err(invalid(constraint(
            count,
            "changedBlocksCount",
            "Member must have value greater than or equal to 0",
        )));
    }
    let checksum = req
        .header("x-amz-Checksum")
        .map(|c| checksum_header(&c).map(|_| c))
        .transpose()?;
    let algorithm = req.header("x-amz-Checksum-Algorithm");
    if let Some(a) = &algorithm {
        check_algorithm(a)?;
    }
    let method = req.header("x-amz-Checksum-Aggregation-Method");
    if let Some(m) = method.as_deref().filter(|m| *m != "LINEAR") {
        return Err(invalid(format!(
            "x-amz-Checksum-Aggregation-Method '{m}' is not supported: the only method is LINEAR."
        )));
    }
    if checksum.is_some() && (algorithm.is_none() || method.is_none()) {
        return Err(invalid(
            "An aggregated x-amz-Checksum needs x-amz-Checksum-Algorithm: SHA256 and x-amz-Checksum-Aggregation-Method: LINEAR.",
        ));
    }
    let timings = *cloud.timings();
    let snap = cloud
        .snapshots
        .get_mut(id)
        .ok_or_else(|| EbsError::not_found(format!("The snapshot '{id}' does not exist.")))?;
    let direct = open_direct(snap, "CompleteSnapshot")?;
    let written = direct.digests.len();
    if usize::try_from(count).ok() != Some(written) {
        return Err(invalid(format!(
            "x-amz-ChangedBlocksCount is {count}, but {written} blocks were written to snapshot '{id}' (each block index counts once)."
        )));
    }
    if let Some(claimed) = checksum {
        let actual = linear_checksum(&direct.digests);
        if claimed != actual {
            return Err(invalid(format!(
                "The aggregated checksum {claimed} does not match the blocks written ({actual}): SHA-256 the blocks' raw SHA-256 digests concatenated in ascending block index order, then base64-encode it."
            )));
        }
    }
    snap.seal_direct(now, |bytes| timings.snapshot_duration(bytes));
    let body = json!({ "Status": snap.state.as_str() });
    Ok(with_request_id(
        (StatusCode::ACCEPTED, axum::Json(body)).into_response(),
        request_id,
    ))
}

/// What a successful write request's replay needs, for the journal.
pub fn journal_call(req: &EbsRequest<'_>) -> EbsCall {
    EbsCall {
        method: req.method.to_string(),
        path: req.path.to_string(),
        query: req.query.map(str::to_string),
        headers: JOURNALED_HEADERS
            .iter()
            .filter_map(|name| req.header(name).map(|v| ((*name).to_string(), v)))
            .collect(),
        body: req.body.clone(),
    }
}

/// Applies a journaled write request again, through the same handler.
pub fn replay(cloud: &mut Cloud, tokens: &Tokens, call: &EbsCall, now: Timestamp) -> Result<(), EbsError> {
    let method = Method::from_bytes(call.method.as_bytes())
        .map_err(|_| invalid(format!("'{}' is not an HTTP method.", call.method)))?;
    let mut headers = HeaderMap::new();
    for (name, value) in &call.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            headers.insert(n, v);
        }
    }
    let req = EbsRequest {
        method: &method,
        path: &call.path,
        query: call.query.as_deref(),
        headers: &headers,
        body: &call.body,
    };
    super::handle(cloud, tokens, &req, now, "replay").map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_checksum_hashes_the_raw_digests_in_block_order() {
        let a = Sha256::digest(b"a");
        let b = Sha256::digest(b"b");
        let digests = BTreeMap::from([(9, b.into()), (2, a.into())]);
        let mut expected = Sha256::new();
        expected.update(a);
        expected.update(b);
        assert_eq!(linear_checksum(&digests), STANDARD.encode(expected.finalize()));
    }

    #[test]
    fn kms_key_arns_follow_the_model_pattern() {
        assert!(is_kms_key_arn(
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!(is_kms_key_arn("arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/x"));
        assert!(!is_kms_key_arn("arn:aws:kms:us-east-1:1234:key/x"));
        assert!(!is_kms_key_arn("arn:aws:s3:us-east-1:123456789012:key/x"));
        assert!(!is_kms_key_arn("alias/aws/ebs"));
    }

    #[test]
    fn start_input_checks_volume_size_and_timeout() {
        let err = |body: &str| StartInput::parse(body.as_bytes()).unwrap_err().reason;
        assert_eq!(err("{}"), Some("INVALID_VOLUME_SIZE"));
        assert_eq!(err(r#"{"VolumeSize": 0}"#), Some("INVALID_VOLUME_SIZE"));
        assert_eq!(err(r#"{"VolumeSize": "8"}"#), Some("INVALID_VOLUME_SIZE"));
        assert_eq!(err(r#"{"VolumeSize": 65537}"#), Some("INVALID_VOLUME_SIZE"));
        assert_eq!(
            err(r#"{"VolumeSize": 8, "Timeout": 9}"#),
            Some("INVALID_PARAMETER_VALUE")
        );
        assert_eq!(
            err(r#"{"VolumeSize": 8, "Timeout": 4321}"#),
            Some("INVALID_PARAMETER_VALUE")
        );
        assert_eq!(err("[1]"), Some("INVALID_PARAMETER_VALUE"));
        assert_eq!(err("{"), Some("INVALID_PARAMETER_VALUE"));
        let ok = StartInput::parse(br#"{"VolumeSize": 8, "Tags": [{"Key": "k", "Value": "v"}]}"#).unwrap();
        assert_eq!((ok.volume_size, ok.timeout_minutes, ok.tags.len()), (8, 60, 1));
    }
}
