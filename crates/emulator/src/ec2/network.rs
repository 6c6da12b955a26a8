//! DescribeVpcs and DescribeSubnets: the default VPC and its subnets.

use super::{check_filters, render, Call};
use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::model::filter::matches_all;
use crate::model::network::{Subnet, Vpc, SUBNET_FILTERS, VPC_FILTERS};

pub fn describe_vpcs(call: &mut Call<'_>) -> Ec2Result<String> {
    let filters = call.params.filters()?;
    check_filters(&filters, VPC_FILTERS, true)?;
    let ids = call.params.list("VpcId");
    let network = &call.cloud.network;
    for id in &ids {
        if !network.vpcs.iter().any(|v| v.id == *id) {
            return Err(ec2_error!(InvalidVpcIdNotFound, "The vpc ID '{id}' does not exist"));
        }
    }
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let vpcs: Vec<&Vpc> = network
        .vpcs
        .iter()
        .filter(|v| ids.is_empty() || ids.contains(&v.id.as_str()))
        .filter(|v| matches_all(&filters, *v))
        .collect();
    let mut w = call.reply();
    w.set("vpcSet", &vpcs, |w, v| render::vpc_fields(w, v, &call.cloud.account));
    Ok(w.finish(call.action))
}

pub fn describe_subnets(call: &mut Call<'_>) -> Ec2Result<String> {
    let filters = call.params.filters()?;
    check_filters(&filters, SUBNET_FILTERS, true)?;
    let ids = call.params.list("SubnetId");
    let network = &call.cloud.network;
    for id in &ids {
        if network.subnet(id).is_none() {
            return Err(ec2_error!(
                InvalidSubnetIdNotFound,
                "The subnet ID '{id}' does not exist"
            ));
        }
    }
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let subnets: Vec<&Subnet> = network
        .subnets
        .iter()
        .filter(|s| ids.is_empty() || ids.contains(&s.id.as_str()))
        .filter(|s| matches_all(&filters, *s))
        .collect();
    let mut w = call.reply();
    w.set("subnetSet", &subnets, |w, s| render::subnet_fields(w, s, call.cloud));
    Ok(w.finish(call.action))
}
