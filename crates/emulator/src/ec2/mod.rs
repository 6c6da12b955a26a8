//! The EC2 Query API: one handler per action, each parsing its parameters,
//! calling the model and writing the reply in botocore's output shape.

mod encryption;
mod fast_restore;
mod instances;
mod network;
mod render;
mod snapshots;
mod tags;
mod volumes;

use crate::clock::Timestamp;
use crate::ec2_error;
use crate::error::Ec2Result;
use crate::model::filter::{self, Filter, Filterable};
use crate::model::paging::{paginate, Page, PageLimits, PageRequest};
use crate::model::{Cloud, Tag, World};
use crate::wire::query::QueryParams;
use crate::wire::xml::XmlWriter;

/// What a handler gets: the parsed request, the cloud of the request's
/// scope (locked and settled) and the rest of the world to read.
pub struct Call<'a> {
    pub cloud: &'a mut Cloud,
    pub world: &'a World,
    pub params: &'a QueryParams,
    pub now: Timestamp,
    pub request_id: &'a str,
    pub action: &'static str,
    pub dry_run: bool,
}

impl Call<'_> {
    fn reply(&self) -> XmlWriter {
        XmlWriter::response(self.action, self.request_id)
    }

    /// `<return>true</return>`, the reply of actions that return nothing else.
    fn ok_reply(&self) -> String {
        let mut w = self.reply();
        w.leaf("return", "true");
        w.finish(self.action)
    }

    /// `TagSpecification.N.ResourceType` + `TagSpecification.N.Tag.M.Key/Value`.
    fn tag_specs(&self) -> Ec2Result<Vec<(String, Vec<Tag>)>> {
        self.params
            .structs("TagSpecification")
            .into_iter()
            .map(|spec| {
                let kind = spec.str("ResourceType").unwrap_or_default().to_string();
                let tags = spec.tags("Tag")?;
                // AWS's words (moto's tests pin them for volumes too).
                if tags.is_empty() {
                    return Err(ec2_error!(
                        InvalidParameterValue,
                        "Tag specification must have at least one tag"
                    ));
                }
                Ok((kind, tags))
            })
            .collect()
    }

    fn page_request(&self, ids_given: bool, ids_param: &str) -> Ec2Result<PageRequest> {
        let request = PageRequest {
            max_results: self.params.int("MaxResults")?,
            next_token: self.params.str("NextToken").map(String::from),
        };
        if ids_given && request.max_results.is_some() {
            return Err(ec2_error!(
                InvalidParameterCombination,
                "The parameter {ids_param} cannot be used with the parameter maxResults"
            ));
        }
        Ok(request)
    }
}

