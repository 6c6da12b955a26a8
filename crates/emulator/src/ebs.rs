//! The EBS direct APIs (REST + JSON, service `ebs`).
//!
//! Reads — ListSnapshotBlocks, ListChangedBlocks, GetSnapshotBlock — here.
//! Facts from the EBS direct API FAQ: only `completed` snapshots are readable;
//! block indexes come back unique and ascending; only written blocks are
//! listed; MaxResults under 100 still returns up to 100; NextToken wins over
//! StartingBlockIndex; block tokens last seven days, page tokens sixty minutes.
//!
//! Writes — StartSnapshot, PutSnapshotBlock, CompleteSnapshot — in [`write`].
//!
//! Errors have AWS's shape (from the service model, `ebs-2019-11-02`): the
//! type in `x-amzn-ErrorType`, a JSON body with `message` and, for
//! ValidationException, ResourceNotFoundException and AccessDeniedException,
//! a `Reason` from that exception's enum.

mod write;

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::blocks::BLOCK_SIZE;
use crate::clock::Timestamp;
use crate::ids::{self, IdKind};
use crate::model::{Cloud, Snapshot, SnapshotState};

pub use write::{journal_call, replay};

const BLOCK_TOKEN_LIFETIME_S: i64 = 7 * 24 * 3600;
const PAGE_TOKEN_LIFETIME_S: i64 = 3600;
const MIN_PAGE: usize = 100;
const MAX_PAGE: usize = 10_000;

/// The `Reason` of a ValidationException: the values of the service model's
/// `ValidationExceptionReason` this emulator answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    SnapshotId,
    Block,
    BlockToken,
    PageToken,
    ParameterValue,
    VolumeSize,
    Tag,
    UnrelatedSnapshots,
    WriteRequestTimeout,
}

impl Invalid {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SnapshotId => "INVALID_SNAPSHOT_ID",
            Self::Block => "INVALID_BLOCK",
            Self::BlockToken => "INVALID_BLOCK_TOKEN",
            Self::PageToken => "INVALID_PAGE_TOKEN",
            Self::ParameterValue => "INVALID_PARAMETER_VALUE",
            Self::VolumeSize => "INVALID_VOLUME_SIZE",
            Self::Tag => "INVALID_TAG",
            Self::UnrelatedSnapshots => "UNRELATED_SNAPSHOTS",
            Self::WriteRequestTimeout => "WRITE_REQUEST_TIMEOUT",
        }
    }
}

/// An EBS error: the type (header `x-amzn-ErrorType`), status, reason and message.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct EbsError {
    kind: &'static str,
    status: u16,
    reason: Option<&'static str>,
    message: String,
}

impl EbsError {
    fn validation(reason: Invalid, message: impl Into<String>) -> Self {
        Self {
            kind: "ValidationException",
            status: 400,
            reason: Some(reason.as_str()),
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self {
            kind: "ResourceNotFoundException",
            status: 404,
            reason: Some("SNAPSHOT_NOT_FOUND"),
            message: message.into(),
        }
    }

    /// A client token reused with other parameters (StartSnapshot only; no Reason in the model).
    fn conflict(message: impl Into<String>) -> Self {
        Self {
            kind: "ConflictException",
            status: 409,
            reason: None,
            message: message.into(),
        }
    }

    /// The caller's policy does not allow the action (`--deny`).
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self {
            kind: "AccessDeniedException",
            status: 403,
            reason: Some("UNAUTHORIZED_ACCOUNT"),
            message: message.into(),
        }
    }

    fn unsupported(message: impl Into<String>) -> Self {
        Self {
            kind: "UnsupportedOperation",
            status: 400,
            reason: None,
            message: message.into(),
        }
    }

    pub fn into_response(self, request_id: &str) -> Response {
        let mut body = serde_json::json!({ "message": self.message });
        if let Some(reason) = self.reason {
            body["Reason"] = reason.into();
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut r = (status, axum::Json(body)).into_response();
        r.headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind));
        with_request_id(r, request_id)
    }
}

fn with_request_id(mut r: Response, request_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-amzn-RequestId", v);
    }
    r
}

/// Signs and checks the emulator's opaque tokens with a per-process key.
#[derive(Debug)]
pub struct Tokens {
    key: [u8; 32],
}

impl Tokens {
    pub fn new(seed: Option<u64>) -> Self {
        let mut rng = seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        let mut key = [0u8; 32];
        key.iter_mut().for_each(|b| *b = rng.u8(..));
        Self { key }
    }

