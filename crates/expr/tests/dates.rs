//! luxon DateTime and JS Date behaviour.
mod common;
use common::*;
use serde_json::json;

#[test]
fn datetime_statics_and_formatting() {
    check(&[
        (
            "DateTime.fromISO('2024-01-01T00:00:00Z').toISO()",
            json!("2024-01-01T00:00:00.000+00:00"),
        ),
        (
            "DateTime.fromISO('2024-01-01T00:00:00Z')",
            json!("2024-01-01T00:00:00.000+00:00"),
        ),
        (
            "DateTime.fromISO('2024-01-01T10:00:00+02:00', {setZone: true}).toISO()",
            json!("2024-01-01T10:00:00.000+02:00"),
        ),
        (
            "DateTime.fromISO('2024-01-01', {zone: 'Europe/Berlin'}).toISO()",
            json!("2024-01-01T00:00:00.000+01:00"),
        ),
        (
            "DateTime.utc(2024, 3, 5).toISO()",
            json!("2024-03-05T00:00:00.000Z"),
        ),
        (
            "DateTime.fromMillis(0).toISO()",
            json!("1970-01-01T00:00:00.000+00:00"),
        ),
        (
            "DateTime.fromSeconds(86400).toISODate()",
            json!("1970-01-02"),
        ),
        (
            "DateTime.fromFormat('15/01/2024', 'dd/MM/yyyy').toISODate()",
            json!("2024-01-15"),
        ),
        (
            "DateTime.fromSQL('2024-01-15 10:20:30').toISO()",
            json!("2024-01-15T10:20:30.000+00:00"),
        ),
        (
            "DateTime.fromObject({year: 2024, month: 2, day: 29}).toISODate()",
            json!("2024-02-29"),
        ),
        ("DateTime.fromISO('nope').isValid", json!(false)),
        (
            "$now.toFormat('yyyy-MM-dd HH:mm:ss')",
            json!("2024-01-15 10:30:00"),
        ),
        (
            "$now.toFormat('LLL d, yyyy h:mm a')",
            json!("Jan 15, 2024 10:30 AM"),
        ),
        (
            "$now.toFormat('LLLL cccc EEE ZZ')",
            json!("January Monday Mon +00:00"),
        ),
        (
            "$now.toFormat(\"HH 'hours and' mm 'minutes'\")",
            json!("10 hours and 30 minutes"),
        ),
        ("$now.format('dd/LL/yyyy')", json!("15/01/2024")),
        ("$now.toMillis()", json!(1705314600000i64)),
        ("$now.toSeconds()", json!(1705314600)),
        (
            "$now.toJSDate().toISOString()",
            json!("2024-01-15T10:30:00.000Z"),
        ),
        (
            "$now.setZone('Asia/Tokyo').toISO()",
            json!("2024-01-15T19:30:00.000+09:00"),
        ),
        ("$now.setZone('Asia/Tokyo').hour", json!(19)),
        ("$now.weekday", json!(1)),
        ("$now.weekdayLong", json!("Monday")),
        ("$now.monthShort", json!("Jan")),
        ("$now.quarter", json!(1)),
    ]);
}

