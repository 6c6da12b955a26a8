//! The one HTTP listener: routes a request to a service by the SigV4
//! credential scope (as LocalStack does), plus the `/_snaplab/` extension routes.
//! Signatures are not verified: any access key works.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};

use crate::clock::{iso8601, Clock, Timestamp};
use crate::deny::{not_authorized, DenyList};
use crate::ebs::{self, EbsRequest, Tokens};
use crate::ec2;
use crate::error::{Ec2Error, ServiceError, ServiceErrorCode};
use crate::host::{sync, Hosts};
use crate::model::data::{DataPlaneError, MAX_TRANSFER};
use crate::model::{zone, Cloud, Scope, World};
use crate::pace::Pace;
use crate::persist::{Change, JournalQueue, Ticket};
use crate::sts::Caller;
use crate::wire::query::QueryParams;
use crate::wire::xml::{error_document, query_error_document};
use crate::{iam, ssm, sts};

/// Largest request body the emulator reads (EC2 Query requests are small).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// State shared by every request.
#[derive(Debug)]
pub struct Shared {
    pub world: Mutex<World>,
    pub clock: Arc<dyn Clock>,
    pub pace: Pace,
    /// The region the emulator was started for (the seeded scenario's).
    pub region: String,
    pub started_at: Timestamp,
    pub tokens: Tokens,
    /// Where changes are kept across restarts, when the emulator has a state directory.
    pub journal: Option<Arc<JournalQueue>>,
    /// Actions refused as if the caller's policy did not allow them.
    pub deny: DenyList,
    /// The SSM commands sent so far.
    pub commands: ssm::Commands,
    /// Instance sandboxes, when the emulator runs commands (`--run-commands`).
    pub hosts: Option<Arc<Hosts>>,
    /// Error messages carry a learner's hint after AWS's words (`--hints`).
    pub hints: bool,
    /// What a restored volume's block costs the first time it is read.
    pub first_read: crate::first_read::FirstReadCost,
    /// How long requests take ([`crate::metrics`]).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Shared {
    /// Queues a change for the journal. Call it under the cloud lock, so the
    /// journal's order is the order the changes were applied in.
    fn journal(&self, change: impl FnOnce() -> Change) -> Option<Ticket> {
        Some(self.journal.as_ref()?.enqueue(change()))
    }

    /// Waits until a queued change is in the OS — outside the cloud lock,
    /// before the request is answered. Quick commits are made here; large
    /// ones, or one behind another request's write, on a blocking thread.
    async fn commit(&self, ticket: Option<Ticket>) {
        let (Some(journal), Some(ticket)) = (&self.journal, ticket) else {
            return;
        };
        let committed = match journal.try_commit_quickly(ticket) {
            Some(done) => done,
            None => {
                let journal = journal.clone();
                tokio::task::spawn_blocking(move || journal.commit(ticket))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e)))
            }
        };
        if let Err(e) = committed {
            tracing::error!(error = %e, path = %journal.path().display(), "cannot record a change; it will not survive a restart");
        }
    }

    /// Queues data writes for the journal (under the cloud lock); the last one's ticket.
    fn journal_writes(&self, scope: &Scope, writes: Vec<(String, u64, Bytes)>, now: Timestamp) -> Option<Ticket> {
        writes
            .into_iter()
            .filter_map(|(volume_id, offset, data)| {
                self.journal(|| Change::Write {
                    now,
                    scope: Some(scope.clone()),
                    volume_id,
                    offset,
                    data,
                })
            })
            .last()
    }

    /// Runs `f` on the world, recovering the lock even if a handler once panicked.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut world = self.world.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut world)
    }

    /// Runs `f` on one scope's cloud, settled to `now`, with the rest of the world to read.
    pub fn in_scope<R>(&self, scope: &Scope, now: Timestamp, f: impl FnOnce(&mut Cloud, &World) -> R) -> R {
        self.with_world(|world| world.in_scope(scope, now, f))
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_snaplab/health", get(health))
        .route("/_snaplab/lazy-loading", get(lazy_loading).put(set_lazy_loading))
        .route(
            "/_snaplab/volumes/{volume_id}/fail-next-snapshot",
            put(fail_next_snapshot),
        )
        .route("/_snaplab/inbox", get(inbox))
        .route("/_snaplab/metrics", get(metrics))
        .route("/_snaplab/events", get(sent_events))
        .route(
            "/_snaplab/volumes/{volume_id}/data",
            get(read_data)
                .put(write_data)
                .fallback(data_method_not_allowed)
                // Room for the largest write plus slack, so an oversized body
                // reaches the handler and gets a JSON error, not a bare 413.
                .layer(DefaultBodyLimit::max(MAX_TRANSFER as usize + 1024 * 1024)),
        )
        .fallback(aws_request)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            shared.metrics.clone(),
            crate::metrics::timed,
        ))
        .with_state(shared)
}

