//! File access for nodes: the real file system, with optional virtual files layered on top.
//! `sluice test` uses the layer to provide the files n8n's node test harness fakes.

use std::collections::BTreeMap;
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
