//! Merge parameters, parsed once per workflow. v1 has its own modes; v2/v2.1 and v3.x share
//! append / combine / choose branch with different parameter names and defaults.

use super::clash::Clash;
use crate::util::fields::split_field_list;
use crate::util::params::{unsupported, Reader};
use sluice_engine::{NodeError, Param};
use sluice_model::Value;

pub(super) enum MergeConfig {
    /// v1's modes.
    Legacy(Legacy),
    /// Items of every input, one input after another.
    Append,
    /// Output one input unchanged (`Some(index)`), or one empty item (`None`).
    ChooseBranch(Option<usize>),
    ByFields(Box<ByFields>),
    ByPosition {
        clash: Clash,
        include_unpaired: bool,
    },
    /// Every combination of an input-1 item with an input-2 item.
    All {
        clash: Clash,
    },
}

/// How a version treats a combine whose input is empty.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum EmptyInputs {
    /// v2.0: the other input passes through unchanged, whatever the combine mode.
    PassOther,
    /// v2.1+: each mode does what its join means with nothing to match.
    PerMode,
}

pub(super) enum Legacy {
    Append,
    /// Keep (`keep`) or remove input-1 items whose key appears in input 2.
    KeyMatches {
        keep: bool,
        key1: String,
        key2: String,
    },
    ByIndex(IndexJoin),
    ByKey {
        key1: String,
        key2: String,
        overwrite: Overwrite,
    },
    Multiplex,
    PassThrough(usize),
    Wait,
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum IndexJoin {
    Inner,
    Left,
    Outer,
}

/// When merge-by-key copies an input-2 field over the input-1 one.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Overwrite {
    Always,
    IfMissing,
    IfBlank,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Join {
    KeepMatches,
    KeepNonMatches,
    KeepEverything,
    EnrichInput1,
    EnrichInput2,
}

/// Which input's data matched/unmatched items carry (`outputDataFrom`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum OutputFrom {
    Both,
    Input1,
    Input2,
}

pub(super) struct ByFields {
    /// (input-1 field, input-2 field) pairs that must all be equal.
    pub pairs: Vec<(String, String)>,
    pub join: Join,
    pub output: OutputFrom,
    pub clash: Clash,
    pub fuzzy: bool,
    pub dot_notation: bool,
    pub first_match_only: bool,
}

pub(super) struct Parsed {
    pub config: MergeConfig,
    pub empty_inputs: EmptyInputs,
    /// Inputs the node declares (v3 `numberInputs`; 2 before).
    pub inputs: usize,
}

pub(super) fn parse(version: f64, params: &Param) -> Result<Parsed, NodeError> {
    let r = Reader::fixed(params);
    let empty_inputs = if version < 2.1 {
        EmptyInputs::PassOther
    } else {
        EmptyInputs::PerMode
    };
    let config = match version {
        v if v < 2.0 => MergeConfig::Legacy(legacy(params)?),
        v if v < 3.0 => v2(params)?,
        _ => v3(params)?,
    };
    let inputs = match version >= 3.0 {
        true => r.number_or("numberInputs", 2.0)?.clamp(2.0, 10.0) as usize,
        false => 2,
    };
    Ok(Parsed {
        config,
        empty_inputs,
        inputs,
    })
}

fn legacy(params: &Param) -> Result<Legacy, NodeError> {
    let r = Reader::fixed(params);
    let keys = || -> Result<(String, String), NodeError> {
        Ok((
            r.str_or("propertyName1", "")?.to_string(),
            r.str_or("propertyName2", "")?.to_string(),
        ))
    };
    Ok(match r.str_or("mode", "append")? {
        "append" => Legacy::Append,
        mode @ ("keepKeyMatches" | "removeKeyMatches") => {
            let (key1, key2) = keys()?;
            Legacy::KeyMatches {
                keep: mode == "keepKeyMatches",
                key1,
                key2,
            }
        }
        "mergeByIndex" => Legacy::ByIndex(match r.str_or("join", "left")? {
            "inner" => IndexJoin::Inner,
            "left" => IndexJoin::Left,
            "outer" => IndexJoin::Outer,
            other => return Err(unsupported("join", other)),
        }),
        "mergeByKey" => {
            let (key1, key2) = keys()?;
            let overwrite = match r.str_or("overwrite", "always")? {
                "always" => Overwrite::Always,
                "undefined" => Overwrite::IfMissing,
                "blank" => Overwrite::IfBlank,
                other => return Err(unsupported("overwrite", other)),
            };
            Legacy::ByKey {
                key1,
                key2,
                overwrite,
            }
        }
        "multiplex" => Legacy::Multiplex,
        "passThrough" => Legacy::PassThrough(match r.str_or("output", "input1")? {
            "input1" => 0,
            "input2" => 1,
            other => return Err(unsupported("output", other)),
        }),
        "wait" => Legacy::Wait,
        other => return Err(unsupported("mode", other)),
    })
}

