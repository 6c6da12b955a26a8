//! The EC2 Query protocol's request side: form-encoded `Key=Value` pairs where
//! lists are flattened as `Name.1`, `Name.2`, … and structures as `Name.1.Member`.
//!
//! Serialized names follow botocore's `ec2` protocol: a member's `queryName`, else
//! its capitalized `locationName`, else its name (`Filter.1.Value.1`,
//! `TagSpecification.1.Tag.1.Key`, `InstanceSpecification.ExcludeDataVolumeId.1`).

use std::collections::BTreeMap;

use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::model::filter::Filter;
use crate::model::tags::Tag;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    map: BTreeMap<String, String>,
}

impl QueryParams {
    /// Collects parameters from the URL query and the form body (body wins).
    pub fn from_parts(url_query: Option<&str>, body: &[u8]) -> Self {
        let mut map = BTreeMap::new();
        let sources = [url_query.map(str::as_bytes).unwrap_or_default(), body];
        for source in sources {
            for (k, v) in form_urlencoded::parse(source) {
                map.insert(k.into_owned(), v.into_owned());
            }
        }
        Self { map }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            map: pairs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    /// The parameters form-encoded again (for the persistence journal).
    pub fn to_form(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.map {
            s.append_pair(k, v);
        }
        s.finish()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// A present, non-empty string parameter, or `MissingParameter`.
    pub fn required(&self, key: &str) -> Ec2Result<&str> {
        match self.str(key) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(Ec2Error::missing(key)),
        }
    }

    pub fn bool(&self, key: &str) -> Ec2Result<Option<bool>> {
        match self.str(key) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(Ec2Error::invalid_value(key, v, "Expected true or false.")),
        }
    }

    pub fn flag(&self, key: &str) -> Ec2Result<bool> {
        Ok(self.bool(key)?.unwrap_or(false))
    }

    pub fn int(&self, key: &str) -> Ec2Result<Option<i64>> {
        match self.str(key) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| Ec2Error::invalid_value(key, v, "Expected a whole number.")),
        }
    }

    /// Flattened list `prefix.1`, `prefix.2`, … in index order.
    pub fn list(&self, prefix: &str) -> Vec<&str> {
        let mut items: Vec<(u32, &str)> = self
            .map
            .iter()
            .filter_map(|(k, v)| {
                let index = k.strip_prefix(prefix)?.strip_prefix('.')?.parse().ok()?;
                Some((index, v.as_str()))
            })
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// A nested structure `prefix.Member…`, as its own parameter set.
    pub fn nested(&self, prefix: &str) -> QueryParams {
        let lead = format!("{prefix}.");
        QueryParams {
            map: self
                .map
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(&lead)?.to_string(), v.clone())))
                .collect(),
        }
    }

    /// A flattened list of structures `prefix.N.Member…`, in index order.
    pub fn structs(&self, prefix: &str) -> Vec<QueryParams> {
        let mut groups: BTreeMap<u32, QueryParams> = BTreeMap::new();
        for (k, v) in &self.map {
            let Some(rest) = k.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            let Some((index, member)) = rest.split_once('.') else {
                continue;
            };
            let Ok(index) = index.parse::<u32>() else {
                continue;
            };
            groups
                .entry(index)
                .or_default()
                .map
                .insert(member.to_string(), v.clone());
        }
        groups.into_values().collect()
    }

    /// `Filter.N.Name` / `Filter.N.Value.M`.
    pub fn filters(&self) -> Ec2Result<Vec<Filter>> {
        self.structs("Filter")
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                let name = f
                    .str("Name")
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| Ec2Error::missing(&format!("Filter.{}.Name", i + 1)))?;
                let values: Vec<String> = f.list("Value").into_iter().map(String::from).collect();
                if values.is_empty() {
                    return Err(ec2_error!(
                        InvalidParameterValue,
                        "The filter '{name}' has no values; give at least one, e.g. Name={name},Values=…"
                    ));
                }
                Ok(Filter::new(name, values))
            })
            .collect()
    }

    /// `prefix.N.Key` / `prefix.N.Value`. A missing value is the empty string, as in AWS.
    pub fn tags(&self, prefix: &str) -> Ec2Result<Vec<Tag>> {
        self.structs(prefix)
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let key = t
                    .str("Key")
                    .ok_or_else(|| Ec2Error::missing(&format!("{prefix}.{}.Key", i + 1)))?;
                Tag::new(key, t.str("Value").unwrap_or_default())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_come_back_in_numeric_index_order() {
        let p = QueryParams::from_pairs([
            ("VolumeId.10", "c"),
            ("VolumeId.2", "b"),
            ("VolumeId.1", "a"),
            ("VolumeIdX.1", "nope"),
        ]);
        assert_eq!(p.list("VolumeId"), vec!["a", "b", "c"]);
    }

    #[test]
    fn filters_group_name_and_values() {
        let p = QueryParams::from_pairs([
            ("Filter.1.Name", "status"),
            ("Filter.1.Value.1", "pending"),
            ("Filter.1.Value.2", "completed"),
            ("Filter.2.Name", "tag:Name"),
            ("Filter.2.Value.1", "SecureCartBackup"),
        ]);
        let f = p.filters().expect("filters parse");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].name, "status");
        assert_eq!(f[0].values, vec!["pending", "completed"]);
    }

    #[test]
    fn nested_tag_specifications_parse() {
        let p = QueryParams::from_pairs([
            ("TagSpecification.1.ResourceType", "snapshot"),
            ("TagSpecification.1.Tag.1.Key", "Name"),
            ("TagSpecification.1.Tag.1.Value", "SecureCartBackup"),
        ]);
        let specs = p.structs("TagSpecification");
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].str("ResourceType"), Some("snapshot"));
        let tags = specs[0].tags("Tag").expect("tags parse");
        assert_eq!(tags[0].key, "Name");
        assert_eq!(tags[0].value, "SecureCartBackup");
    }

    #[test]
    fn body_and_query_string_merge() {
        let p = QueryParams::from_parts(Some("Action=DescribeVolumes"), b"Version=2016-11-15");
        assert_eq!(p.str("Action"), Some("DescribeVolumes"));
        assert_eq!(p.str("Version"), Some("2016-11-15"));
    }

    #[test]
    fn bad_scalars_are_invalid_parameter_values() {
        let p = QueryParams::from_pairs([("Size", "big"), ("DryRun", "maybe")]);
        assert_eq!(
            p.int("Size").unwrap_err().code,
            crate::error::Ec2ErrorCode::InvalidParameterValue
        );
        assert!(p.bool("DryRun").is_err());
    }
}
