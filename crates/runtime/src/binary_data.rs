//! Where the bytes of items' binary properties live.
//!
//! Items carry binary data in n8n's shape: `binary.<property> = {mimeType, fileName,
//! fileExtension, fileSize, ..., data, id?}`. n8n's `default` (memory) mode keeps the bytes
//! inline as base64 in `data`; its `filesystem` mode writes them to a file under the data
//! directory and puts a reference in `id` (`filesystem-v2:executions/<execution>/<uuid>`), so a
//! large file costs no memory and an item passed from node to node shares the one file (items
//! share their `binary` map, never copy it). Files are grouped per execution so that deleting or
//! pruning an execution removes its files (`delete_execution`, `prune_executions`).
//! `N8N_DEFAULT_BINARY_DATA_MODE` chooses the mode; `sluice run` defaults to memory,
//! `sluice serve` to filesystem.

use base64::engine::general_purpose::STANDARD;
use base64::read::DecoderReader;
use base64::write::EncoderStringWriter;
use serde_json::{Map, Value};
use std::io::{self, Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `id` prefix and `data` marker of a binary property kept on disk.
const FILESYSTEM_PREFIX: &str = "filesystem-v2";

/// How binary data is kept (n8n's `N8N_DEFAULT_BINARY_DATA_MODE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryDataMode {
    /// Inline base64 in the item (n8n's `default`).
    Memory,
    /// Files under the data directory, referenced by `id`.
    Filesystem,
}

impl BinaryDataMode {
    /// `N8N_DEFAULT_BINARY_DATA_MODE` when set (`default`/`memory` or `filesystem`), else
    /// `fallback`.
    pub fn from_env(fallback: BinaryDataMode) -> Result<BinaryDataMode, String> {
        match std::env::var("N8N_DEFAULT_BINARY_DATA_MODE") {
            Ok(value) => BinaryDataMode::parse(&value),
            Err(_) => Ok(fallback),
        }
    }

    pub fn parse(value: &str) -> Result<BinaryDataMode, String> {
        match value {
            "default" | "memory" => Ok(BinaryDataMode::Memory),
            "filesystem" => Ok(BinaryDataMode::Filesystem),
            other => Err(format!(
                "N8N_DEFAULT_BINARY_DATA_MODE: unsupported mode '{other}' (default, memory or filesystem)"
            )),
        }
    }
}

/// The binary data store of a process, shared by every execution.
#[derive(Clone, Debug)]
pub struct BinaryData {
    /// `None` in memory mode; the folder holding `executions/<id>/<uuid>` files otherwise.
    root: Option<PathBuf>,
}

impl Default for BinaryData {
    fn default() -> Self {
        BinaryData::memory()
    }
}

impl BinaryData {
    pub fn memory() -> BinaryData {
        BinaryData { root: None }
    }

    /// Files under `root` (usually `<data dir>/binaryData`).
    pub fn filesystem(root: impl Into<PathBuf>) -> BinaryData {
        BinaryData {
            root: Some(root.into()),
        }
    }

    /// The store for `mode`, with files under `<data_dir>/binaryData`.
    pub fn for_mode(mode: BinaryDataMode, data_dir: &Path) -> BinaryData {
        match mode {
            BinaryDataMode::Memory => BinaryData::memory(),
            BinaryDataMode::Filesystem => BinaryData::filesystem(data_dir.join("binaryData")),
        }
    }

    pub fn mode(&self) -> BinaryDataMode {
        match self.root {
            None => BinaryDataMode::Memory,
            Some(_) => BinaryDataMode::Filesystem,
        }
    }

    /// Store `bytes` for execution `execution_id`: `metadata` (mimeType, fileName, ...) plus
    /// `fileSize` and the data or its reference.
    pub fn store(
        &self,
        execution_id: &str,
        bytes: &[u8],
        metadata: Map<String, Value>,
    ) -> io::Result<Map<String, Value>> {
        self.store_with(execution_id, metadata, |out| out.write_all(bytes))
    }

