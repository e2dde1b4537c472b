//! Expression tree produced by the parser and walked by the evaluator.
//!
//! Identifiers are resolved at parse time: names bound by an enclosing arrow function or block
//! are [`Expr::Local`], n8n variables and JavaScript globals are [`Expr::Global`], so evaluation
//! never looks a global up by string.

use crate::jsregex::JsRegex;
use std::sync::Arc;

#[derive(Debug)]
pub enum Expr {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(Arc<str>),
    /// Template literal: `quasis.len() == exprs.len() + 1`.
    Template(Vec<Arc<str>>, Vec<Expr>),
    Regex(Arc<JsRegex>),
    Array(Vec<Elem>),
    Object(Vec<Prop>),
    Local(Arc<str>),
    Global(Global),
    /// An identifier that is neither local nor known: a ReferenceError when evaluated.
    Unknown(Arc<str>),
    Member(Box<Expr>, Arc<str>),
    /// `$json.a.b` / `$json['a']`: a chain of static keys on the current item, read without
    /// going through generic property dispatch (the most common expression by far).
    JsonPath(Vec<Arc<str>>),
    Index(Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Elem>),
    New(Box<Expr>, Vec<Elem>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Logical(LogOp, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Arrow(Box<Func>),
    /// `target op= value`; `op` is `None` for plain `=`.
    Assign(Option<AssignOp>, Box<Expr>, Box<Expr>),
    /// `++x`, `x--`, ...: `(delta, prefix)`.
    Update(f64, bool, Box<Expr>),
    Seq(Vec<Expr>),
    /// A member chain with `?.` in a Code script: `undefined` when one of its [`Expr::Opt`]
    /// bases is `null` or `undefined`.
    OptChain(Box<Expr>),
    /// The base of a `?.` inside an [`Expr::OptChain`].
    Opt(Box<Expr>),
    /// A chunk the native evaluator does not support, run by QuickJS instead.
    Js(Arc<crate::fallback::JsChunk>),
}

#[derive(Debug, Clone, Copy)]
pub enum AssignOp {
    Bin(BinOp),
    Log(LogOp),
}

/// An array element or call argument.
#[derive(Debug)]
pub enum Elem {
    Expr(Expr),
    Spread(Expr),
}

#[derive(Debug)]
pub enum Prop {
    Key(Arc<str>, Expr),
    Computed(Expr, Expr),
    Spread(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnOp {
    Not,
    Neg,
    Plus,
    BitNot,
    TypeOf,
    Void,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    Lt,
    Gt,
    Le,
    Ge,
    In,
    InstanceOf,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    UShr,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LogOp {
    And,
    Or,
    Nullish,
}

/// A binding pattern (arrow parameters, `const` declarations).
#[derive(Debug)]
pub enum Pattern {
    Name(Arc<str>),
    Array(Vec<Option<PatElem>>),
    Object(Vec<(Arc<str>, PatElem)>),
}

/// One element of a pattern, with its default value, or a rest element.
#[derive(Debug)]
pub struct PatElem {
    pub pattern: Pattern,
    pub default: Option<Expr>,
    pub rest: bool,
}

/// An arrow function.
#[derive(Debug)]
pub struct Func {
    pub params: Vec<PatElem>,
    pub body: Body,
}

#[derive(Debug)]
pub enum Body {
    Expr(Expr),
    Block(Vec<Stmt>),
}

#[derive(Debug)]
pub enum Stmt {
    Decl(Vec<(Pattern, Option<Expr>)>),
    Expr(Expr),
    Return(Option<Expr>),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    ForOf(Pattern, Expr, Vec<Stmt>),
    /// `for (init; cond; update) body` (Code scripts). `fresh_bindings`: the loop variables are
    /// `let`/`const` and the loop makes closures, so each iteration gets its own copy (closures
    /// see that iteration's value).
    For {
        init: Option<Box<Stmt>>,
        cond: Option<Expr>,
        update: Option<Expr>,
        body: Vec<Stmt>,
        fresh_bindings: bool,
    },
    While(Expr, Vec<Stmt>),
    /// `{ ... }` (Code scripts).
    Block(Vec<Stmt>),
    /// `throw ...` (Code scripts): ends the native run, QuickJS runs the script and throws.
    Throw,
    Break,
    Continue,
}

/// Identifiers with a built-in meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    // n8n variables
    Json,
    Binary,
    Input,
    Dollar,
    Node,
    Items,
    Parameter,
    PrevNode,
    RunIndex,
    ItemIndex,
    Now,
    Today,
    Workflow,
    Execution,
    Vars,
    Env,
    Mode,
    If,
    IfEmpty,
    Min,
    Max,
    Average,
    Not,
    Jmespath,
    // JavaScript globals
    Undefined,
    NaN,
    Infinity,
    Math,
    JsonNs,
    Object,
    Array,
    Number,
    String,
    Boolean,
    Date,
    DateTime,
    Duration,
    RegExp,
    ParseInt,
    ParseFloat,
    IsNaN,
    IsFinite,
    EncodeURIComponent,
    DecodeURIComponent,
    EncodeURI,
    DecodeURI,
    Btoa,
    Atob,
    // Code-node variables (only Code scripts resolve these names)
    /// `items`: the input items.
    CodeItems,
    /// `item`: the current item (its JSON in the legacy Function Item node).
    CodeItem,
    Console,
}

impl Global {
    /// The global an identifier names, if any.
    pub fn from_name(name: &str) -> Option<Global> {
        use Global::*;
        Some(match name {
            "$json" | "$data" => Json,
            "$binary" => Binary,
            "$input" => Input,
            "$" => Dollar,
            "$node" => Node,
            "$items" => Items,
            "$parameter" | "$rawParameter" => Parameter,
            "$prevNode" => PrevNode,
            "$runIndex" | "$thisRunIndex" => RunIndex,
            "$itemIndex" | "$position" | "$thisItemIndex" => ItemIndex,
            "$now" => Now,
            "$today" => Today,
            "$workflow" => Workflow,
            "$execution" => Execution,
            "$vars" => Vars,
            "$env" => Env,
            "$mode" => Mode,
            "$if" => If,
            "$ifEmpty" => IfEmpty,
            "$min" | "min" => Min,
            "$max" | "max" => Max,
            "$average" | "average" => Average,
            "$not" => Not,
            "$jmespath" => Jmespath,
            "undefined" => Undefined,
            "NaN" => NaN,
            "Infinity" => Infinity,
            "Math" => Math,
            "JSON" => JsonNs,
            "Object" => Object,
            "Array" => Array,
            "Number" => Number,
            "String" => String,
            "Boolean" => Boolean,
            "Date" => Date,
            "DateTime" => DateTime,
            "Duration" => Duration,
            "RegExp" => RegExp,
            "parseInt" => ParseInt,
            "parseFloat" => ParseFloat,
            "isNaN" => IsNaN,
            "isFinite" => IsFinite,
            "encodeURIComponent" => EncodeURIComponent,
            "decodeURIComponent" => DecodeURIComponent,
            "encodeURI" => EncodeURI,
            "decodeURI" => DecodeURI,
            "btoa" => Btoa,
            "atob" => Atob,
            _ => return None,
        })
    }

    /// The name used in messages (`typeof`, errors, `String(fn)`).
    pub fn name(self) -> &'static str {
        use Global::*;
        match self {
            Json => "$json",
            Binary => "$binary",
            Input => "$input",
            Dollar => "$",
            Node => "$node",
            Items => "$items",
            Parameter => "$parameter",
            PrevNode => "$prevNode",
            RunIndex => "$runIndex",
            ItemIndex => "$itemIndex",
            Now => "$now",
            Today => "$today",
            Workflow => "$workflow",
            Execution => "$execution",
            Vars => "$vars",
            Env => "$env",
            Mode => "$mode",
            If => "$if",
            IfEmpty => "$ifEmpty",
            Min => "$min",
            Max => "$max",
            Average => "$average",
            Not => "$not",
            Jmespath => "$jmespath",
            Undefined => "undefined",
            NaN => "NaN",
            Infinity => "Infinity",
            Math => "Math",
            JsonNs => "JSON",
            Object => "Object",
            Array => "Array",
            Number => "Number",
            String => "String",
            Boolean => "Boolean",
            Date => "Date",
            DateTime => "DateTime",
            Duration => "Duration",
            RegExp => "RegExp",
            ParseInt => "parseInt",
            ParseFloat => "parseFloat",
            IsNaN => "isNaN",
            IsFinite => "isFinite",
            EncodeURIComponent => "encodeURIComponent",
            DecodeURIComponent => "decodeURIComponent",
            EncodeURI => "encodeURI",
            DecodeURI => "decodeURI",
            Btoa => "btoa",
            Atob => "atob",
            CodeItems => "items",
            CodeItem => "item",
            Console => "console",
        }
    }
}
