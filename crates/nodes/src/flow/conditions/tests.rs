//! Unit tests of the condition semantics: type validation, every operator family, the legacy
//! comparisons and the JavaScript helpers they rest on.

use super::coerce::{coerce, Typed, Validation, ValueType};
use super::js;
use super::legacy::{DataType, LegacyOp};
use super::operator::{apply, Operation, RegexCache};
use chrono_tz::Tz;
use serde_json::{json, Value};

const STRICT: Validation = Validation {
    loose: false,
    version: 3,
    tz: Tz::UTC,
};
const LOOSE: Validation = Validation {
    loose: true,
    version: 3,
    tz: Tz::UTC,
};

/// Validate both values like a condition does, then apply the operation.
fn check(ty: &str, op: &str, left: Value, right: Value, v: Validation) -> Result<bool, String> {
    check_with(ty, op, None, left, right, v, false)
}

fn check_with(
    ty: &str,
    op: &str,
    right_type: Option<&str>,
    left: Value,
    right: Value,
    v: Validation,
    ignore_case: bool,
) -> Result<bool, String> {
    let ty = ValueType::parse(ty).unwrap();
    let op = Operation::parse(ty, op).unwrap_or_else(|| panic!("operation {op}"));
    let right_type = right_type.map_or(ty, |t| ValueType::parse(t).unwrap());
    let left = coerce(left, ty, v)?;
    let right = if op.is_single_value() {
        Typed::Missing
    } else {
        coerce(right, right_type, v)?
    };
    apply(ty, op, left, right, ignore_case, &RegexCache::default())
}

fn pass(ty: &str, op: &str, left: Value, right: Value) -> bool {
    check(ty, op, left, right, STRICT).unwrap()
}

#[test]
fn string_operations() {
    assert!(pass("string", "equals", json!("a"), json!("a")));
    assert!(pass("string", "notEquals", json!("a"), json!("b")));
    assert!(pass("string", "contains", json!("hello"), json!("ell")));
    assert!(pass("string", "notContains", json!("hello"), json!("x")));
    assert!(pass("string", "startsWith", json!("hello"), json!("he")));
    assert!(pass("string", "notStartsWith", json!("hello"), json!("lo")));
    assert!(pass("string", "endsWith", json!("hello"), json!("lo")));
    assert!(pass("string", "notEndsWith", json!("hello"), json!("he")));
    assert!(pass("string", "regex", json!("value"), json!("/^VALUE$/i")));
    assert!(pass("string", "regex", json!("value"), json!("/^value$/g")));
    assert!(pass(
        "string",
        "notRegex",
        json!("value"),
        json!("^[A-Z]+$/")
    ));
    assert!(pass("string", "empty", json!(""), json!(null)));
    assert!(pass("string", "empty", json!(null), json!(null)));
    assert!(pass("string", "notEmpty", json!("x"), json!(null)));
    assert!(pass("string", "exists", json!(""), json!(null)));
    assert!(pass("string", "notExists", json!(null), json!(null)));
    // A missing left value reads as "" for the text operations.
    assert!(pass("string", "notContains", json!(null), json!("x")));
}

#[test]
fn string_case_insensitive() {
    let ci = |op, l, r| check_with("string", op, None, l, r, STRICT, true).unwrap();
    assert!(ci("equals", json!("Sam"), json!("sAM")));
    assert!(ci("startsWith", json!("Victor"), json!("v")));
    assert!(!ci("notContains", json!("Sam"), json!("s")));
    assert!(ci("regex", json!("ABC"), json!("^abc$")));
}

#[test]
fn number_operations() {
    assert!(pass("number", "equals", json!(1), json!(1.0)));
    assert!(pass("number", "notEquals", json!(1), json!(2)));
    assert!(pass("number", "gt", json!(2), json!(1)));
    assert!(pass("number", "lt", json!(1), json!(2)));
    assert!(pass("number", "gte", json!(2), json!(2)));
    assert!(pass("number", "lte", json!(2), json!(2)));
    assert!(!pass("number", "gt", json!(null), json!(1)));
    assert!(!pass("number", "lt", json!(null), json!(1)));
    assert!(pass("number", "empty", json!(null), json!(null)));
    assert!(pass("number", "notEmpty", json!(0), json!(null)));
}

