//! n8n Form Trigger (v1 to v2.3): `sluice serve` shows the form at `/form/<path>` (and
//! `/form-test/<path>` for any saved workflow) and starts an execution when it is submitted.
//! The parameters are read once, when the workflow is built: the form's page is rendered from
//! them, a submission becomes the trigger's item (`{<field label>: value, ..., submittedAt,
//! formMode}`, as n8n's), and the answer after a submission follows `responseMode`.
//!
//! Field types: text, email, password, textarea, number (a number in the item), date (its
//! `YYYY-MM-DD` text), dropdown (a list with `multiselect`), hidden field (its `fieldName`),
//! file (the files as binary properties named after the field, their names in the item) and
//! custom HTML (shown, not submitted).

use super::pass_through;
use super::webhook::{AllowedOrigins, Auth, ResponseData, ResponseMode, WebhookConfig};
use crate::util::html::escape;
use crate::util::params::Reader;
use crate::util::values::as_text;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sluice_engine::{NodeError, NodeKind, NodeSpec, Param};
use sluice_expr::json_js::number_to_json;
use sluice_model::{Item, ItemJson, JsonObject, NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.formTrigger",
    versions: &[1.0, 2.0, 2.1, 2.2, 2.3],
    kind: NodeKind::Trigger,
    factory: |def, _| {
        FormConfig::from_node(def)?;
        pass_through(def, &Param::Literal(Value::Null))
    },
};

/// The text shown after a submission when the form sets none (n8n's).
const SUBMITTED_TEXT: &str = "Your response has been recorded";

#[derive(Clone, Debug, PartialEq)]
pub enum FieldKind {
    Text,
    Email,
    Password,
    Textarea,
    Number,
    Date,
    Dropdown {
        options: Vec<String>,
        multiple: bool,
    },
    Hidden {
        name: String,
        value: String,
    },
    File {
        multiple: bool,
        accept: String,
    },
    Html(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct FormField {
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    pub placeholder: String,
}

/// What the person who submitted the form sees next.
#[derive(Clone, Debug, PartialEq)]
pub enum Completion {
    Text(String),
    Redirect(String),
}

#[derive(Clone, Debug)]
pub struct FormConfig {
    pub title: String,
    pub description: String,
    pub fields: Vec<FormField>,
    pub button_label: String,
    pub completion: Completion,
    /// How the submission is answered, and where the form is served, as a webhook's.
    pub webhook: WebhookConfig,
    /// `useWorkflowTimezone`: `submittedAt` in the workflow's time zone rather than UTC.
    pub workflow_timezone: bool,
}

/// One submitted value: a field's text, or a file as its binary property.
pub enum Submitted {
    Text(String),
    File {
        file_name: String,
        binary: JsonObject,
    },
}

impl FormConfig {
    pub fn from_node(def: &NodeDef) -> Result<Self, NodeError> {
        let p = &def.parameters;
        let r = Reader::new(p);
        let bad = |param: &str, message: String| NodeError::new(message).with_parameter(param);
        let fixed = |param: &str| -> Result<String, NodeError> {
            match r.text(param)? {
                Some(text) if text.starts_with('=') => {
                    Err(bad(param, "must be a fixed text, not an expression".into()))
                }
                text => Ok(text.unwrap_or_default().to_string()),
            }
        };
        // The path: `options.path` (v2.2+) or `path`, else the node's webhook id, as n8n.
        let path = [fixed("options.path")?, fixed("path")?]
            .into_iter()
            .map(|p| p.trim_matches('/').to_string())
            .find(|p| !p.is_empty())
            .or_else(|| {
                def.extra
                    .get("webhookId")
                    .and_then(Value::as_str)
                    .map(String::from)
            })
            .ok_or_else(|| bad("path", "the form needs a path (or a webhookId)".into()))?;
        let fields = p["formFields"]["values"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, field)| form_field(i, field))
            .collect::<Result<Vec<_>, _>>()?;
        let response_mode = match r.str_or("responseMode", "onReceived")? {
            "onReceived" => ResponseMode::OnReceived,
            "lastNode" => ResponseMode::LastNode,
            "responseNode" => ResponseMode::ResponseNode,
            other => {
                return Err(bad(
                    "responseMode",
                    format!("response mode '{other}' is not supported"),
                ))
            }
        };
        let respond_with = &p["options"]["respondWithOptions"]["values"];
        let completion = match respond_with["respondWith"].as_str() {
            Some("redirect") => Completion::Redirect(as_text(&respond_with["redirectUrl"])),
            _ => Completion::Text(
                [
                    &respond_with["formSubmittedText"],
                    &p["options"]["formSubmittedText"],
                ]
                .into_iter()
                .map(as_text)
                .find(|text| !text.is_empty())
                .unwrap_or_else(|| SUBMITTED_TEXT.to_string()),
            ),
        };
        let title = fixed("formTitle")?;
        // The answer after a submission: the completion page (once the workflow ended, in
        // `lastNode` mode) or a redirect; Respond to Webhook's own in `responseNode` mode.
        let (response_code, response_headers, page) = match &completion {
            Completion::Redirect(url) => (302, vec![("Location".to_string(), url.clone())], None),
            Completion::Text(text) => (200, Vec::new(), Some(completion_page(&title, text, ""))),
        };
        let webhook = WebhookConfig {
            methods: vec!["POST".into()],
            path: path.split('/').map(String::from).collect(),
            auth: Auth::None,
            response_mode,
            response_code,
            response_data: page
                .clone()
                .map_or(ResponseData::NoData, ResponseData::Text),
            no_response_body: page.is_none(),
            received_body: page,
            response_content_type: Some("text/html; charset=utf-8".into()),
            response_headers,
            response_property_name: None,
            binary_property: "data".into(),
            number_files: false,
            raw_body: false,
            ip_whitelist: None,
            allowed_origins: AllowedOrigins::Any,
            ignore_bots: r.bool_or("options.ignoreBots", false)?,
        };
        Ok(FormConfig {
            title,
            description: fixed("formDescription")?,
            fields,
            button_label: Some(fixed("options.buttonLabel")?)
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| "Submit".into()),
            completion,
            webhook,
            workflow_timezone: r.bool_or("options.useWorkflowTimezone", false)?,
        })
    }

