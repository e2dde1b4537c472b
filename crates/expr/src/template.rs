//! Parameter templates: literal text and `{{ }}` chunks, parsed once.
//!
//! A template that is exactly one chunk evaluates to the chunk's raw value; text around chunks
//! makes a string in which `null`/`undefined` render as nothing and other values as JavaScript's
//! `String()` renders them. A template without chunks is its literal text.

use crate::ast::Expr;
use crate::comparison::JsonComparison;
use crate::eval::{follow_json_path, Ctx, PathEnd};
use crate::fallback::JsChunk;
use crate::lexer::find_chunk_end;
use crate::parser::parse_chunk;
use crate::value::Val;
use crate::{ExprError, Scope};
use sluice_js::Rendering;
use sluice_model::Value;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// One `{{ }}` chunk, compiled.
struct Chunk {
    expr: Expr,
    /// `expr` compiled, when it is a comparison of a `$json` path with a literal.
    comparison: Option<JsonComparison>,
    source: String,
    /// The chunk compiled for QuickJS, made the first time the native evaluation stops at a
    /// write to item data (`None` when QuickJS cannot compile it either).
    quickjs: OnceLock<Option<JsChunk>>,
    /// Whether the chunk is the whole template or sits in text.
    rendering: Rendering,
}

impl Chunk {
    /// The chunk's boolean through its compiled comparison, without an evaluation context;
    /// `None` when the tree walker must evaluate it.
    fn compiled_comparison(&self, scope: &dyn Scope) -> Option<bool> {
        self.comparison.as_ref()?.eval(scope.item())
    }

    /// The chunk's value when it is only `$json.a.b` and the path stays in plain objects, read
    /// from the current item without an evaluation context (IF's and Set's commonest value);
    /// `None` when the tree walker must evaluate it.
    fn json_field<'s>(&self, scope: &'s dyn Scope) -> Option<Val<'s>> {
        let Expr::JsonPath(keys) = &self.expr else {
            return None;
        };
        match follow_json_path(&scope.item()?.json, keys) {
            PathEnd::Value(field) => Some(field.map_or(Val::Undefined, Val::from_json)),
            PathEnd::MissingAt(_) | PathEnd::NotObjectAt(..) => None,
        }
    }

    fn eval<'a>(&'a self, ctx: &mut Ctx<'a>) -> Result<Val<'a>, ExprError> {
        match ctx.eval(&self.expr) {
            Err(e) if ctx.take_item_data_write() => self.in_quickjs(ctx, e),
            Ok(value) if value.holds_n8n_object() => self.in_quickjs(
                ctx,
                ExprError::eval("n8n's variable objects are not values of their own natively"),
            ),
            // n8n's sandbox turns a TypeError anywhere in a chunk into `undefined`.
            Err(_) if ctx.take_read_of_nullish() => Ok(Val::Undefined),
            result => result,
        }
    }

    /// Runs the chunk in QuickJS (compiled the first time it is needed); `native` when QuickJS
    /// cannot compile it either.
    fn in_quickjs<'a>(
        &'a self,
        ctx: &mut Ctx<'a>,
        native: ExprError,
    ) -> Result<Val<'a>, ExprError> {
        match self
            .quickjs
            .get_or_init(|| JsChunk::compile(&self.source, self.rendering))
        {
            Some(js) => js.eval(ctx.scope),
            None => Err(native),
        }
    }
}

enum Part {
    Text(String),
    Code(Chunk),
}

enum Body {
    /// No chunks: the text itself.
    Text(String),
    /// Exactly one chunk and nothing else: the raw value.
    Single(Chunk),
    /// Text and chunks: a string.
    Mixed(Vec<Part>),
    /// Code that does not parse: every evaluation fails with this error, as n8n's does (n8n
    /// saves and activates such a workflow; the node fails when it evaluates the parameter).
    Invalid(ExprError),
}

/// A parsed parameter template (the text after the leading `=`).
#[derive(Clone)]
pub struct Template {
    source: String,
    body: Arc<Body>,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Template").field(&self.source).finish()
    }
}

/// Splits a template into text and code chunks. An unclosed `{{` is literal text.
fn split(source: &str) -> Vec<(bool, &str)> {
    let mut parts = Vec::new();
    let mut text_start = 0;
    let mut pos = 0;
    while let Some(open) = source[pos..].find("{{").map(|i| pos + i) {
        match find_chunk_end(source, open + 2) {
            Some(close) => {
                if open > text_start {
                    parts.push((false, &source[text_start..open]));
                }
                parts.push((true, &source[open + 2..close]));
                pos = close + 2;
                text_start = pos;
            }
            None => pos = open + 2,
        }
    }
    if text_start < source.len() {
        parts.push((false, &source[text_start..]));
    }
    parts
}

/// Which evaluator a chunk gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Native where the chunk is in the native subset, QuickJS otherwise (the default).
    Native,
    /// Every chunk through QuickJS: for comparisons and benchmarks.
    QuickJs,
}

