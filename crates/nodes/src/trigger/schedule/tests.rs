use super::*;
use chrono::{Days, NaiveDate, Weekday};
use serde_json::json;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn node(parameters: Value) -> NodeDef {
    serde_json::from_value(json!({"name": "Schedule", "type": SCHEDULE_SPEC.node_type,
        "typeVersion": 1.2, "position": [0, 0], "parameters": parameters}))
    .unwrap()
}

/// The days from `from` to `to` (inclusive) on `weekdays` whose tick of a rule running every
/// `interval` weeks runs, starting from `static_data`.
fn runs(
    static_data: &mut JsonObject,
    interval: u64,
    weekdays: &[Weekday],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<NaiveDate> {
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| weekdays.contains(&d.weekday()))
        .filter(|d| take_weeks_tick(static_data, "Schedule", 0, interval, *d))
        .collect()
}

#[test]
fn weeks_are_numbered_from_the_sunday_week_holding_january_first() {
    assert_eq!(week_of_year(date(2025, 1, 1)), 1);
    assert_eq!(week_of_year(date(2025, 1, 4)), 1);
    assert_eq!(week_of_year(date(2025, 1, 5)), 2);
    assert_eq!(week_of_year(date(2025, 12, 27)), 52);
    // December 28-31, 2025 share their week with January 1, 2026.
    assert_eq!(week_of_year(date(2025, 12, 28)), 1);
    assert_eq!(week_of_year(date(2026, 1, 3)), 1);
    assert_eq!(week_of_year(date(2026, 1, 4)), 2);
    // 2022 has a week 53 (January 1, 2023 is a Sunday).
    assert_eq!(week_of_year(date(2022, 12, 31)), 53);
    assert_eq!(week_of_year(date(2023, 1, 1)), 1);
}

#[test]
fn weeks_rules_carry_their_interval() {
    let rules = schedule_rules(&node(json!({"rule": {"interval": [
        {"field": "weeks", "weeksInterval": 2, "triggerAtDay": [1, 3], "triggerAtHour": 9, "triggerAtMinute": 30},
        {"field": "weeks", "triggerAtDay": [5]},
        {"field": "days", "daysInterval": 2}
    ]}})))
    .unwrap();
    assert_eq!(
        rules,
        vec![
            ScheduleRule {
                timing: Timing::Cron("0 30 9 * * 1,3".into()),
                every_weeks: Some(2)
            },
            ScheduleRule {
                timing: Timing::Cron("0 0 0 * * 5".into()),
                every_weeks: None
            },
            ScheduleRule {
                timing: Timing::Cron("0 0 0 */2 * *".into()),
                every_weeks: None
            },
        ]
    );
}

fn interval(parameters: Value) -> Result<Vec<ScheduleRule>, NodeError> {
    schedule_rules(
        &serde_json::from_value(json!({"name": "Interval", "type": INTERVAL_SPEC.node_type,
            "typeVersion": 1, "position": [0, 0], "parameters": parameters}))
        .unwrap(),
    )
}

#[test]
fn interval_fires_every_n_seconds_minutes_or_hours() {
    let every = |parameters| match interval(parameters).unwrap().as_slice() {
        [ScheduleRule {
            timing: Timing::Every(period),
            every_weeks: None,
        }] => period.as_millis(),
        other => panic!("{other:?}"),
    };
    assert_eq!(every(json!({})), 1_000);
    assert_eq!(every(json!({"interval": 90})), 90_000);
    assert_eq!(every(json!({"interval": 5, "unit": "minutes"})), 300_000);
    assert_eq!(every(json!({"interval": "2", "unit": "hours"})), 7_200_000);
    let error = |parameters| interval(parameters).unwrap_err().to_string();
    assert_eq!(
        error(json!({"interval": 0})),
        "The interval has to be set to at least 1 or higher! [parameter 'interval']"
    );
    assert_eq!(
        error(json!({"interval": 600, "unit": "hours"})),
        "The interval value is too large. [parameter 'interval']"
    );
    assert_eq!(
        error(json!({"unit": "days"})),
        "unsupported value 'days' [parameter 'unit']"
    );
    // Its tick emits one empty item, not the schedule's date fields.
    let rule = &interval(json!({})).unwrap()[0];
    let at = chrono::Utc::now();
    assert_eq!(rule.item(&at, "UTC"), Item::default());
}

