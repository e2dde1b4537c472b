use super::{from_js, to_js, ConvertError, MAX_DEPTH};
use proptest::prelude::*;
use rquickjs::{Context, Ctx, Runtime, Value};
use serde_json::{json, Value as Json};

fn with_ctx<T>(f: impl FnOnce(Ctx<'_>) -> T) -> T {
    let runtime = Runtime::new().unwrap();
    let context = Context::full(&runtime).unwrap();
    context.with(f)
}

/// What `source` evaluates to, read into JSON.
fn read(source: &str) -> Result<Option<Json>, String> {
    with_ctx(|ctx| {
        let value: Value = ctx.eval(source).unwrap();
        from_js(value).map_err(|e| e.to_string())
    })
}

/// `value` into QuickJS and back.
fn round_trip(value: &Json) -> Json {
    with_ctx(|ctx| from_js(to_js(&ctx, value).unwrap()).unwrap().unwrap())
}

/// `value` into QuickJS, printed there by `JSON.stringify`.
fn stringified_in_js(value: &Json) -> String {
    with_ctx(|ctx| {
        let stringify: rquickjs::Function = ctx.eval("JSON.stringify").unwrap();
        stringify.call((to_js(&ctx, value).unwrap(),)).unwrap()
    })
}

fn keys(value: &Json) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn undefined_functions_and_symbols_are_dropped_from_objects_and_null_in_arrays() {
    assert_eq!(
        read("({a: undefined, b: () => 1, c: Symbol('s'), d: 1})").unwrap(),
        Some(json!({"d": 1}))
    );
    assert_eq!(
        read("[undefined, () => 1, Symbol('s'), 1]").unwrap(),
        Some(json!([null, null, null, 1]))
    );
    assert_eq!(read("undefined").unwrap(), None);
    assert_eq!(read("(function () {})").unwrap(), None);
}

#[test]
fn non_finite_numbers_are_null() {
    assert_eq!(
        read("({nan: NaN, inf: Infinity, neg: -Infinity, list: [NaN]})").unwrap(),
        Some(json!({"nan": null, "inf": null, "neg": null, "list": [null]}))
    );
}

#[test]
fn dates_and_other_to_json_objects_are_read_through_to_json() {
    assert_eq!(
        read("({at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6))})").unwrap(),
        Some(json!({"at": "2024-01-02T03:04:05.006Z"}))
    );
    // `toJSON` gets the key, and what it returns is read without asking it again.
    assert_eq!(
        read("({a: {toJSON(key) { return {key, inner: {toJSON() { return 7; }}}; }}})").unwrap(),
        Some(json!({"a": {"key": "a", "inner": 7}}))
    );
    assert_eq!(
        read("[{toJSON(key) { return key; }}]").unwrap(),
        Some(json!(["0"]))
    );
}

#[test]
fn integers_stay_integers_where_javascript_prints_them_so() {
    let value = read(
        "({small: 3, float: 1.5, whole: 2.0, negZero: -0, big: 2 ** 53, bigger: 2 ** 63, \
          negative: -(2 ** 63), huge: 1e20, beyond: 1e21})",
    )
    .unwrap()
    .unwrap();
    assert!(value["small"].is_i64() && value["whole"].is_i64() && value["big"].is_i64());
    assert_eq!(value["whole"], json!(2));
    assert_eq!(value["negZero"], json!(0));
    assert_eq!(value["big"], json!(9_007_199_254_740_992_i64));
    assert_eq!(value["bigger"], json!(9_223_372_036_854_775_808_u64));
    assert_eq!(value["negative"], json!(i64::MIN));
    assert_eq!(value["float"], json!(1.5));
    // Past u64, as `serde_json` parses the digits `JSON.stringify` prints: a float.
    assert_eq!(value["huge"], json!(1e20));
    assert_eq!(value["beyond"], json!(1e21));
    // Rust integers past i32 arrive as numbers and come back as integers.
    assert_eq!(
        round_trip(&json!([5_000_000_000_i64, -5_000_000_000_i64])),
        json!([5_000_000_000_i64, -5_000_000_000_i64])
    );
}

#[test]
fn big_ints_are_an_error() {
    assert_eq!(
        read("({a: 1n})").unwrap_err(),
        "Do not know how to serialize a BigInt"
    );
}

#[test]
fn circular_structures_are_an_error_and_shared_objects_are_not() {
    let err = read("const a = {x: {}}; a.x.back = a; a").unwrap_err();
    assert!(
        err.contains("circular structure") && err.contains("'back'"),
        "{err}"
    );
    let err = read("const a = [1]; a.push(a); a").unwrap_err();
    assert!(err.contains("index 1"), "{err}");
    assert_eq!(
        read("const s = {v: 1}; ({a: s, b: [s, s]})").unwrap(),
        Some(json!({"a": {"v": 1}, "b": [{"v": 1}, {"v": 1}]}))
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "let v = 1; for (let i = 0; i < {}; i++) v = [v]; v",
        100_000
    );
    assert_eq!(
        read(&deep).unwrap_err(),
        format!("the value nests deeper than {MAX_DEPTH} levels")
    );
    let at_limit = format!("let v = 1; for (let i = 0; i < {MAX_DEPTH}; i++) v = {{v}}; v");
    assert!(read(&at_limit).is_ok());

    let mut nested = json!(1);
    for _ in 0..=MAX_DEPTH {
        nested = json!([nested]);
    }
    with_ctx(|ctx| {
        assert!(matches!(to_js(&ctx, &nested), Err(ConvertError::TooDeep)));
    });
}

#[test]
fn keys_keep_their_order_and_unicode() {
    let value = json!({"zeta": 1, "alpha": 2, "ünï": 3, "日本": 4, "emoji 🎉": 5, "nul\u{0}key": 6,
                       "__proto__": {"polluted": true}});
    let back = round_trip(&value);
    assert_eq!(back, value);
    assert_eq!(keys(&back), keys(&value));
    // `__proto__` is an own property, as `JSON.parse` makes it, not the prototype.
    assert_eq!(
        stringified_in_js(&value),
        serde_json::to_string(&value).unwrap()
    );
    // Integer-like keys come first in JavaScript's order, as `JSON.stringify` prints them.
    assert_eq!(
        keys(&round_trip(&json!({"b": 1, "2": 2, "1": 3}))),
        ["1", "2", "b"]
    );
}

#[test]
fn getters_are_read_and_their_errors_are_javascript_errors() {
    assert_eq!(
        read("({get a() { return 1; }})").unwrap(),
        Some(json!({"a": 1}))
    );
    with_ctx(|ctx| {
        let value: Value = ctx.eval("({get a() { throw new Error('no'); }})").unwrap();
        assert!(matches!(
            from_js(value),
            Err(ConvertError::Js(rquickjs::Error::Exception))
        ));
    });
}

/// JSON values whose round trip is exact: integers within 2^53, non-integral finite floats,
/// keys that are not array indices (JavaScript moves those first).
fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        (-(1_i64 << 53)..(1_i64 << 53)).prop_map(Json::from),
        any::<f64>()
            .prop_filter("finite, not integral", |f| f.is_finite()
                && f.fract() != 0.0)
            .prop_map(Json::from),
        any::<String>().prop_map(Json::from),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Json::Array),
            prop::collection::vec(("[a-zA-Zé_$ ][a-z0-9é]{0,5}", inner), 0..8)
                .prop_map(|entries| Json::Object(entries.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn values_round_trip_with_their_key_order(value in json_value()) {
        let back = round_trip(&value);
        prop_assert_eq!(&back, &value);
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), serde_json::to_string(&value).unwrap());
    }

    #[test]
    fn reading_agrees_with_json_stringify(value in json_value()) {
        let printed: Json = serde_json::from_str(&stringified_in_js(&value)).unwrap();
        prop_assert_eq!(printed, round_trip(&value));
    }
}