    /// A workflow holding a Form Ending (see `form_ending`) answers the submission from there,
    /// whatever `responseMode` says: the server waits for that answer as it does for Respond
    /// to Webhook's, and the answer brings its own content type.
    pub fn answered_by_ending(&mut self) {
        self.webhook.response_mode = ResponseMode::ResponseNode;
        self.webhook.response_content_type = None;
    }

    /// The form's page; it posts to `action`.
    pub fn page(&self, action: &str) -> String {
        let mut fields = String::new();
        for (i, field) in self.fields.iter().enumerate() {
            fields.push_str(&field_html(i, field));
        }
        let description = match self.description.is_empty() {
            true => String::new(),
            false => format!("<p>{}</p>", escape(&self.description)),
        };
        page(
            &self.title,
            &format!(
                "<h1>{}</h1>{description}<form method=\"post\" action=\"{}\" \
                 enctype=\"multipart/form-data\">{fields}<button type=\"submit\">{}</button></form>",
                escape(&self.title),
                escape(action),
                escape(&self.button_label)
            ),
        )
    }

    /// The trigger's item for a submission: `form` holds each value under its input's name
    /// (`field-<index>`). `Err` names a required field left empty or a number that is none.
    pub fn submission(
        &self,
        form: &[(String, Submitted)],
        now: DateTime<Utc>,
        workflow_timezone: Tz,
        test: bool,
    ) -> Result<Item, String> {
        let mut json = ItemJson::with_capacity(self.fields.len() + 2);
        let mut binary = JsonObject::new();
        for (i, field) in self.fields.iter().enumerate() {
            let name = format!("field-{i}");
            let (mut texts, mut files) = (Vec::new(), Vec::new());
            for (_, value) in form.iter().filter(|(n, _)| *n == name) {
                match value {
                    Submitted::Text(t) => texts.push(t.as_str()),
                    Submitted::File { file_name, binary } => files.push((file_name, binary)),
                }
            }
            let text = texts.first().copied().unwrap_or_default().trim();
            let empty = match &field.kind {
                FieldKind::File { .. } => files.is_empty(),
                FieldKind::Html(_) => false,
                _ => texts.iter().all(|t| t.trim().is_empty()),
            };
            if field.required && empty {
                return Err(format!("the field '{}' is required", field.label));
            }
            let (key, value) = match &field.kind {
                FieldKind::Html(_) => continue,
                FieldKind::Number if text.is_empty() => (field.label.clone(), Value::Null),
                FieldKind::Number => {
                    let number = text.parse::<f64>().ok().filter(|n| n.is_finite());
                    let number = number.ok_or_else(|| {
                        format!("the field '{}' needs a number, not '{text}'", field.label)
                    })?;
                    (field.label.clone(), number_to_json(number))
                }
                FieldKind::Dropdown { multiple: true, .. } => (
                    field.label.clone(),
                    Value::Array(texts.iter().map(|t| Value::from(*t)).collect()),
                ),
                FieldKind::Hidden { name, .. } => (name.clone(), Value::from(text)),
                FieldKind::File { .. } => {
                    let mut names = Vec::new();
                    for (n, (file_name, file)) in files.iter().enumerate() {
                        let property = match files.len() {
                            1 => field.label.clone(),
                            _ => format!("{}_{n}", field.label),
                        };
                        binary.insert(property, Value::Object((*file).clone()));
                        names.push(Value::from(file_name.as_str()));
                    }
                    (field.label.clone(), Value::Array(names))
                }
                _ => (field.label.clone(), Value::from(text)),
            };
            json.insert(key, value);
        }
        let tz = match self.workflow_timezone {
            true => workflow_timezone,
            false => Tz::UTC,
        };
        json.insert(
            "submittedAt",
            now.with_timezone(&tz)
                .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
                .to_string()
                .into(),
        );
        json.insert("formMode", if test { "test" } else { "production" }.into());
        let mut item = Item::new(json);
        if !binary.is_empty() {
            item.binary = Some(std::sync::Arc::new(binary));
        }
        Ok(item)
    }
}