    /// Store what `write` writes, without holding it in memory in filesystem mode.
    pub fn store_with(
        &self,
        execution_id: &str,
        metadata: Map<String, Value>,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<Map<String, Value>> {
        let mut writer = self.writer(execution_id, metadata)?;
        write(&mut writer)?;
        writer.finish()
    }

    /// A binary property for execution `execution_id` written a piece at a time (a file made
    /// from items as they arrive); [`BinaryWriter::finish`] gives its entry.
    pub fn writer(
        &self,
        execution_id: &str,
        metadata: Map<String, Value>,
    ) -> io::Result<BinaryWriter> {
        let target = match &self.root {
            None => Target::Inline(Box::new(EncoderStringWriter::new(&STANDARD))),
            Some(root) => {
                let relative = format!(
                    "executions/{}/{}",
                    safe_segment(execution_id),
                    uuid::Uuid::new_v4()
                );
                let path = root.join(&relative);
                std::fs::create_dir_all(path.parent().expect("a file under executions/"))?;
                let file = io::BufWriter::new(std::fs::File::create(&path)?);
                Target::File(PartFile {
                    file,
                    path,
                    relative,
                    finished: false,
                })
            }
        };
        Ok(BinaryWriter {
            out: CountingWriter::new(target),
            metadata,
        })
    }

    /// Remove the bytes of a binary property nothing refers to any more (a file rewritten
    /// under another id); inline bytes go with their entry.
    pub fn remove(&self, entry: &Map<String, Value>) -> io::Result<()> {
        match self.path(entry)? {
            Some(path) => std::fs::remove_file(path),
            None => Ok(()),
        }
    }

    /// A reader over the bytes of a binary property: its file, or its base64 decoded as read.
    pub fn open<'a>(&self, entry: &'a Map<String, Value>) -> io::Result<Box<dyn Read + Send + 'a>> {
        if let Some(file) = self.file(entry)? {
            return Ok(Box::new(io::BufReader::new(file)));
        }
        Ok(Box::new(DecoderReader::new(
            Cursor::new(inline_data(entry)?.as_bytes()),
            &STANDARD,
        )))
    }

    /// Like [`BinaryData::open`], for a reader that outlives the item: property `name` of
    /// `binary`, which the reader shares (inline bytes are not copied).
    pub fn open_shared(
        &self,
        binary: Arc<Map<String, Value>>,
        name: &str,
    ) -> io::Result<Box<dyn Read + Send>> {
        let entry = binary
            .get(name)
            .and_then(Value::as_object)
            .ok_or_else(|| invalid(format!("no binary property '{name}'")))?;
        if let Some(file) = self.file(entry)? {
            return Ok(Box::new(io::BufReader::new(file)));
        }
        inline_data(entry)?;
        let shared = SharedInline {
            binary,
            name: name.to_string(),
            position: 0,
        };
        Ok(Box::new(DecoderReader::new(shared, &STANDARD)))
    }

    /// The file holding a binary property kept on disk (`None` for inline bytes).
    pub fn file(&self, entry: &Map<String, Value>) -> io::Result<Option<std::fs::File>> {
        self.path(entry)?.map(std::fs::File::open).transpose()
    }

    /// Where the file of a binary property kept on disk is (`None` for inline bytes).
    fn path(&self, entry: &Map<String, Value>) -> io::Result<Option<PathBuf>> {
        let Some(id) = entry.get("id").and_then(Value::as_str) else {
            return Ok(None);
        };
        let Some(relative) = id
            .strip_prefix(FILESYSTEM_PREFIX)
            .and_then(|r| r.strip_prefix(':'))
        else {
            return Ok(None);
        };
        let root = self.root.as_ref().ok_or_else(|| {
            invalid(format!("binary data '{id}' is on disk, but this process keeps binary data in memory (N8N_DEFAULT_BINARY_DATA_MODE)"))
        })?;
        if relative
            .split('/')
            .any(|segment| segment == ".." || segment.is_empty())
        {
            return Err(invalid(format!("invalid binary data id '{id}'")));
        }
        Ok(Some(root.join(relative)))
    }

    /// All bytes of a binary property.
    pub fn read(&self, entry: &Map<String, Value>) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open(entry)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// `entry` kept the way this store keeps data: inline data written to a file of execution
    /// `execution_id` in filesystem mode (for data that arrived inline, like a webhook upload);
    /// unchanged otherwise.
    pub fn adopt(
        &self,
        execution_id: &str,
        entry: &Map<String, Value>,
    ) -> io::Result<Map<String, Value>> {
        if self.root.is_none() || entry.contains_key("id") {
            return Ok(entry.clone());
        }
        let mut reader = self.open(entry)?;
        let mut metadata = entry.clone();
        metadata.shift_remove("data");
        self.store_with(execution_id, metadata, |out| {
            io::copy(&mut reader, out).map(drop)
        })
    }

    /// Remove the files of execution `execution_id` (nothing to do in memory mode).
    pub fn delete_execution(&self, execution_id: &str) -> io::Result<()> {
        let Some(root) = &self.root else {
            return Ok(());
        };
        match std::fs::remove_dir_all(root.join("executions").join(safe_segment(execution_id))) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The executions that have files on disk, for pruning those whose execution is gone.
    pub fn executions_on_disk(&self) -> io::Result<Vec<String>> {
        let Some(root) = &self.root else {
            return Ok(Vec::new());
        };
        let dir = match std::fs::read_dir(root.join("executions")) {
            Ok(dir) => dir,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut ids = Vec::new();
        for entry in dir {
            if let Some(name) = entry?.file_name().to_str() {
                ids.push(name.to_string());
            }
        }
        Ok(ids)
    }
}

/// An execution id as one path segment (ids are numbers or simple names; anything else is
/// replaced so no id escapes the folder).
fn safe_segment(execution_id: &str) -> String {
    execution_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The base64 text of a binary property kept inline.
fn inline_data(entry: &Map<String, Value>) -> io::Result<&str> {
    entry
        .get("data")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the binary property has neither data nor a known id".into()))
}

/// The base64 text of an inline binary property, read from the item's shared `binary` map.
struct SharedInline {
    binary: Arc<Map<String, Value>>,
    name: String,
    position: usize,
}

impl Read for SharedInline {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let entry = self.binary.get(&self.name).and_then(Value::as_object);
        let data = inline_data(entry.ok_or_else(|| invalid("binary property gone".into()))?)?;
        let rest = &data.as_bytes()[self.position.min(data.len())..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.position += n;
        Ok(n)
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// A binary property being written (see [`BinaryData::writer`]).
pub struct BinaryWriter {
    out: CountingWriter<Target>,
    metadata: Map<String, Value>,
}

/// Where a [`BinaryWriter`] puts the bytes.
enum Target {
    /// Base64 text for the entry's `data` (boxed: the encoder holds its buffers inline).
    Inline(Box<EncoderStringWriter<'static, base64::engine::GeneralPurpose, String>>),
    /// A file under the store's root.
    File(PartFile),
}

/// A file being written under the store's root, `relative` to it. One dropped before it is
/// finished (its run failed half-way) is removed, so no half-written file is left behind with
/// nothing referring to it.
struct PartFile {
    file: io::BufWriter<std::fs::File>,
    path: PathBuf,
    relative: String,
    finished: bool,
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if !self.finished {
            // Nothing refers to it; a file that cannot be removed goes with its execution.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Write for Target {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Target::Inline(text) => text.write(buf),
            Target::File(part) => part.file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Target::Inline(text) => text.flush(),
            Target::File(part) => part.file.flush(),
        }
    }
}

impl Write for BinaryWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl BinaryWriter {
    /// The entry of the written bytes: the metadata plus `fileSize` and the data or its
    /// reference.
    pub fn finish(self) -> io::Result<Map<String, Value>> {
        let BinaryWriter { out, mut metadata } = self;
        match out.inner {
            Target::Inline(text) => {
                metadata.insert("data".into(), Value::String(text.into_inner()));
            }
            Target::File(mut part) => {
                part.file.flush()?;
                part.finished = true;
                metadata.insert("data".into(), Value::String(FILESYSTEM_PREFIX.into()));
                metadata.insert(
                    "id".into(),
                    Value::String(format!("{FILESYSTEM_PREFIX}:{}", part.relative)),
                );
            }
        }
        metadata.insert("fileSize".into(), Value::String(pretty_bytes(out.count)));
        Ok(metadata)
    }
}

/// Counts the bytes written through it (for `fileSize`).
struct CountingWriter<W> {
    inner: W,
    count: usize,
}

impl<W> CountingWriter<W> {
    fn new(inner: W) -> Self {
        CountingWriter { inner, count: 0 }
    }
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.count += written;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// n8n's metadata of a file: its MIME type, coarse type, extension (from the name, else the MIME
/// type) and name when it has one.
pub fn metadata(file_name: Option<&str>, mime_type: &str) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("mimeType".into(), Value::String(mime_type.to_string()));
    if let Some(kind) = file_type(mime_type) {
        out.insert("fileType".into(), Value::String(kind.into()));
    }
    let extension = match file_name {
        Some(name) => Path::new(name).extension().and_then(|e| e.to_str()),
        None => mime_guess::get_mime_extensions_str(mime_type).and_then(|e| e.first().copied()),
    };
    if let Some(ext) = extension {
        out.insert("fileExtension".into(), Value::String(ext.to_string()));
    }
    if let Some(name) = file_name {
        out.insert("fileName".into(), Value::String(name.to_string()));
    }
    out
}

/// The MIME type of a file name by its extension (`application/octet-stream` when unknown).
pub fn mime_type_of(file_name: &str) -> String {
    mime_guess::from_path(file_name)
        .first_or_octet_stream()
        .essence_str()
        .to_string()
}

/// n8n's coarse file type for a MIME type.
pub fn file_type(mime_type: &str) -> Option<&'static str> {
    Some(match mime_type {
        "application/json" => "json",
        "application/pdf" => "pdf",
        "text/html" => "html",
        m if m.starts_with("image/") => "image",
        m if m.starts_with("audio/") => "audio",
        m if m.starts_with("video/") => "video",
        m if m.starts_with("text/") => "text",
        _ => return None,
    })
}

/// Sizes as n8n shows them: `4 B`, `1.5 kB`, `12.3 MB` (decimal units, 3 significant digits).
pub fn pretty_bytes(size: usize) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = size as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        return format!("{size} B");
    }
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let rounded = format!("{value:.digits$}");
    let trimmed = if rounded.contains('.') {
        rounded
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        rounded
    };
    format!("{trimmed} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(pretty_bytes(4), "4 B");
        assert_eq!(pretty_bytes(1045), "1.04 kB");
        assert_eq!(pretty_bytes(1500), "1.5 kB");
        assert_eq!(pretty_bytes(12_345_678), "12.3 MB");
    }

    #[test]
    fn memory_mode_keeps_base64_inline() {
        let store = BinaryData::memory();
        let entry = store.store("1", b"hello", Map::new()).unwrap();
        assert_eq!(entry["data"], "aGVsbG8=");
        assert_eq!(entry["fileSize"], "5 B");
        assert!(entry.get("id").is_none());
        assert_eq!(store.read(&entry).unwrap(), b"hello");
    }

    #[test]
    fn filesystem_mode_writes_one_file_per_property_and_deletes_it_with_the_execution() {
        let root = std::env::temp_dir().join(format!("sluice-binary-{}", std::process::id()));
        let store = BinaryData::filesystem(&root);
        let entry = store.store("42", b"bytes", Map::new()).unwrap();
        let id = entry["id"].as_str().unwrap();
        assert!(id.starts_with("filesystem-v2:executions/42/"), "{id}");
        assert_eq!(entry["data"], "filesystem-v2");
        assert_eq!(store.read(&entry).unwrap(), b"bytes");
        assert_eq!(store.executions_on_disk().unwrap(), vec!["42".to_string()]);
        let mut inline = Map::new();
        inline.insert("data".into(), "aGk=".into());
        let adopted = store.adopt("42", &inline).unwrap();
        assert_eq!(store.read(&adopted).unwrap(), b"hi");
        assert!(adopted["id"]
            .as_str()
            .unwrap()
            .starts_with("filesystem-v2:executions/42/"));
        store.delete_execution("42").unwrap();
        assert!(store.read(&entry).is_err());
        assert!(store.executions_on_disk().unwrap().is_empty());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_writer_stores_its_pieces_and_a_removed_file_is_gone() {
        let root =
            std::env::temp_dir().join(format!("sluice-binary-writer-{}", std::process::id()));
        for store in [BinaryData::memory(), BinaryData::filesystem(&root)] {
            let mut writer = store.writer("5", Map::new()).unwrap();
            for piece in ["a piece, ", "another, ", "the end"] {
                writer.write_all(piece.as_bytes()).unwrap();
            }
            let entry = writer.finish().unwrap();
            assert_eq!(entry["fileSize"], "25 B");
            assert_eq!(store.read(&entry).unwrap(), b"a piece, another, the end");
            assert_eq!(
                store.file(&entry).unwrap().is_some(),
                entry.contains_key("id")
            );
            store.remove(&entry).unwrap();
            assert_eq!(store.read(&entry).is_err(), entry.contains_key("id"));
        }
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_writer_dropped_before_it_finished_leaves_no_file() {
        let root = std::env::temp_dir().join(format!("sluice-binary-part-{}", std::process::id()));
        let store = BinaryData::filesystem(&root);
        let mut writer = store.writer("6", Map::new()).unwrap();
        writer.write_all(b"half a file").unwrap();
        drop(writer);
        let left = std::fs::read_dir(root.join("executions/6"))
            .unwrap()
            .count();
        assert_eq!(left, 0, "the part file is removed");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn ids_cannot_leave_the_store() {
        let store = BinaryData::filesystem("/tmp/sluice-binary-escape");
        let mut entry = Map::new();
        entry.insert("id".into(), "filesystem-v2:../../etc/passwd".into());
        assert!(store.read(&entry).is_err());
    }
}
