//! Is this endpoint real AWS? One function decides, for every place an
//! endpoint enters: the CLI's `--endpoint`, `AWS_ENDPOINT_URL` and the
//! per-service `AWS_ENDPOINT_URL_<SERVICE>` variables, the app's endpoint
//! field, and a resumed run's recorded endpoint (all reach [`check`] through
//! `Target::connect`). Until the real-AWS target lands, such an endpoint is
//! refused before any request is made.
//!
//! The host is read the way an HTTP client reads it (WHATWG URL parsing:
//! case folded, percent-decoding and IDNA applied), trailing dots dropped,
//! and compared with every AWS partition's DNS suffixes. An endpoint URL
//! with user info (`http://a@b`) is refused outright: no emulator needs it,
//! and it is the classic way to make a URL look like another host.

use crate::error::CloudError;

/// The DNS suffixes of every AWS partition, regular and dual-stack (FIPS
/// endpoints share them), from botocore's `partitions.json` (2026-11).
pub const AWS_DNS_SUFFIXES: &[&str] = &[
    "amazonaws.com",                // aws, aws-us-gov
    "api.aws",                      // aws, aws-us-gov dual-stack
    "amazonaws.com.cn",             // aws-cn
    "api.amazonwebservices.com.cn", // aws-cn dual-stack
    "amazonaws.eu",                 // aws-eusc
    "api.amazonwebservices.eu",     // aws-eusc dual-stack
    "c2s.ic.gov",                   // aws-iso
    "api.aws.ic.gov",
    "sc2s.sgov.gov", // aws-iso-b
    "api.aws.scloud",
    "cloud.adc-e.uk", // aws-iso-e
    "api.cloud-aws.adc-e.uk",
    "csp.hci.ic.gov", // aws-iso-f
    "api.aws.hci.ic.gov",
];

/// What an endpoint URL is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointClass {
    /// Something that is not AWS (an emulator, LocalStack, moto): the URL, without a trailing `/`.
    Emulator(String),
    /// Real AWS, at this host.
    RealAws { host: String },
}

/// Reads `url` and says whether it is real AWS. Errors when it is not an
/// http(s) URL with a host, or carries user info.
pub fn classify(url: &str) -> Result<EndpointClass, CloudError> {
    let invalid = |why: &str| CloudError::InvalidEndpoint {
        url: url.to_string(),
        why: why.to_string(),
    };
    let parsed = url::Url::parse(url.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("it must start with http:// or https://"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "it carries user info before an '@'; write just the host and port",
        ));
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').to_ascii_lowercase(),
        // An address literal: not an AWS name (a learner's emulator is on loopback or the class network).
        Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => String::new(),
        None => return Err(invalid("it has no host")),
    };
    let is_aws = AWS_DNS_SUFFIXES
        .iter()
        .any(|suffix| host == *suffix || host.strip_suffix(suffix).is_some_and(|rest| rest.ends_with('.')));
    Ok(if is_aws {
        EndpointClass::RealAws { host }
    } else {
        // The URL as parsed (what was checked is what clients get), without a trailing `/`.
        EndpointClass::Emulator(parsed.as_str().trim_end_matches('/').to_string())
    })
}

/// The endpoint URL to use, or why not: real AWS is refused in this version.
pub fn check(url: &str) -> Result<String, CloudError> {
    match classify(url)? {
        EndpointClass::Emulator(url) => Ok(url),
        EndpointClass::RealAws { host } => Err(CloudError::RealAwsEndpoint {
            url: url.trim().to_string(),
            host,
        }),
    }
}

/// The environment's endpoint for EC2 (`AWS_ENDPOINT_URL_EC2`, else
/// `AWS_ENDPOINT_URL`), checked — and every other `AWS_ENDPOINT_URL_*`
/// checked too, so no service of a run can be pointed at AWS by accident.
pub fn from_env() -> Result<Option<String>, CloudError> {
    from_vars(std::env::vars())
}