/// How long requests have taken since the emulator started.
async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.metrics.summary()).into_response()
}

async fn health(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    Json(serde_json::json!({
        "service": "snaplab-emulator",
        "version": env!("CARGO_PKG_VERSION"),
        "pace": shared.pace.as_str(),
        "region": shared.region,
        "account_id": crate::model::ACCOUNT_ID,
        "started_at": iso8601(&shared.started_at),
        "services": ["ec2", "ebs", "sts", "iam", "ssm", "events", "sns"],
        "denied": shared.deny.to_string(),
        "data_plane": "/_snaplab/volumes/{volume_id}/data",
        "metrics": "/_snaplab/metrics",
        "first_read_per_block_us": shared.first_read.per_block().as_micros() as u64,
    }))
}

fn lazy_loading_body(shared: &Shared) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "first_read_per_block_us": shared.first_read.per_block().as_micros() as u64,
        "from": if shared.first_read.is_set() { "request" } else { "pace" },
        "pace": shared.pace.as_str(),
    }))
}

/// The volume's next snapshot goes to `error` (with `{"state_message": "…"}`,
/// or a default message) instead of `completed`: how a lab shows a failed
/// snapshot and the alert it raises. In the caller's account ([`read_scope`]).
async fn fail_next_snapshot(
    State(shared): State<Arc<Shared>>,
    Path(volume_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    #[derive(serde::Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct Failure {
        state_message: Option<String>,
    }
    let failure: Failure = match body.is_empty() {
        true => Failure::default(),
        false => match serde_json::from_slice(&body) {
            Ok(f) => f,
            Err(e) => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidParameterValue",
                    &format!("{e}: send nothing, or JSON {{\"state_message\": \"why it failed\"}}"),
                )
            }
        },
    };
    let message = failure
        .state_message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_FAILURE.to_string());
    let scope = match read_scope(&shared, &headers, &uri) {
        Ok(s) => s,
        Err(region) => return not_a_region(&region),
    };
    if crate::ids::check(crate::ids::IdKind::Volume, &volume_id).is_err() {
        return data_error(&DataPlaneError::MalformedVolumeId(volume_id));
    }
    let now = shared.clock.now();
    let set = shared.in_scope(&scope, now, |cloud, _| match cloud.volumes.get_mut(&volume_id) {
        Some(v) => {
            v.fail_next_snapshot = Some(message.clone());
            Ok(())
        }
        None => Err(DataPlaneError::VolumeNotFound(volume_id.clone())),
    });
    match set {
        Ok(()) => {
            Json(serde_json::json!({ "volume_id": volume_id, "next_snapshot_fails_with": message })).into_response()
        }
        Err(e) => data_error(&e),
    }
}

/// The `StateMessage` of a snapshot failed on purpose without one given (assumed wording).
const DEFAULT_FAILURE: &str = "The snapshot failed: an internal error occurred while copying its blocks.";

/// What a first read of a restored volume's block costs now.
async fn lazy_loading(State(shared): State<Arc<Shared>>) -> Response {
    lazy_loading_body(&shared).into_response()
}