    fn mac(&self, payload: &str) -> String {
        let digest = Sha256::new().chain_update(self.key).chain_update(payload).finalize();
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    fn seal(&self, payload: String) -> String {
        let mac = self.mac(&payload);
        STANDARD.encode(format!("{payload}|{mac}"))
    }

    /// The payload of a token this emulator made, if it is intact and unexpired.
    fn open(&self, token: &str, now: Timestamp) -> Option<Vec<String>> {
        let text = String::from_utf8(STANDARD.decode(token).ok()?).ok()?;
        let (payload, mac) = text.rsplit_once('|')?;
        if self.mac(payload) != mac {
            return None;
        }
        let parts: Vec<String> = payload.split(':').map(String::from).collect();
        let expiry: i64 = parts.last()?.parse().ok()?;
        (now.timestamp() < expiry).then_some(parts)
    }

    fn block_token(&self, snapshot_id: &str, index: u64, now: Timestamp) -> String {
        let expiry = now.timestamp() + BLOCK_TOKEN_LIFETIME_S;
        self.seal(format!("b:{snapshot_id}:{index}:{expiry}"))
    }

    fn page_token(&self, next_index: u64, now: Timestamp) -> String {
        let expiry = now.timestamp() + PAGE_TOKEN_LIFETIME_S;
        self.seal(format!("p:{next_index}:{expiry}"))
    }
}

/// One EBS request: method, path, query string, headers and body.
pub struct EbsRequest<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
}

impl EbsRequest<'_> {
    fn param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.unwrap_or_default().as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// A header's value (bytes that are not UTF-8 decoded lossily: they still
    /// reach the validation that refuses them, with what was sent).
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    fn segments(&self) -> Vec<&str> {
        self.path.trim_matches('/').split('/').collect()
    }
}

/// The EBS direct action a request is for, judged by its method and path.
pub fn action_of(req: &EbsRequest<'_>) -> &'static str {
    match (req.method.as_str(), req.segments().as_slice()) {
        ("GET", ["snapshots", _, "blocks"]) => "ListSnapshotBlocks",
        ("GET", ["snapshots", _, "changedblocks"]) => "ListChangedBlocks",
        ("GET", ["snapshots", _, "blocks", _]) => "GetSnapshotBlock",
        ("POST", ["snapshots"]) => "StartSnapshot",
        ("PUT", ["snapshots", _, "blocks", _]) => "PutSnapshotBlock",
        ("POST", ["snapshots", "completion", _]) => "CompleteSnapshot",
        _ => "Unknown",
    }
}

/// Whether a request that succeeded changed the cloud (and so is journaled).
pub fn changes_cloud(req: &EbsRequest<'_>) -> bool {
    matches!(
        action_of(req),
        "StartSnapshot" | "PutSnapshotBlock" | "CompleteSnapshot"
    )
}

/// Answers one EBS direct request. The caller settles the cloud first
/// ([`World::in_scope`](crate::model::World::in_scope) does).
pub fn handle(
    cloud: &mut Cloud,
    tokens: &Tokens,
    req: &EbsRequest<'_>,
    now: Timestamp,
    request_id: &str,
) -> Result<Response, EbsError> {
    match (req.method.as_str(), req.segments().as_slice()) {
        ("GET", ["snapshots", id, "blocks"]) => list_snapshot_blocks(cloud, tokens, req, id, now, request_id),
        ("GET", ["snapshots", id, "changedblocks"]) => list_changed_blocks(cloud, tokens, req, id, now, request_id),
        ("GET", ["snapshots", id, "blocks", index]) => {
            get_snapshot_block(cloud, tokens, req, id, index, now, request_id)
        }
        ("POST", ["snapshots"]) => write::start_snapshot(cloud, req, now, request_id),
        ("PUT", ["snapshots", id, "blocks", index]) => write::put_snapshot_block(cloud, req, id, index, now, request_id),
        ("POST", ["snapshots", "completion", id]) => write::complete_snapshot(cloud, req, id, now, request_id),
        _ => Err(EbsError::unsupported(format!(
            "{} {} is not an EBS direct API. snaplab emulates ListSnapshotBlocks, ListChangedBlocks, GetSnapshotBlock, StartSnapshot, PutSnapshotBlock and CompleteSnapshot.",
            req.method, req.path
        ))),
    }
}

/// A snapshot id of the form the service model allows (`^snap-[0-9a-f]+$`, at
/// most 64 characters), else INVALID_SNAPSHOT_ID.
fn check_snapshot_id(id: &str) -> Result<(), EbsError> {
    if ids::is_well_formed(IdKind::Snapshot, id) {
        return Ok(());
    }
    Err(EbsError::validation(
        Invalid::SnapshotId,
        format!("'{id}' is not a valid snapshot id (snap- followed by hex digits)."),
    ))
}

/// A block index from a path: a whole number from 0.
fn block_index(index: &str) -> Result<u64, EbsError> {
    index.parse().map_err(|_| {
        EbsError::validation(
            Invalid::Block,
            format!("'{index}' is not a block index (a whole number from 0)."),
        )
    })
}

/// A snapshot the EBS direct APIs may read: well-formed, existing, completed.
fn readable<'a>(cloud: &'a Cloud, id: &str) -> Result<&'a Snapshot, EbsError> {
    check_snapshot_id(id)?;
    let snap = cloud
        .snapshots
        .get(id)
        .ok_or_else(|| EbsError::not_found(format!("The snapshot '{id}' does not exist.")))?;
    if snap.state != SnapshotState::Completed {
        return Err(EbsError::validation(
            Invalid::SnapshotId,
            format!(
                "Snapshot '{id}' is {}: the EBS direct APIs read completed snapshots only. Wait with: aws ec2 wait snapshot-completed --snapshot-ids {id}",
                snap.state.as_str()
            ),
        ));
    }
    Ok(snap)
}

