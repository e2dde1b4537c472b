//! RSS Read against a local feed server: RSS 2.0, RSS 1.0 and Atom entries with the fields n8n
//! gives (rss-parser's), one feed per item in v1.1 and the first item's in v1, redirects
//! followed, the errors for a bad URL, a failed request and a document that is no feed, and the
//! RSS Feed Trigger run by hand.

mod common;

use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::Router;
use common::*;
use serde_json::{json, Value};

const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Example</title><link>https://example.com/</link>
<item>
  <title>First &amp; foremost</title>
  <link>https://example.com/1</link>
  <dc:creator><![CDATA[Ada]]></dc:creator>
  <pubDate>Tue, 10 Mar 2026 17:06:06 +0000</pubDate>
  <category>News</category><category domain="x">Tech</category>
  <guid isPermaLink="false">post-1</guid>
  <description>&lt;p&gt;Tom &amp;amp; Jerry&lt;/p&gt;&lt;p&gt;say &lt;b&gt;hi&lt;/b&gt;&lt;/p&gt;</description>
  <content:encoded><![CDATA[<div>Full <i>text</i></div>]]></content:encoded>
  <enclosure url="https://example.com/a.mp3" length="123" type="audio/mpeg"/>
</item>
<item><title>Second</title><link>https://example.com/2</link></item>
</channel></rss>"#;

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom example</title>
<entry>
  <title type="text">Atom entry</title>
  <link rel="alternate" href="https://example.org/a"/>
  <id>urn:uuid:1</id>
  <updated>2025-01-02T03:04:05+02:00</updated>
  <author><name>Grace</name></author>
  <summary>Short</summary>
  <content type="html">&lt;p&gt;Long&lt;/p&gt;</content>
</entry></feed>"#;

const RDF: &str = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://example.net/"><title>RDF</title></channel>
<item rdf:about="https://example.net/1"><title>Old style</title><link>https://example.net/1</link>
<dc:date>2024-05-06T07:08:09Z</dc:date></item>
</rdf:RDF>"#;

/// The feed server; returns its base URL.
async fn start_server() -> String {
    let xml = |body: &'static str| {
        move || async move { ([(header::CONTENT_TYPE, "application/xml")], body) }
    };
    let moved = || async { (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/rss")]) };
    let router = Router::new()
        .route("/rss", get(xml(RSS)))
        .route("/atom", get(xml(ATOM)))
        .route("/rdf", get(xml(RDF)))
        .route(
            "/page",
            get(|| async { "<html><body>no feed</body></html>" }),
        )
        .route("/moved", get(moved))
        .route("/gone", get(|| async { StatusCode::NOT_FOUND }));
    serve(router).await
}

fn urls(base: &str, paths: &[&str]) -> Value {
    paths
        .iter()
        .map(|p| json!({"url": format!("{base}{p}")}))
        .collect()
}

const BY_ITEM: &str = "={{ $json.url }}";

#[tokio::test]
async fn entries_of_rss_atom_and_rdf_feeds() {
    let base = start_server().await;
    let input = urls(&base, &["/rss", "/atom", "/rdf"]);
    let entries = node_json(
        "n8n-nodes-base.rssFeedRead",
        1.1,
        json!({"url": BY_ITEM}),
        input,
    )
    .await;
    assert_eq!(
        entries,
        [
            json!({
                "creator": "Ada",
                "title": "First & foremost",
                "link": "https://example.com/1",
                "pubDate": "Tue, 10 Mar 2026 17:06:06 +0000",
                "content:encoded": "<div>Full <i>text</i></div>",
                "content:encodedSnippet": "Full text",
                "enclosure": {"url": "https://example.com/a.mp3", "length": "123", "type": "audio/mpeg"},
                "dc:creator": "Ada",
                "content": "<p>Tom &amp; Jerry</p><p>say <b>hi</b></p>",
                "contentSnippet": "Tom & Jerry\nsay hi",
                "guid": "post-1",
                "categories": ["News", "Tech"],
                "isoDate": "2026-03-10T17:06:06.000Z"
            }),
            json!({"title": "Second", "link": "https://example.com/2"}),
            json!({
                "title": "Atom entry",
                "link": "https://example.org/a",
                "pubDate": "2025-01-02T01:04:05.000Z",
                "author": "Grace",
                "content": "<p>Long</p>",
                "contentSnippet": "Long",
                "summary": "Short",
                "id": "urn:uuid:1",
                "isoDate": "2025-01-02T01:04:05.000Z"
            }),
            json!({"title": "Old style", "link": "https://example.net/1", "isoDate": "2024-05-06T07:08:09.000Z"}),
        ]
    );
}

#[tokio::test]
async fn version_1_reads_the_first_item_s_feed_and_redirects_are_followed() {
    let base = start_server().await;
    let input = urls(&base, &["/moved", "/atom"]);
    let entries = node_json(
        "n8n-nodes-base.rssFeedRead",
        1.0,
        json!({"url": BY_ITEM}),
        input,
    )
    .await;
    let titles: Vec<&str> = entries
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["First & foremost", "Second"]);
}

#[tokio::test]
async fn errors_name_what_went_wrong() {
    let base = start_server().await;
    let error = |path: &str| {
        let url = format!("{base}{path}");
        async move {
            node_error(
                "n8n-nodes-base.rssFeedRead",
                1.1,
                json!({"url": url}),
                json!([{}]),
            )
            .await
        }
    };
    assert_eq!(error("/gone").await, "Status code 404");
    assert_eq!(error("/page").await, "Feed not recognized as RSS 1 or 2.");
    let bad = node_error(
        "n8n-nodes-base.rssFeedRead",
        1.1,
        json!({"url": "not a url"}),
        json!([{}]),
    )
    .await;
    assert_eq!(bad, "The provided \"URL\" is not valid!");
    // Nothing listens on port 1; the message keeps the URL but not its password.
    let refused = node_error(
        "n8n-nodes-base.rssFeedRead",
        1.1,
        json!({"url": "http://reader:s3cret@127.0.0.1:1/feed"}),
        json!([{}]),
    )
    .await;
    assert!(
        refused.starts_with("cannot read the feed at http://") && !refused.contains("s3cret"),
        "{refused}"
    );
}

/// A workflow of one RSS Feed Trigger on `url`.
fn workflow_for(url: &str) -> Value {
    json!({"nodes": [
        {"name": "Feed", "type": "n8n-nodes-base.rssFeedReadTrigger", "typeVersion": 1,
         "position": [0, 0], "parameters": {"feedUrl": url,
             "pollTimes": {"item": [{"mode": "everyMinute"}]}}}],
        "connections": {}, "settings": {"executionOrder": "v1"}})
}

/// Run by hand, the RSS Feed Trigger gives the feed's first entry, and a bad feed URL names
/// `feedUrl` (polls are the server's:
/// `crates/server/tests/schedules.rs`).
#[tokio::test]
async fn the_feed_trigger_run_by_hand_gives_the_first_entry() {
    let base = start_server().await;
    let outcome = run_workflow(workflow_for(&format!("{base}/rss"))).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let entries = output(&outcome, "Feed");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["json"]["title"], "First & foremost");

    let error = run_workflow(workflow_for("not a url"))
        .await
        .error
        .expect("a bad feed URL fails");
    assert_eq!(error.message, "The provided \"URL\" is not valid!");
    assert_eq!(error.parameter.as_deref(), Some("feedUrl"));
}