/// Sets it: `{"first_read_per_block_us": 4000}`, or `null` for the pace's.
async fn set_lazy_loading(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Setting {
        first_read_per_block_us: Option<u64>,
    }
    let usage = "send JSON {\"first_read_per_block_us\": <microseconds>} (null goes back to the pace's)";
    let setting: Setting = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValue",
                &format!("{e}: {usage}"),
            )
        }
    };
    match shared
        .first_read
        .set(setting.first_read_per_block_us.map(Duration::from_micros))
    {
        Ok(()) => lazy_loading_body(&shared).into_response(),
        Err(e) => json_error(StatusCode::BAD_REQUEST, "InvalidParameterValue", &e),
    }
}

/// The AWS service a request is for.
#[derive(Debug, PartialEq, Eq)]
enum Service {
    Ec2,
    Ebs,
    Sts,
    Iam,
    Ssm,
    Events,
    Sns,
    Other(String),
    Unknown,
}

/// The SigV4 credential scope
/// (`Credential=AKID/20261129/us-east-1/ec2/aws4_request`), from the
/// Authorization header or a presigned URL's `X-Amz-Credential`.
fn credential_scope(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .map(|rest| rest.split([',', ' ']).next().unwrap_or_default().to_string());
    let from_query = || {
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .find(|(k, _)| k == "X-Amz-Credential")
            .map(|(_, v)| v.into_owned())
    };
    from_header.or_else(from_query)
}

/// The service named in the credential scope.
fn scope_service(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    credential_scope(headers, query)?.split('/').nth(3).map(str::to_string)
}

/// The caller, by the access key in the credential scope (`anonymous` unsigned).
fn caller_of(headers: &HeaderMap, query: Option<&str>) -> Caller {
    let access_key = credential_scope(headers, query)
        .and_then(|c| c.split('/').next().map(str::to_string))
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "anonymous".to_string());
    Caller { access_key }
}

/// Where a request acts: its caller's account, in the region its credential
/// scope names (unsigned requests: the home region). `Err` names a region
/// AWS does not have.
fn scope_of(headers: &HeaderMap, query: Option<&str>, caller: &Caller, home: &str) -> Result<Scope, String> {
    let region = credential_scope(headers, query)
        .and_then(|c| c.split('/').nth(2).map(str::to_string))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| home.to_string());
    if zone::is_region(&region) {
        Ok(Scope::new(&caller.account_id(), &region))
    } else {
        Err(region)
    }
}

fn service_of(headers: &HeaderMap, params: &QueryParams, query: Option<&str>) -> Service {
    match scope_service(headers, query).as_deref() {
        Some("ec2") => Service::Ec2,
        Some("ebs") => Service::Ebs,
        Some("sts") => Service::Sts,
        Some("iam") => Service::Iam,
        Some("ssm") => Service::Ssm,
        Some("events") => Service::Events,
        Some("sns") => Service::Sns,
        Some(other) => Service::Other(other.to_string()),
        // Unsigned requests: an Action parameter means the Query protocol.
        None if params.str("Action").is_some() => Service::Ec2,
        None => Service::Unknown,
    }
}