#[test]
fn datetime_arithmetic() {
    check(&[
        ("$now.plus({days: 1}).toISODate()", json!("2024-01-16")),
        ("$now.plus(7, 'days').toISODate()", json!("2024-01-22")),
        ("$now.minus(1, 'month').toISODate()", json!("2023-12-15")),
        (
            "$now.minus({hours: 2, minutes: 30}).toFormat('HH:mm')",
            json!("08:00"),
        ),
        (
            "$now.startOf('month').toISO()",
            json!("2024-01-01T00:00:00.000+00:00"),
        ),
        (
            "$now.endOf('day').toISO()",
            json!("2024-01-15T23:59:59.999+00:00"),
        ),
        ("$now.beginningOf('week').toISODate()", json!("2024-01-15")),
        ("$now.endOfMonth().toISODate()", json!("2024-01-31")),
        (
            "$now.diff(DateTime.fromISO('2024-01-10T10:30:00Z'), 'days').days",
            json!(5),
        ),
        (
            "$now.diff(DateTime.fromISO('2024-01-15T08:30:00Z'), 'hours')",
            json!({"hours": 2}),
        ),
        ("$now.diffTo('2024-01-20T10:30:00Z', 'days')", json!(5)),
        (
            "DateTime.fromISO('2023-01-15T10:30:00Z').diffToNow(['months', 'days'])",
            json!({"months": 12, "days": 0}),
        ),
        ("$now.extract('month')", json!(1)),
        ("$now.extract('hour')", json!(10)),
        ("$now.isBetween('2020-06-01', '2025-06-01')", json!(true)),
        ("$now.isWeekend()", json!(false)),
        ("$now.minus(5, 'minutes').isInLast(1, 'hour')", json!(true)),
        (
            "$now.hasSame(DateTime.fromISO('2024-01-02'), 'month')",
            json!(true),
        ),
        (
            "$now.set({year: 1982, month: 10}).toISODate()",
            json!("1982-10-15"),
        ),
        ("$now > $today", json!(true)),
        ("$now.toMillis() - $today.toMillis()", json!(37800000)),
    ]);
}

#[test]
fn conversions_to_datetime() {
    check(&[
        (
            "'2024-03-29T18:06:31.798+01:00'.toDateTime().toISO()",
            json!("2024-03-29T17:06:31.798+00:00"),
        ),
        (
            "'Fri, 29 Mar 2024 18:08:01 +0100'.toDateTime().toISO()",
            json!("2024-03-29T17:08:01.000+00:00"),
        ),
        ("'20240329'.toDateTime().toISODate()", json!("2024-03-29")),
        (
            "'1711732132990'.toDateTime().toMillis()",
            json!(1711732132990i64),
        ),
        (
            "'2024-03-30 18:49'.toDateTime().toISO()",
            json!("2024-03-30T18:49:00.000+00:00"),
        ),
        ("'30.03.2024'.toDateTime('dd.MM.yyyy').day", json!(30)),
        (
            "(1708695471).toDateTime('s').toISO()",
            json!("2024-02-23T13:37:51.000+00:00"),
        ),
        (
            "(1708695471000).toDateTime().toISO()",
            json!("2024-02-23T13:37:51.000+00:00"),
        ),
        (
            "(45345).toDateTime('excel').toISODate()",
            json!("2024-02-23"),
        ),
        ("$json.date.toDateTime().year", json!(2024)),
    ]);
}

#[test]
fn js_dates() {
    check(&[
        (
            "new Date('2024-01-01T00:00:00Z')",
            json!("2024-01-01T00:00:00.000Z"),
        ),
        ("new Date('2024-01-01').getTime()", json!(1704067200000i64)),
        (
            "new Date(0).toISOString()",
            json!("1970-01-01T00:00:00.000Z"),
        ),
        ("new Date(2024, 0, 31).getDate()", json!(31)),
        ("new Date('2024-01-01T00:00:00Z').getDay()", json!(1)),
        ("new Date('2024-03-05T00:00:00Z').getMonth()", json!(2)),
        ("new Date().getTime()", json!(1705314600000i64)),
        (
            "Date.parse('2024-01-01T00:00:00Z')",
            json!(1704067200000i64),
        ),
        ("Date.UTC(2024, 0, 1)", json!(1704067200000i64)),
        ("new Date('garbage').getTime()", json!(null)),
        ("new Date(0) < new Date(1)", json!(true)),
        (
            "new Date('2024-01-01T00:00:00Z').toDateTime().toISO()",
            json!("2024-01-01T00:00:00.000+00:00"),
        ),
    ]);
    assert_eq!(
        eval("d: {{ new Date(0) }}"),
        json!("d: Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)")
    );
}
