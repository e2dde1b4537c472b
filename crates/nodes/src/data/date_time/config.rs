//! The Date & Time node's parameters, parsed once at build time: v1's `format`/`calculate`
//! actions (moment.js formats) and v2's seven operations (Luxon formats).

use super::calc::Unit;
use crate::util::dates::parse_zone;
use crate::util::params::Reader;
use chrono_tz::Tz;
use sluice_engine::{NodeError, Param};

/// An optional literal time zone option; empty means unset.
fn zone_option(r: &Reader<'_>, path: &str) -> Result<Option<Tz>, NodeError> {
    r.choice(path, "", |name| {
        Some(if name.is_empty() {
            None
        } else {
            Some(parse_zone(name)?)
        })
    })
}

fn unit(r: &Reader<'_>, path: &str, default: &str) -> Result<Unit, NodeError> {
    r.choice(path, default, Unit::parse)
}

/// Version 1.
pub enum V1 {
    Format {
        /// Set (even empty) when the user gave a "From Format"; an unreadable date then
        /// renders as `Invalid date` instead of failing.
        from_format_given: bool,
        from_zone: Option<Tz>,
        to_zone: Option<Tz>,
    },
    Calculate {
        sign: f64,
        unit: Unit,
    },
}

impl V1 {
    pub fn parse(params: &Param) -> Result<V1, NodeError> {
        let r = Reader::fixed(params);
        let calculate = r.choice("action", "format", |a| match a {
            "format" => Some(false),
            "calculate" => Some(true),
            _ => None,
        })?;
        Ok(if calculate {
            V1::Calculate {
                sign: r.choice("operation", "add", |o| match o {
                    "add" => Some(1.0),
                    "subtract" => Some(-1.0),
                    _ => None,
                })?,
                unit: unit(&r, "timeUnit", "days")?,
            }
        } else {
            V1::Format {
                from_format_given: params.path("options.fromFormat").is_some(),
                from_zone: zone_option(&r, "options.fromTimezone")?,
                to_zone: zone_option(&r, "options.toTimezone")?,
            }
        })
    }
}

/// Version 2 operations.
pub enum Operation {
    GetCurrentDate {
        include_time: bool,
    },
    /// Add (`sign` 1) or subtract (`sign` -1) `duration` `unit`s to `magnitude`.
    AddToDate {
        sign: f64,
        unit: Unit,
    },
    FormatDate {
        custom: bool,
    },
    RoundDate {
        up: bool,
        unit: Unit,
    },
    GetTimeBetweenDates {
        units: Vec<Unit>,
        iso: bool,
    },
    ExtractDate {
        part: Unit,
    },
}

pub struct V2 {
    pub operation: Operation,
    pub default_output_field: &'static str,
    pub include_input_fields: bool,
}

impl V2 {
    pub fn parse(params: &Param) -> Result<V2, NodeError> {
        let r = Reader::fixed(params);
        let name = r.choice("operation", "getCurrentDate", |op| {
            Some(match op {
                "getCurrentDate"
                | "addToDate"
                | "subtractFromDate"
                | "formatDate"
                | "roundDate"
                | "getTimeBetweenDates"
                | "extractDate" => op.to_string(),
                _ => return None,
            })
        })?;
        let (operation, default_output_field) = match name.as_str() {
            "getCurrentDate" => (
                Operation::GetCurrentDate {
                    include_time: r.bool_or("includeTime", true)?,
                },
                "currentDate",
            ),
            "addToDate" | "subtractFromDate" => (
                Operation::AddToDate {
                    sign: if name == "addToDate" { 1.0 } else { -1.0 },
                    unit: unit(&r, "timeUnit", "days")?,
                },
                "newDate",
            ),
            "formatDate" => (
                Operation::FormatDate {
                    custom: params.at("format").literal_str() == Some("custom"),
                },
                "formattedDate",
            ),
            "roundDate" => (
                Operation::RoundDate {
                    up: r.choice("mode", "roundDown", |m| match m {
                        "roundDown" => Some(false),
                        "roundUp" => Some(true),
                        _ => None,
                    })?,
                    unit: unit(&r, "toNearest", "day")?,
                },
                "roundedDate",
            ),
            "getTimeBetweenDates" => (
                Operation::GetTimeBetweenDates {
                    units: between_units(&r)?,
                    iso: r.bool_or("options.isoString", false)?,
                },
                "timeDifference",
            ),
            _ => (
                Operation::ExtractDate {
                    part: unit(&r, "part", "month")?,
                },
                "datePart",
            ),
        };
        Ok(V2 {
            operation,
            default_output_field,
            include_input_fields: r.bool_or("options.includeInputFields", false)?,
        })
    }
}

fn between_units(r: &Reader<'_>) -> Result<Vec<Unit>, NodeError> {
    let Some(units) = r.get("units")? else {
        return Ok(vec![Unit::Day]);
    };
    let bad = || NodeError::new("'units' must be a list of time units").with_parameter("units");
    let list = units.as_array().ok_or_else(bad)?;
    list.iter()
        .map(|u| u.as_str().and_then(Unit::parse).ok_or_else(bad))
        .collect()
}
