//! HTTP Request (typeVersion 1-4.4): one request per input item (or one series of pages per
//! item with pagination), on the process's pooled HTTP client. Unlike n8n, which fires every
//! request of a node at once, at most `options.maxConcurrency` (16) are in flight; n8n's
//! batching (`options.batching`) still spaces batches out, and Sluice's `options.rateLimit`,
//! `options.retry` and `options.cache` (one call for every item asking the same thing) shape the
//! traffic further. Outputs follow n8n item for item, in input order. With pagination the node
//! is the source of a streamed chain: its items' pages are fetched as the chain takes them
//! (`streamed_pages`). The GraphQL node (`graphql`) and the n8n API node (`n8n_api`) run on
//! the same machinery.

mod auth;
mod config;
mod errors;
mod graphql;
mod n8n_api;
mod pagination;
mod request;
mod response;
mod send;
mod shared_cache;
mod streamed_pages;
#[cfg(test)]
mod tests;

use config::HttpConfig;
use errors::Failure;
use futures_util::stream::{self, StreamExt};
use response::Reply;
use send::Sender;
use sluice_engine::{
    ExecuteContext, ItemSource, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::{Item, JsonObject, NodeDef};
use sluice_runtime::cache::{Filled, Lookup, TtlCache};
use sluice_runtime::http::Http;
use std::sync::{Arc, OnceLock};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.httpRequest",
    versions: &[1.0, 2.0, 3.0, 4.0, 4.1, 4.2, 4.3, 4.4],
    kind: NodeKind::Regular,
    factory: build,
};

pub fn specs() -> Vec<NodeSpec> {
    vec![SPEC, graphql::SPEC, n8n_api::SPEC]
}

struct HttpRequest {
    /// Shared with the streams of its paginated runs.
    config: Arc<HttpConfig>,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let config = HttpConfig::build(def, params)?;
    if let config::AuthConfig::Credential(kind) = &config.auth {
        let named = def.credentials.as_ref().and_then(|c| c.get(kind)).is_some();
        if !named {
            return Err(NodeError::new(format!(
                "a '{kind}' credential is required: the node's `credentials` names none"
            ))
            .with_parameter("authentication"));
        }
    }
    Ok(Box::new(HttpRequest {
        config: Arc::new(config),
    }))
}

#[async_trait::async_trait]
impl Node for HttpRequest {
    fn credential_types(&self) -> Vec<&str> {
        match &self.config.auth {
            config::AuthConfig::Credential(kind) => vec![kind.as_str()],
            config::AuthConfig::None | config::AuthConfig::Unknown(_) => Vec::new(),
        }
    }

    fn ignored_settings(&self) -> Vec<(&'static str, String)> {
        match &self.config.auth {
            config::AuthConfig::Unknown(value) => vec![(
                "authentication",
                format!(
                    "'{value}' is none of the authentication options: requests are sent without \
                     authentication, as n8n sends them"
                ),
            )],
            _ => Vec::new(),
        }
    }

    /// Each input item's requests become its own items; paginated, they can be read page by
    /// page.
    fn item_wise(&self) -> ItemWise {
        match self.config.pagination {
            Some(_) => ItemWise::Source,
            None => ItemWise::Barrier,
        }
    }

    /// Every input item's pages, in turn, fetched as the engine pulls their items.
    async fn item_source(&self, ctx: &ExecuteContext<'_>) -> Result<Option<ItemSource>, NodeError> {
        let Some(pagination) = &self.config.pagination else {
            return Ok(None);
        };
        let sender = self.sender(ctx)?;
        let requests = ctx
            .main_input()
            .iter()
            .enumerate()
            .map(|(i, item)| {
                request::build(ctx, &self.config, item, i)
                    .map(|spec| (i, spec))
                    .map_err(|e| e.with_item(i))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(streamed_pages::page_items(
            sender,
            pagination.clone(),
            ctx.detach(),
            requests,
        )))
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let config = &self.config;
        let sender = self.sender(ctx)?;
        let items = ctx.main_input();
        let batch = config
            .batching
            .map_or(items.len().max(1), |b| b.size.max(1));
        let mut results = Vec::with_capacity(items.len());
        for (n, start) in (0..items.len()).step_by(batch).enumerate() {
            if n > 0 {
                if let Some(batching) = config.batching {
                    ctx.clock().sleep(batching.interval).await;
                }
            }
            let end = (start + batch).min(items.len());
            let done: Vec<Result<Vec<Item>, Failure>> = stream::iter(start..end)
                .map(|i| self.run_item(ctx, &sender, &items[i], i))
                .buffered(config.max_concurrency)
                .collect()
                .await;
            results.extend(done);
        }
        let mut out = Vec::with_capacity(results.len());
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(items) => out.extend(items),
                Err(failure) if ctx.continue_on_fail() => {
                    let mut json = JsonObject::new();
                    json.insert("error".into(), failure.error_value());
                    out.push(Item::new(json).paired_to(i));
                }
                Err(failure) => return Err(failure.into_error(i)),
            }
        }
        Ok(vec![out])
    }
}

