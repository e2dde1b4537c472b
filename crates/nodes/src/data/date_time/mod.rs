//! Date & Time (`n8n-nodes-base.dateTime`): v1 formats a date or adds/subtracts time
//! (moment.js-style formats), v2 has Luxon-based operations (current date, add, subtract,
//! format, round, time between dates, extract a part). All work happens in the workflow's time
//! zone; "now" comes from the execution clock.

mod calc;
pub(crate) mod config;
mod format;
pub(crate) mod parse;

use crate::util::dates::{parse_value, parse_zone, Parsed};
use crate::util::params::text_param;
use crate::util::path::set_dotted;
use crate::util::values::{as_number, as_text};
use calc::{add, between, extract, round, start_of, Unit};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use config::{Operation, V1, V2};
use format::Dialect;
use parse::parse_with_format;
use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::{Item, ItemJson, NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.dateTime",
    versions: &[1.0, 2.0],
    kind: NodeKind::Regular,
    factory: build,
};

enum Config {
    V1(V1),
    V2(V2),
}

struct DateTimeNode {
    config: Config,
}

fn build(node: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let config = if node.version() < 2.0 {
        Config::V1(V1::parse(params)?)
    } else {
        Config::V2(V2::parse(params)?)
    };
    Ok(Box::new(DateTimeNode { config }))
}

#[async_trait::async_trait]
impl Node for DateTimeNode {
    fn item_wise(&self) -> ItemWise {
        ItemWise::Yes
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let zone = parse_zone(ctx.timezone()).unwrap_or(Tz::UTC);
        let items = ctx.map_items(|i, item| {
            match &self.config {
                Config::V1(config) => v1_item(ctx, config, zone, i, item),
                Config::V2(config) => v2_item(ctx, config, zone, i, item),
            }
            .map(Some)
        })?;
        Ok(vec![items])
    }
}

/// A number parameter (numbers may arrive as text).
fn number_param(ctx: &ExecuteContext<'_>, path: &str, i: usize) -> Result<f64, NodeError> {
    let value = ctx.param(path, i)?;
    as_number(&value).ok_or_else(|| {
        NodeError::new(format!("'{path}' must be a number, got {value}")).with_parameter(path)
    })
}

fn not_a_date(path: &str, value: &Value) -> NodeError {
    NodeError::new(format!("'{}' is not a valid date", as_text(value))).with_parameter(path)
}

/// A date read with an explicit format (when given) or by recognising the usual forms.
fn read_date(value: &Value, from_format: Option<&str>, dialect: Dialect) -> Option<Parsed> {
    match from_format {
        Some(f) if !value.is_null() => parse_with_format(&as_text(value), f, dialect),
        Some(_) => None,
        None => parse_value(value).ok().flatten(),
    }
}

fn v1_item(
    ctx: &ExecuteContext<'_>,
    config: &V1,
    zone: Tz,
    i: usize,
    item: &Item,
) -> Result<Item, NodeError> {
    let value = ctx.param("value", i)?;
    let field = text_param(ctx, "dataPropertyName", i, "data")?;
    let from_format = ctx
        .param_str("options.fromFormat", i)?
        .filter(|f| !f.is_empty());
    let parsed = read_date(&value, from_format.as_deref(), Dialect::Moment);
    let text = match config {
        V1::Format {
            from_format_given,
            from_zone,
            to_zone,
        } => match parsed {
            Some(date) => {
                // moment reads loose (non-ISO, unformatted) text in the process zone even when a
                // source zone is given; ISO and formatted text are wall time in that zone.
                let read_zone = match date {
                    Parsed::Wall { loose: true, .. } => zone,
                    _ => from_zone.unwrap_or(zone),
                };
                let out_zone = to_zone.or(*from_zone).unwrap_or(zone);
                let to_format = text_param(ctx, "toFormat", i, "MM/DD/YYYY")?;
                format::format(
                    &date.in_zone(read_zone).with_timezone(&out_zone),
                    &to_format,
                    Dialect::Moment,
                )
            }
            None if *from_format_given => "Invalid date".to_string(),
            None => {
                return Err(NodeError::new(
                    "The date input format could not be recognized. Please set the \"From Format\" field",
                )
                .with_parameter("value"))
            }
        },
        V1::Calculate { sign, unit } => {
            let date = parsed.ok_or_else(|| not_a_date("value", &value))?;
            let amount = sign * number_param(ctx, "duration", i)?;
            add(&date.in_zone(zone), amount, *unit)
                .ok_or_else(|| NodeError::new("the date is out of range").with_parameter("duration"))?
                .with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Millis, true)
        }
    };
    let mut out = item.clone();
    set_dotted(out.json_mut(), &field, Value::String(text));
    Ok(out)
}

/// ISO 8601 as Luxon prints it: `Z` for the fixed UTC zone, `+00:00` style for IANA zones.
fn iso(date: &DateTime<Tz>) -> Value {
    let offset = if matches!(date.timezone(), Tz::UTC | Tz::GMT) {
        "'Z'"
    } else {
        "ZZ"
    };
    let pattern = format!("yyyy-MM-dd'T'HH:mm:ss.SSS{offset}");
    Value::String(format::format(date, &pattern, Dialect::Luxon))
}