#[test]
fn datetime_operations() {
    let d = |s: &str| json!(s);
    assert!(pass(
        "dateTime",
        "after",
        d("2023-10-26T16:45:52.367Z"),
        d("2023-10-21")
    ));
    assert!(pass(
        "dateTime",
        "before",
        d("2023-10-20T16:45:52.367Z"),
        d("2023-10-21")
    ));
    assert!(pass(
        "dateTime",
        "equals",
        d("2023-01-01T05:00:00Z"),
        d("2023-01-01T00:00:00-05:00")
    ));
    assert!(pass(
        "dateTime",
        "notEquals",
        d("2023-01-01"),
        d("2023-01-02")
    ));
    assert!(pass(
        "dateTime",
        "afterOrEquals",
        d("2023-01-01"),
        d("2023-01-01T00:00")
    ));
    assert!(pass(
        "dateTime",
        "beforeOrEquals",
        d("2023-01-01 00:00:00"),
        d("2023-01-01")
    ));
    assert!(pass("dateTime", "exists", d("2023-01-01"), json!(null)));
    assert!(!pass("dateTime", "after", json!(null), d("2023-01-01")));
    assert_eq!(
        check("dateTime", "after", d("soon"), d("2023-01-01"), STRICT).unwrap_err(),
        "Conversion error: the string 'soon' can't be converted to a dateTime"
    );
    // Naive values are read in the workflow's zone.
    let berlin = Validation {
        tz: Tz::Europe__Berlin,
        ..STRICT
    };
    assert!(check(
        "dateTime",
        "equals",
        d("2023-06-01T02:00:00"),
        d("2023-06-01T00:00:00Z"),
        berlin
    )
    .unwrap());
}

#[test]
fn boolean_operations() {
    assert!(pass("boolean", "true", json!(true), json!(null)));
    assert!(pass("boolean", "false", json!(false), json!(null)));
    assert!(pass("boolean", "equals", json!(true), json!(true)));
    assert!(pass("boolean", "notEquals", json!(true), json!(false)));
    assert!(!pass("boolean", "true", json!(null), json!(null)));
    assert!(pass("boolean", "empty", json!(null), json!(null)));
}

#[test]
fn array_operations() {
    let any = |op, l, r| check_with("array", op, Some("any"), l, r, STRICT, false).unwrap();
    let num = |op, l, r| check_with("array", op, Some("number"), l, r, STRICT, false).unwrap();
    assert!(any("contains", json!(["a", 1]), json!(1)));
    assert!(any("notContains", json!(["a"]), json!("b")));
    assert!(!any("contains", json!([{"a": 1}]), json!({"a": 1})));
    assert!(check_with(
        "array",
        "contains",
        Some("any"),
        json!(["EXOTIC"]),
        json!("exotic"),
        STRICT,
        true
    )
    .unwrap());
    assert!(num("lengthEquals", json!([1, 2]), json!(2)));
    assert!(num("lengthNotEquals", json!([1, 2]), json!(3)));
    assert!(num("lengthGt", json!([1, 2]), json!(1)));
    assert!(num("lengthLt", json!([1, 2]), json!(3)));
    assert!(num("lengthGte", json!([1, 2]), json!(2)));
    assert!(num("lengthLte", json!([]), json!(0)));
    assert!(pass("array", "empty", json!([]), json!(null)));
    assert!(pass("array", "empty", json!(null), json!(null)));
    assert!(pass("array", "notEmpty", json!([0]), json!(null)));
    assert!(pass("array", "equals", json!([1, "a"]), json!([1, "a"])));
    // Without rightType the length is validated as an array (n8n's editor always sets it).
    assert_eq!(
        check("array", "lengthGt", json!([1]), json!(0), STRICT).unwrap_err(),
        "Wrong type: '0' is a number but was expecting an array"
    );
}

#[test]
fn object_operations() {
    assert!(pass("object", "empty", json!({}), json!(null)));
    assert!(pass("object", "notEmpty", json!({"a": 1}), json!(null)));
    assert!(!pass("object", "notEmpty", json!(null), json!(null)));
    assert!(pass("object", "exists", json!({}), json!(null)));
    assert!(Operation::parse(ValueType::Object, "equals").is_none());
}

#[test]
fn strict_type_errors_use_n8n_messages() {
    let err = |ty, l: Value| check(ty, "equals", l, json!(null), STRICT).unwrap_err();
    assert_eq!(
        err("number", json!("12")),
        "Wrong type: '12' is a string but was expecting a number"
    );
    assert_eq!(
        err("string", json!(false)),
        "Wrong type: 'false' is a boolean but was expecting a string"
    );
    assert_eq!(
        err("boolean", json!([1, 2])),
        "Wrong type: '1,2' is an object but was expecting a boolean"
    );
    assert_eq!(
        check("object", "empty", json!([]), json!(null), STRICT).unwrap_err(),
        "Wrong type: '' is an object but was expecting an object"
    );
    // null and undefined are never validated.
    assert!(!check("number", "equals", json!(null), json!(1), STRICT).unwrap());
}

