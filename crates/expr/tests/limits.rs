//! Nesting limits: hostile code is an error naming the limit, never a stack overflow; code
//! nested within the limit still parses and evaluates. Everything runs on a thread with the
//! 2 MiB stack that tokio's worker threads get.
mod common;
use common::*;
use serde_json::{json, Value};
use sluice_expr::{Template, MAX_NESTING};

/// Runs `f` on a thread with a worker thread's stack.
fn on_worker_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .expect("no stack overflow or panic")
}

/// `open` repeated `n` times, then `middle`, then `close` repeated `n` times.
fn nest(open: &str, middle: &str, close: &str, n: usize) -> String {
    format!("{}{middle}{}", open.repeat(n), close.repeat(n))
}

/// Parses and evaluates `{{ code }}` against the sample item.
fn parse_and_eval(code: String) -> Result<Value, String> {
    on_worker_stack(move || {
        let template = Template::parse(&format!("{{{{ {code} }}}}")).map_err(|e| e.to_string())?;
        template
            .evaluate(&TestScope::new(sample()))
            .map_err(|e| e.to_string())
    })
}

const HOSTILE: usize = 100_000;

#[test]
fn hostile_nesting_is_an_error_naming_the_limit() {
    let too_deep =
        format!("invalid expression syntax: expression nests deeper than {MAX_NESTING} levels");
    let cases = [
        ("parentheses", nest("(", "1", ")", HOSTILE)),
        ("brackets", nest("[", "1", "]", HOSTILE)),
        ("objects", nest("{a:", "1", "}", HOSTILE)),
        ("unary operators", nest("-", "1", "", HOSTILE)),
        ("power chain", nest("2**", "1", "", HOSTILE)),
        ("conditionals", nest("1?1:", "1", "", HOSTILE)),
        ("arrow functions", nest("x=>", "1", "", HOSTILE)),
        ("template literals", nest("`${", "1", "}`", HOSTILE)),
        (
            "if statements",
            nest("(() => { ", &"if (1) ".repeat(HOSTILE), "return 1 })()", 1),
        ),
        (
            "destructuring",
            nest("(([", &nest("[", "a", "]", HOSTILE), "]) => 1)()", 1),
        ),
    ];
    for (what, code) in cases {
        assert_eq!(parse_and_eval(code), Err(too_deep.clone()), "{what}");
    }
}

#[test]
fn long_chains_the_native_parser_refuses_run_in_quickjs() {
    // QuickJS compiles `1+1+...` and `x[0][0]...` in a loop, so these chains still work.
    let chain = nest("1+", "1", "", HOSTILE);
    assert_eq!(parse_and_eval(chain), Ok(json!(HOSTILE + 1)));
    let indexes = nest("", "$json.tags", "[0]", HOSTILE);
    assert_eq!(parse_and_eval(indexes), Ok(json!("a")));
}

#[test]
fn nesting_within_the_limit_still_works() {
    let n = MAX_NESTING / 4;
    assert_eq!(parse_and_eval(nest("(", "1", ")", n)), Ok(json!(1)));
    assert_eq!(
        parse_and_eval(format!("{}.flat(Infinity)", nest("[", "1", "]", n))),
        Ok(json!([1]))
    );
    assert_eq!(parse_and_eval(nest("1+", "1", "", n)), Ok(json!(n + 1)));
    assert_eq!(parse_and_eval(nest("~", "1", "", n * 2)), Ok(json!(1)));
    assert_eq!(parse_and_eval(nest("`${", "'x'", "}`", n)), Ok(json!("x")));
}

#[test]
fn deep_recursion_through_deep_bodies_is_an_error() {
    // Each call nests sixty levels of operators: the evaluator's own depth counts them, so the
    // recursion stops long before the call limit would.
    let body = nest("-(", "n > 1000 ? n : f(f, n + 1)", ")", 60);
    let code = format!("((f) => f(f, 0))((f, n) => {body})");
    let err = parse_and_eval(code).unwrap_err();
    assert_eq!(err, "Maximum call stack size exceeded");
}
