//! Every account's resources in every region: one [`Cloud`] per
//! [`Scope`], made on first use. A request acts in the scope it is signed
//! for (the region of its SigV4 credential scope, the account of its access
//! key). When the world is seeded, every account finds its own SecureCart
//! in the home region (the region the emulator was started for) on first
//! use, and its SSM instance profile in IAM.
//!
//! A handler gets its own scope's cloud to change and the rest of the world
//! to read: a copy from another region and a snapshot shared by another
//! account read it, nothing else changes it.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};

use crate::clock::Timestamp;
use crate::model::{zone, Cloud, Snapshot, ACCOUNT_ID};
use crate::pace::Pace;

/// Where a request acts: one account's resources in one region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

impl Scope {
    /// The default account (the one LocalStack also uses) in `region`.
    pub fn default_account(region: &str) -> Self {
        Self {
            account: ACCOUNT_ID.to_string(),
            region: region.to_string(),
        }
    }

    pub fn new(account: &str, region: &str) -> Self {
        Self {
            account: account.to_string(),
            region: region.to_string(),
        }
    }
}

#[derive(Debug)]
pub struct World {
    home: Scope,
    pace: Pace,
    id_seed: Option<u64>,
    /// When seeded: the instant SecureCart's scenario is dated from, the
    /// same for every account (so a journal's replay seeds alike).
    scenario: Option<Timestamp>,
    clouds: BTreeMap<Scope, Cloud>,
}

impl World {
    /// A world whose home scope (the default account in `region`) exists,
    /// every account seeded with SecureCart when `scenario` gives the time
    /// it is dated from; `None` when AWS has no such region.
    pub fn new(region: &str, pace: Pace, id_seed: Option<u64>, scenario: Option<Timestamp>) -> Option<Self> {
        if !zone::is_region(region) {
            return None;
        }
        let home = Scope::default_account(region);
        let mut world = Self {
            home: home.clone(),
            pace,
            id_seed,
            scenario,
            clouds: BTreeMap::new(),
        };
        world.cloud_mut(&home);
        Some(world)
    }

    pub fn home(&self) -> &Scope {
        &self.home
    }

    /// The home scope's cloud (where the scenario is seeded).
    pub fn home_cloud(&mut self) -> &mut Cloud {
        let home = self.home.clone();
        self.cloud_mut(&home)
    }

    /// A scope's cloud, made on first use ([`Self::make`]).
    pub fn cloud_mut(&mut self, scope: &Scope) -> &mut Cloud {
        let cloud = match self.clouds.remove(scope) {
            Some(cloud) => cloud,
            None => self.make(scope),
        };
        self.clouds.entry(scope.clone()).or_insert(cloud)
    }

    /// A new cloud for `scope`: the region's zones and default VPC, its
    /// account's IAM (roles and instance profiles are global, not regional;
    /// an account's first cloud gets the SSM instance profile when seeded),
    /// and SecureCart when it is the account's home region in a seeded world.
    ///
    /// Home keeps the journal's seed as it is (ids as before regions
    /// existed); elsewhere the seed is mixed with the scope, so two scopes
    /// never draw the same ids.
    fn make(&self, scope: &Scope) -> Cloud {
        let seed = self.id_seed.map(|s| {
            if *scope == self.home {
                s
            } else {
                s ^ crate::ids::stable_hash(format!("{}/{}", scope.account, scope.region).as_bytes())
            }
        });
        let mut cloud = Cloud::new(&scope.account, &scope.region, self.pace, seed);
        match (self.iam_of(&scope.account), self.scenario) {
            (Some(iam), _) => cloud.iam = iam,
            (None, Some(at)) => crate::seed::ssm_instance_profile(&mut cloud, at),
            (None, None) => {}
        }
        if let Some(at) = self.scenario.filter(|_| scope.region == self.home.region) {
            crate::seed::securecart(&mut cloud, at);
        }
        cloud
    }

