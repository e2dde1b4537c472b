//! RSS Read v1 / v1.1 (`n8n-nodes-base.rssFeedRead`): fetches an RSS 2.0, RSS 1.0 (RDF) or Atom
//! feed and outputs one item per entry, with the fields n8n's node gives (those of the
//! `rss-parser` library it uses): `title`, `link`, `pubDate`, `content` and its plain-text
//! `contentSnippet`, `guid`, `categories`, `isoDate`, `creator`, `enclosure`... v1 reads the URL
//! of the first input item only; v1.1 reads one feed per input item.
//!
//! RSS Feed Trigger v1 (`n8n-nodes-base.rssFeedReadTrigger`) polls `feedUrl` at its `pollTimes`
//! (the host schedules it, see `crate::trigger::schedule::is_polling`): [`poll`] keeps the
//! newest entry's date (or the last check's time) in the node's static data and a poll that
//! finds entries published after it starts one execution with them; the first poll counts from
//! its own time. Run by hand, the trigger gives the feed's first entry.

use super::xml::{markup, xml2js_tree, BuildOptions};
use crate::util::dates;
use crate::util::errors::error_chain;
use crate::util::params::Reader;
use crate::util::per_item;
use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::{Item, ItemJson, NodeDef, Value};
use sluice_runtime::http::{redact_userinfo, ClientOptions, Http};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.rssFeedRead",
    versions: &[1.0, 1.1],
    kind: NodeKind::Regular,
    factory: build,
};

pub const TRIGGER_SPEC: NodeSpec = NodeSpec {
    node_type: crate::trigger::schedule::RSS_FEED_TRIGGER_TYPE,
    versions: &[1.0],
    kind: NodeKind::Trigger,
    factory: build_trigger,
};

/// Redirects followed before giving up, as `rss-parser`.
const MAX_REDIRECTS: usize = 5;

/// How long one request may take, as `rss-parser`'s default.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

const ACCEPT: &str = "application/rss+xml, application/rdf+xml;q=0.8, \
                      application/atom+xml;q=0.6, application/xml;q=0.4, text/xml;q=0.4";

/// Reads feeds over the process's HTTP client.
#[derive(Default)]
struct FeedReader {
    client: ClientOptions,
}

struct RssRead {
    /// v1.1: one feed per input item; v1: the first item's.
    per_item: bool,
    feeds: FeedReader,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let r = Reader::fixed(params);
    Ok(Box::new(RssRead {
        per_item: def.version() >= 1.1,
        feeds: FeedReader {
            client: ClientOptions {
                accept_invalid_certs: r.bool_or("options.ignoreSSL", false)?,
                proxy: None,
            },
        },
    }))
}

/// The RSS Feed Trigger in a run: it passes on the entries a poll found; run by hand (no poll),
/// it reads the feed and gives its first entry.
struct RssFeedTrigger {
    url: String,
}

fn build_trigger(def: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    crate::trigger::schedule::schedule_rules(def)?;
    Ok(Box::new(RssFeedTrigger {
        url: feed_url(def)?,
    }))
}

/// The trigger's `feedUrl` (a literal: a poll has no item to evaluate an expression on).
fn feed_url(def: &NodeDef) -> Result<String, NodeError> {
    match def.parameters.get("feedUrl") {
        None => Ok("https://blog.n8n.io/rss/".into()),
        Some(Value::String(url)) if !url.starts_with('=') => Ok(url.trim().to_string()),
        Some(_) => Err(
            NodeError::new("the feed URL must be a literal URL, not an expression")
                .with_parameter("feedUrl"),
        ),
    }
}

#[async_trait::async_trait]
impl Node for RssFeedTrigger {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        if ctx.mode() == "trigger" {
            return Ok(vec![ctx.main_input().to_vec()]);
        }
        let entries = FeedReader::default().entries(&self.url, "feedUrl").await?;
        Ok(vec![entries.into_iter().take(1).map(Item::new).collect()])
    }
}