fn v2(params: &Param) -> Result<MergeConfig, NodeError> {
    let r = Reader::fixed(params);
    Ok(match r.str_or("mode", "append")? {
        "append" => MergeConfig::Append,
        "chooseBranch" => MergeConfig::ChooseBranch(match r.str_or("output", "input1")? {
            "input1" => Some(0),
            "input2" => Some(1),
            "empty" => None,
            other => return Err(unsupported("output", other)),
        }),
        "combine" => match r.str_or("combinationMode", "mergeByFields")? {
            "mergeByFields" => {
                let pairs = field_pairs(params)?;
                MergeConfig::ByFields(Box::new(by_fields(params, pairs, "preferInput2")?))
            }
            "mergeByPosition" => position(params, "preferInput2")?,
            "multiplex" => MergeConfig::All {
                clash: Clash::parse(params, "preferInput2")?,
            },
            other => return Err(unsupported("combinationMode", other)),
        },
        other => return Err(unsupported("mode", other)),
    })
}

fn v3(params: &Param) -> Result<MergeConfig, NodeError> {
    let r = Reader::fixed(params);
    Ok(match r.str_or("mode", "append")? {
        "append" => MergeConfig::Append,
        "chooseBranch" => MergeConfig::ChooseBranch(match r.str_or("output", "specifiedInput")? {
            "specifiedInput" => Some((r.number_or("useDataOfInput", 1.0)?.max(1.0) as usize) - 1),
            "empty" => None,
            other => return Err(unsupported("output", other)),
        }),
        "combine" => match r.str_or("combineBy", "combineByFields")? {
            "combineByFields" => {
                let pairs = match r.bool_or("advanced", false)? {
                    true => field_pairs(params)?,
                    false => split_field_list(params.at("fieldsToMatchString").literal().unwrap_or(&Value::Null))
                        .into_iter()
                        .map(|f| (f.clone(), f))
                        .collect(),
                };
                MergeConfig::ByFields(Box::new(by_fields(params, pairs, "preferLast")?))
            }
            "combineByPosition" => position(params, "preferLast")?,
            "combineAll" => MergeConfig::All { clash: Clash::parse(params, "preferLast")? },
            other => return Err(unsupported("combineBy", other)),
        },
        "combineBySql" => {
            return Err(NodeError::new(
                "Merge mode 'SQL Query' (combineBySql) is not supported by Sluice; use combine or a Code node",
            )
            .with_parameter("mode"))
        }
        other => return Err(unsupported("mode", other)),
    })
}

/// `mergeByFields.values[{field1, field2}]`.
fn field_pairs(params: &Param) -> Result<Vec<(String, String)>, NodeError> {
    params
        .at("mergeByFields.values")
        .elements()
        .iter()
        .map(|pair| {
            Ok((
                Reader::fixed(pair).str_or("field1", "")?.to_string(),
                Reader::fixed(pair).str_or("field2", "")?.to_string(),
            ))
        })
        .collect()
}

fn by_fields(
    params: &Param,
    pairs: Vec<(String, String)>,
    default_clash: &str,
) -> Result<ByFields, NodeError> {
    let r = Reader::fixed(params);
    if pairs.is_empty() || pairs.iter().any(|(a, b)| a.is_empty() || b.is_empty()) {
        return Err(NodeError::new(
            "You need to define at least one pair of fields in \"Fields to Match\" to match on",
        )
        .with_parameter("mergeByFields"));
    }
    Ok(ByFields {
        pairs,
        join: match r.str_or("joinMode", "keepMatches")? {
            "keepMatches" => Join::KeepMatches,
            "keepNonMatches" => Join::KeepNonMatches,
            "keepEverything" => Join::KeepEverything,
            "enrichInput1" => Join::EnrichInput1,
            "enrichInput2" => Join::EnrichInput2,
            other => return Err(unsupported("joinMode", other)),
        },
        output: match r.str_or("outputDataFrom", "both")? {
            "both" => OutputFrom::Both,
            "input1" => OutputFrom::Input1,
            "input2" => OutputFrom::Input2,
            other => return Err(unsupported("outputDataFrom", other)),
        },
        clash: Clash::parse(params, default_clash)?,
        fuzzy: r.bool_or("options.fuzzyCompare", false)?,
        dot_notation: !r.bool_or("options.disableDotNotation", false)?,
        first_match_only: match r.str_or("options.multipleMatches", "all")? {
            "all" => false,
            "first" => true,
            other => return Err(unsupported("options.multipleMatches", other)),
        },
    })
}

fn position(params: &Param, default_clash: &str) -> Result<MergeConfig, NodeError> {
    let r = Reader::fixed(params);
    Ok(MergeConfig::ByPosition {
        clash: Clash::parse(params, default_clash)?,
        include_unpaired: r.bool_or("options.includeUnpaired", false)?,
    })
}
