//! DescribeInstances, RunInstances, TerminateInstances and DescribeAvailabilityZones.

use super::{check_filters, lookup_all, render, Call, Selection};
use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::model::filter::matches_all;
use crate::model::instance::{self, Instance, InstanceWithVolumes};
use crate::model::launch::{self, RunInstances};
use crate::model::paging::PageLimits;
use crate::model::tags_for;
use crate::model::{zone, Zone};

pub fn describe_instances(call: &mut Call<'_>) -> Ec2Result<String> {
    let ids = call.params.list("InstanceId");
    let filters = call.params.filters()?;
    check_filters(&filters, instance::FILTERS, true)?;
    let selection = Selection {
        filters: &filters,
        page: call.page_request(!ids.is_empty(), "instanceId")?,
        limits: PageLimits { min: 5, max: 1000 },
    };
    let cloud = &*call.cloud;
    let page = selection.run(
        lookup_all(&ids, |id| cloud.instance(id)),
        cloud.instances.values(),
        |i| &i.id,
        |i| InstanceWithVolumes::of(cloud, i),
    )?;
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let mut w = call.reply();
    w.set("reservationSet", &page.items, |w, i| render::reservation(w, i, cloud));
    w.opt_leaf("nextToken", page.next_token);
    Ok(w.finish(call.action))
}

pub fn describe_availability_zones(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let filters = p.filters()?;
    check_filters(&filters, zone::FILTERS, false)?;
    p.flag("AllAvailabilityZones")?;
    let names = p.list("ZoneName");
    let zone_ids = p.list("ZoneId");
    let cloud = &*call.cloud;
    for name in &names {
        cloud.zone(name)?;
    }
    for id in &zone_ids {
        if !cloud.zones.iter().any(|z| z.zone_id == *id) {
            return Err(ec2_error!(InvalidParameterValue, "The zone ID '{id}' does not exist."));
        }
    }
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let zones: Vec<&Zone> = cloud
        .zones
        .iter()
        .filter(|z| names.is_empty() || names.contains(&z.name.as_str()))
        .filter(|z| zone_ids.is_empty() || zone_ids.contains(&z.zone_id.as_str()))
        .filter(|z| matches_all(&filters, *z))
        .collect();
    let mut w = call.reply();
    w.set("availabilityZoneInfo", &zones, |w, z| render::zone_fields(w, z));
    Ok(w.finish(call.action))
}

/// RunInstances: the parameters the real-AWS path sends (and the aws CLI's
/// usual ones); tags for the instance and its volumes at launch.
pub fn run_instances(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let count = |name: &str| -> Ec2Result<i64> { p.int(name)?.ok_or_else(|| Ec2Error::missing(name)) };
    let (min_count, max_count) = (count("MinCount")?, count("MaxCount")?);
    let image_id = p.required("ImageId")?.to_string();
    let specs = call.tag_specs()?;
    let tags_for = |kind: &str| -> Ec2Result<Vec<crate::model::Tag>> {
        let of_kind: Vec<(String, Vec<crate::model::Tag>)> = specs.iter().filter(|(k, _)| k == kind).cloned().collect();
        tags_for(kind, &of_kind)
    };
    if let Some((kind, _)) = specs
        .iter()
        .find(|(k, _)| !["instance", "volume"].contains(&k.as_str()))
    {
        return Err(ec2_error!(
            InvalidParameterValue,
            "'{kind}' is not a valid taggable resource type for this operation; use ResourceType=instance or volume."
        ));
    }
    let placement = p.nested("Placement");
    let profile = p.nested("IamInstanceProfile");
    let metadata = p.nested("MetadataOptions");
    let req = RunInstances {
        image_id,
        instance_type: p.str("InstanceType").unwrap_or("m1.small").to_string(),
        min_count,
        max_count,
        zone: placement.str("AvailabilityZone").map(String::from),
        subnet_id: p.str("SubnetId").map(String::from),
        profile_name: profile.str("Name").map(String::from),
        profile_arn: profile.str("Arn").map(String::from),
        http_tokens: metadata.str("HttpTokens").map(String::from),
        instance_tags: tags_for("instance")?,
        volume_tags: tags_for("volume")?,
    };
    let ids = call.cloud.run_instances(req, call.now, call.dry_run)?;
    let cloud = &*call.cloud;
    let launched: Vec<&Instance> = ids.iter().filter_map(|id| cloud.instances.get(id)).collect();
    let reservation_id = launched.first().map(|i| i.reservation_id.clone()).unwrap_or_default();
    let mut w = call.reply();
    render::reservation_of(&mut w, &reservation_id, &launched, cloud);
    Ok(w.finish(call.action))
}

pub fn terminate_instances(call: &mut Call<'_>) -> Ec2Result<String> {
    let ids = call.params.list("InstanceId");
    if ids.is_empty() {
        return Err(Ec2Error::missing("InstanceId"));
    }
    let changed = call.cloud.terminate_instances(&ids, call.now, call.dry_run)?;
    let mut w = call.reply();
    w.set("instancesSet", &changed, |w, (id, before, now)| {
        w.leaf("instanceId", id);
        render::instance_state(w, "currentState", *now);
        render::instance_state(w, "previousState", *before);
    });
    Ok(w.finish(call.action))
}

/// DescribeInstanceTypeOfferings: every type the emulator launches is
/// offered in every zone (by zone or zone id) or in the region.
pub fn describe_instance_type_offerings(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let filters = p.filters()?;
    check_filters(&filters, &["instance-type", "location"], false)?;
    let location_type = p.str("LocationType").unwrap_or("region");
    let cloud = &*call.cloud;
    let locations: Vec<String> = match location_type {
        "region" => vec![cloud.region.clone()],
        "availability-zone" => cloud.zones.iter().map(|z| z.name.clone()).collect(),
        "availability-zone-id" => cloud.zones.iter().map(|z| z.zone_id.clone()).collect(),
        other => {
            return Err(Ec2Error::invalid_value(
                "LocationType",
                other,
                "Use region, availability-zone or availability-zone-id.",
            ))
        }
    };
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let offerings: Vec<Offering> = launch::instance_types()
        .into_iter()
        .flat_map(|t| {
            locations.iter().map(move |l| Offering {
                instance_type: t.clone(),
                location: l.clone(),
            })
        })
        .filter(|o| matches_all(&filters, o))
        .collect();
    let mut w = call.reply();
    w.set("instanceTypeOfferingSet", &offerings, |w, o| {
        w.leaf("instanceType", &o.instance_type)
            .leaf("locationType", location_type)
            .leaf("location", &o.location);
    });
    Ok(w.finish(call.action))
}

/// One instance type offered at one location.
struct Offering {
    instance_type: String,
    location: String,
}

impl crate::model::filter::Filterable for Offering {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        match name {
            "instance-type" => Some(vec![self.instance_type.clone()]),
            "location" => Some(vec![self.location.clone()]),
            _ => None,
        }
    }
}
