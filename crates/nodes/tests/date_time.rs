//! Date & Time v1 (moment-style formats) and v2 (Luxon operations).

mod common;

use common::*;
use serde_json::{json, Value};

const DT: &str = "n8n-nodes-base.dateTime";

async fn v1(params: Value) -> Value {
    node_json(DT, 1.0, params, json!({"keep": true}))
        .await
        .remove(0)
}

async fn v2(params: Value) -> Value {
    node_json(DT, 2.0, params, json!({"keep": true}))
        .await
        .remove(0)
}

#[tokio::test]
async fn v1_formats_with_presets_custom_formats_and_zones() {
    let out = v1(json!({"value": "2023-04-11T13:51:59.965Z"})).await;
    assert_eq!(out, json!({"keep": true, "data": "04/11/2023"}));
    let out = v1(json!({"value": "2023-04-11T13:51:59Z", "custom": true, "toFormat": "dddd, MMMM Do YYYY HH:mm", "dataPropertyName": "when"})).await;
    assert_eq!(out["when"], "Tuesday, April 11th 2023 13:51");
    let out = v1(json!({"value": "2023-04-11T13:51:59Z", "toFormat": "X"})).await;
    assert_eq!(out["data"], "1681221119");
    // ISO text without offset is wall time in the source zone.
    let out = v1(json!({"value": "2023-04-11T22:00:00", "toFormat": "YYYY-MM-DD HH:mm", "options": {"fromTimezone": "US/Hawaii", "toTimezone": "Europe/Berlin"}})).await;
    assert_eq!(out["data"], "2023-04-12 10:00");
    let out = v1(json!({"value": "2022-01-12", "toFormat": "MM-DD-YYYY", "options": {"fromFormat": "YYYY-DD-MM"}})).await;
    assert_eq!(out["data"], "12-01-2022");
}

#[tokio::test]
async fn v1_reads_timestamps_in_seconds_and_milliseconds() {
    for value in [
        json!(1682918315906u64),
        json!("1682918315.906"),
        json!("1682918315"),
    ] {
        assert_eq!(v1(json!({"value": value})).await["data"], "05/01/2023");
    }
    let out = v1(json!({"value": "1663801200000", "options": {"fromFormat": "x"}})).await;
    assert_eq!(out["data"], "09/21/2022");
}

#[tokio::test]
async fn v1_calculates() {
    let calc = |params: Value| async move { v1(params).await["data"].clone() };
    assert_eq!(
        calc(json!({"action": "calculate", "value": "08/01/2022", "duration": 10})).await,
        "2022-08-11T00:00:00.000Z"
    );
    assert_eq!(
        calc(json!({"action": "calculate", "value": "08/01/2022", "operation": "subtract", "duration": 2, "timeUnit": "months"})).await,
        "2022-06-01T00:00:00.000Z"
    );
    assert_eq!(
        calc(json!({"action": "calculate", "value": "2022-08-01T10:00:00Z", "duration": 90, "timeUnit": "minutes"})).await,
        "2022-08-01T11:30:00.000Z"
    );
}

#[tokio::test]
async fn v1_unreadable_dates() {
    let error = node_error(DT, 1.0, json!({"value": "someday"}), json!({})).await;
    assert!(error.contains("could not be recognized"), "{error}");
    let out = v1(json!({"value": "someday", "options": {"fromFormat": "YYYY"}})).await;
    assert_eq!(out["data"], "Invalid date");
}

#[tokio::test]
async fn v2_current_date_uses_the_execution_clock() {
    assert_eq!(
        v2(json!({})).await,
        json!({"currentDate": "2025-01-01T00:00:00.000Z"})
    );
    let out = v2(json!({"includeTime": false, "outputFieldName": "today", "options": {"timezone": "America/New_York", "includeInputFields": true}})).await;
    assert_eq!(
        out,
        json!({"keep": true, "today": "2024-12-31T00:00:00.000-05:00"})
    );
}

#[tokio::test]
async fn v2_adds_and_subtracts() {
    let out = v2(
        json!({"operation": "addToDate", "magnitude": "2023-04-11T13:51:59.965Z", "duration": 2}),
    )
    .await;
    assert_eq!(out, json!({"newDate": "2023-04-13T13:51:59.965Z"}));
    let out = v2(json!({"operation": "subtractFromDate", "magnitude": "2023-03-31T12:00:00Z", "duration": 1, "timeUnit": "months"})).await;
    assert_eq!(out["newDate"], "2023-02-28T12:00:00.000Z");
    let out = v2(json!({"operation": "addToDate", "magnitude": "2023-01-01", "duration": "36", "timeUnit": "hours"})).await;
    assert_eq!(out["newDate"], "2023-01-02T12:00:00.000Z");
}

