//! "Every N weeks on these weekdays": cron has no week interval, so a weeks rule's cron fires on
//! the chosen weekdays of every week and each tick is checked here against the week the rule last
//! ran in. As in n8n, that week is kept in the workflow's static data (`node:<name>` →
//! `recurrenceRules[<rule index>]`, the week of the year): the first tick runs, later ticks run in
//! that same week (several weekdays) or once at least N weeks have passed, and ticks in between
//! are skipped.

use chrono::{Datelike, Days, NaiveDate};
use sluice_model::{JsonObject, Value};

/// The week of the year `date` is in, numbered as n8n numbers it (moment's `week()` in its
/// default English locale): weeks run Sunday to Saturday, and week 1 is the one holding
/// January 1 (so the last days of December can be in week 1 of the next year).
pub fn week_of_year(date: NaiveDate) -> u64 {
    let sunday = week_start(date);
    let saturday = sunday + Days::new(6);
    let january_first = NaiveDate::from_ymd_opt(saturday.year(), 1, 1).expect("January 1 exists");
    let first_sunday = week_start(january_first);
    ((sunday - first_sunday).num_days() / 7 + 1) as u64
}

fn week_start(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_sunday()))
}

/// Weeks from the latest week numbered `week` (at most a year back) to `date`'s week; `None`
/// when no week within a year has that number.
fn weeks_since(week: u64, date: NaiveDate) -> Option<u64> {
    (0..=53).find(|&back| {
        date.checked_sub_days(Days::new(back * 7))
            .is_some_and(|d| week_of_year(d) == week)
    })
}

/// Whether the tick on `date` (the tick's local date in the workflow's time zone) of rule
/// `rule` of schedule node `node`, which runs every `interval` weeks, is due. When it is, its
/// week is recorded in `static_data` (the workflow's), which the caller then saves.
pub fn take_weeks_tick(
    static_data: &mut JsonObject,
    node: &str,
    rule: usize,
    interval: u64,
    date: NaiveDate,
) -> bool {
    let key = format!("node:{node}");
    let last = static_data
        .get(&key)
        .and_then(|d| d.get("recurrenceRules"))
        .and_then(|r| r.get(rule))
        .and_then(Value::as_u64);
    let due = last.is_none_or(|last| {
        weeks_since(last, date).is_none_or(|weeks| weeks == 0 || weeks >= interval)
    });
    if due {
        let node_data = static_data
            .entry(key)
            .or_insert_with(|| Value::Object(JsonObject::new()));
        if !node_data.is_object() {
            *node_data = Value::Object(JsonObject::new());
        }
        let rules = node_data
            .as_object_mut()
            .expect("an object")
            .entry("recurrenceRules")
            .or_insert_with(|| Value::Array(Vec::new()));
        if !rules.is_array() {
            *rules = Value::Array(Vec::new());
        }
        let rules = rules.as_array_mut().expect("an array");
        if rules.len() <= rule {
            rules.resize(rule + 1, Value::Null);
        }
        rules[rule] = week_of_year(date).into();
    }
    due
}
