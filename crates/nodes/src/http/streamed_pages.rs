//! Paginated HTTP Request as the node's item source in a streamed chain: the input items
//! paginate one after another, in order, and a page is fetched only once the chain has taken
//! every item of the page before it, so neither the node nor the engine holds more than a page.
//! The pages are those a whole run fetches ([`Pages`], with its expressions evaluated in a
//! context detached from the run), each item paired to the input item that started its
//! pagination. Unlike a whole run, which paginates up to `maxConcurrency` items at once, one item
//! paginates at a time; `options.batching` still waits its interval between batches of items.

use super::config::PaginationConfig;
use super::pagination::Pages;
use super::request::RequestSpec;
use super::send::Sender;
use futures_util::{stream, StreamExt};
use sluice_engine::{DetachedContext, ItemSource};
use sluice_model::Item;

/// What the stream owns between two items.
struct PageReader {
    sender: Sender,
    pagination: PaginationConfig,
    resolver: DetachedContext,
    /// Each input item's first request, with the item's index, in input order.
    requests: std::vec::IntoIter<(usize, RequestSpec)>,
    /// The pagination of the item being read.
    current: Option<Pages>,
    /// What the chain has not taken yet of the last page.
    page: std::vec::IntoIter<Item>,
}

impl PageReader {
    /// The wait before item `index`'s pagination: `options.batching`'s interval when it starts
    /// a batch after the first.
    async fn wait_for_batch(&self, index: usize) {
        if let Some(batching) = self.sender.config.batching {
            if index > 0 && index.is_multiple_of(batching.size.max(1)) {
                self.sender.clock().sleep(batching.interval).await;
            }
        }
    }
}

/// The items of every page of `requests`, item after item; the first failure ends the stream,
/// naming its input item.
pub(super) fn page_items(
    sender: Sender,
    pagination: PaginationConfig,
    resolver: DetachedContext,
    requests: Vec<(usize, RequestSpec)>,
) -> ItemSource {
    let reader = PageReader {
        sender,
        pagination,
        resolver,
        requests: requests.into_iter(),
        current: None,
        page: Vec::new().into_iter(),
    };
    stream::try_unfold(reader, |mut reader| async move {
        loop {
            if let Some(item) = reader.page.next() {
                return Ok(Some((item, reader)));
            }
            if let Some(pages) = &mut reader.current {
                let next = pages
                    .next_page(&reader.sender, &reader.pagination, &reader.resolver)
                    .await
                    .map_err(|failure| failure.into_error(pages.index()))?;
                match next {
                    Some(items) => reader.page = items.into_iter(),
                    None => reader.current = None,
                }
                continue;
            }
            let Some((index, spec)) = reader.requests.next() else {
                return Ok(None);
            };
            reader.wait_for_batch(index).await;
            let pages = Pages::start(&reader.pagination, spec, index, &reader.resolver)
                .map_err(|failure| failure.into_error(index))?;
            reader.current = Some(pages);
        }
    })
    .boxed()
}
