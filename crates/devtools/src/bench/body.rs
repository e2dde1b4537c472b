//! Request bodies for `sluice bench`: a file sent as is, or a template whose placeholders make
//! each request differ (`{{n}}` the request's number from 1, `{{uuid}}` a random UUID,
//! `{{random:a,b,c}}` one of the listed values), so caches and dedup keys see distinct work.

use bytes::Bytes;

/// The body every request carries.
pub enum Body {
    Empty,
    Fixed(Bytes),
    Template(Template),
}

impl Body {
    /// The body of request number `n`.
    pub fn render(&self, n: u64, rng: &mut fastrand::Rng) -> Bytes {
        match self {
            Body::Empty => Bytes::new(),
            Body::Fixed(bytes) => bytes.clone(),
            Body::Template(template) => Bytes::from(template.render(n, rng)),
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Body::Empty)
    }
}

/// A body template parsed once into text and placeholders.
#[derive(Debug, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, PartialEq)]
enum Part {
    Text(String),
    Number,
    Uuid,
    Choice(Vec<String>),
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let close = rest[open..].find("}}").ok_or_else(|| {
                format!(
                    "body template: '{{{{' without '}}}}' at '{}'",
                    &rest[open..]
                )
            })?;
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            parts.push(Part::placeholder(rest[open + 2..open + close].trim())?);
            rest = &rest[open + close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    pub fn render(&self, n: u64, rng: &mut fastrand::Rng) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Number => out.push_str(&n.to_string()),
                Part::Uuid => {
                    let bytes = rng.u128(..).to_le_bytes();
                    out.push_str(
                        &uuid::Builder::from_random_bytes(bytes)
                            .into_uuid()
                            .to_string(),
                    );
                }
                Part::Choice(values) => out.push_str(&values[rng.usize(..values.len())]),
            }
        }
        out
    }
}

impl Part {
    fn placeholder(name: &str) -> Result<Part, String> {
        match name {
            "n" => Ok(Part::Number),
            "uuid" => Ok(Part::Uuid),
            _ => match name.strip_prefix("random:") {
                Some(list) if !list.trim().is_empty() => Ok(Part::Choice(
                    list.split(',').map(|value| value.trim().to_string()).collect(),
                )),
                _ => Err(format!(
                    "body template: unknown placeholder '{{{{{name}}}}}' (expected {{{{n}}}}, {{{{uuid}}}} or {{{{random:a,b,c}}}})"
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_vary_per_request() {
        let template = Template::parse(
            r#"{"id": {{n}}, "key": "{{ uuid }}", "tier": "{{random:gold, silver}}"}"#,
        )
        .unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let first: serde_json::Value = serde_json::from_str(&template.render(1, &mut rng)).unwrap();
        let second: serde_json::Value =
            serde_json::from_str(&template.render(2, &mut rng)).unwrap();
        assert_eq!(first["id"], 1);
        assert_eq!(second["id"], 2);
        let key = first["key"].as_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(key).unwrap().get_version_num(), 4);
        assert_ne!(first["key"], second["key"]);
        assert!(["gold", "silver"].contains(&first["tier"].as_str().unwrap()));
    }

    #[test]
    fn plain_text_is_one_part() {
        let template = Template::parse("no placeholders").unwrap();
        assert_eq!(
            template.render(9, &mut fastrand::Rng::new()),
            "no placeholders"
        );
    }

    #[test]
    fn bad_placeholders_are_named() {
        let unknown = Template::parse("{{nope}}").unwrap_err();
        assert!(
            unknown.contains("unknown placeholder '{{nope}}'"),
            "{unknown}"
        );
        assert!(Template::parse("{{random:}}").is_err());
        assert!(Template::parse("x {{n").unwrap_err().contains("without"));
    }
}
