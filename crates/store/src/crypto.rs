//! Credential encryption: AES-256-GCM with a key derived from `N8N_ENCRYPTION_KEY`, or from a
//! key generated into the data directory's `config` file on first start (as n8n does).

use crate::StoreError;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

const NONCE_LEN: usize = 12;

pub struct Cipher(Aes256Gcm);

impl Cipher {
    /// Any secret string works: the AES key is its SHA-256.
    pub fn from_secret(secret: &str) -> Self {
        let key = Sha256::digest(secret.as_bytes());
        Cipher(Aes256Gcm::new(&key))
    }

    /// The configured key, else the one in `<data_dir>/config`, else a new one written there.
    pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> Result<Self, StoreError> {
        if let Some(secret) = configured.filter(|s| !s.is_empty()) {
            return Ok(Cipher::from_secret(secret));
        }
        let path = data_dir.join("config");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let config: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| StoreError::Config(format!("{}: {e}", path.display())))?;
            if let Some(secret) = config["encryptionKey"].as_str() {
                return Ok(Cipher::from_secret(secret));
            }
        }
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::create_dir_all(data_dir)?;
        let text = serde_json::json!({ "encryptionKey": secret }).to_string();
        write_private(&path, &text)?;
        Ok(Cipher::from_secret(&secret))
    }

    /// `nonce || ciphertext+tag`.
    pub fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .0
            .encrypt(Nonce::from_slice(&nonce), plain)
            .expect("AES-GCM encryption of an in-memory buffer");
        [nonce.as_slice(), &sealed].concat()
    }

    pub fn decrypt(&self, data: &[u8]) -> Result<Vec<u8>, StoreError> {
        if data.len() < NONCE_LEN {
            return Err(StoreError::Decrypt);
        }
        let (nonce, sealed) = data.split_at(NONCE_LEN);
        self.0
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| StoreError::Decrypt)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}