fn form_field(index: usize, field: &Value) -> Result<FormField, NodeError> {
    let param = |name: &str| format!("formFields.values[{index}].{name}");
    let text = |name: &str| as_text(&field[name]);
    let label = text("fieldLabel");
    let kind = match field["fieldType"].as_str().unwrap_or("text") {
        "text" => FieldKind::Text,
        "email" => FieldKind::Email,
        "password" => FieldKind::Password,
        "textarea" => FieldKind::Textarea,
        "number" => FieldKind::Number,
        "date" => FieldKind::Date,
        "dropdown" => FieldKind::Dropdown {
            options: field["fieldOptions"]["values"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|o| as_text(&o["option"]))
                .collect(),
            multiple: field["multiselect"].as_bool().unwrap_or(false),
        },
        "hiddenField" => FieldKind::Hidden {
            name: Some(text("fieldName"))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| label.clone()),
            value: text("fieldValue"),
        },
        "file" => FieldKind::File {
            multiple: field["multipleFiles"].as_bool().unwrap_or(true),
            accept: text("acceptFileTypes"),
        },
        "html" => {
            let html = text("html");
            if html.to_ascii_lowercase().contains("<script") {
                return Err(
                    NodeError::new("custom HTML cannot hold scripts").with_parameter(param("html"))
                );
            }
            FieldKind::Html(html)
        }
        other => {
            return Err(
                NodeError::new(format!("field type '{other}' is not supported"))
                    .with_parameter(param("fieldType")),
            )
        }
    };
    if label.is_empty() && !matches!(kind, FieldKind::Html(_) | FieldKind::Hidden { .. }) {
        return Err(
            NodeError::new("a form field needs a label").with_parameter(param("fieldLabel"))
        );
    }
    Ok(FormField {
        label,
        kind,
        required: field["requiredField"].as_bool().unwrap_or(false),
        placeholder: text("placeholder"),
    })
}

/// One field's label and input, named `field-<index>`.
fn field_html(index: usize, field: &FormField) -> String {
    let name = format!("field-{index}");
    let required = if field.required { " required" } else { "" };
    let placeholder = match field.placeholder.is_empty() {
        true => String::new(),
        false => format!(" placeholder=\"{}\"", escape(&field.placeholder)),
    };
    let input = |kind: &str| {
        format!("<input type=\"{kind}\" id=\"{name}\" name=\"{name}\"{placeholder}{required}>")
    };
    let control = match &field.kind {
        FieldKind::Text => input("text"),
        FieldKind::Email => input("email"),
        FieldKind::Password => input("password"),
        FieldKind::Number => format!(
            "<input type=\"number\" step=\"any\" id=\"{name}\" name=\"{name}\"{placeholder}{required}>"
        ),
        FieldKind::Date => input("date"),
        FieldKind::Textarea => {
            format!("<textarea id=\"{name}\" name=\"{name}\"{placeholder}{required}></textarea>")
        }
        FieldKind::Dropdown { options, multiple } => {
            let options: String = options
                .iter()
                .map(|o| format!("<option>{}</option>", escape(o)))
                .collect();
            let multiple = if *multiple { " multiple" } else { "" };
            format!("<select id=\"{name}\" name=\"{name}\"{multiple}{required}>{options}</select>")
        }
        FieldKind::Hidden { value, .. } => {
            return format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(value)
            )
        }
        FieldKind::File { multiple, accept } => {
            let multiple = if *multiple { " multiple" } else { "" };
            let accept = match accept.is_empty() {
                true => String::new(),
                false => format!(" accept=\"{}\"", escape(accept)),
            };
            format!("<input type=\"file\" id=\"{name}\" name=\"{name}\"{accept}{multiple}{required}>")
        }
        // The workflow's author wrote it (without scripts, see `form_field`): shown as written.
        FieldKind::Html(html) => return format!("<div class=\"html\">{html}</div>"),
    };
    format!(
        "<label for=\"{name}\">{}{}</label>{control}",
        escape(&field.label),
        if field.required { " *" } else { "" }
    )
}

