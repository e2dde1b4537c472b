//! Switch parameters, parsed once at build time into how items are routed and how many outputs
//! the node has (n8n derives the output count from the parameters).

use crate::flow::conditions::{
    DataType, FilterConditions, LegacyOp, NodeSettings, CONVERT_TYPES_HINT,
};
use crate::util::params::Reader;
use serde_json::Value;
use sluice_engine::{NodeError, Param};
use sluice_model::NodeDef;

/// Outputs of Switch v1 (fixed).
const V1_OUTPUTS: usize = 4;
/// Default output count in expression mode (v2 `outputsAmount`, v3 `numberOutputs`).
const DEFAULT_EXPRESSION_OUTPUTS: usize = 4;

pub struct Config {
    pub routing: Routing,
    pub outputs: usize,
}

pub enum Routing {
    /// v1/v2 rules: `value1` compared with each rule's `value2`; the first match wins.
    Legacy {
        data_type: DataType,
        value1: Param,
        rules: Vec<LegacyRule>,
        fallback: Option<usize>,
    },
    /// v3 rules: one filter per output.
    Rules {
        rules: Vec<FilterConditions>,
        fallback: Option<usize>,
        all_matching: bool,
    },
    /// Expression mode: `output` resolves to the output index per item.
    Expression { output: Param },
}

pub struct LegacyRule {
    pub op: LegacyOp,
    pub value2: Param,
    pub output: usize,
}

pub fn parse(def: &NodeDef, params: &Param) -> Result<Config, NodeError> {
    let r = Reader::fixed(params);
    let version = def.version();
    let expression = match r.get("mode")? {
        None => false,
        Some(Value::String(m)) if m == "rules" => false,
        Some(Value::String(m)) if m == "expression" => true,
        Some(other) => {
            return Err(NodeError::new(format!(
                "unknown mode {other} (expected 'rules' or 'expression')"
            ))
            .with_parameter("mode"))
        }
    };
    if expression {
        let outputs = if version < 2.0 {
            V1_OUTPUTS
        } else {
            let key = if version < 3.0 {
                "outputsAmount"
            } else {
                "numberOutputs"
            };
            index(params, key)?.unwrap_or(DEFAULT_EXPRESSION_OUTPUTS)
        };
        return Ok(Config {
            routing: Routing::Expression {
                output: params.at("output").clone(),
            },
            outputs,
        });
    }
    if version < 3.0 {
        legacy_rules(params, version)
    } else {
        filter_rules(params)
    }
}

fn legacy_rules(params: &Param, version: f64) -> Result<Config, NodeError> {
    let r = Reader::fixed(params);
    let data_type = match r.get("dataType")? {
        None => DataType::Number,
        Some(Value::String(name)) => DataType::parse(name).ok_or_else(|| {
            NodeError::new(format!("unknown data type '{name}'")).with_parameter("dataType")
        })?,
        Some(other) => {
            return Err(
                NodeError::new(format!("unknown data type {other}")).with_parameter("dataType")
            )
        }
    };
    let default_op = match data_type {
        DataType::DateTime => LegacyOp::After,
        _ => LegacyOp::Equal,
    };
    let elements = params.at("rules.rules").elements();
    let outputs = if version < 2.0 {
        V1_OUTPUTS
    } else {
        elements.len()
    };
    let rules = elements
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let path = format!("rules.rules[{i}]");
            let output = if version < 2.0 {
                index(rule, "output")
                    .map_err(|e| NodeError {
                        parameter: Some(format!("{path}.output")),
                        ..e
                    })?
                    .unwrap_or(0)
            } else {
                i
            };
            check_output(output, outputs, &format!("{path}.output"))?;
            Ok(LegacyRule {
                op: LegacyOp::from_param(
                    rule.at("operation"),
                    &format!("{path}.operation"),
                    data_type,
                    default_op,
                )?,
                value2: data_type.value_or_default(rule.at("value2")),
                output,
            })
        })
        .collect::<Result<Vec<_>, NodeError>>()?;
    let fallback = match r.get("fallbackOutput")? {
        None => None,
        Some(v) => match v.as_i64() {
            Some(-1) => None,
            Some(n) if n >= 0 => Some(check_output(n as usize, outputs, "fallbackOutput")?),
            _ => {
                return Err(NodeError::new(format!("invalid fallback output {v}"))
                    .with_parameter("fallbackOutput"))
            }
        },
    };
    Ok(Config {
        routing: Routing::Legacy {
            data_type,
            value1: data_type.value_or_default(params.at("value1")),
            rules,
            fallback,
        },
        outputs,
    })
}

fn filter_rules(params: &Param) -> Result<Config, NodeError> {
    let r = Reader::fixed(params);
    let settings = NodeSettings::from_params(params, CONVERT_TYPES_HINT)?;
    let rules = params
        .at("rules.values")
        .elements()
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let path = format!("rules.values[{i}].conditions");
            FilterConditions::build(rule.at("conditions"), &path, &settings)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (fallback, outputs) = match r.get("options.fallbackOutput")? {
        None => (None, rules.len()),
        Some(Value::String(s)) if s == "none" => (None, rules.len()),
        Some(Value::String(s)) if s == "extra" => (Some(rules.len()), rules.len() + 1),
        Some(v) => {
            let n = as_index(v).ok_or_else(|| {
                NodeError::new(format!(
                    "invalid fallback output {v} (expected 'none', 'extra' or an output index)"
                ))
                .with_parameter("options.fallbackOutput")
            })?;
            let n = check_output(n, rules.len(), "options.fallbackOutput")?;
            (Some(n), rules.len())
        }
    };
    Ok(Config {
        routing: Routing::Rules {
            rules,
            fallback,
            all_matching: r.bool_or("options.allMatchingOutputs", false)?,
        },
        outputs,
    })
}

/// A non-negative integer (or numeric string) at `path`.
fn index(params: &Param, path: &str) -> Result<Option<usize>, NodeError> {
    let r = Reader::fixed(params);
    r.get(path)?
        .map(|v| {
            as_index(v).ok_or_else(|| {
                NodeError::new(format!("expected a non-negative whole number, got {v}"))
                    .with_parameter(path)
            })
        })
        .transpose()
}

/// A JSON number or numeric string as an output index.
pub fn as_index(value: &Value) -> Option<usize> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (n >= 0.0 && n.fract() == 0.0).then_some(n as usize)
}

fn check_output(output: usize, outputs: usize, path: &str) -> Result<usize, NodeError> {
    if output < outputs {
        Ok(output)
    } else {
        Err(NodeError::new(format!(
            "output {output} does not exist (the node has {outputs} outputs)"
        ))
        .with_parameter(path))
    }
}