#[test]
fn every_two_weeks_on_two_weekdays() {
    let mut data = JsonObject::new();
    let ran = runs(
        &mut data,
        2,
        &[Weekday::Mon, Weekday::Wed],
        date(2025, 3, 3),
        date(2025, 4, 6),
    );
    let expected = [(3, 3), (3, 5), (3, 17), (3, 19), (3, 31), (4, 2)];
    assert_eq!(ran, expected.map(|(m, d)| date(2025, m, d)));
    // Kept where n8n keeps it: the node's static data, by rule index.
    assert_eq!(
        Value::Object(data),
        json!({"node:Schedule": {"recurrenceRules": [week_of_year(date(2025, 4, 2))]}})
    );
}

#[test]
fn the_interval_holds_across_year_ends() {
    let mut data = JsonObject::new();
    let ran = runs(
        &mut data,
        2,
        &[Weekday::Mon],
        date(2025, 12, 1),
        date(2026, 2, 10),
    );
    let expected = [(2025, 12, 1), (2025, 12, 15), (2025, 12, 29), (2026, 1, 12)];
    let mut expected: Vec<_> = expected.iter().map(|&(y, m, d)| date(y, m, d)).collect();
    expected.extend([date(2026, 1, 26), date(2026, 2, 9)]);
    assert_eq!(ran, expected);
    // A year with a week 53.
    let mut data = JsonObject::new();
    let ran = runs(
        &mut data,
        2,
        &[Weekday::Sun],
        date(2022, 12, 11),
        date(2023, 1, 22),
    );
    let expected = [(2022, 12, 11), (2022, 12, 25), (2023, 1, 8), (2023, 1, 22)];
    assert_eq!(ran, expected.map(|(y, m, d)| date(y, m, d)));
}

#[test]
fn a_missed_week_runs_at_the_next_tick_and_restarts_the_count() {
    let last = date(2025, 3, 3);
    let mut data = JsonObject::new();
    data.insert(
        "node:Schedule".into(),
        json!({"recurrenceRules": [week_of_year(last)]}),
    );
    // Due three weeks later, but the process was down that week: the next tick runs, and the
    // count starts again from there.
    let later = last + Days::new(28);
    let ran = runs(&mut data, 3, &[Weekday::Mon], later, later + Days::new(42));
    assert_eq!(
        ran,
        vec![later, later + Days::new(21), later + Days::new(42)]
    );
}

#[test]
fn other_static_data_is_kept_and_rules_are_indexed() {
    let mut data = JsonObject::new();
    data.insert("global".into(), json!({"count": 1}));
    data.insert(
        "node:Schedule".into(),
        json!({"cursor": "x", "recurrenceRules": [7]}),
    );
    let day = date(2025, 6, 2);
    assert!(take_weeks_tick(&mut data, "Schedule", 2, 2, day));
    let week = week_of_year(day);
    assert_eq!(
        Value::Object(data.clone()),
        json!({"global": {"count": 1},
               "node:Schedule": {"cursor": "x", "recurrenceRules": [7, null, week]}})
    );
    // The next week is skipped, and skipping changes nothing.
    let before = data.clone();
    assert!(!take_weeks_tick(
        &mut data,
        "Schedule",
        2,
        2,
        day + Days::new(7)
    ));
    assert_eq!(data, before);
    // A number no week had within a year (data from elsewhere) does not block the rule.
    data.insert("node:Schedule".into(), json!({"recurrenceRules": [99]}));
    assert!(take_weeks_tick(&mut data, "Schedule", 0, 2, day));
}
