//! Markdown v1: Markdown to HTML (showdown-style) and HTML to Markdown (node-html-markdown-style).

mod common;

use common::*;
use serde_json::{json, Value};

const MD: &str = "n8n-nodes-base.markdown";

async fn to_html(markdown: &str, options: Value) -> String {
    let params = json!({"mode": "markdownToHtml", "markdown": markdown, "destinationKey": "out", "options": options});
    let out = node_json(MD, 1.0, params, json!({"keep": 1}))
        .await
        .remove(0);
    assert_eq!(out["keep"], 1);
    out["out"].as_str().unwrap().to_string()
}

async fn to_markdown(html: &str, options: Value) -> String {
    let out = node_json(
        MD,
        1.0,
        json!({"html": html, "options": options}),
        json!({}),
    )
    .await
    .remove(0);
    out["data"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn markdown_to_html() {
    assert_eq!(
        to_html("# Example Domain\n\nSome *text*...\n\n[link](https://x.test)", json!({})).await,
        "<h1 id=\"exampledomain\">Example Domain</h1>\n<p>Some <em>text</em>…</p>\n<p><a href=\"https://x.test\">link</a></p>"
    );
    assert_eq!(
        to_html(
            "## My Title",
            json!({"ghCompatibleHeaderId": true, "prefixHeaderId": "s-", "headerLevelStart": 2})
        )
        .await,
        "<h3 id=\"s-my-title\">My Title</h3>"
    );
    assert_eq!(
        to_html("# T", json!({"noHeaderId": true})).await,
        "<h1>T</h1>"
    );
    assert_eq!(
        to_html("a\nb", json!({"simpleLineBreaks": true})).await,
        "<p>a<br />\nb</p>"
    );
    assert_eq!(
        to_html("[l](u)", json!({"openLinksInNewWindow": true})).await,
        "<p><a href=\"u\" rel=\"noopener noreferrer\" target=\"_blank\">l</a></p>"
    );
    assert_eq!(
        to_html("x", json!({"completeHTMLDocument": true})).await,
        "<!DOCTYPE HTML>\n<html>\n<head>\n<meta charset=\"utf-8\">\n</head>\n<body>\n<p>x</p>\n</body>\n</html>"
    );
    assert_eq!(
        to_html("```\na...b\n```", json!({})).await,
        "<pre><code>a...b\n</code></pre>"
    );
}

#[tokio::test]
async fn html_to_markdown() {
    let html = "<h2>Title</h2><p>Some <strong>bold</strong> and <em>soft</em> text with a_b.</p>\
                <ul><li>one</li><li>two</li></ul><ol><li>first</li></ol>\
                <p><a href='https://x.test' title='X'>link</a> <img src='i.png' alt='pic'> <code>c</code></p>\
                <pre>let x = 1;\n</pre><blockquote>quoted</blockquote><p>a<br>b</p><hr>";
    assert_eq!(
        to_markdown(html, json!({})).await,
        "## Title\n\nSome **bold** and _soft_ text with a\\_b.\n\n* one\n* two\n\n1. first\n\n\
         [link](https://x.test \"X\") ![pic](i.png) `c`\n\n```\nlet x = 1;\n```\n\n> quoted\n\na  \nb\n\n---"
    );
}

#[tokio::test]
async fn html_to_markdown_options() {
    let html = "<p><b>x</b> <i>y</i></p><ul><li>z</li></ul><p>Example Domain</p><pre>code</pre>";
    let options = json!({
        "strongDelimiter": "__", "emDelimiter": "*", "bulletMarker": "-",
        "codeBlockStyle": "indented",
        "textReplace": {"values": [{"pattern": "Example (\\w+)", "replacement": "Sample $1"}]}
    });
    assert_eq!(
        to_markdown(html, options).await,
        "__x__ *y*\n\n- z\n\nSample Domain\n\n    code"
    );
    // n8n passes `ignore` as text that is read one character at a time: `p` ignores <p>,
    // `h1` ignores nothing (as the n8n fixture pins).
    assert_eq!(
        to_markdown("<h1>A</h1><p>B</p>", json!({"ignore": "h1"})).await,
        "# A\n\nB"
    );
    assert_eq!(
        to_markdown("<h1>A</h1><p>B</p>", json!({"ignore": "p"})).await,
        "# A"
    );
}