/// [`from_env`] over given variables (for tests).
pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Option<String>, CloudError> {
    let mut general = None;
    let mut ec2 = None;
    for (name, value) in vars {
        if !name.starts_with("AWS_ENDPOINT_URL") || value.trim().is_empty() {
            continue;
        }
        let checked = check(&value).map_err(|e| CloudError::FromEnvironment {
            variable: name.clone(),
            problem: Box::new(e),
        })?;
        match name.as_str() {
            "AWS_ENDPOINT_URL" => general = Some(checked),
            "AWS_ENDPOINT_URL_EC2" => ec2 = Some(checked),
            _ => {}
        }
    }
    Ok(ec2.or(general))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_aws(url: &str) -> bool {
        matches!(classify(url), Ok(EndpointClass::RealAws { .. }))
    }

    #[test]
    fn every_form_of_an_aws_endpoint_is_real_aws() {
        for url in [
            "https://ec2.us-east-1.amazonaws.com",
            "https://EC2.US-EAST-1.AMAZONAWS.COM",
            "https://ec2.us-east-1.amazonaws.com.",
            "https://ec2.us-east-1.amazonaws.com..",
            "https://ec2.us-east-1.amazonaws.com:443/",
            "http://ec2.us-east-1.amazonaws.com:8080/path?x=1",
            "https://amazonaws.com",
            "https://ec2-fips.us-east-1.amazonaws.com",
            "https://ec2.us-east-1.api.aws",
            "https://ec2-fips.us-gov-west-1.api.aws",
            "https://ec2.us-gov-west-1.amazonaws.com",
            "https://ec2.cn-north-1.amazonaws.com.cn",
            "https://ec2.cn-north-1.api.amazonwebservices.com.cn",
            "https://ec2.eusc-de-east-1.amazonaws.eu",
            "https://ec2.us-iso-east-1.c2s.ic.gov",
            "https://ec2.us-isob-east-1.sc2s.sgov.gov",
            "https://ec2.eu-isoe-west-1.cloud.adc-e.uk",
            "https://ec2.us-isof-south-1.csp.hci.ic.gov",
            "https://ec2.us-east-1.api.aws.ic.gov",
            // Percent-encoded and full-width dots and letters are decoded as a client would.
            "https://ec2%2eus-east-1%2eamazonaws%2ecom",
            "https://ec2.us-east-1.ａｍａｚｏｎａｗｓ.com",
            "  https://ec2.us-east-1.amazonaws.com  ",
        ] {
            assert!(is_aws(url), "{url} should be recognised as real AWS");
            assert!(
                matches!(check(url), Err(CloudError::RealAwsEndpoint { .. })),
                "{url} should be refused"
            );
        }
    }

    #[test]
    fn emulators_and_look_alikes_are_not_aws() {
        for (url, want) in [
            ("http://localhost:4566", "http://localhost:4566"),
            ("http://127.0.0.1:4566/", "http://127.0.0.1:4566"),
            ("http://[::1]:5000", "http://[::1]:5000"),
            ("http://localstack:4566", "http://localstack:4566"),
            ("http://notamazonaws.com", "http://notamazonaws.com"),
            ("http://amazonaws.com.evil.test", "http://amazonaws.com.evil.test"),
            ("http://myapi.aws.example", "http://myapi.aws.example"),
            ("HTTP://LocalHost:4566", "http://localhost:4566"),
        ] {
            assert_eq!(
                classify(url).ok(),
                Some(EndpointClass::Emulator(want.to_string())),
                "{url}"
            );
            assert_eq!(check(url).ok().as_deref(), Some(want), "{url}");
        }
    }

    #[test]
    fn user_info_tricks_and_non_urls_are_refused_with_a_reason() {
        for url in [
            "http://amazonaws.com@127.0.0.1",
            "http://127.0.0.1@ec2.amazonaws.com",
            "http://user:pass@localhost:4566",
            "ftp://localhost:4566",
            "localhost:4566",
            "ec2.us-east-1.amazonaws.com",
            "",
            "http://",
        ] {
            match check(url) {
                Err(CloudError::InvalidEndpoint { why, .. }) => assert!(!why.is_empty(), "{url}"),
                // A scheme-less host parses as a scheme: still not an endpoint.
                other => panic!("{url}: expected an invalid-endpoint error, got {other:?}"),
            }
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_environment_is_checked_variable_by_variable() {
        assert_eq!(from_vars(vars(&[])).ok(), Some(None));
        let general = from_vars(vars(&[("AWS_ENDPOINT_URL", "http://localhost:4566/")]));
        assert_eq!(general.ok().flatten().as_deref(), Some("http://localhost:4566"));
        let ec2_wins = from_vars(vars(&[
            ("AWS_ENDPOINT_URL", "http://localhost:4566"),
            ("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:5000"),
        ]));
        assert_eq!(ec2_wins.ok().flatten().as_deref(), Some("http://127.0.0.1:5000"));
        // Any service's variable pointing at AWS refuses the run, naming it.
        for (name, value) in [
            ("AWS_ENDPOINT_URL", "https://ec2.us-east-1.amazonaws.com"),
            ("AWS_ENDPOINT_URL_EC2", "https://EC2.US-EAST-1.AMAZONAWS.COM."),
            ("AWS_ENDPOINT_URL_EBS", "https://ebs.us-east-1.api.aws"),
            ("AWS_ENDPOINT_URL_STS", "https://sts.amazonaws.com"),
        ] {
            let err =
                from_vars(vars(&[("AWS_ENDPOINT_URL", "http://localhost:4566"), (name, value)])).expect_err("refused");
            assert!(err.to_string().contains(name), "{err}");
            assert!(err.is_real_aws(), "{err}");
        }
        // Empty values are unset, and other variables are ignored.
        assert_eq!(
            from_vars(vars(&[("AWS_ENDPOINT_URL", " "), ("AWS_REGION", "amazonaws.com")])).ok(),
            Some(None)
        );
    }
}
