//! Resource ids: generating them, and telling a malformed id from an unknown one.
//!
//! AWS ids are a prefix plus 8 (older resources) or 17 lowercase hex digits.
//! Anything else is `…ID.Malformed`; a well-formed id that does not exist is
//! `….NotFound`. moto and LocalStack answer NotFound for both, which teaches
//! learners the wrong lesson about typos.

use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Volume,
    Snapshot,
    Instance,
    Reservation,
    Subnet,
    Vpc,
    Image,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Volume => "vol",
            Self::Snapshot => "snap",
            Self::Instance => "i",
            Self::Reservation => "r",
            Self::Subnet => "subnet",
            Self::Vpc => "vpc",
            Self::Image => "ami",
        }
    }

    /// The EC2 resource type name used by tags and TagSpecifications.
    pub fn resource_type(self) -> &'static str {
        match self {
            Self::Volume => "volume",
            Self::Snapshot => "snapshot",
            Self::Instance => "instance",
            Self::Reservation => "reservation",
            Self::Subnet => "subnet",
            Self::Vpc => "vpc",
            Self::Image => "image",
        }
    }

    /// The kind of a taggable id, judged by its prefix alone.
    pub fn of(id: &str) -> Option<Self> {
        let (prefix, _) = id.split_once('-')?;
        [Self::Volume, Self::Snapshot, Self::Instance]
            .into_iter()
            .find(|k| k.prefix() == prefix)
    }
}

/// True when `id` is `<prefix>-` followed by 8 or 17 lowercase hex digits.
pub fn is_well_formed(kind: IdKind, id: &str) -> bool {
    let Some(rest) = id.strip_prefix(kind.prefix()).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    (rest.len() == 8 || rest.len() == 17) && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks the shape of an id, answering the kind's `…ID.Malformed` error.
pub fn check(kind: IdKind, id: &str) -> Ec2Result<()> {
    if is_well_formed(kind, id) {
        return Ok(());
    }
    let prefix = kind.prefix();
    Err(match kind {
        IdKind::Volume => ec2_error!(InvalidVolumeIdMalformed, "Invalid id: \"{id}\" (expecting \"vol-...\")")
            .hint("A volume id is 'vol-' followed by 17 hex digits, e.g. vol-0123456789abcdef0."),
        IdKind::Snapshot => ec2_error!(
            InvalidSnapshotIdMalformed,
            "Invalid id: \"{id}\" (expecting \"snap-...\")"
        )
        .hint("A snapshot id is 'snap-' followed by 17 hex digits; copy it from create-snapshot's SnapshotId."),
        IdKind::Instance => ec2_error!(InvalidInstanceIdMalformed, "Invalid id: \"{id}\" (expecting \"i-...\")")
            .hint("An instance id is 'i-' followed by 17 hex digits; find it with aws ec2 describe-instances."),
        _ => ec2_error!(InvalidId, "The ID '{id}' is not valid (expecting \"{prefix}-...\")."),
    })
}

/// Generates fresh 17-hex-digit ids. Seedable so tests get the same ids each run.
#[derive(Debug, Clone)]
pub struct IdSource {
    rng: fastrand::Rng,
}

impl IdSource {
    pub fn new(seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        Self { rng }
    }

    pub fn next(&mut self, kind: IdKind) -> String {
        let rng = &mut self.rng;
        let hex: String = (0..17)
            .map(|_| char::from(b"0123456789abcdef"[rng.usize(..16)]))
            .collect();
        format!("{}-{hex}", kind.prefix())
    }
}

/// The error a caller sees for an id of the wrong kind in a tag call, say.
pub fn invalid_resource_id(id: &str) -> Ec2Error {
    ec2_error!(
        InvalidId,
        "The ID '{id}' is not valid. snaplab tags volumes (vol-…), snapshots (snap-…) and instances (i-…)."
    )
}

/// FNV-1a: a hash stable across Rust versions (std's may change), for
/// what must come out the same on a journal's replay.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// [`stable_hash`] with its bits spread (splitmix64's finaliser), for
/// values derived from short, similar inputs (accounts, keys).
pub fn spread_hash(bytes: &[u8]) -> u64 {
    let mut z = stable_hash(bytes);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An id with `prefix` derived from `key` (17 hex digits: a 0, then 64
/// bits of [`spread_hash`]): the same key always gives the same id.
pub fn derived_id(prefix: &str, key: &str) -> String {
    format!("{prefix}-0{:016x}", spread_hash(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_8_and_17_hex_digits_only() {
        assert!(is_well_formed(IdKind::Volume, "vol-0123456789abcdef0"));
        assert!(is_well_formed(IdKind::Volume, "vol-01234567"));
        assert!(!is_well_formed(IdKind::Volume, "vol-0123456789ABCDEF0"));
        assert!(!is_well_formed(IdKind::Volume, "vol-123"));
        assert!(!is_well_formed(IdKind::Volume, "snap-0123456789abcdef0"));
        assert!(!is_well_formed(IdKind::Snapshot, "snap-0123456789abcdefg"));
        assert!(!is_well_formed(IdKind::Instance, "i-"));
    }

    #[test]
    fn generated_ids_are_well_formed_and_seeded_ids_repeat() {
        let mut a = IdSource::new(Some(7));
        let mut b = IdSource::new(Some(7));
        for kind in [IdKind::Volume, IdKind::Snapshot, IdKind::Instance] {
            let id = a.next(kind);
            assert!(is_well_formed(kind, &id), "{id}");
            assert_eq!(id, b.next(kind));
        }
    }
}
