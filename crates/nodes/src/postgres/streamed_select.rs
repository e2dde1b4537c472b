//! select with `returnAll` as the node's item source in a streamed chain: the input items'
//! selects run one after another on one pooled connection, owned by the stream while it runs,
//! and each row becomes an item, paired to its input item, as it arrives (`query_raw`). Neither
//! the client nor the engine holds the whole result: the server is held back by TCP flow
//! control until the chain pulls the next chunk. Each select runs on its own, outside a
//! transaction: under READ COMMITTED, Postgres' default, every statement sees a snapshot of its
//! own either way, so the items are those `execute` gives.

use super::batching::{bound_statement_cache, pg_error};
use super::decode::row_to_json;
use super::sql::TextParam;
use deadpool_postgres::Object;
use futures_util::{stream, StreamExt};
use sluice_engine::{ItemSource, NodeError};
use sluice_model::Item;
use std::pin::Pin;
use tokio_postgres::RowStream;

/// One input item's select: the item's index, the SQL and its parameters.
pub(super) type ItemSelect = (usize, (String, Vec<TextParam>));

/// What the stream owns between two rows.
struct Reader {
    /// The connection; `None` only while the reader is dropped.
    client: Option<Object>,
    selects: std::vec::IntoIter<ItemSelect>,
    /// The rows of the select being read, with its item's index.
    current: Option<(usize, Pin<Box<RowStream>>)>,
    large_numbers_as_text: bool,
}

impl Reader {
    fn client(&self) -> &Object {
        self.client.as_ref().expect("the reader's connection")
    }

    /// Send one select; its rows come as they are read.
    async fn start(&self, sql: &str, params: &[TextParam]) -> Result<RowStream, NodeError> {
        let client = self.client();
        let statement = client.prepare_cached(sql).await.map_err(|e| pg_error(&e))?;
        client
            .query_raw(&statement, params.iter())
            .await
            .map_err(|e| pg_error(&e))
    }
}

impl Drop for Reader {
    /// A select given up half-way (the chain failed, the execution was stopped) still has rows
    /// coming, which the connection reads to the end before it answers anything else: it
    /// leaves the pool rather than hold up its next user, and closes once they are read.
    fn drop(&mut self) {
        if let (Some(_), Some(client)) = (&self.current, self.client.take()) {
            drop(Object::take(client));
        }
    }
}

/// The rows of `selects`, in order, as items; the first failure ends the stream, naming its item.
pub(super) fn select_rows(
    client: Object,
    selects: Vec<ItemSelect>,
    large_numbers_as_text: bool,
) -> ItemSource {
    bound_statement_cache(&client);
    let reader = Reader {
        client: Some(client),
        selects: selects.into_iter(),
        current: None,
        large_numbers_as_text,
    };
    stream::try_unfold(reader, |mut reader| async move {
        loop {
            if let Some((index, rows)) = &mut reader.current {
                let index = *index;
                match rows.next().await {
                    Some(Ok(row)) => {
                        let json = row_to_json(&row, 0, reader.large_numbers_as_text);
                        return Ok(Some((Item::new(json).paired_to(index), reader)));
                    }
                    Some(Err(e)) => {
                        // The select has ended: the connection may go back to the pool.
                        reader.current.take();
                        return Err(pg_error(&e).with_item(index));
                    }
                    None => reader.current = None,
                }
            }
            let Some((index, (sql, params))) = reader.selects.next() else {
                return Ok(None);
            };
            let rows = reader
                .start(&sql, &params)
                .await
                .map_err(|e| e.with_item(index))?;
            reader.current = Some((index, Box::pin(rows)));
        }
    })
    .boxed()
}
