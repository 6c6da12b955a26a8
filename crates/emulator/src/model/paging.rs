//! MaxResults / NextToken pagination shared by the Describe* actions.
//!
//! Items are ordered by id; a token names the last id returned (base64), so a
//! page boundary stays stable while resources come and go.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::ec2_error;
use crate::error::Ec2Result;

/// The page size limits of one Describe action.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    pub min: i64,
    pub max: i64,
}

#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

impl PageRequest {
    pub fn is_paged(&self) -> bool {
        self.max_results.is_some() || self.next_token.is_some()
    }
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// Cuts one page out of `items` (already filtered, in id order).
pub fn paginate<T>(
    items: Vec<T>,
    id_of: impl Fn(&T) -> &str,
    request: &PageRequest,
    limits: PageLimits,
) -> Ec2Result<Page<T>> {
    let size = match request.max_results {
        None => usize::MAX,
        Some(n) if n < limits.min => {
            return Err(ec2_error!(
                InvalidParameterValue,
                "Value ( {n} ) for parameter maxResults is invalid. Expecting a value greater than or equal to {}.",
                limits.min
            ))
        }
        Some(n) => usize::try_from(n.min(limits.max)).unwrap_or(usize::MAX),
    };
    let start = match &request.next_token {
        None => 0,
        Some(token) => {
            let after = decode(token)?;
            items.iter().take_while(|it| id_of(it) <= after.as_str()).count()
        }
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let next_token = if rest.len() > size {
        rest.truncate(size);
        rest.last().map(|last| URL_SAFE_NO_PAD.encode(id_of(last)))
    } else {
        None
    };
    Ok(Page {
        items: rest,
        next_token,
    })
}

fn decode(token: &str) -> Ec2Result<String> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            ec2_error!(
                InvalidPaginationToken,
                "The pagination token '{token}' is invalid; pass the NextToken from the previous reply unchanged."
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: PageLimits = PageLimits { min: 5, max: 1000 };

    #[test]
    fn walks_all_pages_exactly_once() {
        let items: Vec<String> = (0..12).map(|i| format!("id-{i:02}")).collect();
        let mut seen = Vec::new();
        let mut req = PageRequest {
            max_results: Some(5),
            next_token: None,
        };
        loop {
            let page = paginate(items.clone(), |s| s.as_str(), &req, LIMITS).unwrap();
            seen.extend(page.items);
            match page.next_token {
                Some(t) => req.next_token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn too_small_page_and_garbage_token_are_errors() {
        let req = PageRequest {
            max_results: Some(2),
            next_token: None,
        };
        assert!(paginate(vec!["a"], |s| s, &req, LIMITS).is_err());
        let req = PageRequest {
            max_results: None,
            next_token: Some("%%%".into()),
        };
        assert!(paginate(vec!["a"], |s| s, &req, LIMITS).is_err());
    }
}
