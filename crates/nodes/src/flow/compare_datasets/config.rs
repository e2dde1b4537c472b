//! Compare Datasets' parameters, and what changed between its versions.

use crate::util::params::{unsupported, Reader};
use sluice_engine::NodeError;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Resolve {
    PreferA,
    PreferB,
    /// Take one input's version, except these fields from the other input.
    Mix {
        prefer_b: bool,
        except: Vec<String>,
    },
    IncludeBoth,
}

#[derive(Clone, Debug)]
pub(super) struct Config {
    /// (input A field, input B field) pairs that identify matching items.
    pub match_fields: Vec<(String, String)>,
    pub resolve: Resolve,
    pub fuzzy: bool,
    pub skip_fields: Vec<String>,
    pub dot: bool,
    pub all_matches: bool,
    pub version: f64,
}

impl Config {
    /// v1 labels differences `input1`/`input2`; later versions `inputA`/`inputB`.
    pub(super) fn labels(&self) -> (&'static str, &'static str) {
        if self.version < 2.0 {
            ("input1", "input2")
        } else {
            ("inputA", "inputB")
        }
    }

    /// Before 2.1 a field present on one side only always differs, even with fuzzy compare.
    pub(super) fn missing_always_differs(&self) -> bool {
        self.version < 2.1
    }

    /// Before 2.3 "mix" ignored falsy values (`0`, `""`, `false`) of the excepted fields.
    pub(super) fn mix_skips_falsy(&self) -> bool {
        self.version < 2.3
    }

    pub(super) fn parse(r: &Reader<'_>, version: f64) -> Result<Config, NodeError> {
        let match_fields = r
            .list("mergeByFields.values")?
            .iter()
            .filter_map(|pair| {
                let a = pair.get("field1")?.as_str()?.trim();
                let b = pair.get("field2")?.as_str()?.trim();
                (!a.is_empty() && !b.is_empty()).then(|| (a.to_string(), b.to_string()))
            })
            .collect::<Vec<_>>();
        if match_fields.is_empty() {
            return Err(NodeError::new(
                "You need to define at least one pair of fields in 'Fields to Match'",
            )
            .with_parameter("mergeByFields"));
        }
        let default_resolve = if version < 2.0 {
            "preferInput2"
        } else {
            "includeBoth"
        };
        let resolve = match r.str_or("resolve", default_resolve)? {
            "preferInput1" => Resolve::PreferA,
            "preferInput2" => Resolve::PreferB,
            "includeBoth" => Resolve::IncludeBoth,
            "mix" => Resolve::Mix {
                prefer_b: match r.str_or("preferWhenMix", "input1")? {
                    "input1" => false,
                    "input2" => true,
                    other => return Err(unsupported("preferWhenMix", other)),
                },
                except: r.fields("exceptWhenMix")?,
            },
            other => return Err(unsupported("resolve", other)),
        };
        let all_matches = match r.str_or("options.multipleMatches", "first")? {
            "first" => false,
            "all" => true,
            other => return Err(unsupported("options.multipleMatches", other)),
        };
        Ok(Config {
            match_fields,
            resolve,
            fuzzy: r.bool_or("fuzzyCompare", false)? || r.bool_or("options.fuzzyCompare", false)?,
            skip_fields: r.fields("options.skipFields")?,
            dot: !r.bool_or("options.disableDotNotation", false)?,
            all_matches,
            version,
        })
    }
}
