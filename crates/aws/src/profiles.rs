//! The learner's AWS profiles, read from the shared config and credentials
//! files by aws-config's own parser (so `AWS_CONFIG_FILE`,
//! `AWS_SHARED_CREDENTIALS_FILE` and `~` work as the SDKs do): their names,
//! for the app's picker, and what kind each is — so a profile aws-config
//! cannot use (MFA) is refused with what to do, and an SSO profile whose
//! login has expired gets the `aws sso login` line.

use aws_config::profile::ProfileSet;
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

/// How a profile gets its credentials, as far as snaplab needs to tell.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    /// IAM Identity Center (`sso_session` or the legacy `sso_start_url`).
    Sso,
    /// Assumes a role that asks for an MFA code (`mfa_serial`): aws-config cannot prompt for it.
    MfaRole,
    /// Assumes a role from another profile or a credential source.
    AssumeRole,
    /// Runs a program for credentials.
    CredentialProcess,
    /// Keys in the files.
    StaticKeys,
    /// Something else (region-only profiles, web identity…).
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProfileInfo {
    pub name: String,
    pub kind: ProfileKind,
    pub region: Option<String>,
}

/// The profiles in the shared files (empty when there are none or they cannot be read).
#[derive(Debug, Default)]
pub struct Profiles {
    set: Option<ProfileSet>,
}

impl Profiles {
    /// Reads the learner's files.
    pub async fn load() -> Self {
        Self::load_from(&Fs::real(), &Env::real()).await
    }

    /// Reads the files `env` and `fs` point at (tests give them their own).
    pub async fn load_from(fs: &Fs, env: &Env) -> Self {
        match aws_config::profile::load(fs, env, &EnvConfigFiles::default(), None).await {
            Ok(set) => Self { set: Some(set) },
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the AWS config files");
                Self::default()
            }
        }
    }

    /// Every profile, sorted by name.
    pub fn list(&self) -> Vec<ProfileInfo> {
        let Some(set) = &self.set else { return Vec::new() };
        let mut names: Vec<&str> = set.profiles().collect();
        names.sort_unstable();
        names.into_iter().filter_map(|n| self.info(n)).collect()
    }

    pub fn info(&self, name: &str) -> Option<ProfileInfo> {
        let set = self.set.as_ref()?;
        let p = set.get_profile(name)?;
        Some(ProfileInfo {
            name: name.to_string(),
            kind: self.kind_of(name, 0),
            region: p.get("region").map(String::from),
        })
    }

    /// A profile's kind, following `source_profile` (a role assumed from an
    /// SSO profile needs an SSO login; one that needs MFA anywhere needs MFA).
    fn kind_of(&self, name: &str, depth: usize) -> ProfileKind {
        let Some(p) = self.set.as_ref().and_then(|s| s.get_profile(name)) else {
            return ProfileKind::Other;
        };
        if p.get("mfa_serial").is_some() {
            return ProfileKind::MfaRole;
        }
        if p.get("sso_session").is_some() || p.get("sso_start_url").is_some() {
            return ProfileKind::Sso;
        }
        if p.get("role_arn").is_some() {
            return match p.get("source_profile") {
                Some(source) if source != name && depth < 8 => match self.kind_of(source, depth + 1) {
                    k @ (ProfileKind::MfaRole | ProfileKind::Sso) => k,
                    _ => ProfileKind::AssumeRole,
                },
                _ => ProfileKind::AssumeRole,
            };
        }
        if p.get("credential_process").is_some() {
            return ProfileKind::CredentialProcess;
        }
        if p.get("aws_access_key_id").is_some() {
            return ProfileKind::StaticKeys;
        }
        ProfileKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
[default]
region = eu-west-1

[profile sso-dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Lab
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1

[profile mfa-admin]
role_arn = arn:aws:iam::111122223333:role/Admin
source_profile = default
mfa_serial = arn:aws:iam::111122223333:mfa/me

[profile from-sso]
role_arn = arn:aws:iam::111122223333:role/Lab
source_profile = sso-dev

[profile tool]
credential_process = /usr/local/bin/creds
";

    const CREDENTIALS: &str = "\
[default]
aws_access_key_id = AKIDEXAMPLE
aws_secret_access_key = secret
";

    async fn profiles() -> Profiles {
        let fs = Fs::from_slice(&[
            ("/home/l/.aws/config", CONFIG),
            ("/home/l/.aws/credentials", CREDENTIALS),
        ]);
        let env = Env::from_slice(&[("HOME", "/home/l")]);
        Profiles::load_from(&fs, &env).await
    }

    #[tokio::test]
    async fn lists_every_profile_with_its_kind_and_region() {
        let p = profiles().await;
        let kinds: Vec<(String, ProfileKind)> = p.list().into_iter().map(|i| (i.name, i.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("default".into(), ProfileKind::StaticKeys),
                ("from-sso".into(), ProfileKind::Sso),
                ("mfa-admin".into(), ProfileKind::MfaRole),
                ("sso-dev".into(), ProfileKind::Sso),
                ("tool".into(), ProfileKind::CredentialProcess),
            ]
        );
        assert_eq!(p.info("default").and_then(|i| i.region), Some("eu-west-1".into()));
        assert!(p.info("nope").is_none());
    }

    #[tokio::test]
    async fn no_files_means_no_profiles() {
        let p = Profiles::load_from(&Fs::from_slice(&[]), &Env::from_slice(&[("HOME", "/nowhere")])).await;
        assert!(p.list().is_empty());
    }
}
