//! The machine images the emulated region knows: Amazon Linux 2023 for both
//! architectures, named by the public SSM parameters AWS publishes (what the
//! real-AWS path resolves before RunInstances), and the SecureCart server's.

use crate::model::filter::Filterable;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub architecture: &'static str,
    /// The public SSM parameter whose value is this image's id, if any.
    pub parameter: Option<&'static str>,
}

/// The public parameter of the latest Amazon Linux 2023 AMI (x86_64).
pub const AL2023_X86_PARAMETER: &str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
/// … and for Graviton (arm64).
pub const AL2023_ARM_PARAMETER: &str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";
/// The SecureCart server's image in the seeded scenario.
pub const SECURECART_IMAGE_ID: &str = "ami-0a5c3558529277641";

/// The region's images. Ids are fixed (the same in every region here: the
/// emulator serves one region at a time).
pub fn catalogue() -> Vec<Image> {
    vec![
        Image {
            id: "ami-0a17023c0ffee8601".to_string(),
            name: "al2023-ami-2023.9.20261120.0-kernel-6.1-x86_64".to_string(),
            architecture: "x86_64",
            parameter: Some(AL2023_X86_PARAMETER),
        },
        Image {
            id: "ami-0a17023c0ffee8602".to_string(),
            name: "al2023-ami-2023.9.20261120.0-kernel-6.1-arm64".to_string(),
            architecture: "arm64",
            parameter: Some(AL2023_ARM_PARAMETER),
        },
        Image {
            id: SECURECART_IMAGE_ID.to_string(),
            name: "securecart-app-2026.11".to_string(),
            architecture: "x86_64",
            parameter: None,
        },
    ]
}

impl Filterable for Image {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        let v = match name {
            "image-id" => self.id.clone(),
            "name" => self.name.clone(),
            "architecture" => self.architecture.to_string(),
            "state" => "available".into(),
            _ => return None,
        };
        Some(vec![v])
    }
}
