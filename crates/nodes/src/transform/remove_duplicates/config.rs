//! Remove Duplicates' parameters. Only the within-input operation runs here; the operations that
//! remember items across executions fail the build with a clear message for now.

use crate::util::params::{unsupported, Reader};
use sluice_engine::NodeError;

#[derive(Clone, Debug)]
pub(super) enum Compare {
    AllFields,
    AllFieldsExcept(Vec<String>),
    Selected(Vec<String>),
}

#[derive(Clone, Debug)]
pub(super) struct Config {
    pub compare: Compare,
    pub remove_other_fields: bool,
    pub dot: bool,
}

impl Config {
    /// `standalone`: the Remove Duplicates node, whose `operation` picks what it does (Item
    /// Lists' `operation` names the list operation instead).
    pub(super) fn parse(r: &Reader<'_>, standalone: bool) -> Result<Config, NodeError> {
        let operation = match standalone {
            true => r.str_or("operation", "removeDuplicateInputItems")?,
            false => "removeDuplicateInputItems",
        };
        match operation {
            "removeDuplicateInputItems" => {}
            op @ ("removeItemsSeenInPreviousExecutions" | "clearDeduplicationHistory") => {
                return Err(NodeError::new(format!(
                    "operation '{op}' keeps history across executions, which is not supported yet"
                ))
                .with_parameter("operation"))
            }
            other => return Err(unsupported("operation", other)),
        }
        let compare = match r.str_or("compare", "allFields")? {
            "allFields" => Compare::AllFields,
            "allFieldsExcept" => Compare::AllFieldsExcept(r.fields("fieldsToExclude")?),
            "selectedFields" => Compare::Selected(r.fields("fieldsToCompare")?),
            other => return Err(unsupported("compare", other)),
        };
        Ok(Config {
            compare,
            remove_other_fields: r.bool_or("options.removeOtherFields", false)?,
            dot: !r.bool_or("options.disableDotNotation", false)?,
        })
    }
}
