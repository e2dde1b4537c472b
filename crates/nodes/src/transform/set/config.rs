//! Edit Fields parameters, parsed once per workflow into a typed [`SetConfig`]. Three parameter
//! shapes exist: v1/v2 typed value lists, v3.0–3.2 `fields.values`, and ≥3.3 `assignments`.

use crate::util::params::{unsupported, Reader};
use crate::util::types::FieldType;
use sluice_engine::{NodeError, Param};
use sluice_model::Value;

/// What the node writes into each item.
pub(super) enum Content {
    /// Fields set one by one (all versions' manual mode).
    Fields(Vec<Field>),
    /// Raw mode: the `jsonOutput` object's keys are written into the item.
    Json(Param),
}

/// One field to set.
pub(super) struct Field {
    pub name: Param,
    pub value: Param,
    pub kind: Kind,
    /// Where `value` sits, for error messages.
    pub value_path: String,
}

/// How a field's value is treated before it is written.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// v1/v2 string: written as resolved.
    AsIs,
    /// v1/v2 boolean: JavaScript truthiness.
    Truthy,
    /// v2 number: JavaScript `Number()` (NaN becomes null).
    NumberCast,
    /// v3+: validated and converted to this type.
    Typed(FieldType),
}

/// A v3 type name (`string`, or v3.0–3.2 `stringValue`) as a [`FieldType`].
fn field_type(value: &str, path: &str) -> Result<FieldType, NodeError> {
    FieldType::from_name(value.trim_end_matches("Value")).ok_or_else(|| unsupported(path, value))
}

/// Which input fields an output item starts from.
pub(super) enum Base {
    Nothing,
    Everything,
    /// Only these fields (`includeFields`, comma list, may be an expression).
    Selected(Param),
    /// Everything but these fields (`excludeFields`).
    Except(Param),
}

pub(super) struct SetConfig {
    pub content: Content,
    pub base: Base,
    pub dot_notation: bool,
    pub ignore_conversion_errors: bool,
    pub keep_binary: bool,
    /// Extra copies of every output item in manual runs (`duplicateItem`/`duplicateCount`).
    pub duplicates: usize,
}

impl SetConfig {
    pub fn parse(version: f64, params: &Param) -> Result<Self, NodeError> {
        let r = Reader::fixed(params);
        let dot_notation = r.bool_or("options.dotNotation", true)?;
        if version < 3.0 {
            let keep_only_set = r.bool_or("keepOnlySet", false)?;
            return Ok(SetConfig {
                content: Content::Fields(legacy_fields(version, params)),
                base: if keep_only_set {
                    Base::Nothing
                } else {
                    Base::Everything
                },
                dot_notation,
                ignore_conversion_errors: false,
                keep_binary: !keep_only_set,
                duplicates: 0,
            });
        }
        let content = match r.str_or("mode", "manual")? {
            "manual" if version >= 3.3 => Content::Fields(assignments(params)?),
            "manual" => Content::Fields(fields_v3(params)?),
            "raw" => Content::Json(params.at("jsonOutput").clone()),
            other => return Err(unsupported("mode", other)),
        };
        let include_others = version < 3.3 || r.bool_or("includeOtherFields", false)?;
        let base = match include_others {
            false => Base::Nothing,
            true => match r.str_or("include", "all")? {
                "all" => Base::Everything,
                "none" if version < 3.3 => Base::Nothing,
                "selected" => Base::Selected(params.at("includeFields").clone()),
                "except" => Base::Except(params.at("excludeFields").clone()),
                other => return Err(unsupported("include", other)),
            },
        };
        let keep_binary = if version >= 3.4 {
            include_others || !r.bool_or("options.stripBinary", true)?
        } else {
            r.bool_or("options.includeBinary", true)?
        };
        let duplicates = match r.bool_or("duplicateItem", false)? {
            true => r.number_or("duplicateCount", 0.0)?.max(0.0) as usize,
            false => 0,
        };
        Ok(SetConfig {
            content,
            base,
            dot_notation,
            ignore_conversion_errors: r.bool_or("options.ignoreConversionErrors", false)?,
            keep_binary,
            duplicates,
        })
    }
}

/// v1/v2: `values.{boolean,number,string}[{name, value}]`, applied in that type order. A
/// field the editor left at its defaults is stored without them: the name is then
/// `propertyName` and the value `false`, `0` or `""`.
fn legacy_fields(version: f64, params: &Param) -> Vec<Field> {
    let number_kind = if version >= 2.0 {
        Kind::NumberCast
    } else {
        Kind::AsIs
    };
    let kinds = [
        ("boolean", Kind::Truthy, Value::Bool(false)),
        ("number", number_kind, Value::from(0)),
        ("string", Kind::AsIs, Value::from("")),
    ];
    let default_name = Param::Literal(Value::from("propertyName"));
    kinds
        .into_iter()
        .flat_map(|(list, kind, default_value)| {
            let default_name = default_name.clone();
            params
                .at("values")
                .at(list)
                .elements()
                .iter()
                .enumerate()
                .map(move |(i, entry)| Field {
                    name: entry.path("name").unwrap_or(&default_name).clone(),
                    value: entry
                        .path("value")
                        .cloned()
                        .unwrap_or_else(|| Param::Literal(default_value.clone())),
                    kind,
                    value_path: format!("values.{list}[{i}].value"),
                })
        })
        .collect()
}

/// v3.0–3.2: `fields.values[{name, type, stringValue|numberValue|...}]` (type defaults to string).
fn fields_v3(params: &Param) -> Result<Vec<Field>, NodeError> {
    params
        .at("fields.values")
        .elements()
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let type_path = format!("fields.values[{i}].type");
            let type_name = Reader::fixed(entry).str_or("type", "stringValue")?;
            let kind = field_type(type_name, &type_path)?;
            let key = format!("{}Value", kind.name());
            Ok(Field {
                name: entry.at("name").clone(),
                value: entry.at(&key).clone(),
                kind: Kind::Typed(kind),
                value_path: format!("fields.values[{i}].{key}"),
            })
        })
        .collect()
}

/// ≥3.3: `assignments.assignments[{name, value, type}]`.
fn assignments(params: &Param) -> Result<Vec<Field>, NodeError> {
    params
        .at("assignments.assignments")
        .elements()
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let type_path = format!("assignments.assignments[{i}].type");
            let kind = field_type(Reader::fixed(entry).str_or("type", "string")?, &type_path)?;
            Ok(Field {
                name: entry.at("name").clone(),
                value: entry.at("value").clone(),
                kind: Kind::Typed(kind),
                value_path: format!("assignments.assignments[{i}].value"),
            })
        })
        .collect()
}