async fn aws_request(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = match body {
        Ok(b) => b,
        // Answered in EC2's own error shape, like every other refusal.
        Err(rejection) => {
            let e = crate::ec2_error!(
                InvalidParameterValue,
                "The request body could not be read ({}); this endpoint reads EC2 Query requests of up to {} KiB.",
                rejection.body_text(),
                MAX_BODY_BYTES / 1024
            );
            return ec2_error_response(&e, &request_id, shared.hints);
        }
    };
    let params = QueryParams::from_parts(uri.query(), &body);
    let service = service_of(&headers, &params, uri.query());
    // Who is calling matters only to the services that answer with it (and to --deny).
    let caller = caller_of(&headers, uri.query());
    let scope = match scope_of(&headers, uri.query(), &caller, &shared.region) {
        Ok(scope) => scope,
        Err(region) => return bad_region(&service, &region, &request_id, shared.hints),
    };
    let response = match &service {
        Service::Ec2 if shared.deny.denies("ec2", params.str("Action").unwrap_or_default()) => {
            let action = params.str("Action").unwrap_or_default();
            let e = crate::ec2_error!(
                UnauthorizedOperation,
                "You are not authorized to perform this operation. {}",
                not_authorized(&caller.arn(), "ec2", action)
            );
            ec2_error_response(&e, &request_id, shared.hints)
        }
        Service::Ec2 => {
            let now = shared.clock.now();
            let action = params.str("Action").unwrap_or_default().to_string();
            // Sandboxed volumes' files go into the cloud first, their holders stopped.
            let prepared = match &shared.hosts {
                Some(hosts) if sync::reads_volumes(&action) => {
                    let volumes = shared.in_scope(&scope, now, |cloud, _| {
                        sync::volumes_to_sync(cloud, hosts, &action, &params)
                    });
                    stop_and_read(&shared, volumes).await
                }
                _ => None,
            };
            let (result, ticket, after) = shared.in_scope(&scope, now, |cloud, world| {
                let mut ticket = prepared
                    .as_ref()
                    .and_then(|p| shared.journal_writes(&scope, p.apply(cloud), now));
                let refused = shared
                    .hosts
                    .as_ref()
                    .and_then(|_| sync::refused(cloud, &action, &params));
                let result = match refused {
                    Some(e) => Err(e),
                    None => ec2::handle(cloud, world, &params, now, &request_id),
                };
                if result.is_ok() && ec2::changes_cloud(&params) {
                    ticket = shared
                        .journal(|| Change::Ec2 {
                            now,
                            scope: scope.clone(),
                            params: params.clone(),
                        })
                        .or(ticket);
                }
                let after = (result.is_ok() && shared.hosts.is_some()).then(|| sync::after(cloud, &action, &params));
                (result, ticket, after)
            });
            shared.commit(ticket).await;
            if let (Some(hosts), Some(prepared)) = (&shared.hosts, &prepared) {
                prepared.resume(hosts);
            }
            if let (Some(hosts), Some(after)) = (shared.hosts.clone(), after) {
                let _ = tokio::task::spawn_blocking(move || after.apply(&hosts)).await;
            }
            match result {
                Ok(xml) => xml_response(StatusCode::OK, xml, &request_id),
                Err(e) => ec2_error_response(&e, &request_id, shared.hints),
            }
        }
        Service::Ebs => {
            let now = shared.clock.now();
            let req = EbsRequest {
                method: &method,
                path: uri.path(),
                query: uri.query(),
                headers: &headers,
                body: &body,
            };
            let action = ebs::action_of(&req);
            if shared.deny.denies("ebs", action) {
                ebs::EbsError::access_denied(not_authorized(&caller.arn(), "ebs", action)).into_response(&request_id)
            } else {
                let (response, ticket) = shared.in_scope(&scope, now, |cloud, _| {
                    let result = ebs::handle(cloud, &shared.tokens, &req, now, &request_id);
                    let ticket = (result.is_ok() && ebs::changes_cloud(&req))
                        .then(|| {
                            shared.journal(|| Change::Ebs {
                                now,
                                scope: scope.clone(),
                                call: ebs::journal_call(&req),
                            })
                        })
                        .flatten();
                    (result.unwrap_or_else(|e| e.into_response(&request_id)), ticket)
                });
                shared.commit(ticket).await;
                response
            }
        }
        Service::Sts | Service::Iam => query_service(&shared, &service, &params, &caller, &request_id),
        Service::Ssm => ssm_request(&shared, &scope, &headers, &body, &caller, &request_id),
        Service::Events => events_request(&shared, &scope, &headers, &body, &caller, &request_id),
        Service::Sns => sns_request(&shared, &scope, &params, &caller, &request_id),
        Service::Other(name) => {
            let e = crate::ec2_error!(
                UnsupportedOperation,
                "snaplab emulates the ec2, ebs, sts, iam, ssm, events and sns services on this endpoint, not '{name}'."
            );
            ec2_error_response(&e, &request_id, shared.hints)
        }
        Service::Unknown => not_an_aws_request(&method, &uri),
    };
    tracing::debug!(
        %method,
        path = uri.path(),
        action = params.str("Action").unwrap_or("-"),
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// Before something reads sandboxed volumes (a snapshot, a detach, a
/// termination, a data-plane read): their holders stopped and their files
/// read, off the async threads (`None`: nothing to do).
async fn stop_and_read(shared: &Shared, volumes: Vec<String>) -> Option<sync::Prepared> {
    let hosts = shared.hosts.clone()?;
    if volumes.is_empty() {
        return None;
    }
    tokio::task::spawn_blocking(move || sync::prepare(&hosts, &volumes))
        .await
        .ok()
}

/// STS and IAM: the Query protocol, XML replies in each service's namespace.
fn query_service(
    shared: &Shared,
    service: &Service,
    params: &QueryParams,
    caller: &Caller,
    request_id: &str,
) -> Response {
    let (name, namespace) = match service {
        Service::Sts => ("sts", sts::NAMESPACE),
        _ => ("iam", iam::NAMESPACE),
    };
    let action = params.str("Action").unwrap_or_default();
    let result = if shared.deny.denies(name, action) {
        Err(ServiceError::new(
            ServiceErrorCode::AccessDenied,
            not_authorized(&caller.arn(), name, action),
        ))
    } else if *service == Service::Sts {
        sts::handle(params, caller, request_id)
    } else {
        // IAM is global: written through the account's home region, then
        // every region of the account holds the same roles and profiles.
        let now = shared.clock.now();
        let home = Scope::new(&caller.account_id(), &shared.region);
        shared.with_world(|world| {
            let result = world.in_scope(&home, now, |cloud, _| iam::handle(cloud, params, now, request_id));
            world.share_iam(&home);
            result
        })
    };
    match result {
        Ok(xml) => xml_response(StatusCode::OK, xml, request_id),
        Err(e) => {
            let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let doc = query_error_document(namespace, e.code.as_str(), &e.message, request_id);
            xml_response(status, doc, request_id)
        }
    }
}

/// The account and region a `/_snaplab/` request acts in: the caller's (by
/// its SigV4 credential scope, or `?access_key=` and `?region=`), else the
/// default account in the home region.
fn read_scope(shared: &Shared, headers: &HeaderMap, uri: &Uri) -> Result<Scope, String> {
    let mut caller = caller_of(headers, uri.query());
    let mut region = None;
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "access_key" => {
                caller = Caller {
                    access_key: v.to_string(),
                }
            }
            "region" => region = Some(v.to_string()),
            _ => {}
        }
    }
    let region = region.unwrap_or_else(|| match scope_of(headers, uri.query(), &caller, &shared.region) {
        Ok(s) => s.region,
        Err(_) => shared.region.clone(),
    });
    if !zone::is_region(&region) {
        return Err(region);
    }
    Ok(Scope::new(&caller.account_id(), &region))
}

