//! Schedule Trigger (v1-1.3), the legacy Cron node, the legacy Interval trigger and the poll
//! times of polling triggers: their rules
//! as cron expressions with a seconds field (the host computes fire times in the workflow's time
//! zone and claims each tick in the store) or, for Interval, a fixed period; the weeks-interval
//! check of "every N weeks" rules (`weeks`), and the item a tick emits.

#[cfg(test)]
mod tests;
mod weeks;

pub use weeks::{take_weeks_tick, week_of_year};

use super::pass_through;
use crate::util::params::Reader;
use chrono::{DateTime, Datelike, TimeZone, Timelike};
use sluice_engine::{NodeError, NodeKind, NodeSpec};
use sluice_model::{Item, JsonObject, NodeDef, Value};
use std::time::Duration;

pub const SCHEDULE_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.scheduleTrigger",
    versions: &[1.0, 1.1, 1.2, 1.3],
    kind: NodeKind::Trigger,
    factory: |def, params| {
        schedule_rules(def)?;
        pass_through(def, params)
    },
};

pub const CRON_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.cron",
    versions: &[1.0],
    kind: NodeKind::Trigger,
    factory: |def, params| {
        schedule_rules(def)?;
        pass_through(def, params)
    },
};

/// Interval (`n8n-nodes-base.interval`, v1): fires every `interval` `unit`s (seconds, minutes
/// or hours) and emits one empty item.
pub const INTERVAL_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.interval",
    versions: &[1.0],
    kind: NodeKind::Trigger,
    factory: |def, params| {
        schedule_rules(def)?;
        pass_through(def, params)
    },
};

/// When a rule fires.
#[derive(Clone, Debug, PartialEq)]
pub enum Timing {
    /// A six-field cron expression (seconds first), in the workflow's time zone.
    Cron(String),
    /// Every so long, at whole multiples of the period since the Unix epoch, so that processes
    /// sharing a store agree on the ticks (n8n counts from activation, per process).
    Every(Duration),
}

/// One rule of a schedule node.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleRule {
    pub timing: Timing,
    /// For a weeks rule with `weeksInterval` > 1: its cron fires every week on the chosen days,
    /// and a tick runs only in weeks this many apart (see [`take_weeks_tick`]).
    pub every_weeks: Option<u64>,
}

impl ScheduleRule {
    fn cron(cron: String) -> Self {
        ScheduleRule {
            timing: Timing::Cron(cron),
            every_weeks: None,
        }
    }

    /// The item a tick at `at` emits: a schedule's readable date fields (see [`tick_item`]);
    /// Interval's one empty item.
    pub fn item<Tz: TimeZone>(&self, at: &DateTime<Tz>, timezone: &str) -> Item
    where
        Tz::Offset: std::fmt::Display,
    {
        match self.timing {
            Timing::Cron(_) => tick_item(at, timezone),
            Timing::Every(_) => Item::default(),
        }
    }
}

/// True for the node types this module schedules, polling triggers included.
pub fn is_schedule(def: &NodeDef) -> bool {
    [
        SCHEDULE_SPEC.node_type,
        CRON_SPEC.node_type,
        INTERVAL_SPEC.node_type,
    ]
    .contains(&def.node_type.as_str())
        || is_polling(def)
}

/// The RSS Feed Trigger, a polling trigger (its node is `crate::data`'s RSS module).
pub const RSS_FEED_TRIGGER_TYPE: &str = "n8n-nodes-base.rssFeedReadTrigger";

/// True for polling triggers (RSS Feed Trigger): their ticks are `pollTimes`, written as the
/// Cron node's `triggerTimes`, and a tick runs the workflow only when the poll finds something
/// (`crate::data::poll`).
pub fn is_polling(def: &NodeDef) -> bool {
    def.node_type == RSS_FEED_TRIGGER_TYPE
}

/// The longest period n8n's Interval accepts (JavaScript timers hold 2^31 - 1 ms).
const MAX_INTERVAL_MS: u64 = 2_147_483_647;

/// Interval's one rule: `interval` (default 1, at least 1) `unit`s (default seconds).
fn interval_node_rule(p: &Value) -> Result<ScheduleRule, NodeError> {
    let r = Reader::new(p);
    let interval = r.number_or("interval", 1.0)?;
    if interval < 1.0 {
        return Err(
            NodeError::new("The interval has to be set to at least 1 or higher!")
                .with_parameter("interval"),
        );
    }
    let unit_ms = r.choice("unit", "seconds", |unit| match unit {
        "seconds" => Some(1_000.0),
        "minutes" => Some(60_000.0),
        "hours" => Some(3_600_000.0),
        _ => None,
    })?;
    let ms = interval * unit_ms;
    if ms > MAX_INTERVAL_MS as f64 {
        return Err(NodeError::new("The interval value is too large.").with_parameter("interval"));
    }
    Ok(ScheduleRule {
        timing: Timing::Every(Duration::from_millis(ms as u64)),
        every_weeks: None,
    })
}

fn num(v: &Value, key: &str, default: u64) -> u64 {
    match &v[key] {
        Value::Number(n) => n.as_u64().unwrap_or(default),
        Value::String(s) => s.trim().parse().unwrap_or(default),
        _ => default,
    }
}

