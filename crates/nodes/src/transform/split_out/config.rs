//! Split Out's parameters, and how its behaviour changed across Item Lists versions.

use crate::util::fields::field_list;
use crate::util::params::{unsupported, Reader};
use sluice_engine::NodeError;
use sluice_model::Value;

/// Behaviour that differs between Item Lists versions (the Split Out node behaves as the latest).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Compat {
    /// Before Item Lists 2.1 a missing field fails the node; later it yields no items.
    pub missing_is_error: bool,
    /// From Item Lists 2.2 several comma-separated fields are split side by side, and a value
    /// that is neither a list nor an object counts as a one-element list (before, it failed).
    pub multiple_fields: bool,
}

impl Compat {
    pub(crate) fn for_item_lists(version: f64) -> Self {
        Compat {
            missing_is_error: version < 2.1,
            multiple_fields: version >= 2.2,
        }
    }
}

#[derive(Clone, Debug)]
pub(super) enum Include {
    NoOtherFields,
    AllOtherFields,
    Selected(Vec<String>),
}

#[derive(Clone, Debug)]
pub(super) struct Config {
    pub fields: Vec<String>,
    /// Output field per split field (empty: the field's own name).
    pub destinations: Vec<String>,
    pub include: Include,
    pub dot: bool,
    pub include_binary: bool,
    pub compat: Compat,
}

impl Config {
    pub(super) fn parse(r: &Reader<'_>, compat: Compat) -> Result<Config, NodeError> {
        // Before Item Lists 2.2 the field name is taken whole, commas and all.
        let list = |path: &str| -> Result<Vec<String>, NodeError> {
            match r.get(path)? {
                Some(Value::String(text)) if !compat.multiple_fields => Ok(Some(text.trim())
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .into_iter()
                    .collect()),
                value => field_list(value, path),
            }
        };
        let include = match r.str_or("include", "noOtherFields")? {
            "noOtherFields" => Include::NoOtherFields,
            "allOtherFields" => Include::AllOtherFields,
            "selectedOtherFields" => Include::Selected(r.fields("fieldsToInclude")?),
            other => return Err(unsupported("include", other)),
        };
        Ok(Config {
            fields: list("fieldToSplitOut")?,
            destinations: list("options.destinationFieldName")?,
            include,
            dot: !r.bool_or("options.disableDotNotation", false)?,
            include_binary: r.bool_or("options.includeBinary", false)?,
            compat,
        })
    }

    /// Where split field `index` goes in the output.
    pub(super) fn destination(&self, index: usize) -> &str {
        self.destinations.get(index).unwrap_or(&self.fields[index])
    }
}
