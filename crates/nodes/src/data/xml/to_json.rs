//! XML text to JSON with xml2js's rules: attributes under `$` (or merged into the element),
//! text under `_` (or the element's value when it has nothing else), repeated children as arrays,
//! empty elements as `""`, every value a string.

use super::config::ParseOptions;
use quick_xml::events::Event;
use quick_xml::Reader;
use sluice_model::{JsonObject, Value};

struct Open {
    name: String,
    object: JsonObject,
    text: String,
    cdata: bool,
}

/// Parse `xml` into a JSON value.
pub fn parse(xml: &str, options: &ParseOptions) -> Result<Value, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<(String, Value)> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("invalid XML at position {}: {e}", reader.buffer_position()))?;
        let is_empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(tag) | Event::Empty(tag) => {
                let mut name = String::from_utf8_lossy(tag.name().as_ref()).into_owned();
                if options.normalize_tags {
                    name = name.to_lowercase();
                }
                let mut object = JsonObject::new();
                if !options.ignore_attrs {
                    let mut attrs = JsonObject::new();
                    for attr in tag.attributes() {
                        let attr = attr.map_err(|e| format!("invalid XML attribute: {e}"))?;
                        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
                        let value = attr
                            .unescape_value()
                            .map_err(|e| format!("invalid XML attribute value: {e}"))?
                            .into_owned();
                        if options.merge_attrs {
                            add_child(
                                &mut object,
                                key,
                                Value::String(value),
                                options.explicit_array,
                            );
                        } else {
                            attrs.insert(key, Value::String(value));
                        }
                    }
                    if !attrs.is_empty() {
                        object.insert(options.attr_key.clone(), Value::Object(attrs));
                    }
                }
                stack.push(Open {
                    name,
                    object,
                    text: String::new(),
                    cdata: false,
                });
                if is_empty {
                    close(&mut stack, &mut root, options);
                }
            }
            Event::End(_) => close(&mut stack, &mut root, options),
            Event::Text(text) => {
                if let Some(open) = stack.last_mut() {
                    let text = text
                        .unescape()
                        .map_err(|e| format!("invalid XML text: {e}"))?;
                    open.text.push_str(&text);
                }
            }
            Event::CData(data) => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&String::from_utf8_lossy(&data));
                    open.cdata = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("invalid XML: unclosed element".into());
    }
    let (name, value) = root.ok_or("invalid XML: no root element")?;
    Ok(if options.explicit_root {
        let mut wrapper = JsonObject::new();
        wrapper.insert(name, value);
        Value::Object(wrapper)
    } else {
        value
    })
}

/// Add `value` under `key`: a second occurrence turns the entry into an array.
fn add_child(object: &mut JsonObject, key: String, value: Value, explicit_array: bool) {
    match object.get_mut(&key) {
        Some(Value::Array(list)) => list.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            object.insert(
                key,
                if explicit_array {
                    Value::Array(vec![value])
                } else {
                    value
                },
            );
        }
    }
}

fn close(stack: &mut Vec<Open>, root: &mut Option<(String, Value)>, options: &ParseOptions) {
    let Some(Open {
        name,
        mut object,
        mut text,
        cdata,
    }) = stack.pop()
    else {
        return;
    };
    if options.trim {
        text = text.trim().to_string();
    }
    if options.normalize {
        text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    let blank = text.trim().is_empty() && !cdata;
    let value = if blank && object.is_empty() {
        // xml2js keeps the (whitespace) text of an otherwise empty element.
        Value::String(text)
    } else if blank {
        Value::Object(object)
    } else if object.is_empty() && !options.explicit_charkey {
        Value::String(text)
    } else {
        let mut with_text = JsonObject::new();
        with_text.insert(options.char_key.clone(), Value::String(text));
        with_text.extend(object);
        object = with_text;
        Value::Object(object)
    };
    match stack.last_mut() {
        Some(parent) => add_child(&mut parent.object, name, value, options.explicit_array),
        None => *root = Some((name, value)),
    }
}
