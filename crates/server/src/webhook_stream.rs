//! The answer of a Webhook in `streaming` response mode: a 200 sent at once whose body is the
//! chunks Respond to Webhook nodes write while the execution runs, one JSON line each (n8n's
//! `{"type": "begin"|"item"|"end", "content", "metadata"}`), ended when the execution ends; a
//! failed execution adds an `error` line. In queue mode the lines come from the worker through
//! the queue's replies (see `queued`) and are answered the same way.

use crate::app::Started;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use sluice_engine::{ChunkKind, RunStatus, StreamChunk};
use std::convert::Infallible;

/// The streamed answer of an execution started `streamed`: every chunk its nodes write until
/// it ends, then an error line when it failed.
pub fn response(started: Started) -> Response {
    let lines = futures_util::stream::unfold(
        (started.chunks, Some(started.done)),
        |(mut chunks, mut done)| async move {
            let next = match chunks.as_mut() {
                Some(chunks) => chunks.recv().await,
                None => None,
            };
            let line = match next {
                Some(chunk) => chunk.to_line(),
                None => {
                    let failed = match done.take()?.await {
                        Ok(outcome) => outcome.status == RunStatus::Error,
                        Err(_) => true,
                    };
                    if !failed {
                        return None;
                    }
                    error_line("Error in workflow")
                }
            };
            Some((line, (chunks, done)))
        },
    );
    streamed(lines)
}

/// The `error` line that ends the answer of a failed execution.
pub fn error_line(message: &str) -> String {
    StreamChunk {
        kind: ChunkKind::Error,
        content: Some(message.into()),
        source: None,
    }
    .to_line()
}

/// A 200 whose body is `lines`, sent as they come.
pub fn streamed(lines: impl Stream<Item = String> + Send + 'static) -> Response {
    use futures_util::StreamExt;
    let body = Body::from_stream(lines.map(|line| Ok::<_, Infallible>(Bytes::from(line))));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
