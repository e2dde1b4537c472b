//! Files on disk: Read/Write Files from Disk (`readWriteFile` v1: read every file a glob
//! matches, write a binary property to a file, optionally appending), and the legacy Read Binary
//! File (`readBinaryFile`, one path), Read Binary Files (`readBinaryFiles`, a glob) and Write
//! Binary File (`writeBinaryFile`). Files are copied into the binary data store and back as
//! streams, never read whole; a binary the store keeps on disk is written out file to file.

use crate::files::{flag_param, io_error, per_item};
use crate::util::binary;
use crate::util::params::text_param;
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, ItemJson, JsonObject, NodeDef, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const READ_WRITE_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.readWriteFile",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: read_write_file,
};

pub const READ_BINARY_FILE_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.readBinaryFile",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: read_binary_file,
};

pub const READ_BINARY_FILES_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.readBinaryFiles",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: read_binary_files,
};

pub const WRITE_BINARY_FILE_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.writeBinaryFile",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: write_binary_file,
};

fn read_write_file(_: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Disk(Flavour::ReadWrite)))
}

fn read_binary_file(_: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Disk(Flavour::ReadBinaryFile)))
}

fn read_binary_files(_: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Disk(Flavour::ReadBinaryFiles)))
}

fn write_binary_file(_: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Disk(Flavour::WriteBinaryFile)))
}

/// Which of the four nodes: they differ in parameter names and output shape only.
#[derive(Clone, Copy, PartialEq)]
enum Flavour {
    ReadWrite,
    ReadBinaryFile,
    ReadBinaryFiles,
    WriteBinaryFile,
}

struct Disk(Flavour);

#[async_trait::async_trait]
impl Node for Disk {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let flavour = self.0;
        let out = per_item(ctx, |i, item| {
            let write = match flavour {
                Flavour::ReadWrite => text_param(ctx, "operation", i, "read")? == "write",
                Flavour::WriteBinaryFile => true,
                _ => false,
            };
            if write {
                write_file(ctx, flavour, i, item).map(|item| vec![item])
            } else {
                read_files(ctx, flavour, i, item)
            }
        })?;
        Ok(vec![out])
    }
}

/// The items for the file(s) item `i` asks for.
fn read_files(
    ctx: &ExecuteContext<'_>,
    flavour: Flavour,
    i: usize,
    item: &Item,
) -> Result<Vec<Item>, NodeError> {
    let (path_parameter, property_parameter) = match flavour {
        Flavour::ReadWrite => ("fileSelector", "options.dataPropertyName"),
        Flavour::ReadBinaryFile => ("filePath", "dataPropertyName"),
        _ => ("fileSelector", "dataPropertyName"),
    };
    let pattern = text_param(ctx, path_parameter, i, "")?;
    let property = text_param(ctx, property_parameter, i, "data")?;
    let paths = if flavour == Flavour::ReadBinaryFile {
        vec![PathBuf::from(&pattern)]
    } else {
        ctx.files().glob(&pattern).map_err(|e| {
            io_error(
                &format!("invalid file selector '{pattern}'"),
                e,
                path_parameter,
            )
        })?
    };
    let mut items = Vec::with_capacity(paths.len());
    for path in paths {
        let mut entry = store_file(ctx, &path, path_parameter)?;
        let json = match flavour {
            // n8n shows the file's details as the item's JSON.
            Flavour::ReadWrite => {
                let mut fields = entry.clone();
                for key in ["data", "id", "directory"] {
                    fields.shift_remove(key);
                }
                fields.into()
            }
            Flavour::ReadBinaryFile => (*item.json).clone(),
            _ => ItemJson::new(),
        };
        if flavour != Flavour::ReadWrite {
            if let Some(dir) = path
                .parent()
                .and_then(Path::to_str)
                .filter(|d| !d.is_empty())
            {
                entry.insert("directory".into(), Value::String(dir.to_string()));
            }
        }
        let mut binary_map = match (flavour, &item.binary) {
            (Flavour::ReadBinaryFile, Some(existing)) => (**existing).clone(),
            _ => JsonObject::new(),
        };
        binary_map.insert(property.clone(), Value::Object(entry));
        let mut out = Item::new(json).paired_to(i);
        out.binary = Some(Arc::new(binary_map));
        items.push(out);
    }
    Ok(items)
}

/// Copy the file at `path` into the binary data store, with n8n's metadata for it.
fn store_file(
    ctx: &ExecuteContext<'_>,
    path: &Path,
    parameter: &str,
) -> Result<JsonObject, NodeError> {
    let name = path.file_name().and_then(|n| n.to_str());
    let mime_type = name
        .map(binary::mime_type_of)
        .unwrap_or_else(|| "application/octet-stream".into());
    let mut reader = ctx.files().open(path).map_err(|e| {
        io_error(
            &format!("could not read '{}'", path.display()),
            e,
            parameter,
        )
    })?;
    binary::store_with(ctx, binary::metadata(name, &mime_type), |out| {
        std::io::copy(&mut reader, out).map(drop)
    })
}

/// Write item `i`'s binary property to the file it names; the item passes on with the path.
fn write_file(
    ctx: &ExecuteContext<'_>,
    flavour: Flavour,
    i: usize,
    item: &Item,
) -> Result<Item, NodeError> {
    let file_name = text_param(ctx, "fileName", i, "")?;
    if file_name.is_empty() {
        return Err(NodeError::new("no file name given").with_parameter("fileName"));
    }
    let property = text_param(ctx, "dataPropertyName", i, "data")?;
    let append = flag_param(ctx, "options.append", i, false)?;
    let entry = binary::property(item, &property, "dataPropertyName")?;
    let path = Path::new(&file_name);
    let kept_on_disk = ctx.binary_data().file(entry);
    let written = match kept_on_disk.map_err(|e| binary::unreadable(&property, e))? {
        Some(mut file) => ctx.files().copy_file(&mut file, path, append),
        None => {
            let mut reader = ctx
                .binary_data()
                .open(entry)
                .map_err(|e| binary::unreadable(&property, e))?;
            ctx.files().write_with(path, append, |out| {
                std::io::copy(&mut reader, out).map(drop)
            })
        }
    };
    written.map_err(|e| io_error(&format!("could not write '{file_name}'"), e, "fileName"))?;
    let mut json = match flavour {
        Flavour::WriteBinaryFile => (*item.json).clone(),
        _ => entry
            .iter()
            .filter(|(key, _)| !matches!(key.as_str(), "data" | "id" | "directory"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    json.insert("fileName", Value::String(file_name));
    let mut out = Item::new(json).paired_to(i);
    out.binary = item.binary.clone();
    Ok(out)
}
