//! DescribeInstances and DescribeAvailabilityZones.

use super::{check_filters, lookup_all, render, Call, Selection};
use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::model::filter::matches_all;
use crate::model::instance::{self, InstanceWithVolumes};
use crate::model::paging::PageLimits;
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
