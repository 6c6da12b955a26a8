//! docs/real-aws.md prints the least policy; it must be the one snaplab checks against.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

#[test]
fn the_documented_policy_is_the_policy() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/real-aws.md")).unwrap();
    let begin = doc.find("<!-- policy:begin -->").unwrap();
    let end = doc.find("<!-- policy:end -->").unwrap();
    let block = &doc[begin..end];
    let json = block
        .split("```json\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .unwrap();
    let documented: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        documented,
        snaplab_aws::policy::document(),
        "docs/real-aws.md's policy differs: paste `snaplab preflight --policy` there"
    );
}
