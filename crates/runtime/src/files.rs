//! File access for nodes: the real file system, with optional virtual files layered on top.
//! Files are read and written through readers and writers so large ones are never held whole.
//! `sluice test` uses the layer to provide the files n8n's node test harness fakes.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct Files {
    virtual_files: Arc<BTreeMap<PathBuf, Vec<u8>>>,
}

impl Files {
    /// The real file system plus `files`, which shadow real files of the same path.
    pub fn with_virtual(files: impl IntoIterator<Item = (PathBuf, Vec<u8>)>) -> Self {
        Files {
            virtual_files: Arc::new(files.into_iter().collect()),
        }
    }

    /// Files matching a glob pattern: virtual ones first, then real ones, sorted, no duplicates.
    pub fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let compiled = glob::Pattern::new(pattern).map_err(|e| e.to_string())?;
        let mut out: Vec<PathBuf> = self
            .virtual_files
            .keys()
            .filter(|p| compiled.matches_path(p))
            .cloned()
            .collect();
        for entry in glob::glob(pattern).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?;
            if path.is_file() && !out.contains(&path) {
                out.push(path);
            }
        }
        out.sort();
        Ok(out)
    }

    pub fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.virtual_files.get(path) {
            Some(bytes) => Ok(bytes.clone()),
            None => std::fs::read(path),
        }
    }

    /// A buffered reader over a file, for reading it in pieces.
    pub fn open(&self, path: &Path) -> std::io::Result<Box<dyn Read + Send + '_>> {
        match self.virtual_files.get(path) {
            Some(bytes) => Ok(Box::new(bytes.as_slice())),
            None => Ok(Box::new(BufReader::new(File::open(path)?))),
        }
    }

    /// Write what `write` writes to the real file `path` (created with its folders), replacing
    /// it or, with `append`, adding to its end.
    pub fn write_with(
        &self,
        path: &Path,
        append: bool,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let mut out = BufWriter::new(create(path, append)?);
        write(&mut out)?;
        out.flush()
    }

    /// Copy the file `source` to the real file `path` as [`Files::write_with`] writes: file to
    /// file, which the kernel does without the bytes passing through the process where it can.
    pub fn copy_file(&self, source: &mut File, path: &Path, append: bool) -> std::io::Result<()> {
        std::io::copy(source, &mut create(path, append)?).map(drop)
    }
}

/// The real file `path`, created with its folders, emptied or, with `append`, written at its end.
fn create(path: &Path, append: bool) -> std::io::Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copied_file_replaces_or_extends_the_target_and_gets_its_folders() {
        let dir = std::env::temp_dir().join(format!("sluice-copy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source_path = dir.join("source");
        std::fs::write(&source_path, b"bytes").unwrap();
        let target = dir.join("new/folder/target");
        let files = Files::default();
        for append in [false, false, true] {
            let mut source = File::open(&source_path).unwrap();
            files.copy_file(&mut source, &target, append).unwrap();
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"bytesbytes");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn virtual_files_shadow_and_join_real_ones() {
        let dir = std::env::temp_dir().join(format!("sluice-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("real.data"), b"disk").unwrap();
        let virt = dir.join("virtual.data");
        let files = Files::with_virtual([(virt.clone(), b"test".to_vec())]);
        let found = files.glob(&format!("{}/*.data", dir.display())).unwrap();
        assert_eq!(found, vec![dir.join("real.data"), virt.clone()]);
        assert_eq!(files.read(&virt).unwrap(), b"test");
        assert_eq!(files.read(&dir.join("real.data")).unwrap(), b"disk");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
