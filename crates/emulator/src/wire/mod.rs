//! Wire formats: the Query protocol's parameters in, XML out.

pub mod query;
pub mod xml;