#[tokio::test]
async fn v2_formats() {
    let format = |params: Value| async move { v2(params).await["formattedDate"].clone() };
    let base = json!({"operation": "formatDate", "date": "2023-04-11T13:51:59.965Z"});
    let with = |extra: Value| {
        let mut p = base.clone();
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        p
    };
    assert_eq!(format(base.clone()).await, "04/11/2023");
    assert_eq!(
        format(with(json!({"format": "yyyy/MM/dd"}))).await,
        "2023/04/11"
    );
    assert_eq!(
        format(with(
            json!({"format": "custom", "customFormat": "EEEE d MMMM, HH:mm"})
        ))
        .await,
        "Tuesday 11 April, 13:51"
    );
    assert_eq!(format(with(json!({"format": "x"}))).await, "1681221119965");
    assert_eq!(
        format(with(
            json!({"format": "HH:mm ZZ", "options": {"timezone": "Asia/Kolkata"}})
        ))
        .await,
        "19:21 +05:30"
    );
    let parsed = with(
        json!({"date": "11.04.2023", "format": "yyyy-MM-dd", "options": {"fromFormat": "dd.MM.yyyy"}}),
    );
    assert_eq!(format(parsed).await, "2023-04-11");
    assert_eq!(format(with(json!({"date": null}))).await, Value::Null);
}

#[tokio::test]
async fn v2_rounds() {
    let round = |mode: &str, unit: &str| json!({"operation": "roundDate", "date": "2023-04-11T13:51:59Z", "mode": mode, "toNearest": unit});
    assert_eq!(
        v2(round("roundDown", "day")).await["roundedDate"],
        "2023-04-11T00:00:00.000Z"
    );
    assert_eq!(
        v2(round("roundUp", "hour")).await["roundedDate"],
        "2023-04-11T14:00:00.000Z"
    );
    assert_eq!(
        v2(round("roundDown", "month")).await["roundedDate"],
        "2023-04-01T00:00:00.000Z"
    );
    assert_eq!(
        v2(round("roundDown", "week")).await["roundedDate"],
        "2023-04-10T00:00:00.000Z"
    );
}

#[tokio::test]
async fn v2_time_between_dates() {
    let between = |units: Value, iso: bool| {
        json!({"operation": "getTimeBetweenDates", "startDate": "2023-01-01T00:00:00Z", "endDate": "2023-02-02T06:30:00Z",
               "units": units, "options": {"isoString": iso}})
    };
    assert_eq!(
        v2(between(json!(["day"]), false)).await["timeDifference"],
        json!({"days": 32.270833333333336})
    );
    assert_eq!(
        v2(between(json!(["month", "day", "hour"]), false)).await["timeDifference"],
        json!({"months": 1, "days": 1, "hours": 6.5})
    );
    assert_eq!(
        v2(between(json!(["month", "day", "hour", "minute"]), true)).await["timeDifference"],
        "P1M1DT6H30M"
    );
}

#[tokio::test]
async fn v2_extracts_parts() {
    for (part, expected) in [
        ("year", 2023),
        ("month", 4),
        ("week", 15),
        ("day", 11),
        ("hour", 13),
        ("minute", 51),
        ("second", 59),
    ] {
        let out =
            v2(json!({"operation": "extractDate", "date": "2023-04-11T13:51:59Z", "part": part}))
                .await;
        assert_eq!(out["datePart"], expected, "{part}");
    }
}

#[tokio::test]
async fn v2_errors() {
    let error = node_error(
        DT,
        2.0,
        json!({"operation": "formatDate", "date": "soon"}),
        json!({}),
    )
    .await;
    assert_eq!(error, "'soon' is not a valid date");
    let workflow = single_node_workflow(DT, 2.0, json!({"operation": "shiftDate"}), json!({}));
    let workflow: sluice_model::Workflow = serde_json::from_value(workflow).unwrap();
    let error = sluice_engine::CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .err()
        .expect("unknown operation")
        .to_string();
    assert!(
        error.contains("'shiftDate'") && error.contains("operation"),
        "{error}"
    );
}

#[tokio::test]
async fn v2_uses_the_workflow_time_zone() {
    let mut workflow = single_node_workflow(
        DT,
        2.0,
        json!({"operation": "addToDate", "magnitude": "2023-03-25T12:00:00", "duration": 1}),
        json!({}),
    );
    workflow["settings"]["timezone"] = json!("Europe/Berlin");
    let outcome = run_workflow(workflow).await;
    // Across the DST change a calendar day keeps the wall-clock time.
    assert_eq!(
        output(&outcome, "Node")[0]["json"]["newDate"],
        "2023-03-26T12:00:00.000+02:00"
    );
}