/// One poll of the RSS Feed Trigger `def` at `now`: the entries published since the date in
/// `state` (the node's static data, updated), oldest date first as the feed lists them.
pub async fn poll(
    def: &NodeDef,
    state: &mut sluice_model::JsonObject,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Item>, NodeError> {
    let since = ["lastItemDate", "lastTimeChecked"]
        .iter()
        .find_map(|key| state.get(*key)?.as_str())
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
        .map_or(now, |at| at.with_timezone(&chrono::Utc));
    let entries = FeedReader::default()
        .entries(&feed_url(def)?, "feedUrl")
        .await?;
    state.insert("lastTimeChecked".into(), Value::String(iso(now)));
    let published = |entry: &ItemJson| {
        let date = entry.get("isoDate")?.as_str()?;
        chrono::DateTime::parse_from_rfc3339(date).ok()
    };
    let fresh: Vec<ItemJson> = entries
        .into_iter()
        .filter(|entry| published(entry).is_some_and(|at| at > since))
        .collect();
    if let Some(newest) = fresh.iter().filter_map(published).max() {
        let newest = iso(newest.with_timezone(&chrono::Utc));
        state.insert("lastItemDate".into(), Value::String(newest));
    }
    Ok(fresh.into_iter().map(Item::new).collect())
}

#[async_trait::async_trait]
impl Node for RssRead {
    fn item_wise(&self) -> ItemWise {
        match self.per_item {
            true => ItemWise::Yes,
            false => ItemWise::Barrier,
        }
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let feeds = match self.per_item {
            true => ctx.main_input().len(),
            false => ctx.main_input().len().min(1),
        };
        let out = per_item::in_turn(ctx, feeds, |index| async move {
            let url = ctx.param_str("url", index)?.unwrap_or_default();
            self.feeds.entries(&url, "url").await
        })
        .await?;
        Ok(vec![out])
    }
}

impl FeedReader {
    /// The entries of the feed at `url` (given by `parameter`).
    async fn entries(&self, url: &str, parameter: &str) -> Result<Vec<ItemJson>, NodeError> {
        if url.trim().is_empty() {
            return Err(
                NodeError::new("The parameter \"URL\" has to be set!").with_parameter(parameter)
            );
        }
        let url = reqwest::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                NodeError::new("The provided \"URL\" is not valid!").with_parameter(parameter)
            })?;
        let xml = self.fetch(url).await.map_err(NodeError::new)?;
        let tree = xml2js_tree(&xml).map_err(NodeError::new)?;
        entries(&tree).ok_or_else(|| NodeError::new("Feed not recognized as RSS 1 or 2."))
    }

    /// The feed's text, following up to `MAX_REDIRECTS` redirects.
    async fn fetch(&self, mut url: reqwest::Url) -> Result<String, String> {
        let http = Http::shared();
        let client = http.client(&self.client)?;
        for _ in 0..=MAX_REDIRECTS {
            let unreadable = |e: reqwest::Error| {
                let at = redact_userinfo(url.as_str());
                format!(
                    "cannot read the feed at {at}: {}",
                    error_chain(&e.without_url())
                )
            };
            let response = client
                .get(http.route(&url))
                .header(reqwest::header::ACCEPT, ACCEPT)
                .header(reqwest::header::USER_AGENT, "rss-parser")
                .timeout(REQUEST_TIMEOUT)
                .send()
                .await
                .map_err(unreadable)?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| format!("Status code {}", status.as_u16()))?;
                url = url
                    .join(location)
                    .map_err(|_| format!("a redirect to a bad URL: {location}"))?;
                continue;
            }
            if !status.is_success() {
                return Err(format!("Status code {}", status.as_u16()));
            }
            return response.text().await.map_err(unreadable);
        }
        Err("Too many redirects".into())
    }
}

/// The entries of an RSS 2.0 / 0.9x, RSS 1.0 or Atom feed (xml2js tree); `None` when the
/// document is none of them.
fn entries(tree: &Value) -> Option<Vec<ItemJson>> {
    if let Some(rss) = tree.get("rss") {
        let channel = first(rss, "channel")?;
        return Some(list(channel, "item").map(rss_item).collect());
    }
    if let Some(rdf) = tree.get("rdf:RDF") {
        return Some(list(rdf, "item").map(rss_item).collect());
    }
    let feed = tree.get("feed")?;
    Some(list(feed, "entry").map(atom_entry).collect())
}

/// The first `key` child of an xml2js element (children are arrays).
fn first<'a>(element: &'a Value, key: &str) -> Option<&'a Value> {
    element.get(key)?.get(0)
}

/// Every `key` child.
fn list<'a>(element: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    element
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// An element's text: itself when it is text, its `_` when it has attributes too, its markup
/// when it holds elements (XHTML content).
fn content(element: &Value) -> String {
    match element {
        Value::String(text) => text.clone(),
        Value::Object(object) => match object.get("_") {
            Some(Value::String(text)) => text.clone(),
            _ => markup(object, &BuildOptions::headless_root("div")),
        },
        other => other.to_string(),
    }
}

/// A plain field: the first `key` child's text.
fn text(element: &Value, key: &str) -> Option<String> {
    first(element, key).map(|value| match value {
        Value::Object(object) => object
            .get("_")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        other => content(other),
    })
}