fn not_a_region(region: &str) -> Response {
    json_error(
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        &format!("'{region}' is not a region: use one such as us-east-1"),
    )
}

/// What SNS topics delivered to their subscriptions (the emulator sends no
/// mail): `{"deliveries": [...]}`, oldest first.
async fn inbox(State(shared): State<Arc<Shared>>, headers: HeaderMap, uri: Uri) -> Response {
    let scope = match read_scope(&shared, &headers, &uri) {
        Ok(s) => s,
        Err(region) => return not_a_region(&region),
    };
    let now = shared.clock.now();
    let deliveries = shared.in_scope(&scope, now, |cloud, _| cloud.notifications.inbox.clone());
    Json(serde_json::json!({ "deliveries": deliveries })).into_response()
}

/// The events EBS sent (`EBS Snapshot Notification`), whatever rules matched them: `{"events": [...]}`.
async fn sent_events(State(shared): State<Arc<Shared>>, headers: HeaderMap, uri: Uri) -> Response {
    let scope = match read_scope(&shared, &headers, &uri) {
        Ok(s) => s,
        Err(region) => return not_a_region(&region),
    };
    let now = shared.clock.now();
    let events = shared.in_scope(&scope, now, |cloud, _| cloud.notifications.sent.clone());
    Json(serde_json::json!({ "events": events })).into_response()
}