/// Compile one chunk: natively when possible; code the native parser rejects but QuickJS
/// accepts runs in QuickJS; code neither accepts is a syntax error.
fn compile_chunk(code: &str, engine: Engine, rendering: Rendering) -> Result<Chunk, ExprError> {
    let quickjs = || JsChunk::compile(code, rendering).map(|c| Expr::Js(Arc::new(c)));
    let expr = match engine {
        Engine::QuickJs => quickjs()
            .ok_or_else(|| ExprError::Syntax(format!("QuickJS cannot compile '{}'", code.trim()))),
        Engine::Native => match parse_chunk(code) {
            Ok(expr) => Ok(expr),
            Err(native) => quickjs().ok_or(native),
        },
    }?;
    Ok(Chunk {
        comparison: JsonComparison::compile(&expr),
        expr,
        source: code.to_string(),
        quickjs: OnceLock::new(),
        rendering,
    })
}

impl Template {
    /// Parse the template text (without the leading `=`).
    pub fn parse(source: &str) -> Result<Template, ExprError> {
        Template::parse_with(source, Engine::Native)
    }

    /// Parse the template text, keeping a syntax error for when it is evaluated (see
    /// [`Template::syntax_error`]): what a workflow's parameters get.
    pub fn parse_or_fail_later(source: &str) -> Template {
        Template::parse(source).unwrap_or_else(|e| Template {
            source: source.to_string(),
            body: Arc::new(Body::Invalid(e)),
        })
    }

    /// Why the template does not parse, when it was kept to fail on evaluation.
    pub fn syntax_error(&self) -> Option<&ExprError> {
        match &*self.body {
            Body::Invalid(e) => Some(e),
            _ => None,
        }
    }

    /// Parse with a chosen evaluator (see [`Engine`]).
    pub fn parse_with(source: &str, engine: Engine) -> Result<Template, ExprError> {
        let parts = split(source);
        let body = match parts.as_slice() {
            [] => Body::Text(String::new()),
            [(true, code)] => Body::Single(compile_chunk(code, engine, Rendering::Value)?),
            parts if parts.iter().all(|(code, _)| !code) => Body::Text(source.to_string()),
            parts => Body::Mixed(
                parts
                    .iter()
                    .map(|(code, s)| {
                        Ok(if *code {
                            Part::Code(compile_chunk(s, engine, Rendering::Text)?)
                        } else {
                            Part::Text(s.to_string())
                        })
                    })
                    .collect::<Result<_, ExprError>>()?,
            ),
        };
        Ok(Template {
            source: source.to_string(),
            body: Arc::new(body),
        })
    }

    /// The text this template was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True when the template has no `{{ }}` chunk (its value is its text).
    pub fn is_static(&self) -> bool {
        matches!(*self.body, Body::Text(_))
    }

    /// Evaluate for the scope's current item. A lone chunk returns its raw value; text around
    /// chunks gives a string. `undefined` comes back as `Value::Null`.
    pub fn evaluate(&self, scope: &dyn Scope) -> Result<Value, ExprError> {
        match &*self.body {
            Body::Text(t) => Ok(Value::String(t.clone())),
            Body::Single(chunk) => match chunk.compiled_comparison(scope) {
                Some(b) => Ok(Value::Bool(b)),
                None => match chunk.json_field(scope) {
                    Some(field) => Ok(field.to_json()),
                    None => Ok(chunk.eval(&mut Ctx::new(scope))?.to_json()),
                },
            },
            Body::Mixed(parts) => {
                let mut ctx = Ctx::new(scope);
                let mut out = String::new();
                for p in parts {
                    match p {
                        Part::Text(t) => out.push_str(t),
                        Part::Code(chunk) => {
                            let v = chunk.eval(&mut ctx)?;
                            // QuickJS renders its chunks in text itself, functions as nothing;
                            // native values render alike.
                            if !v.is_nullish() && !v.is_function() {
                                out.push_str(&v.to_primitive(true).to_str());
                            }
                        }
                    }
                }
                Ok(Value::String(out))
            }
            Body::Invalid(e) => Err(e.clone()),
        }
    }

    /// Evaluate to a boolean with JavaScript truthiness (IF/Filter conditions), without building
    /// a JSON value.
    pub fn evaluate_truthy(&self, scope: &dyn Scope) -> Result<bool, ExprError> {
        match &*self.body {
            Body::Single(chunk) => match chunk.compiled_comparison(scope) {
                Some(b) => Ok(b),
                None => match chunk.json_field(scope) {
                    Some(field) => Ok(field.truthy()),
                    None => Ok(chunk.eval(&mut Ctx::new(scope))?.truthy()),
                },
            },
            _ => Ok(Val::from_owned_json(self.evaluate(scope)?).truthy()),
        }
    }
}
