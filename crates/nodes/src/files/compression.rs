//! Compression (`compression` v1, v1.1): `compress` packs binary properties into one zip file
//! or gzips each; `decompress` unpacks zip and gzip files into properties `<outputPrefix><n>`.

use crate::files::per_item;
use crate::util::binary;
use crate::util::params::text_param;
use crate::util::params::Reader;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, JsonObject, NodeDef, Value};
use std::io::{Cursor, Read};
use std::sync::Arc;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.compression",
    versions: &[1.0, 1.1],
    kind: NodeKind::Regular,
    factory: build,
};

struct Compression {
    compress: bool,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let compress = Reader::fixed(params).choice("operation", "decompress", |op| match op {
        "compress" => Some(true),
        "decompress" => Some(false),
        _ => None,
    })?;
    Ok(Box::new(Compression { compress }))
}

#[async_trait::async_trait]
impl Node for Compression {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let out = per_item(ctx, |i, item| {
            let properties: Vec<String> = text_param(ctx, "binaryPropertyName", i, "data")?
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            let binary_map = if self.compress {
                compress(ctx, i, item, &properties)?
            } else {
                decompress(ctx, i, item, &properties)?
            };
            let mut out = Item::new((*item.json).clone()).paired_to(i);
            out.binary = Some(Arc::new(binary_map));
            Ok(vec![out])
        })?;
        Ok(vec![out])
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> NodeError {
    NodeError::new(format!("{what}: {e}")).with_parameter("binaryPropertyName")
}

/// The file name of binary property `property` (the property's name when it has none).
fn file_name_of(item: &Item, property: &str) -> Result<String, NodeError> {
    Ok(binary::property(item, property, "binaryPropertyName")?
        .get("fileName")
        .and_then(Value::as_str)
        .unwrap_or(property)
        .to_string())
}

fn compress(
    ctx: &ExecuteContext<'_>,
    i: usize,
    item: &Item,
    properties: &[String],
) -> Result<JsonObject, NodeError> {
    let mut out = JsonObject::new();
    match text_param(ctx, "outputFormat", i, "zip")?.as_str() {
        "zip" => {
            let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for property in properties {
                zip.start_file(file_name_of(item, property)?, options)
                    .map_err(|e| failed("could not write the zip file", e))?;
                std::io::copy(
                    &mut binary::open(ctx, item, property, "binaryPropertyName")?,
                    &mut zip,
                )
                .map_err(|e| failed("could not write the zip file", e))?;
            }
            let bytes = zip
                .finish()
                .map_err(|e| failed("could not write the zip file", e))?
                .into_inner();
            let file_name = text_param(ctx, "fileName", i, "data.zip")?;
            let entry = binary::store(
                ctx,
                &bytes,
                binary::metadata(Some(&file_name), "application/zip"),
            )?;
            out.insert(
                text_param(ctx, "binaryPropertyOutput", i, "data")?,
                Value::Object(entry),
            );
        }
        "gzip" => {
            let prefix = text_param(ctx, "outputPrefix", i, "data")?;
            for (n, property) in properties.iter().enumerate() {
                let file_name = format!("{}.gz", file_name_of(item, property)?);
                let mut reader = binary::open(ctx, item, property, "binaryPropertyName")?;
                let entry = binary::store_with(
                    ctx,
                    binary::metadata(Some(&file_name), "application/gzip"),
                    |sink| {
                        let mut gz = GzEncoder::new(sink, flate2::Compression::default());
                        std::io::copy(&mut reader, &mut gz)?;
                        gz.finish()?.flush()
                    },
                )?;
                out.insert(format!("{prefix}{n}"), Value::Object(entry));
            }
        }
        other => {
            return Err(NodeError::new(format!("unsupported value '{other}'"))
                .with_parameter("outputFormat"))
        }
    }
    Ok(out)
}

fn decompress(
    ctx: &ExecuteContext<'_>,
    i: usize,
    item: &Item,
    properties: &[String],
) -> Result<JsonObject, NodeError> {
    let prefix = text_param(ctx, "outputPrefix", i, "file_")?;
    let mut out = JsonObject::new();
    let mut add = |name: &str, bytes: &[u8]| -> Result<(), NodeError> {
        let mime_type = binary::mime_type_of(name);
        let entry = binary::store(ctx, bytes, binary::metadata(Some(name), &mime_type))?;
        out.insert(format!("{prefix}{}", out.len()), Value::Object(entry));
        Ok(())
    };
    for property in properties {
        let entry = binary::property(item, property, "binaryPropertyName")?;
        let text = |key: &str| entry.get(key).and_then(Value::as_str).unwrap_or_default();
        let is_gzip = text("fileExtension") == "gz"
            || text("mimeType") == "application/gzip"
            || text("fileName").ends_with(".gz");
        let bytes = binary::read(ctx, item, property, "binaryPropertyName")?;
        if is_gzip {
            let mut plain = Vec::new();
            GzDecoder::new(bytes.as_slice())
                .read_to_end(&mut plain)
                .map_err(|e| failed(&format!("binary property '{property}' is not gzip"), e))?;
            let name = text("fileName");
            add(name.strip_suffix(".gz").unwrap_or(name), &plain)?;
            continue;
        }
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
            failed(
                &format!("binary property '{property}' is not a zip file"),
                e,
            )
        })?;
        for n in 0..archive.len() {
            let mut file = archive
                .by_index(n)
                .map_err(|e| failed("could not read the zip file", e))?;
            if file.is_dir() {
                continue;
            }
            let name = file
                .name()
                .map_err(|e| failed("could not read the zip file", e))?
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            let mut plain = Vec::new();
            file.read_to_end(&mut plain)
                .map_err(|e| failed("could not read the zip file", e))?;
            add(&name, &plain)?;
        }
    }
    Ok(out)
}