impl HttpRequest {
    /// The sender of this run's requests: the node's credential on the pooled client.
    fn sender(&self, ctx: &ExecuteContext<'_>) -> Result<Sender, NodeError> {
        let credential = match &self.config.auth {
            config::AuthConfig::Credential(kind) => {
                Some((kind.clone(), ctx.node_credential(kind)?))
            }
            config::AuthConfig::None | config::AuthConfig::Unknown(_) => None,
        };
        let client = Http::shared()
            .client(&self.config.client)
            .map_err(|e| NodeError::new(e).with_parameter("options.proxy"))?;
        Ok(Sender::new(ctx, self.config.clone(), client, credential))
    }

    /// Item `index`'s request(s) and the items they become.
    async fn run_item(
        &self,
        ctx: &ExecuteContext<'_>,
        sender: &Sender,
        item: &Item,
        index: usize,
    ) -> Result<Vec<Item>, Failure> {
        let config = &self.config;
        let mut spec =
            request::build(ctx, config, item, index).map_err(Failure::from_node_error)?;
        if let Some(format) = config.graphql {
            graphql::shape(ctx, format, &mut spec, index).map_err(Failure::from_node_error)?;
        }
        if let Some(pagination) = &config.pagination {
            return pagination::all_pages(sender, pagination, spec, index, ctx).await;
        }
        let (reply, lookup) = match &config.cache {
            Some(cache) => cached(ctx, sender, cache, &spec, index).await?,
            None => (sender.send(&spec).await?, None),
        };
        if !(200..300).contains(&reply.status) && !config.response.never_error {
            return Err(Failure::status(reply.status, &reply.text()));
        }
        let property = config.response.property(ctx, index)?;
        let mut items = response::to_items(&config.response, &reply, index, &property)?;
        if config.graphql.is_some() {
            graphql::check_errors(&items)?;
        }
        if lookup == Some(Lookup::Hit) {
            for item in &mut items {
                item.json_mut().insert("fromCache", true.into());
            }
        }
        Ok(items)
    }
}

/// The process's cached responses (successful ones only), by node and request.
fn reply_cache() -> &'static TtlCache<Reply> {
    static CACHE: OnceLock<TtlCache<Reply>> = OnceLock::new();
    CACHE.get_or_init(TtlCache::default)
}

/// What was fetched but is not kept: an error status, or a failure.
enum NotCached {
    Reply(Reply),
    Failed(Failure),
}

/// `spec`'s reply from the cache, or fetched once for every item asking the same.
async fn cached(
    ctx: &ExecuteContext<'_>,
    sender: &Sender,
    cache: &config::CacheConfig,
    spec: &request::RequestSpec,
    index: usize,
) -> Result<(Reply, Option<Lookup>), Failure> {
    let request_key = match &cache.key {
        Some(key) => sluice_expr::json_js::to_js_string(
            &ctx.resolve(key, index).map_err(Failure::from_node_error)?,
        ),
        None => spec.to_json().to_string(),
    };
    let key = format!(
        "{}\n{}\n{:?}\n{request_key}",
        ctx.workflow().id_string(),
        ctx.node().name,
        ctx.node().credentials
    );
    let fetched = reply_cache()
        .get_or_fill(&key, || async {
            if cache.store == config::CacheStore::Redis {
                if let Some((value, ttl)) =
                    shared_cache::get(&key).await.map_err(NotCached::Failed)?
                {
                    return Ok(Filled {
                        value,
                        ttl,
                        lookup: Lookup::Hit,
                    });
                }
            }
            let reply = match sender.send(spec).await {
                Ok(reply) if (200..300).contains(&reply.status) => reply,
                Ok(reply) => return Err(NotCached::Reply(reply)),
                Err(failure) => return Err(NotCached::Failed(failure)),
            };
            if cache.store == config::CacheStore::Redis {
                shared_cache::put(&key, &reply, cache.ttl)
                    .await
                    .map_err(NotCached::Failed)?;
            }
            Ok(Filled {
                value: reply,
                ttl: cache.ttl,
                lookup: Lookup::Miss,
            })
        })
        .await;
    match fetched {
        Ok((reply, lookup)) => {
            ctx.count(
                if lookup == Lookup::Hit {
                    "cacheHits"
                } else {
                    "cacheMisses"
                },
                1,
            );
            Ok((reply, Some(lookup)))
        }
        Err(NotCached::Reply(reply)) => {
            ctx.count("cacheMisses", 1);
            Ok((reply, Some(Lookup::Miss)))
        }
        Err(NotCached::Failed(failure)) => Err(failure),
    }
}