    /// An account's IAM, from any of its regions (they hold the same).
    fn iam_of(&self, account: &str) -> Option<crate::model::Iam> {
        self.clouds
            .iter()
            .find(|(s, _)| s.account == account)
            .map(|(_, c)| c.iam.clone())
    }

    /// After an IAM change in `from`: every region of the account sees it.
    pub fn share_iam(&mut self, from: &Scope) {
        let Some(iam) = self.clouds.get(from).map(|c| c.iam.clone()) else {
            return;
        };
        for (s, c) in self.clouds.iter_mut() {
            if s.account == from.account && s != from {
                c.iam = iam.clone();
            }
        }
    }

    /// A scope's cloud if anything was ever made there.
    pub fn cloud(&self, scope: &Scope) -> Option<&Cloud> {
        self.clouds.get(scope)
    }

    /// Applies every transition whose deadline has passed, everywhere.
    pub fn settle(&mut self, now: Timestamp) {
        self.clouds.values_mut().for_each(|c| c.settle(now));
    }

    /// Runs `f` on a scope's cloud (settled to `now`) with the rest of the
    /// world to read. The cloud goes back in place even if `f` panics.
    pub fn in_scope<R>(&mut self, scope: &Scope, now: Timestamp, f: impl FnOnce(&mut Cloud, &World) -> R) -> R {
        self.settle(now);
        // Taken out while `f` runs, so `f` can read the rest of the world.
        let mut cloud = match self.clouds.remove(scope) {
            Some(cloud) => cloud,
            None => self.make(scope),
        };
        let result = panic::catch_unwind(AssertUnwindSafe(|| f(&mut cloud, self)));
        self.clouds.insert(scope.clone(), cloud);
        result.unwrap_or_else(|p| panic::resume_unwind(p))
    }

    /// The cloud holding a volume (ids are unique across the world); home's
    /// when none does, so a missing volume gets home's error for it.
    pub fn holding_volume(&mut self, volume_id: &str) -> &mut Cloud {
        let scope = self
            .clouds
            .iter()
            .find(|(_, c)| c.volumes.contains_key(volume_id))
            .map_or_else(|| self.home.clone(), |(s, _)| s.clone());
        self.cloud_mut(&scope)
    }

    /// A snapshot in another scope of `region` that `account` may restore
    /// (shared with it, or public), and its owner's cloud.
    pub fn shared_snapshot(&self, id: &str, account: &str, region: &str) -> Option<&Snapshot> {
        self.clouds
            .iter()
            .filter(|(s, _)| s.region == region && s.account != account)
            .find_map(|(_, c)| c.snapshots.get(id).filter(|snap| snap.restorable_by(account)))
    }

    /// Every snapshot other accounts share with `account` in `region`.
    pub fn snapshots_shared_with<'a>(
        &'a self,
        account: &'a str,
        region: &'a str,
    ) -> impl Iterator<Item = &'a Snapshot> {
        self.clouds
            .iter()
            .filter(move |(s, _)| s.region == region && s.account != account)
            .flat_map(move |(_, c)| c.snapshots.values().filter(move |snap| snap.restorable_by(account)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_made_on_first_use_with_their_regions_zones() {
        let mut world = World::new("us-east-1", Pace::Instant, Some(7), None).unwrap();
        assert!(World::new("us-nowhere-1", Pace::Instant, None, None).is_none());
        let eu = Scope::default_account("eu-west-1");
        assert!(world.cloud(&eu).is_none());
        let zones: Vec<String> = world.cloud_mut(&eu).zones.iter().map(|z| z.name.clone()).collect();
        assert_eq!(zones, ["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
        assert_eq!(world.home_cloud().zones.len(), 6);
    }

    #[test]
    fn a_panicking_handler_loses_no_scope() {
        let mut world = World::new("us-east-1", Pace::Instant, Some(7), None).unwrap();
        let home = world.home().clone();
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            world.in_scope(&home, chrono::Utc::now(), |_, _| panic!("a bug"));
        }));
        assert!(caught.is_err());
        assert!(world.cloud(&home).is_some());
    }
}