/// Where a page starts (NextToken wins over StartingBlockIndex) and its size.
fn page_bounds(tokens: &Tokens, req: &EbsRequest<'_>, now: Timestamp) -> Result<(u64, usize), EbsError> {
    let size = match req.param("maxResults") {
        None => MAX_PAGE,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| EbsError::validation(Invalid::ParameterValue, format!("maxResults '{v}' is not a number.")))?
            .clamp(MIN_PAGE, MAX_PAGE),
    };
    let start = if let Some(token) = req.param("pageToken") {
        let parts = tokens.open(&token, now).ok_or_else(|| {
            EbsError::validation(
                Invalid::PageToken,
                "The page token is invalid or expired (page tokens last 60 minutes); list again without it.",
            )
        })?;
        match parts.as_slice() {
            [kind, next, _] if kind == "p" => next.parse().unwrap_or(0),
            _ => return Err(EbsError::validation(Invalid::PageToken, "That is not a page token.")),
        }
    } else {
        match req.param("startingBlockIndex") {
            None => 0,
            Some(v) => v.parse::<u64>().map_err(|_| {
                EbsError::validation(
                    Invalid::ParameterValue,
                    format!("startingBlockIndex '{v}' is not a block index (a number from 0)."),
                )
            })?,
        }
    };
    Ok((start, size))
}

/// Cuts one page from ascending block indexes; returns it and the next page's start.
fn page_of(indexes: &BTreeSet<u64>, start: u64, size: usize) -> (Vec<u64>, Option<u64>) {
    let mut it = indexes.range(start..);
    let page: Vec<u64> = it.by_ref().take(size).copied().collect();
    let next = it.next().copied();
    (page, next)
}

fn listing_body(snap: &Snapshot, now: Timestamp, tokens: &Tokens, next: Option<u64>) -> serde_json::Value {
    let mut body = serde_json::json!({
        "ExpiryTime": now.timestamp() + BLOCK_TOKEN_LIFETIME_S,
        "VolumeSize": snap.volume_size_gib,
        "BlockSize": BLOCK_SIZE,
    });
    if let Some(n) = next {
        body["NextToken"] = tokens.page_token(n, now).into();
    }
    body
}

fn json_ok(body: serde_json::Value, request_id: &str) -> Response {
    with_request_id((StatusCode::OK, axum::Json(body)).into_response(), request_id)
}

fn list_snapshot_blocks(
    cloud: &Cloud,
    tokens: &Tokens,
    req: &EbsRequest<'_>,
    id: &str,
    now: Timestamp,
    request_id: &str,
) -> Result<Response, EbsError> {
    let snap = readable(cloud, id)?;
    let (start, size) = page_bounds(tokens, req, now)?;
    let (page, next) = page_of(&snap.data.written(), start, size);
    let blocks: Vec<serde_json::Value> = page
        .iter()
        .map(|i| serde_json::json!({ "BlockIndex": i, "BlockToken": tokens.block_token(id, *i, now) }))
        .collect();
    let mut body = listing_body(snap, now, tokens, next);
    body["Blocks"] = blocks.into();
    Ok(json_ok(body, request_id))
}

