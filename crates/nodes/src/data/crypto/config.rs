//! The Crypto v1 node's parameters, parsed once at build time.

use crate::util::params::Reader;
use sluice_engine::{NodeError, Param};

/// Digest algorithms for hash and hmac.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

impl Algorithm {
    /// Names as the node (and Node.js's `crypto.getHashes()`) spell them: `MD5`, `SHA256`,
    /// `SHA3-256`, `RSA-SHA256`, `sha512`...
    pub fn parse(name: &str) -> Option<Algorithm> {
        let lower = name.to_ascii_lowercase();
        let bare = lower.strip_prefix("rsa-").unwrap_or(&lower);
        Some(match bare.replace('_', "-").as_str() {
            "md5" => Algorithm::Md5,
            "sha1" | "sha-1" => Algorithm::Sha1,
            "sha256" | "sha-256" => Algorithm::Sha256,
            "sha384" | "sha-384" => Algorithm::Sha384,
            "sha512" | "sha-512" => Algorithm::Sha512,
            "sha3-256" => Algorithm::Sha3_256,
            "sha3-384" => Algorithm::Sha3_384,
            "sha3-512" => Algorithm::Sha3_512,
            _ => return None,
        })
    }
}

/// How digest bytes become text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Hex,
    Base64,
}

/// What a generated random value looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generate {
    Uuid,
    Ascii,
    Base64,
    Hex,
}

pub enum Action {
    /// Digest of the input; `hmac` when keyed with the `secret` parameter.
    Hash {
        algorithm: Algorithm,
        hmac: bool,
        /// Hash a binary property instead of the `value` text.
        binary: bool,
    },
    /// RSA PKCS#1 v1.5 signature of `value` with the PEM `privateKey`.
    Sign {
        algorithm: Algorithm,
    },
    Generate(Generate),
}

pub struct Config {
    pub action: Action,
    pub encoding: Encoding,
}

fn encoding(r: &Reader<'_>, default: &str) -> Result<Encoding, NodeError> {
    r.choice("encoding", default, |e| match e {
        "hex" => Some(Encoding::Hex),
        "base64" => Some(Encoding::Base64),
        _ => None,
    })
}

impl Config {
    pub fn parse(params: &Param) -> Result<Config, NodeError> {
        let r = Reader::fixed(params);
        let action = r.choice("action", "hash", |a| {
            matches!(a, "hash" | "hmac" | "sign" | "generate").then(|| a.to_string())
        })?;
        Ok(match action.as_str() {
            "hash" | "hmac" => Config {
                action: Action::Hash {
                    algorithm: r.choice("type", "MD5", Algorithm::parse)?,
                    hmac: action == "hmac",
                    binary: r.bool_or("binaryData", false)?,
                },
                encoding: encoding(&r, "hex")?,
            },
            "sign" => Config {
                action: Action::Sign {
                    algorithm: r.choice("algorithm", "RSA-SHA256", Algorithm::parse)?,
                },
                encoding: encoding(&r, "hex")?,
            },
            _ => Config {
                action: Action::Generate(r.choice("encodingType", "uuid", |e| {
                    Some(match e {
                        "uuid" => Generate::Uuid,
                        "ascii" => Generate::Ascii,
                        "base64" => Generate::Base64,
                        "hex" => Generate::Hex,
                        _ => return None,
                    })
                })?),
                encoding: Encoding::Hex,
            },
        })
    }
}