/// The node's rules, in order (a rule's index is where its weeks state is kept).
pub fn schedule_rules(def: &NodeDef) -> Result<Vec<ScheduleRule>, NodeError> {
    let p = &def.parameters;
    if def.node_type == INTERVAL_SPEC.node_type {
        return Ok(vec![interval_node_rule(p)?]);
    }
    if def.node_type == CRON_SPEC.node_type {
        return p["triggerTimes"]["item"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| cron_node_rule(r).map(ScheduleRule::cron))
            .collect();
    }
    if is_polling(def) {
        return match p["pollTimes"]["item"].as_array() {
            Some(times) if !times.is_empty() => times
                .iter()
                .map(|r| cron_node_rule(r).map(ScheduleRule::cron))
                .collect(),
            // n8n's default: every minute.
            _ => Ok(vec![ScheduleRule::cron("0 * * * * *".into())]),
        };
    }
    match p["rule"]["interval"].as_array() {
        Some(rules) if !rules.is_empty() => rules.iter().map(interval_rule).collect(),
        _ => Ok(vec![ScheduleRule::cron("0 0 0 * * *".into())]),
    }
}

fn interval_rule(r: &Value) -> Result<ScheduleRule, NodeError> {
    let every_weeks = match r["field"].as_str() {
        Some("weeks") => Some(num(r, "weeksInterval", 1)).filter(|&n| n > 1),
        _ => None,
    };
    Ok(ScheduleRule {
        timing: Timing::Cron(interval_cron(r)?),
        every_weeks,
    })
}

fn interval_cron(r: &Value) -> Result<String, NodeError> {
    let (m, h) = (num(r, "triggerAtMinute", 0), num(r, "triggerAtHour", 0));
    Ok(match r["field"].as_str().unwrap_or("days") {
        "seconds" => format!("*/{} * * * * *", num(r, "secondsInterval", 30).max(1)),
        "minutes" => format!("0 */{} * * * *", num(r, "minutesInterval", 5).max(1)),
        "hours" => format!("0 {m} */{} * * *", num(r, "hoursInterval", 1).max(1)),
        "days" => format!("0 {m} {h} */{} * *", num(r, "daysInterval", 1).max(1)),
        "weeks" => {
            let days: Vec<String> = r["triggerAtDay"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_u64)
                        .map(|d| d.to_string())
                        .collect()
                })
                .filter(|d: &Vec<String>| !d.is_empty())
                .unwrap_or_else(|| vec!["0".into()]);
            format!("0 {m} {h} * * {}", days.join(","))
        }
        "months" => format!(
            "0 {m} {h} {} */{} *",
            num(r, "triggerAtDayOfMonth", 1).max(1),
            num(r, "monthsInterval", 1).max(1)
        ),
        "cronExpression" => with_seconds(r["expression"].as_str().unwrap_or_default())?,
        other => {
            return Err(
                NodeError::new(format!("unknown schedule interval '{other}'"))
                    .with_parameter("rule"),
            )
        }
    })
}

fn cron_node_rule(r: &Value) -> Result<String, NodeError> {
    let (m, h) = (num(r, "minute", 0), num(r, "hour", 0));
    Ok(match r["mode"].as_str().unwrap_or("everyDay") {
        "everyMinute" => "0 * * * * *".into(),
        "everyHour" => format!("0 {m} * * * *"),
        "everyDay" => format!("0 {m} {h} * * *"),
        "everyWeek" => format!("0 {m} {h} * * {}", num(r, "weekday", 1)),
        "everyMonth" => format!("0 {m} {h} {} * *", num(r, "dayOfMonth", 1).max(1)),
        "everyX" => match r["unit"].as_str().unwrap_or("hours") {
            "minutes" => format!("0 */{} * * * *", num(r, "value", 2).max(1)),
            _ => format!("0 0 */{} * * *", num(r, "value", 2).max(1)),
        },
        "custom" => with_seconds(r["cronExpression"].as_str().unwrap_or_default())?,
        other => {
            return Err(NodeError::new(format!("unknown cron mode '{other}'"))
                .with_parameter("triggerTimes"))
        }
    })
}

/// A five-field expression gets second 0.
fn with_seconds(expr: &str) -> Result<String, NodeError> {
    let expr = expr.trim().trim_start_matches('=');
    match expr.split_whitespace().count() {
        5 => Ok(format!("0 {expr}")),
        6 => Ok(expr.to_string()),
        _ => Err(NodeError::new(format!("invalid cron expression '{expr}'"))
            .with_parameter("cronExpression")),
    }
}

/// The item a tick at `at` emits (n8n's readable fields).
fn tick_item<Tz: TimeZone>(at: &DateTime<Tz>, timezone: &str) -> Item
where
    Tz::Offset: std::fmt::Display,
{
    let mut json = JsonObject::new();
    let mut put = |k: &str, v: Value| {
        json.insert(k.into(), v);
    };
    put("timestamp", at.to_rfc3339().into());
    put(
        "Readable date",
        at.format("%B %-d, %Y, %-I:%M:%S %p").to_string().into(),
    );
    put(
        "Readable time",
        at.format("%-I:%M:%S %p").to_string().into(),
    );
    put("Day of week", at.format("%A").to_string().into());
    put("Year", at.year().to_string().into());
    put("Month", at.format("%B").to_string().into());
    put("Day of month", format!("{:02}", at.day()).into());
    put("Hour", format!("{:02}", at.hour()).into());
    put("Minute", format!("{:02}", at.minute()).into());
    put("Second", format!("{:02}", at.second()).into());
    put(
        "Timezone",
        format!("{timezone} (UTC{})", at.format("%:z")).into(),
    );
    Item::new(json)
}