/// EventBridge: the JSON 1.1 protocol, `X-Amz-Target: AWSEvents.<Operation>`.
fn events_request(
    shared: &Shared,
    scope: &Scope,
    headers: &HeaderMap,
    body: &[u8],
    caller: &Caller,
    request_id: &str,
) -> Response {
    let result = json11_call(shared, headers, body, caller, EVENTS_TARGET, |op, input| {
        let now = shared.clock.now();
        shared.in_scope(scope, now, |cloud, _| crate::events::handle(cloud, op, &input))
    });
    json11_response(result, request_id)
}

/// SNS: the Query protocol, XML in SNS's namespace.
fn sns_request(shared: &Shared, scope: &Scope, params: &QueryParams, caller: &Caller, request_id: &str) -> Response {
    let action = params.str("Action").unwrap_or_default();
    let result = if shared.deny.denies("sns", action) {
        Err(ServiceError::new(
            ServiceErrorCode::AuthorizationError,
            not_authorized(&caller.arn(), "sns", action),
        ))
    } else {
        let now = shared.clock.now();
        shared.in_scope(scope, now, |cloud, _| {
            crate::sns::handle(cloud, params, now, request_id)
        })
    };
    match result {
        Ok(xml) => xml_response(StatusCode::OK, xml, request_id),
        Err(e) => {
            let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let doc = query_error_document(crate::sns::NAMESPACE, e.code.as_str(), &e.message, request_id);
            xml_response(status, doc, request_id)
        }
    }
}

/// SSM: the JSON 1.1 protocol, the operation in `X-Amz-Target`.
fn ssm_request(
    shared: &Shared,
    scope: &Scope,
    headers: &HeaderMap,
    body: &[u8],
    caller: &Caller,
    request_id: &str,
) -> Response {
    let result = json11_call(shared, headers, body, caller, SSM_TARGET, |op, input| {
        let now = shared.clock.now();
        shared.in_scope(scope, now, |cloud, _| {
            let mut call = ssm::SsmCall {
                cloud,
                input: &input,
                now,
                commands: &shared.commands,
                hosts: shared.hosts.as_deref(),
            };
            ssm::handle(&mut call, op)
        })
    });
    json11_response(result, request_id)
}

/// A JSON 1.1 service: its name in IAM (for `--deny`), in words, and its `X-Amz-Target` prefix.
struct JsonTarget {
    iam: &'static str,
    label: &'static str,
    prefix: &'static str,
}

const SSM_TARGET: JsonTarget = JsonTarget {
    iam: "ssm",
    label: "SSM",
    prefix: "AmazonSSM.",
};
const EVENTS_TARGET: JsonTarget = JsonTarget {
    iam: "events",
    label: "EventBridge",
    prefix: "AWSEvents.",
};

/// A JSON 1.1 request: its operation (`X-Amz-Target: <prefix><Operation>`),
/// refused if `--deny` names it, and its body as JSON, given to `run`.
fn json11_call(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
    caller: &Caller,
    service: JsonTarget,
    run: impl FnOnce(&str, serde_json::Value) -> crate::error::ServiceResult<serde_json::Value>,
) -> crate::error::ServiceResult<serde_json::Value> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(op) = target.strip_prefix(service.prefix) else {
        return Err(ServiceError::new(
            ServiceErrorCode::UnknownOperationException,
            format!(
                "'{target}' is not an {} operation: send X-Amz-Target: {}<Operation>.",
                service.label, service.prefix
            ),
        ));
    };
    if shared.deny.denies(service.iam, op) {
        return Err(ServiceError::new(
            ServiceErrorCode::AccessDeniedException,
            not_authorized(&caller.arn(), service.iam, op),
        ));
    }
    match serde_json::from_slice::<serde_json::Value>(if body.is_empty() { b"{}" } else { body }) {
        Err(e) => Err(ServiceError::new(
            ServiceErrorCode::ValidationException,
            format!("The request body is not JSON: {e}"),
        )),
        Ok(input) => run(op, input),
    }
}

