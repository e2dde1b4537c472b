//! The answer of a Webhook in `streaming` response mode: a 200 sent at once whose body is the
//! chunks Respond to Webhook nodes write while the execution runs, one JSON line each (n8n's
//! `{"type": "begin"|"item"|"end", "content", "metadata"}`), ended when the execution ends; a
//! failed execution adds an `error` line.

use crate::app::Started;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
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
                    StreamChunk {
                        kind: ChunkKind::Error,
                        content: Some("Error in workflow".into()),
                        source: None,
                    }
                    .to_line()
                }
            };
            Some((Ok::<_, Infallible>(Bytes::from(line)), (chunks, done)))
        },
    );
    let mut response = (StatusCode::OK, Body::from_stream(lines)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
