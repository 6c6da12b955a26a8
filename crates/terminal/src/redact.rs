//! Secrets a learner types (an `export AWS_SECRET_ACCESS_KEY=…`, an
//! `aws configure set aws_session_token …`) are masked before a command
//! line leaves the terminal for the record.

/// What names a secret value that follows it (compared case-insensitively).
const SECRET_NAMES: [&str; 5] = [
    "secret_access_key",
    "secret-access-key",
    "session_token",
    "session-token",
    "password",
];
const MASK: &str = "****";

/// `line` with the value after each secret's name replaced by `****`.
pub(crate) fn redact_secrets(line: &str) -> String {
    // ASCII lowercase keeps every byte where it was.
    let lower = line.to_ascii_lowercase();
    let mut out = String::with_capacity(line.len());
    let mut copied = 0;
    let mut at = 0;
    while let Some((start, name)) = next_name(&lower, at) {
        let mut value = start + name.len();
        // The name's own tail (`AWS_SECRET_ACCESS_KEY_ID` is not a secret, but
        // `…KEY=` and `…KEY value` are): then `=`, `:`, spaces or quotes.
        let rest = &line[value..];
        let skip = rest
            .char_indices()
            .find(|(_, c)| !matches!(c, '=' | ':' | ' ' | '\t' | '"' | '\''))
            .map_or(rest.len(), |(i, _)| i);
        if skip == 0 {
            at = value;
            continue;
        }
        value += skip;
        let len = line[value..]
            .char_indices()
            .find(|(_, c)| c.is_whitespace() || matches!(c, '"' | '\'' | ';' | '&' | '|'))
            .map_or(line.len() - value, |(i, _)| i);
        if len > 0 {
            out.push_str(&line[copied..value]);
            out.push_str(MASK);
            copied = value + len;
        }
        at = value + len.max(1).min(line.len() - value);
        if at >= line.len() {
            break;
        }
    }
    out.push_str(&line[copied..]);
    out
}

fn next_name(lower: &str, from: usize) -> Option<(usize, &'static str)> {
    SECRET_NAMES
        .iter()
        .filter_map(|n| lower.get(from..)?.find(n).map(|i| (from + i, *n)))
        .min_by_key(|(i, _)| *i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_masked_wherever_they_are_typed() {
        let cases = [
            (
                "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=****",
            ),
            ("aws configure set aws_secret_access_key abc123 && ls", "aws configure set aws_secret_access_key **** && ls"),
            ("AWS_SESSION_TOKEN='IQoJb3Jp+Zz==' aws sts get-caller-identity", "AWS_SESSION_TOKEN='****' aws sts get-caller-identity"),
            ("mysql --password=hunter2 -u ann", "mysql --password=**** -u ann"),
        ];
        for (typed, recorded) in cases {
            assert_eq!(redact_secrets(typed), recorded, "{typed}");
        }
    }

    #[test]
    fn lines_without_a_secret_are_kept_as_typed() {
        for line in [
            "aws ec2 create-snapshot --volume-id vol-0123 --description \"Nightly backup\"",
            "echo $AWS_SECRET_ACCESS_KEY_ID_IS_NOT_A_THING",
            "grep session_token",
            "ünïcode ✔ password",
            "",
        ] {
            // No name, a name with nothing after it, or a longer name: nothing to mask.
            assert_eq!(redact_secrets(line), line);
        }
    }
}
