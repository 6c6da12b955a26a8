//! Tags: key/value pairs on volumes, snapshots and instances, with EC2's limits.

use crate::ec2_error;
use crate::error::Ec2Result;

/// EC2 allows 50 user tags per resource.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    /// A tag a user asked for: keys of 1–128 characters not starting with `aws:`,
    /// values of up to 256.
    pub fn new(key: &str, value: &str) -> Ec2Result<Self> {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(ec2_error!(
                InvalidParameterValue,
                "Tag key '{key}' is invalid: a key is 1 to 128 characters long."
            ));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ec2_error!(
                InvalidParameterValue,
                "Tag keys starting with 'aws:' are reserved for internal use; choose another key than '{key}'."
            ));
        }
        if value.chars().count() > 256 {
            return Err(ec2_error!(
                InvalidParameterValue,
                "The value of tag '{key}' is longer than 256 characters."
            ));
        }
        Ok(Self {
            key: key.to_string(),
            value: value.to_string(),
        })
    }
}

/// A resource's tags, in the order they were first set.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TagSet(Vec<Tag>);

impl TagSet {
    pub fn from_tags(tags: impl IntoIterator<Item = Tag>) -> Self {
        let mut set = Self::default();
        for t in tags {
            set.upsert(t);
        }
        set
    }

    pub fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[Tag] {
        &self.0
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|t| t.key == key).map(|t| t.value.as_str())
    }

    pub fn upsert(&mut self, tag: Tag) {
        match self.0.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value,
            None => self.0.push(tag),
        }
    }

    /// Checks that adding `tags` keeps the set within the per-resource limit.
    pub fn check_room_for(&self, tags: &[Tag], resource_id: &str) -> Ec2Result<()> {
        let new_keys = tags
            .iter()
            .filter(|t| self.get(&t.key).is_none())
            .map(|t| t.key.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        if self.0.len() + new_keys > MAX_TAGS_PER_RESOURCE {
            return Err(ec2_error!(
                TagLimitExceeded,
                "The maximum number of tags ({MAX_TAGS_PER_RESOURCE}) for resource '{resource_id}' has been reached."
            ));
        }
        Ok(())
    }

    /// Removes a key; with a value, only when the value matches (DeleteTags).
    pub fn remove(&mut self, key: &str, value: Option<&str>) {
        self.0.retain(|t| !(t.key == key && value.is_none_or(|v| v == t.value)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_oversized_keys_are_refused() {
        assert!(Tag::new("aws:createdBy", "x").is_err());
        assert!(Tag::new("", "x").is_err());
        assert!(Tag::new(&"k".repeat(129), "x").is_err());
        assert!(Tag::new("Name", &"v".repeat(257)).is_err());
        assert!(Tag::new("Name", "").is_ok());
    }

    #[test]
    fn upsert_replaces_and_remove_honours_value() {
        let mut set = TagSet::default();
        set.upsert(Tag::new("Name", "a").unwrap());
        set.upsert(Tag::new("Name", "b").unwrap());
        assert_eq!(set.get("Name"), Some("b"));
        set.remove("Name", Some("a"));
        assert_eq!(set.get("Name"), Some("b"));
        set.remove("Name", None);
        assert_eq!(set.get("Name"), None);
    }
}
