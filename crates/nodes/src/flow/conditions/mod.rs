//! Conditions shared by IF, Filter and Switch.
//!
//! Two formats exist. The current one is n8n's `filter` parameter ([`FilterConditions`]): typed
//! operators with strict or loose type validation. IF v1, Filter v1 and Switch v1/v2 use the
//! legacy per-data-type lists ([`LegacyConditions`], [`LegacyOp`]). Both are compiled once at
//! build time and evaluated per item with the item's expressions resolved.

mod coerce;
mod filter;
mod js;
mod legacy;
mod operator;
#[cfg(test)]
mod tests;

pub use filter::FilterConditions;
pub use legacy::{Combine, DataType, LegacyConditions, LegacyOp};

use crate::util::params::Reader;
use sluice_engine::{ExecuteContext, NodeError, Param};
use sluice_model::Item;

/// Node-level settings that override a filter's own options, as IF, Filter and Switch expose
/// them (`looseTypeValidation`, `options.looseTypeValidation`, `options.ignoreCase`).
#[derive(Clone, Copy, Debug)]
pub struct NodeSettings {
    pub loose: bool,
    pub ignore_case: bool,
    /// Description added to type errors: how to turn on loose validation in this node.
    pub hint: &'static str,
}

impl NodeSettings {
    /// Read the overrides from the node's parameters.
    pub fn from_params(params: &Param, hint: &'static str) -> Result<Self, NodeError> {
        let r = Reader::fixed(params);
        Ok(NodeSettings {
            loose: r.bool_or("looseTypeValidation", false)?
                || r.bool_or("options.looseTypeValidation", false)?,
            ignore_case: r.bool_or("options.ignoreCase", false)?,
            hint,
        })
    }
}

/// The description n8n adds to type errors in IF and Switch.
pub const CONVERT_TYPES_HINT: &str =
    "Try changing the type of comparison. Alternatively you can enable 'Convert types where required'.";

/// The same hint for the Filter node, whose option has another name.
pub const LESS_STRICT_HINT: &str =
    "Try changing the type of comparison. Alternatively you can enable 'Less Strict Type Validation'.";

/// The conditions of an IF or Filter node, in the format its version uses.
#[derive(Debug)]
pub enum Conditions {
    Legacy(LegacyConditions),
    Filter(FilterConditions),
}

impl Conditions {
    pub fn evaluate(&self, ctx: &ExecuteContext<'_>, item_index: usize) -> Result<bool, NodeError> {
        match self {
            Conditions::Legacy(c) => c.evaluate(ctx, item_index),
            Conditions::Filter(c) => c.evaluate(ctx, item_index),
        }
    }

    /// Split the main input into (passing, failing) items. An item whose conditions fail to
    /// evaluate counts as failing under continueOnFail; otherwise it fails the node.
    pub fn partition(&self, ctx: &ExecuteContext<'_>) -> Result<(Vec<Item>, Vec<Item>), NodeError> {
        let mut pass = Vec::new();
        let mut fail = Vec::new();
        for (i, item) in ctx.main_input().iter().enumerate() {
            match self.evaluate(ctx, i) {
                Ok(true) => pass.push(item.clone()),
                Ok(false) => fail.push(item.clone()),
                Err(_) if ctx.continue_on_fail() => fail.push(item.clone()),
                Err(e) => return Err(e.with_item(i)),
            }
        }
        Ok((pass, fail))
    }
}

/// The time zone naive dates are read in: the workflow's (UTC when unknown).
pub fn timezone(ctx: &ExecuteContext<'_>) -> chrono_tz::Tz {
    js::zone(ctx.timezone())
}
