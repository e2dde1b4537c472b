//! How HTTP Request fails, in n8n's shapes: a node error with n8n's message for the status code
//! (and the response body as its description), or, under `continueOnFail` / the error output,
//! an item: `{error: "message"}` for problems found before sending or while reading the body,
//! `{error: {message, name, ...}}` for failed requests (with `statusCode` and `isAxiosError` for
//! HTTP errors, as n8n's request library reports them).

use sluice_engine::NodeError;
use sluice_model::{JsonObject, Value};

/// One item's failure.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    /// Boxed: a `Result<_, Failure>` stays small on the hot path.
    pub error: Box<NodeError>,
    /// The error object of an error item; `None` for a plain `{error: message}` item.
    pub object: Option<JsonObject>,
}

impl Failure {
    /// A failure reported as `{error: message}`.
    pub fn item(message: impl Into<String>) -> Self {
        Failure {
            error: Box::new(NodeError::new(message)),
            object: None,
        }
    }

    pub fn from_node_error(error: NodeError) -> Self {
        Failure {
            error: Box::new(error),
            object: None,
        }
    }

    /// A failure of the node's own logic while requesting (n8n's `NodeOperationError`).
    pub fn operation(message: impl Into<String>, description: impl Into<String>) -> Self {
        let error = NodeError::new(message).with_description(description);
        let mut object = JsonObject::new();
        object.insert("message".into(), error.message.clone().into());
        object.insert("name".into(), "NodeOperationError".into());
        object.insert(
            "description".into(),
            error.description.clone().unwrap_or_default().into(),
        );
        object.insert("context".into(), Value::Object(JsonObject::new()));
        Failure {
            error: Box::new(error),
            object: Some(object),
        }
    }

    /// The request could not be sent or got no answer.
    pub fn transport(message: impl Into<String>, code: &str) -> Self {
        let error = NodeError::new(message);
        let mut object = JsonObject::new();
        object.insert("message".into(), error.message.clone().into());
        object.insert("name".into(), "NodeApiError".into());
        object.insert("code".into(), code.into());
        object.insert("context".into(), Value::Object(JsonObject::new()));
        Failure {
            error: Box::new(error),
            object: Some(object),
        }
    }

    /// An answer with an error status (and `body_text`, cut to 1,000 characters).
    pub fn status(status: u16, body_text: &str) -> Self {
        let mut description: String = body_text.chars().take(1000).collect();
        if status == 429 {
            description = TOO_MANY_REQUESTS_HINT.into();
        } else if description.trim().is_empty() {
            description = format!("{status} - no response body");
        }
        let error = NodeError::new(status_message(status)).with_description(description.clone());
        let mut object = JsonObject::new();
        object.insert(
            "message".into(),
            format!("Request failed with status code {status}").into(),
        );
        object.insert("name".into(), "AxiosError".into());
        object.insert("description".into(), description.into());
        object.insert(
            "code".into(),
            if status >= 500 {
                "ERR_BAD_RESPONSE"
            } else {
                "ERR_BAD_REQUEST"
            }
            .into(),
        );
        object.insert("status".into(), status.into());
        object.insert("statusCode".into(), status.into());
        object.insert("isAxiosError".into(), true.into());
        Failure {
            error: Box::new(error),
            object: Some(object),
        }
    }

    /// The node's error for input item `index`'s failure.
    pub fn into_error(self, index: usize) -> NodeError {
        (*self.error).with_item(index)
    }

    /// The output item's `error` value.
    pub fn error_value(&self) -> Value {
        match &self.object {
            Some(object) => Value::Object(object.clone()),
            None => Value::String(self.error.message.clone()),
        }
    }
}

/// n8n's message for an HTTP error status.
pub(crate) fn status_message(status: u16) -> &'static str {
    match status {
        400 => "Bad request - please check your parameters",
        401 => "Authorization failed - please check your credentials",
        403 => "Forbidden - perhaps check your credentials?",
        404 => "The resource you are requesting could not be found",
        405 => "Method not allowed - please check you are using the right HTTP method",
        429 => "The service is receiving too many requests from you",
        500 => "The service was not able to process your request",
        502 => "Bad gateway - the service failed to handle your request",
        503 => {
            "Service unavailable - try again later or consider setting this node to retry \
             automatically (in the node settings)"
        }
        504 => "Gateway timed out - perhaps try again later?",
        s if s >= 500 => "The service failed to process your request",
        _ => "Your request is invalid or could not be processed by the service",
    }
}

/// The description n8n gives a 429 (it asks to space requests out).
const TOO_MANY_REQUESTS_HINT: &str =
    "Try spacing your requests out using the batching settings under 'Options'";
