//! CreateTags, DeleteTags, DescribeTags.

use super::{check_filters, Call};
use crate::error::{Ec2Error, Ec2Result};
use crate::model::filter::{matches_all, Filterable};
use crate::model::paging::{paginate, PageLimits, PageRequest};
use crate::model::Tag;

pub fn create_tags(call: &mut Call<'_>) -> Ec2Result<String> {
    let resources = call.params.list("ResourceId");
    if resources.is_empty() {
        return Err(Ec2Error::missing("ResourceId"));
    }
    let tags = call.params.tags("Tag")?;
    if tags.is_empty() {
        return Err(Ec2Error::missing("Tag"));
    }
    call.cloud.create_tags(&resources, &tags, call.dry_run)?;
    Ok(call.ok_reply())
}

pub fn delete_tags(call: &mut Call<'_>) -> Ec2Result<String> {
    let resources = call.params.list("ResourceId");
    if resources.is_empty() {
        return Err(Ec2Error::missing("ResourceId"));
    }
    // A tag given without a Value deletes the key whatever its value; with one,
    // only when it matches. No tags at all deletes every tag.
    let keys: Vec<(String, Option<String>)> = call
        .params
        .structs("Tag")
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let key = t
                .str("Key")
                .ok_or_else(|| Ec2Error::missing(&format!("Tag.{}.Key", i + 1)))?;
            Ok((key.to_string(), t.str("Value").map(String::from)))
        })
        .collect::<Ec2Result<_>>()?;
    call.cloud.delete_tags(&resources, &keys, call.dry_run)?;
    Ok(call.ok_reply())
}

/// One row of DescribeTags.
struct TagRow {
    /// `resource-id/key`: unique, the order and the pagination key.
    row_id: String,
    resource_id: String,
    resource_type: &'static str,
    tag: Tag,
}

impl Filterable for TagRow {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        let v = match name {
            "key" => self.tag.key.clone(),
            "value" => self.tag.value.clone(),
            "resource-id" => self.resource_id.clone(),
            "resource-type" => self.resource_type.to_string(),
            _ => return None,
        };
        Some(vec![v])
    }
}

const FILTERS: &[&str] = &["key", "value", "resource-id", "resource-type"];

pub fn describe_tags(call: &mut Call<'_>) -> Ec2Result<String> {
    let filters = call.params.filters()?;
    check_filters(&filters, FILTERS, false)?;
    let page_request = PageRequest {
        max_results: call.params.int("MaxResults")?,
        next_token: call.params.str("NextToken").map(String::from),
    };
    let cloud = &*call.cloud;
    let mut rows = Vec::new();
    let mut add = |resource_id: &str, resource_type: &'static str, tags: &[Tag]| {
        for tag in tags {
            rows.push(TagRow {
                row_id: format!("{resource_id}/{}", tag.key),
                resource_id: resource_id.to_string(),
                resource_type,
                tag: tag.clone(),
            });
        }
    };
    for i in cloud.instances.values() {
        add(&i.id, "instance", i.tags.as_slice());
    }
    for v in cloud.volumes.values() {
        add(&v.id, "volume", v.tags.as_slice());
    }
    for s in cloud.snapshots.values() {
        add(&s.id, "snapshot", s.tags.as_slice());
    }
    rows.retain(|r| matches_all(&filters, r));
    rows.sort_by(|a, b| a.row_id.cmp(&b.row_id));
    let page = paginate(rows, |r| &r.row_id, &page_request, PageLimits { min: 5, max: 1000 })?;
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let mut w = call.reply();
    w.set("tagSet", &page.items, |w, r| {
        w.leaf("resourceId", &r.resource_id)
            .leaf("resourceType", r.resource_type)
            .leaf("key", &r.tag.key)
            .leaf("value", &r.tag.value);
    });
    w.opt_leaf("nextToken", page.next_token);
    Ok(w.finish(call.action))
}