/// A JSON 1.1 reply: the output, or `{"__type", "message"}` with the error's status.
fn json11_response(result: crate::error::ServiceResult<serde_json::Value>, request_id: &str) -> Response {
    let (status, body, error_type) = match result {
        Ok(v) => (StatusCode::OK, v, None),
        Err(e) => (
            StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST),
            serde_json::json!({ "__type": e.code.as_str(), "message": e.message }),
            Some(e.code.as_str()),
        ),
    };
    let mut response = (status, body.to_string()).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(t) = error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert("x-amzn-errortype", t);
    }
    response
}

/// `?offset=N&length=N` of a data-plane request.
fn data_params(query: Option<&str>, need_length: bool) -> Result<(u64, u64), DataPlaneError> {
    let mut offset = None;
    let mut length = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let parsed = v.parse::<u64>().map_err(|_| DataPlaneError::BadParameter {
            name: k.to_string(),
            value: v.to_string(),
        });
        match k.as_ref() {
            "offset" => offset = Some(parsed?),
            "length" => length = Some(parsed?),
            _ => {}
        }
    }
    let offset = offset.ok_or(DataPlaneError::MissingParameter("offset"))?;
    match (need_length, length) {
        (true, None) => Err(DataPlaneError::MissingParameter("length")),
        (_, length) => Ok((offset, length.unwrap_or(0))),
    }
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": code, "message": message }))).into_response()
}

fn data_error(e: &DataPlaneError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    json_error(status, e.code(), &e.to_string())
}

/// `PUT /_snaplab/volumes/{id}/data?offset=N`: what the instance's OS
/// writes. Like every data-plane route it acts in the caller's account
/// ([`read_scope`]): another account's volume is not found.
async fn write_data(
    State(shared): State<Arc<Shared>>,
    Path(volume_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (offset, _) = match data_params(uri.query(), false) {
        Ok(p) => p,
        Err(e) => return data_error(&e),
    };
    let scope = match read_scope(&shared, &headers, &uri) {
        Ok(s) => s,
        Err(region) => return not_a_region(&region),
    };
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let too_large = DataPlaneError::TooLarge {
                what: "a write",
                len: MAX_TRANSFER + 1,
                max: MAX_TRANSFER,
            };
            return if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                data_error(&too_large)
            } else {
                json_error(StatusCode::BAD_REQUEST, "InvalidBody", &rejection.body_text())
            };
        }
    };
    let now = shared.clock.now();
    let (written, ticket) = shared.in_scope(&scope, now, |cloud, _| {
        let written = cloud.write_volume(&volume_id, offset, &body);
        let ticket = written
            .is_ok()
            .then(|| {
                shared.journal(|| Change::Write {
                    now,
                    scope: Some(scope.clone()),
                    volume_id: volume_id.clone(),
                    offset,
                    data: body.clone(),
                })
            })
            .flatten();
        (written, ticket)
    });
    shared.commit(ticket).await;
    // A volume a sandbox holds as a file: the file is its truth, so it gets the write too.
    if let (Some(hosts), Ok(())) = (shared.hosts.clone(), &written) {
        let (id, data) = (volume_id.clone(), body.clone());
        let through = tokio::task::spawn_blocking(move || hosts.write_through(&id, offset, &data)).await;
        if let Ok(Err(e)) = through {
            tracing::error!(volume = %volume_id, error = %e, "cannot write through to a sandboxed volume's file");
        }
    }
    match written {
        Ok(()) => {
            Json(serde_json::json!({ "volume_id": volume_id, "offset": offset, "written": body.len() })).into_response()
        }
        Err(e) => data_error(&e),
    }
}

/// `GET /_snaplab/volumes/{id}/data?offset=N&length=N`: what the OS reads.
/// Data-plane read replies: blocks of a restored volume this read fetched from "S3".
pub const FETCHED_HEADER: &str = "x-snaplab-blocks-fetched";

