//! Describe* filters: AND across filters, OR across one filter's values, `*`
//! and `?` wildcards, case-sensitive, as EC2 documents them.

use crate::ec2_error;
use crate::error::Ec2Result;
use crate::model::tags::TagSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

impl Filter {
    pub fn new(name: &str, values: Vec<String>) -> Self {
        Self {
            name: name.to_string(),
            values,
        }
    }
}

/// A resource that Describe* filters can look at.
pub trait Filterable {
    /// The resource's values for a filter name, or `None` when the name is not
    /// a filter of this resource type.
    fn filter_values(&self, name: &str) -> Option<Vec<String>>;
}

impl<T: Filterable> Filterable for &T {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        (**self).filter_values(name)
    }
}

/// Values of the filters every taggable resource shares.
pub fn tag_filter_values(tags: &TagSet, name: &str) -> Option<Vec<String>> {
    if let Some(key) = name.strip_prefix("tag:") {
        return Some(tags.get(key).map(str::to_string).into_iter().collect());
    }
    match name {
        "tag-key" => Some(tags.iter().map(|t| t.key.clone()).collect()),
        "tag-value" => Some(tags.iter().map(|t| t.value.clone()).collect()),
        _ => None,
    }
}

/// Rejects a filter name the resource type does not know, before any matching,
/// so a typo is an error even when nothing would be returned anyway.
pub fn check_names(filters: &[Filter], known: impl Fn(&str) -> bool) -> Ec2Result<()> {
    match filters.iter().find(|f| !known(&f.name)) {
        Some(f) => Err(ec2_error!(InvalidParameterValue, "The filter '{}' is invalid", f.name)),
        None => Ok(()),
    }
}

pub fn matches_all(filters: &[Filter], item: &impl Filterable) -> bool {
    filters.iter().all(|f| {
        item.filter_values(&f.name).is_some_and(|have| {
            have.iter()
                .any(|h| f.values.iter().any(|pattern| glob_match(pattern, h)))
        })
    })
}

/// EC2 filter wildcards: `*` any run of characters, `?` exactly one; `\` escapes.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point for the last `*`: linear in
    // practice, never exponential on hostile patterns.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let (token, width) = match p.get(pi) {
            Some('\\') if pi + 1 < p.len() => (Some(Token::Literal(p[pi + 1])), 2),
            Some('*') => (Some(Token::Star), 1),
            Some('?') => (Some(Token::One), 1),
            Some(c) => (Some(Token::Literal(*c)), 1),
            None => (None, 0),
        };
        match token {
            Some(Token::Star) => {
                star = Some((pi + 1, ti));
                pi += 1;
            }
            Some(Token::One) => {
                pi += width;
                ti += 1;
            }
            Some(Token::Literal(c)) if c == t[ti] => {
                pi += width;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

enum Token {
    Star,
    One,
    Literal(char),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_ec2() {
        assert!(glob_match("SecureCart*", "SecureCartBackup"));
        assert!(glob_match("*Backup", "SecureCartBackup"));
        assert!(glob_match("Secure?art*", "SecureCartBackup"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("securecart*", "SecureCartBackup"));
        assert!(!glob_match("?", ""));
        assert!(glob_match("a\\*b", "a*b"));
        assert!(!glob_match("a\\*b", "axb"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
    }

    #[test]
    fn hostile_patterns_finish_quickly() {
        let text = "a".repeat(2000);
        assert!(!glob_match(&format!("{}b", "*a".repeat(200)), &text));
    }
}