/// Sets `key` when there is a value.
fn put(out: &mut ItemJson, key: &str, value: Option<String>) {
    if let Some(value) = value {
        out.insert(key, Value::String(value));
    }
}

/// `content` and its plain text under `key` and `{key}Snippet`.
fn put_content(out: &mut ItemJson, key: &str, element: Option<&Value>) {
    if let Some(body) = element.map(content) {
        let plain = snippet(&body);
        out.insert(key, Value::String(body));
        out.insert(format!("{key}Snippet"), Value::String(plain));
    }
}

fn rss_item(item: &Value) -> ItemJson {
    let mut out = ItemJson::new();
    put(&mut out, "creator", text(item, "dc:creator"));
    for key in ["title", "link", "pubDate", "author"] {
        put(&mut out, key, text(item, key));
    }
    put_content(&mut out, "content:encoded", first(item, "content:encoded"));
    if let Some(enclosure) = first(item, "enclosure").and_then(|e| e.get("$")) {
        out.insert("enclosure", enclosure.clone());
    }
    put(&mut out, "dc:creator", text(item, "dc:creator"));
    put(&mut out, "comments", text(item, "comments"));
    put_content(&mut out, "content", first(item, "description"));
    put(&mut out, "guid", text(item, "guid"));
    let categories: Vec<Value> = list(item, "category")
        .map(|c| Value::String(content(c)))
        .collect();
    if !categories.is_empty() {
        out.insert("categories", Value::Array(categories));
    }
    let date = text(item, "pubDate").or_else(|| text(item, "dc:date"));
    put(&mut out, "isoDate", date.as_deref().and_then(iso_date));
    out
}

fn atom_entry(entry: &Value) -> ItemJson {
    let mut out = ItemJson::new();
    put(&mut out, "title", first(entry, "title").map(content));
    let link = first(entry, "link").and_then(|link| link.get("$")?.get("href")?.as_str());
    put(&mut out, "link", link.map(String::from));
    let date = text(entry, "published").or_else(|| text(entry, "updated"));
    let iso = date.as_deref().and_then(iso_date);
    put(&mut out, "pubDate", iso.clone());
    let author = first(entry, "author").and_then(|author| text(author, "name"));
    put(&mut out, "author", author);
    put_content(&mut out, "content", first(entry, "content"));
    put(&mut out, "summary", first(entry, "summary").map(content));
    put(&mut out, "id", text(entry, "id"));
    put(&mut out, "isoDate", iso);
    out
}

/// A feed date as ISO 8601 UTC with milliseconds (`2024-01-02T10:00:00.000Z`).
fn iso_date(text: &str) -> Option<String> {
    let parsed = dates::parse_value(&Value::String(text.trim().to_string())).ok()??;
    Some(iso(parsed
        .in_zone(chrono_tz::UTC)
        .with_timezone(&chrono::Utc)))
}

/// `2024-01-02T10:00:00.000Z`, as JavaScript's `toISOString`.
fn iso(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// HTML as plain text: block tags end lines, other tags go, entities are decoded. A tag is a
/// block when its name starts with one of `BLOCKS` (`h1`, `hr`, `pre`...), as rss-parser reads
/// them.
fn snippet(html: &str) -> String {
    const BLOCKS: [&str; 11] = [
        "h",
        "br",
        "p",
        "ul",
        "ol",
        "li",
        "blockquote",
        "section",
        "table",
        "tr",
        "div",
    ];
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            rest = &rest[start..];
            break;
        };
        let tag = rest[start + 1..start + end].trim_start_matches('/');
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let block = !name.is_empty() && BLOCKS.iter().any(|b| name.starts_with(b));
        if block && !text.ends_with('\n') && !text.is_empty() {
            text.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    text.push_str(rest);
    decode_entities(&text).trim().to_string()
}

/// `&amp;`, `&lt;`, `&#8217;`, `&#x2019;`... as characters (HTML's named entities).
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let fragment = scraper::Html::parse_fragment(&text.replace('<', "&lt;"));
    fragment.root_element().text().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_plain_text() {
        assert_eq!(
            snippet("<p>Tom &amp; Jerry</p><p>say <b>hi</b>&#8230;</p>"),
            "Tom & Jerry\nsay hi…"
        );
        assert_eq!(snippet("  plain  "), "plain");
    }

    #[test]
    fn dates_become_iso() {
        assert_eq!(
            iso_date("Tue, 10 Mar 2026 17:06:06 +0000").as_deref(),
            Some("2026-03-10T17:06:06.000Z")
        );
        assert_eq!(
            iso_date("2025-01-02T03:04:05+02:00").as_deref(),
            Some("2025-01-02T01:04:05.000Z")
        );
        assert_eq!(iso_date("not a date"), None);
    }
}
