//! Request bodies for the API and webhooks: read within the payload limit
//! (`N8N_PAYLOAD_SIZE_MAX`) and parsed as JSON, with n8n's error answers.

use crate::error::ApiError;
use axum::http::StatusCode;

/// Read a request body of at most `limit` bytes (413 JSON beyond it).
pub async fn read_body(body: axum::body::Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Request body is larger than the limit of {} MB (N8N_PAYLOAD_SIZE_MAX)",
                limit / (1024 * 1024)
            ),
        )
    })
}

/// Parse a JSON body (400 JSON when it is not JSON).
pub fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("Failed to parse request body as JSON: {e}")))
}
