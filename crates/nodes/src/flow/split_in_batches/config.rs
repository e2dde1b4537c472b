//! Which Split In Batches / Loop Over Items version a node is, and what that changes.

use sluice_engine::NodeError;
use sluice_model::Item;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Version {
    /// One output; emits nothing once every batch went out.
    V1,
    /// Outputs `[loop, done]`; `done` gets everything the loop body sent back.
    V2,
    /// Loop Over Items: outputs `[done, loop]`.
    V3,
}

impl Version {
    pub(super) fn of(type_version: f64) -> Result<Version, NodeError> {
        match type_version {
            1.0 => Ok(Version::V1),
            2.0 => Ok(Version::V2),
            3.0 => Ok(Version::V3),
            v => Err(NodeError::new(format!("unsupported typeVersion {v}"))),
        }
    }

    pub(super) fn outputs(self) -> usize {
        match self {
            Version::V1 => 1,
            Version::V2 | Version::V3 => 2,
        }
    }

    /// `batchSize` when the parameter is absent.
    pub(super) fn default_batch_size(self) -> f64 {
        match self {
            Version::V1 | Version::V2 => 10.0,
            Version::V3 => 1.0,
        }
    }

    /// Arrange the loop batch and the finished items into this version's outputs.
    pub(super) fn outputs_of(self, batch: Vec<Item>, done: Vec<Item>) -> Vec<Vec<Item>> {
        match self {
            Version::V1 => vec![batch],
            Version::V2 => vec![batch, done],
            Version::V3 => vec![done, batch],
        }
    }
}