/// The page shown after a submission: a heading and, when there is one, a message.
pub(super) fn completion_page(title: &str, heading: &str, message: &str) -> String {
    let message = match message.is_empty() {
        true => String::new(),
        false => format!("<p>{}</p>", escape(message)),
    };
    page(title, &format!("<h1>{}</h1>{message}", escape(heading)))
}

/// A whole page around `body`.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>\
         body{{font-family:system-ui,sans-serif;background:#f5f5f7;margin:0;padding:2rem}}\
         main{{max-width:32rem;margin:auto;background:#fff;padding:2rem;border-radius:8px}}\
         label{{display:block;margin:1rem 0 .3rem;font-weight:600}}\
         input,select,textarea{{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}}\
         button{{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit}}\
         </style></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(parameters: Value) -> Result<FormConfig, NodeError> {
        let def: NodeDef = serde_json::from_value(json!({
            "name": "Form", "type": SPEC.node_type, "typeVersion": 2.2, "position": [0, 0],
            "webhookId": "f00d", "parameters": parameters}))
        .unwrap();
        FormConfig::from_node(&def)
    }

    #[test]
    fn the_path_is_the_option_then_the_parameter_then_the_webhook_id() {
        let path = |p: Value| config(p).unwrap().webhook.path.join("/");
        assert_eq!(path(json!({})), "f00d");
        assert_eq!(path(json!({"path": "/a/"})), "a");
        assert_eq!(path(json!({"path": "a", "options": {"path": "b"}})), "b");
    }

    #[test]
    fn several_files_are_numbered_and_submitted_at_can_follow_the_workflow_time_zone() {
        let form = config(json!({
            "formFields": {"values": [{"fieldLabel": "Files", "fieldType": "file"}]},
            "options": {"useWorkflowTimezone": true}}))
        .unwrap();
        let file = |name: &str| Submitted::File {
            file_name: name.into(),
            binary: JsonObject::from_iter([("fileName".to_string(), Value::from(name))]),
        };
        let submitted = [
            ("field-0".to_string(), file("a.txt")),
            ("field-0".to_string(), file("b.txt")),
        ];
        let now = "2026-12-08T10:00:00Z".parse().unwrap();
        let item = form
            .submission(&submitted, now, chrono_tz::Europe::Berlin, false)
            .unwrap();
        assert_eq!(
            Value::from((*item.json).clone()),
            json!({"Files": ["a.txt", "b.txt"], "submittedAt": "2026-12-08T11:00:00.000+01:00",
                   "formMode": "production"})
        );
        let binary = item.binary.expect("the files");
        let names: Vec<&str> = binary.keys().map(String::as_str).collect();
        assert_eq!(names, ["Files_0", "Files_1"]);
        assert_eq!(binary["Files_1"]["fileName"], json!("b.txt"));
    }

    #[test]
    fn unknown_fields_and_scripts_are_refused_naming_the_parameter() {
        let error = config(json!({"formFields": {"values": [
            {"fieldLabel": "A"}, {"fieldLabel": "B", "fieldType": "signature"}]}}))
        .unwrap_err();
        assert_eq!(
            error.parameter.as_deref(),
            Some("formFields.values[1].fieldType")
        );
        let error = config(json!({"formFields": {"values": [
            {"fieldType": "html", "html": "<p>hi</p><SCRIPT>alert(1)</SCRIPT>"}]}}))
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("custom HTML cannot hold scripts"),
            "{error}"
        );
    }
}