async fn read_data(
    State(shared): State<Arc<Shared>>,
    Path(volume_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (offset, length) = match data_params(uri.query(), true) {
        Ok(p) => p,
        Err(e) => return data_error(&e),
    };
    let scope = match read_scope(&shared, &headers, &uri) {
        Ok(s) => s,
        Err(region) => return not_a_region(&region),
    };
    let now = shared.clock.now();
    // A sandboxed volume's file may hold newer bytes: read them in first
    // (only the caller's own volume's).
    let prepared = match &shared.hosts {
        Some(hosts)
            if hosts.holds(&volume_id)
                && shared.in_scope(&scope, now, |cloud, _| cloud.volumes.contains_key(&volume_id)) =>
        {
            stop_and_read(&shared, vec![volume_id.clone()]).await
        }
        _ => None,
    };
    let (read, ticket) = shared.in_scope(&scope, now, |cloud, _| {
        let ticket = prepared
            .as_ref()
            .and_then(|p| shared.journal_writes(&scope, p.apply(cloud), now));
        (cloud.read_volume(&volume_id, offset, length), ticket)
    });
    shared.commit(ticket).await;
    if let (Some(hosts), Some(prepared)) = (&shared.hosts, &prepared) {
        prepared.resume(hosts);
    }
    match read {
        Ok((bytes, fetched)) => {
            // The blocks fetched from "S3" for the first time: wait as a
            // restored volume's first read does (outside the lock).
            let cost = shared.first_read.of(fetched);
            if !cost.is_zero() {
                tokio::time::sleep(cost).await;
            }
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            // How many of the snapshot's blocks this read loaded first (lazy loading).
            r.headers_mut().insert(FETCHED_HEADER, HeaderValue::from(fetched));
            r
        }
        Err(e) => data_error(&e),
    }
}

fn xml_response(status: StatusCode, xml: String, request_id: &str) -> Response {
    let mut response = (status, xml).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml;charset=UTF-8"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    response
}

pub fn ec2_error_response(e: &Ec2Error, request_id: &str, hints: bool) -> Response {
    let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
    xml_response(
        status,
        error_document(e.code.as_str(), &e.wire_message(hints), request_id),
        request_id,
    )
}

/// A request signed for a region AWS does not have, in its service's error shape.
fn bad_region(service: &Service, region: &str, request_id: &str, hints: bool) -> Response {
    let message = format!("Credential should be scoped to a valid region, not '{region}'.");
    match service {
        Service::Ebs | Service::Ssm | Service::Events => {
            let mut r = (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({ "__type": "InvalidSignatureException", "message": message })),
            )
                .into_response();
            r.headers_mut().insert(
                "x-amzn-errortype",
                HeaderValue::from_static("InvalidSignatureException"),
            );
            r
        }
        _ => {
            let e = crate::ec2_error!(AuthFailure, "{message}").hint(format!(
                "Sign requests for a commercial region ({}…), e.g. AWS_DEFAULT_REGION=us-east-1.",
                zone::regions().take(4).collect::<Vec<_>>().join(", ")
            ));
            ec2_error_response(&e, request_id, hints)
        }
    }
}

/// Any other method on the data plane: a JSON error like its others.
async fn data_method_not_allowed(method: Method) -> Response {
    json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        &format!("{method} is not a data-plane request: GET reads (offset, length), PUT writes (offset, body)."),
    )
}

fn not_an_aws_request(method: &Method, uri: &Uri) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({
            "error": "not an AWS request",
            "message": format!(
                "{method} {} carries no SigV4 credential scope and no Action. This is the snaplab EC2/EBS emulator: point an AWS client at it, e.g. aws --endpoint-url <this endpoint> ec2 describe-volumes. GET /_snaplab/health describes it.",
                uri.path()
            ),
        })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_comes_from_the_credential_scope() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/ebs/aws4_request, SignedHeaders=host, Signature=abc",
            ),
        );
        assert_eq!(service_of(&h, &QueryParams::default(), None), Service::Ebs);
        let q = "X-Amz-Credential=test%2F20261129%2Fus-east-1%2Fec2%2Faws4_request";
        assert_eq!(
            service_of(&HeaderMap::new(), &QueryParams::default(), Some(q)),
            Service::Ec2
        );
        let p = QueryParams::from_pairs([("Action", "DescribeVolumes")]);
        assert_eq!(service_of(&HeaderMap::new(), &p, None), Service::Ec2);
        assert_eq!(
            service_of(&HeaderMap::new(), &QueryParams::default(), None),
            Service::Unknown
        );
    }
}