type Handler = fn(&mut Call<'_>) -> Ec2Result<String>;

/// Every action the emulator answers, and whether it changes the cloud.
/// Anything else is `InvalidAction`.
pub const ACTIONS: &[(&str, Handler, Changes)] = &[
    (
        "DescribeAvailabilityZones",
        instances::describe_availability_zones,
        Changes::No,
    ),
    ("DescribeInstances", instances::describe_instances, Changes::No),
    ("RunInstances", instances::run_instances, Changes::Yes),
    ("TerminateInstances", instances::terminate_instances, Changes::Yes),
    ("DescribeVpcs", network::describe_vpcs, Changes::No),
    (
        "DescribeInstanceTypeOfferings",
        instances::describe_instance_type_offerings,
        Changes::No,
    ),
    ("DescribeSubnets", network::describe_subnets, Changes::No),
    ("DescribeVolumes", volumes::describe_volumes, Changes::No),
    ("DescribeVolumeStatus", volumes::describe_volume_status, Changes::No),
    ("CreateVolume", volumes::create_volume, Changes::Yes),
    ("DeleteVolume", volumes::delete_volume, Changes::Yes),
    ("AttachVolume", volumes::attach_volume, Changes::Yes),
    ("DetachVolume", volumes::detach_volume, Changes::Yes),
    ("CreateSnapshot", snapshots::create_snapshot, Changes::Yes),
    ("ModifyVolume", volumes::modify_volume, Changes::Yes),
    (
        "DescribeVolumesModifications",
        volumes::describe_volumes_modifications,
        Changes::No,
    ),
    ("CreateSnapshots", snapshots::create_snapshots, Changes::Yes),
    ("DescribeSnapshots", snapshots::describe_snapshots, Changes::No),
    ("DeleteSnapshot", snapshots::delete_snapshot, Changes::Yes),
    ("CopySnapshot", snapshots::copy_snapshot, Changes::Yes),
    ("EnableFastSnapshotRestores", fast_restore::enable, Changes::Yes),
    ("DisableFastSnapshotRestores", fast_restore::disable, Changes::Yes),
    ("DescribeFastSnapshotRestores", fast_restore::describe, Changes::No),
    (
        "DescribeSnapshotAttribute",
        snapshots::describe_snapshot_attribute,
        Changes::No,
    ),
    (
        "ModifySnapshotAttribute",
        snapshots::modify_snapshot_attribute,
        Changes::Yes,
    ),
    (
        "ResetSnapshotAttribute",
        snapshots::reset_snapshot_attribute,
        Changes::Yes,
    ),
    (
        "EnableEbsEncryptionByDefault",
        encryption::enable_by_default,
        Changes::Yes,
    ),
    (
        "DisableEbsEncryptionByDefault",
        encryption::disable_by_default,
        Changes::Yes,
    ),
    ("GetEbsEncryptionByDefault", encryption::get_by_default, Changes::No),
    ("GetEbsDefaultKmsKeyId", encryption::get_default_key, Changes::No),
    ("ModifyEbsDefaultKmsKeyId", encryption::modify_default_key, Changes::Yes),
    ("ResetEbsDefaultKmsKeyId", encryption::reset_default_key, Changes::Yes),
    ("CreateTags", tags::create_tags, Changes::Yes),
    ("DeleteTags", tags::delete_tags, Changes::Yes),
    ("DescribeTags", tags::describe_tags, Changes::No),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changes {
    Yes,
    No,
}

/// True when a request that succeeded changed the cloud (and must be journaled).
pub fn changes_cloud(params: &QueryParams) -> bool {
    let dry_run = params.flag("DryRun").unwrap_or(false);
    let action = params.str("Action").unwrap_or_default();
    !dry_run && ACTIONS.iter().any(|(name, _, c)| *name == action && *c == Changes::Yes)
}

/// Answers one EC2 request: the reply document, or the error to render.
/// The caller settles the cloud first ([`World::in_scope`](crate::model::World::in_scope) does).
pub fn handle(
    cloud: &mut Cloud,
    world: &World,
    params: &QueryParams,
    now: Timestamp,
    request_id: &str,
) -> Ec2Result<String> {
    let name = params.str("Action").filter(|a| !a.is_empty()).ok_or_else(|| {
        ec2_error!(
            MissingAction,
            "The request is missing an action: send Action=<EC2 action> (e.g. DescribeSnapshots) as a form parameter."
        )
    })?;
    let Some(&(action, handler, _)) = ACTIONS.iter().find(|(n, ..)| *n == name) else {
        return Err(ec2_error!(
            InvalidAction,
            "The action {name} is not valid for this web service. snaplab emulates: {}.",
            ACTIONS.iter().map(|(n, ..)| *n).collect::<Vec<_>>().join(", ")
        ));
    };
    let dry_run = params.flag("DryRun")?;
    let mut call = Call {
        cloud,
        world,
        params,
        now,
        request_id,
        action,
        dry_run,
    };
    handler(&mut call)
}

/// The common shape of Describe*: explicit ids (each must exist), else all;
/// then filters; then one page.
struct Selection<'f> {
    filters: &'f [Filter],
    page: PageRequest,
    limits: PageLimits,
}

impl Selection<'_> {
    fn run<'a, T: 'a, V: Filterable>(
        &self,
        explicit: Ec2Result<Vec<&'a T>>,
        all: impl Iterator<Item = &'a T>,
        id_of: impl Fn(&T) -> &str,
        view: impl Fn(&'a T) -> V,
    ) -> Ec2Result<Page<&'a T>> {
        let explicit = explicit?;
        let candidates: Vec<&'a T> = if explicit.is_empty() {
            all.collect()
        } else {
            let mut picked = explicit;
            picked.sort_by(|a, b| id_of(a).cmp(id_of(b)));
            picked.dedup_by(|a, b| id_of(a) == id_of(b));
            picked
        };
        let matching: Vec<&'a T> = candidates
            .into_iter()
            .filter(|item| filter::matches_all(self.filters, &view(item)))
            .collect();
        paginate(matching, |t| id_of(t), &self.page, self.limits)
    }
}

/// Rejects unknown filter names for a resource type (tag filters always allowed).
fn check_filters(filters: &[Filter], known: &[&str], taggable: bool) -> Ec2Result<()> {
    filter::check_names(filters, |name| {
        known.contains(&name) || (taggable && (name.starts_with("tag:") || name == "tag-key" || name == "tag-value"))
    })
}

/// Looks up every id, stopping at the first error (Malformed before NotFound).
fn lookup_all<'a, T>(ids: &[&str], get: impl Fn(&str) -> Ec2Result<&'a T>) -> Ec2Result<Vec<&'a T>> {
    ids.iter().map(|id| get(id)).collect()
}
