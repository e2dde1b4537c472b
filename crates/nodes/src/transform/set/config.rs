//! Edit Fields parameters, parsed once per workflow into a typed [`SetConfig`]. Three parameter
//! shapes exist: v1/v2 typed value lists, v3.0–3.2 `fields.values`, and ≥3.3 `assignments`.
//! Field names and field lists written literally are parsed into paths here, and literal
//! values converted to their type here, rather than once per item.

use crate::util::fields::split_field_list;
use crate::util::params::{unsupported, Reader};
use crate::util::path::FieldPath;
use crate::util::types::FieldType;
use sluice_engine::{NodeError, Param};
use sluice_expr::json_js;
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
    pub name: FieldName,
    pub value: Param,
    /// `value` converted to `kind` once, when it is a literal that converts.
    pub converted_value: Option<Value>,
    pub kind: Kind,
    /// Where `value` sits, for error messages.
    pub value_path: String,
}

/// A field name: parsed once when written literally, else resolved per item.
pub(super) enum FieldName {
    Fixed(FieldPath),
    PerItem(Param),
}

/// A list of field names (`includeFields`, `excludeFields`): parsed once when written
/// literally, else resolved per item.
pub(super) enum FieldList {
    Fixed(Vec<FieldPath>),
    PerItem(Param),
}

impl FieldList {
    fn new(list: &Param, dot_notation: bool) -> Self {
        match list.literal() {
            Some(names) => FieldList::Fixed(
                split_field_list(names)
                    .iter()
                    .map(|name| FieldPath::new(name, dot_notation))
                    .collect(),
            ),
            None => FieldList::PerItem(list.clone()),
        }
    }
}

impl Field {
    fn new(name: &Param, value: &Param, kind: Kind, value_path: String, config: Options) -> Self {
        Field {
            name: match name.literal() {
                Some(name) => FieldName::Fixed(FieldPath::new(
                    &json_js::to_js_string(name),
                    config.dot_notation,
                )),
                None => FieldName::PerItem(name.clone()),
            },
            converted_value: value.literal().and_then(|v| {
                kind.convert(v.clone(), config.ignore_conversion_errors)
                    .ok()
            }),
            value: value.clone(),
            kind,
            value_path,
        }
    }
}

/// The options that shape how fields are parsed.
#[derive(Clone, Copy)]
struct Options {
    dot_notation: bool,
    ignore_conversion_errors: bool,
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

/// A value that does not convert to its field's type.
pub(super) struct NotConverted {
    pub original: Value,
    pub expected: FieldType,
}

impl Kind {
    /// `value` converted; a value that does not convert to a v3 field's type is an error, or
    /// kept as it is when `ignore_errors`.
    pub fn convert(self, value: Value, ignore_errors: bool) -> Result<Value, NotConverted> {
        match self {
            Kind::AsIs => Ok(value),
            Kind::Truthy => Ok(Value::Bool(json_js::truthy(&value))),
            Kind::NumberCast => Ok(match value {
                Value::Number(n) => Value::Number(n),
                Value::String(s) => {
                    json_js::parse_number(&s).map_or(Value::Null, json_js::number_to_json)
                }
                Value::Bool(b) => Value::from(u8::from(b)),
                Value::Null => Value::from(0),
                _ => Value::Null,
            }),
            Kind::Typed(expected) => match expected.convert(value) {
                Ok(value) => Ok(value),
                Err(original) if ignore_errors => Ok(original),
                Err(original) => Err(NotConverted { original, expected }),
            },
        }
    }
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
    Selected(FieldList),
    /// Everything but these fields (`excludeFields`).
    Except(FieldList),
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
            let options = Options {
                dot_notation,
                ignore_conversion_errors: false,
            };
            return Ok(SetConfig {
                content: Content::Fields(legacy_fields(version, params, options)),
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
        let options = Options {
            dot_notation,
            ignore_conversion_errors: r.bool_or("options.ignoreConversionErrors", false)?,
        };
        let content = match r.str_or("mode", "manual")? {
            "manual" if version >= 3.3 => Content::Fields(assignments(params, options)?),
            "manual" => Content::Fields(fields_v3(params, options)?),
            "raw" => Content::Json(params.at("jsonOutput").clone()),
            other => return Err(unsupported("mode", other)),
        };
        let include_others = version < 3.3 || r.bool_or("includeOtherFields", false)?;
        let base = match include_others {
            false => Base::Nothing,
            true => match r.str_or("include", "all")? {
                "all" => Base::Everything,
                "none" if version < 3.3 => Base::Nothing,
                "selected" => {
                    Base::Selected(FieldList::new(params.at("includeFields"), dot_notation))
                }
                "except" => Base::Except(FieldList::new(params.at("excludeFields"), dot_notation)),
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
            ignore_conversion_errors: options.ignore_conversion_errors,
            keep_binary,
            duplicates,
        })
    }
}

/// v1/v2: `values.{boolean,number,string}[{name, value}]`, applied in that type order. A
/// field the editor left at its defaults is stored without them: the name is then
/// `propertyName` and the value `false`, `0` or `""`.
fn legacy_fields(version: f64, params: &Param, options: Options) -> Vec<Field> {
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
                .map(move |(i, entry)| {
                    let default_value = Param::Literal(default_value.clone());
                    Field::new(
                        entry.path("name").unwrap_or(&default_name),
                        entry.path("value").unwrap_or(&default_value),
                        kind,
                        format!("values.{list}[{i}].value"),
                        options,
                    )
                })
        })
        .collect()
}

/// v3.0–3.2: `fields.values[{name, type, stringValue|numberValue|...}]` (type defaults to string).
fn fields_v3(params: &Param, options: Options) -> Result<Vec<Field>, NodeError> {
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
            Ok(Field::new(
                entry.at("name"),
                entry.at(&key),
                Kind::Typed(kind),
                format!("fields.values[{i}].{key}"),
                options,
            ))
        })
        .collect()
}

/// ≥3.3: `assignments.assignments[{name, value, type}]`.
fn assignments(params: &Param, options: Options) -> Result<Vec<Field>, NodeError> {
    params
        .at("assignments.assignments")
        .elements()
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let type_path = format!("assignments.assignments[{i}].type");
            let kind = field_type(Reader::fixed(entry).str_or("type", "string")?, &type_path)?;
            Ok(Field::new(
                entry.at("name"),
                entry.at("value"),
                Kind::Typed(kind),
                format!("assignments.assignments[{i}].value"),
                options,
            ))
        })
        .collect()
}