/// A date parameter of a v2 operation in `zone`; `None` when empty.
fn v2_date(
    ctx: &ExecuteContext<'_>,
    path: &str,
    i: usize,
    zone: Tz,
    from_format: Option<&str>,
) -> Result<Option<DateTime<Tz>>, NodeError> {
    let value = ctx.param(path, i)?;
    if value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()) {
        return Ok(None);
    }
    read_date(&value, from_format, Dialect::Luxon)
        .map(|p| Some(p.in_zone(zone)))
        .ok_or_else(|| not_a_date(path, &value))
}

/// The zone an operation's `options.timezone` names, else the workflow's.
fn option_zone(ctx: &ExecuteContext<'_>, i: usize, zone: Tz) -> Result<Tz, NodeError> {
    match ctx
        .param_str("options.timezone", i)?
        .filter(|z| !z.is_empty())
    {
        None => Ok(zone),
        Some(name) => parse_zone(&name).ok_or_else(|| {
            NodeError::new(format!("unknown time zone '{name}'")).with_parameter("options.timezone")
        }),
    }
}

fn v2_item(
    ctx: &ExecuteContext<'_>,
    config: &V2,
    zone: Tz,
    i: usize,
    item: &Item,
) -> Result<Item, NodeError> {
    let value = match &config.operation {
        Operation::GetCurrentDate { include_time } => {
            let now = ctx.now().with_timezone(&option_zone(ctx, i, zone)?);
            iso(&if *include_time {
                now
            } else {
                start_of(&now, Unit::Day)
            })
        }
        Operation::AddToDate { sign, unit } => match v2_date(ctx, "magnitude", i, zone, None)? {
            None => Value::Null,
            Some(date) => {
                let amount = sign * number_param(ctx, "duration", i)?;
                iso(&add(&date, amount, *unit).ok_or_else(|| {
                    NodeError::new("the date is out of range").with_parameter("duration")
                })?)
            }
        },
        Operation::FormatDate { custom } => {
            let from_format = ctx
                .param_str("options.fromFormat", i)?
                .filter(|f| !f.is_empty());
            match v2_date(ctx, "date", i, zone, from_format.as_deref())? {
                None => Value::Null,
                Some(date) => {
                    let pattern = if *custom {
                        text_param(ctx, "customFormat", i, "")?
                    } else {
                        text_param(ctx, "format", i, "MM/dd/yyyy")?
                    };
                    let date = date.with_timezone(&option_zone(ctx, i, zone)?);
                    Value::String(format::format(&date, &pattern, Dialect::Luxon))
                }
            }
        }
        Operation::RoundDate { up, unit } => match v2_date(ctx, "date", i, zone, None)? {
            None => Value::Null,
            Some(date) => iso(&round(&date, *unit, *up)),
        },
        Operation::GetTimeBetweenDates { units, iso } => {
            let start = v2_date(ctx, "startDate", i, zone, None)?;
            let end = v2_date(ctx, "endDate", i, zone, None)?;
            match (start, end) {
                (Some(start), Some(end)) => {
                    let parts = between(&start, &end, units);
                    if *iso {
                        Value::String(iso_duration(&parts))
                    } else {
                        Value::Object(
                            parts
                                .into_iter()
                                .map(|(unit, n)| (unit.plural().to_string(), json_number(n)))
                                .collect(),
                        )
                    }
                }
                _ => Value::Null,
            }
        }
        Operation::ExtractDate { part } => match v2_date(ctx, "date", i, zone, None)? {
            None => Value::Null,
            Some(date) => Value::from(extract(&date, *part)),
        },
    };
    let field = text_param(ctx, "outputFieldName", i, config.default_output_field)?;
    let mut out = if config.include_input_fields {
        item.clone()
    } else {
        Item::new(ItemJson::new()).paired_to(i)
    };
    set_dotted(out.json_mut(), &field, value);
    Ok(out)
}

/// Whole numbers as JSON integers (`2`, not `2.0`), like JavaScript numbers serialise.
fn json_number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// An ISO 8601 duration (`P1Y2M3DT4H5M6.5S`) from diff parts; Luxon writes quarters as months.
fn iso_duration(parts: &[(Unit, f64)]) -> String {
    let get = |u: Unit| parts.iter().find(|(p, _)| *p == u).map_or(0.0, |(_, n)| *n);
    let num = |n: f64| match json_number(n) {
        Value::Number(n) => n.to_string(),
        _ => "0".into(),
    };
    let mut date = String::new();
    for (n, suffix) in [
        (get(Unit::Year), 'Y'),
        (get(Unit::Month) + 3.0 * get(Unit::Quarter), 'M'),
        (get(Unit::Week), 'W'),
        (get(Unit::Day), 'D'),
    ] {
        if n != 0.0 {
            date.push_str(&format!("{}{suffix}", num(n)));
        }
    }
    let mut time = String::new();
    for (n, suffix) in [(get(Unit::Hour), 'H'), (get(Unit::Minute), 'M')] {
        if n != 0.0 {
            time.push_str(&format!("{}{suffix}", num(n)));
        }
    }
    let seconds = get(Unit::Second) + get(Unit::Millisecond) / 1000.0;
    if seconds != 0.0 {
        time.push_str(&format!("{}S", num(seconds)));
    }
    match (date.is_empty(), time.is_empty()) {
        (true, true) => "PT0S".into(),
        (_, true) => format!("P{date}"),
        _ => format!("P{date}T{time}"),
    }
}
