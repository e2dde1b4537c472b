//! Aggregate's parameters, and how its behaviour changed across Item Lists versions.

use crate::util::params::{unsupported, Reader};
use sluice_engine::NodeError;
use sluice_model::Value;

#[derive(Clone, Debug)]
pub(super) struct Field {
    pub input: String,
    pub output: String,
}

#[derive(Clone, Debug)]
pub(super) enum Include {
    All,
    Only(Vec<String>),
    Except(Vec<String>),
}

#[derive(Clone, Debug)]
pub(super) enum Mode {
    /// Collect the values of some fields into one list per field.
    IndividualFields(Vec<Field>),
    /// Collect whole items (or some of their fields) into one list.
    AllItemData {
        destination: String,
        include: Include,
    },
}

#[derive(Clone, Debug)]
pub(super) struct Config {
    pub mode: Mode,
    pub dot: bool,
    pub merge_lists: bool,
    pub keep_missing: bool,
    /// Before Item Lists 2.1 a field found in no item fails the node.
    pub missing_is_error: bool,
}

impl Config {
    pub(super) fn parse(r: &Reader<'_>, missing_is_error: bool) -> Result<Config, NodeError> {
        if r.bool_or("options.includeBinaries", false)? {
            return Err(
                NodeError::new("aggregating binary data is not supported yet")
                    .with_parameter("options.includeBinaries"),
            );
        }
        let mode = match r.str_or("aggregate", "aggregateIndividualFields")? {
            "aggregateIndividualFields" => Mode::IndividualFields(
                r.list("fieldsToAggregate.fieldToAggregate")?
                    .iter()
                    .filter_map(|entry| {
                        let input = entry.get("fieldToAggregate")?.as_str()?.trim().to_string();
                        let renamed =
                            entry.get("renameField").and_then(Value::as_bool) == Some(true);
                        let output = entry
                            .get("outputFieldName")
                            .and_then(Value::as_str)
                            .filter(|name| renamed && !name.is_empty())
                            .map_or_else(|| input.clone(), String::from);
                        (!input.is_empty()).then_some(Field { input, output })
                    })
                    .collect(),
            ),
            "aggregateAllItemData" => Mode::AllItemData {
                destination: r.str_or("destinationFieldName", "data")?.to_string(),
                include: match r.str_or("include", "allFields")? {
                    "allFields" => Include::All,
                    "specifiedFields" => Include::Only(r.fields("fieldsToInclude")?),
                    "allFieldsExcept" => Include::Except(r.fields("fieldsToExclude")?),
                    other => return Err(unsupported("include", other)),
                },
            },
            other => return Err(unsupported("aggregate", other)),
        };
        Ok(Config {
            mode,
            dot: !r.bool_or("options.disableDotNotation", false)?,
            merge_lists: r.bool_or("options.mergeLists", false)?,
            keep_missing: r.bool_or("options.keepMissing", false)?,
            missing_is_error,
        })
    }
}
