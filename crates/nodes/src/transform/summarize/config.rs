//! Summarize's parameters, and how its behaviour changed across versions.

use crate::util::params::{unsupported, Reader};
use sluice_engine::NodeError;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Aggregation {
    Append,
    Average,
    Concatenate,
    Count,
    CountUnique,
    Max,
    Min,
    Sum,
}

impl Aggregation {
    /// The prefix of the output field (`count_id`, `unique_count_id`, ...).
    pub(super) fn prefix(self) -> &'static str {
        match self {
            Aggregation::Append => "appended",
            Aggregation::Average => "average",
            Aggregation::Concatenate => "concatenated",
            Aggregation::Count => "count",
            Aggregation::CountUnique => "unique_count",
            Aggregation::Max => "max",
            Aggregation::Min => "min",
            Aggregation::Sum => "sum",
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Summary {
    pub aggregation: Aggregation,
    pub field: String,
    pub include_empty: bool,
    pub separator: String,
}

impl Summary {
    /// `count_params_interval` for a count of `params.interval`.
    pub(super) fn output_name(&self) -> String {
        format!(
            "{}_{}",
            self.aggregation.prefix(),
            self.field.replace('.', "_")
        )
    }
}

/// Behaviour that differs between versions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Compat {
    /// Before Item Lists 2.1 a field found in no item fails the node (unless "Continue if
    /// Field Not Found").
    pub missing_is_error: bool,
    /// Summarize 1.1 keeps the split-by values' types; before, they became text.
    pub typed_groups: bool,
}

#[derive(Clone, Debug)]
pub(super) struct Config {
    pub summaries: Vec<Summary>,
    pub split_by: Vec<String>,
    pub single_item: bool,
    pub continue_if_missing: bool,
    pub skip_empty_split_fields: bool,
    pub dot: bool,
    pub compat: Compat,
}

impl Config {
    pub(super) fn parse(r: &Reader<'_>, compat: Compat) -> Result<Config, NodeError> {
        let summaries = r
            .list("fieldsToSummarize.values")?
            .iter()
            .map(|entry| {
                let e = Reader::new(entry);
                let aggregation = match e.str_or("aggregation", "count")? {
                    "append" => Aggregation::Append,
                    "average" => Aggregation::Average,
                    "concatenate" => Aggregation::Concatenate,
                    "count" => Aggregation::Count,
                    "countUnique" => Aggregation::CountUnique,
                    "max" => Aggregation::Max,
                    "min" => Aggregation::Min,
                    "sum" => Aggregation::Sum,
                    other => {
                        return Err(unsupported("fieldsToSummarize.values.aggregation", other))
                    }
                };
                let separator = match e.str_or("separateBy", ",")? {
                    "other" => e.str_or("customSeparator", "")?,
                    separator => separator,
                };
                Ok(Summary {
                    aggregation,
                    field: e.str_or("field", "")?.trim().to_string(),
                    include_empty: e.bool_or("includeEmpty", false)?,
                    separator: separator.to_string(),
                })
            })
            .collect::<Result<Vec<_>, NodeError>>()?;
        let single_item = match r.str_or("options.outputFormat", "separateItems")? {
            "separateItems" => false,
            "singleItem" => true,
            other => return Err(unsupported("options.outputFormat", other)),
        };
        Ok(Config {
            summaries,
            split_by: r.fields("fieldsToSplitBy")?,
            single_item,
            continue_if_missing: r.bool_or("options.continueIfFieldNotFound", false)?,
            skip_empty_split_fields: r.bool_or("options.skipEmptySplitFields", false)?,
            dot: !r.bool_or("options.disableDotNotation", false)?,
            compat,
        })
    }
}