#[test]
fn loose_validation_converts() {
    assert!(check("number", "equals", json!(1), json!("1"), LOOSE).unwrap());
    assert!(check("number", "gt", json!(" 12 "), json!(10), LOOSE).unwrap());
    assert!(check("string", "equals", json!(12), json!("12"), LOOSE).unwrap());
    assert!(check(
        "string",
        "equals",
        json!({"a": 1}),
        json!("{\"a\":1}"),
        LOOSE
    )
    .unwrap());
    assert!(check("array", "notEmpty", json!("[1]"), json!(null), LOOSE).unwrap());
    assert!(check("object", "notEmpty", json!("{\"a\":1}"), json!(null), LOOSE).unwrap());
    assert!(check(
        "dateTime",
        "after",
        json!(1_700_000_000_000_i64),
        json!("2023-01-01"),
        LOOSE
    )
    .unwrap());
    assert_eq!(
        check("number", "equals", json!("abc"), json!(1), LOOSE).unwrap_err(),
        "Conversion error: the string 'abc' can't be converted to a number"
    );
}

#[test]
fn loose_booleans_depend_on_filter_version() {
    let at = |version, value: Value| {
        let v = Validation { version, ..LOOSE };
        check("boolean", "true", value, json!(null), v).unwrap()
    };
    // Version 1 uses JavaScript truthiness: "false" is true.
    assert!(at(1, json!("false")));
    assert!(!at(1, json!(0)));
    // Version 2+ reads boolean words and 0/1 first.
    assert!(!at(2, json!("false")));
    assert!(!at(2, json!("0")));
    assert!(at(2, json!(1)));
    assert!(at(3, json!("yes")));
}

#[test]
fn loose_empty_numbers_depend_on_filter_version() {
    let at = |version, value: Value| {
        let v = Validation { version, ..LOOSE };
        check("number", "empty", value, json!(null), v).unwrap()
    };
    assert!(!at(2, json!("")));
    assert!(!at(2, json!([])));
    assert!(at(3, json!("")));
    assert!(at(3, json!([])));
}

#[test]
fn operations_are_checked_against_their_type() {
    assert!(Operation::parse(ValueType::Number, "contains").is_none());
    assert!(Operation::parse(ValueType::String, "gt").is_none());
    assert!(Operation::parse(ValueType::Any, "exists").is_some());
    assert!(Operation::parse(ValueType::Boolean, "nope").is_none());
}

fn legacy(ty: DataType, op: &str, a: Value, b: Value) -> bool {
    LegacyOp::parse(ty, op)
        .unwrap_or_else(|| panic!("operation {op}"))
        .compare(ty, &a, &b, Tz::UTC)
        .unwrap()
}

#[test]
fn legacy_comparisons() {
    use DataType::*;
    assert!(legacy(Boolean, "equal", json!(true), json!(true)));
    assert!(legacy(Boolean, "notEqual", json!(false), json!(true)));
    assert!(legacy(Number, "smaller", json!(1), json!(2)));
    assert!(legacy(Number, "smallerEqual", json!(2), json!(2)));
    assert!(legacy(Number, "larger", json!("3"), json!(2)));
    assert!(legacy(Number, "largerEqual", json!(null), json!(0)));
    assert!(legacy(Number, "isEmpty", json!(null), json!(0)));
    assert!(legacy(Number, "isNotEmpty", json!(0), json!(0)));
    assert!(legacy(
        String,
        "contains",
        json!("Elon Musk"),
        json!("Elon")
    ));
    assert!(legacy(String, "notContains", json!(null), json!("spam")));
    assert!(legacy(String, "startsWith", json!("Elon"), json!("El")));
    assert!(legacy(String, "notStartsWith", json!("adam"), json!("b")));
    assert!(legacy(String, "endsWith", json!("Musk"), json!("sk")));
    assert!(legacy(
        String,
        "notEndsWith",
        json!("mail.com"),
        json!("gmail")
    ));
    assert!(legacy(
        String,
        "regex",
        json!("Adam"),
        json!("/^[A-Z][a-z]*$/")
    ));
    assert!(legacy(
        String,
        "notRegex",
        json!("ADAM"),
        json!("^[A-Z]+$/")
    ));
    assert!(legacy(String, "notEqual", json!("a@b.c"), json!(null)));
    assert!(legacy(String, "isEmpty", json!({}), json!("")));
    assert!(legacy(
        DateTime,
        "after",
        json!("2023-01-02T00:00:00.000-05:00"),
        json!("2023-01-01T00:00:00.000-05:00")
    ));
    assert!(legacy(
        DateTime,
        "before",
        json!("2020-10-05T14:48:00.000Z"),
        json!("2021-08-03T03:30:08.000Z")
    ));
    assert_eq!(
        LegacyOp::After
            .compare(DateTime, &json!("never"), &json!(""), Tz::UTC)
            .unwrap_err(),
        "The value \"never\" is not a valid DateTime."
    );
    assert!(LegacyOp::parse(Boolean, "contains").is_none());
}

#[test]
fn js_helpers() {
    assert!(js::parse_datetime("Tue, 1 Jul 2003 10:52:37 +0200", Tz::UTC).is_some());
    assert!(js::parse_datetime("2023-01-01T00:00:00.000+0530", Tz::UTC).is_some());
    assert!(js::compile_regex("/(?<=a)b/", false).is_err());
}