fn list_changed_blocks(
    cloud: &Cloud,
    tokens: &Tokens,
    req: &EbsRequest<'_>,
    second_id: &str,
    now: Timestamp,
    request_id: &str,
) -> Result<Response, EbsError> {
    let second = readable(cloud, second_id)?;
    let first = match req.param("firstSnapshotId") {
        Some(first_id) => Some(readable(cloud, &first_id)?),
        None => None,
    };
    let changed = match first {
        None => second.data.written(),
        Some(first) => second.data.changed_since(&first.data).ok_or_else(|| {
            EbsError::validation(
                Invalid::UnrelatedSnapshots,
                format!(
                    "Snapshots '{}' and '{second_id}' are not of one lineage, or the first is not the older: pass the older snapshot of the same volume as firstSnapshotId.",
                    first.id
                ),
            )
        })?,
    };
    let (start, size) = page_bounds(tokens, req, now)?;
    let (page, next) = page_of(&changed, start, size);
    let entries: Vec<serde_json::Value> = page
        .iter()
        .map(|i| {
            let mut e = serde_json::json!({
                "BlockIndex": i,
                "SecondBlockToken": tokens.block_token(second_id, *i, now),
            });
            if let Some(first) = first {
                if first.data.block(*i).is_some() {
                    e["FirstBlockToken"] = tokens.block_token(&first.id, *i, now).into();
                }
            }
            e
        })
        .collect();
    let mut body = listing_body(second, now, tokens, next);
    body["ChangedBlocks"] = entries.into();
    Ok(json_ok(body, request_id))
}

fn get_snapshot_block(
    cloud: &Cloud,
    tokens: &Tokens,
    req: &EbsRequest<'_>,
    id: &str,
    index: &str,
    now: Timestamp,
    request_id: &str,
) -> Result<Response, EbsError> {
    let snap = readable(cloud, id)?;
    let index = block_index(index)?;
    let token = req.param("blockToken").ok_or_else(|| {
        EbsError::validation(
            Invalid::BlockToken,
            "blockToken is required: take it from ListSnapshotBlocks.",
        )
    })?;
    let valid = tokens.open(&token, now).is_some_and(
        |parts| matches!(parts.as_slice(), [kind, s, i, _] if kind == "b" && s == id && i == &index.to_string()),
    );
    if !valid {
        return Err(EbsError::validation(
            Invalid::BlockToken,
            format!(
                "The block token is not valid for block {index} of {id}, or it expired (block tokens last 7 days)."
            ),
        ));
    }
    let data = snap
        .data
        .block(index)
        .ok_or_else(|| EbsError::validation(Invalid::Block, format!("Block {index} of {id} holds no data.")))?;
    let checksum = STANDARD.encode(Sha256::digest(data.as_slice()));
    let mut r = (StatusCode::OK, data.as_slice().to_vec()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert("x-amz-Data-Length", HeaderValue::from(BLOCK_SIZE));
    h.insert("x-amz-Checksum-Algorithm", HeaderValue::from_static("SHA256"));
    if let Ok(v) = HeaderValue::from_str(&checksum) {
        h.insert("x-amz-Checksum", v);
    }
    Ok(with_request_id(r, request_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn tokens_round_trip_and_reject_tampering_and_expiry() {
        let t = Tokens::new(Some(1));
        let now = Utc::now();
        let tok = t.block_token("snap-0123456789abcdef0", 7, now);
        assert!(tok.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)));
        assert!(t.open(&tok, now).is_some());
        assert!(t.open(&tok, now + chrono::Duration::days(8)).is_none());
        let other = Tokens::new(Some(2));
        assert!(other.open(&tok, now).is_none());
        assert!(t.open("garbage", now).is_none());
    }

    #[test]
    fn pages_are_ascending_and_say_where_to_continue() {
        let set: BTreeSet<u64> = (0..250).map(|i| i * 2).collect();
        let (page, next) = page_of(&set, 0, 100);
        assert_eq!(page.len(), 100);
        assert_eq!(next, Some(200));
        let (page, next) = page_of(&set, 401, 100);
        assert_eq!(page.first(), Some(&402));
        assert_eq!(next, None);
    }
}
