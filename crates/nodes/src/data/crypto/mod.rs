//! Crypto v1 (`n8n-nodes-base.crypto`): hash or HMAC text or binary data (MD5, SHA-1, SHA-2,
//! SHA-3; hex or base64), sign text with an RSA private key, or generate UUIDs and random strings.
//! The result is written to `dataPropertyName` (default `data`) of a copy of each item.

mod config;

use crate::util::binary;
use crate::util::path::set_dotted;
use crate::util::values::as_number;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use config::{Action, Algorithm, Config, Encoding, Generate};
use digest::Digest;
use rand::distributions::{Alphanumeric, DistString};
use rand::RngCore;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::{Item, NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.crypto",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

struct Crypto {
    config: Config,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Crypto {
        config: Config::parse(params)?,
    }))
}

#[async_trait::async_trait]
impl Node for Crypto {
    fn item_wise(&self) -> ItemWise {
        ItemWise::Yes
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = ctx.map_items(|i, item| {
            let result = self.compute(ctx, i, item)?;
            let field = ctx
                .param_str("dataPropertyName", i)?
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| "data".into());
            let mut out = item.clone();
            set_dotted(out.json_mut(), &field, Value::String(result));
            Ok(Some(out))
        })?;
        Ok(vec![items])
    }
}

impl Crypto {
    fn compute(
        &self,
        ctx: &ExecuteContext<'_>,
        i: usize,
        item: &Item,
    ) -> Result<String, NodeError> {
        let text = |path: &str| -> Result<String, NodeError> {
            Ok(ctx.param_str(path, i)?.unwrap_or_default())
        };
        let bytes = match &self.config.action {
            Action::Hash {
                algorithm,
                hmac,
                binary,
            } => {
                let input = if *binary {
                    let property = ctx
                        .param_str("binaryPropertyName", i)?
                        .unwrap_or_else(|| "data".into());
                    binary::read(ctx, item, &property, "binaryPropertyName")?
                } else {
                    text("value")?.into_bytes()
                };
                if *hmac {
                    keyed_digest(*algorithm, text("secret")?.as_bytes(), &input)
                } else {
                    digest(*algorithm, &input)
                }
            }
            Action::Sign { algorithm } => sign(*algorithm, &text("privateKey")?, &text("value")?)?,
            Action::Generate(kind) => {
                let length = as_number(&ctx.param("stringLength", i)?)
                    .unwrap_or(32.0)
                    .max(0.0) as usize;
                return Ok(generate(*kind, length));
            }
        };
        Ok(match self.config.encoding {
            Encoding::Hex => hex(&bytes),
            Encoding::Base64 => STANDARD.encode(bytes),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(algorithm: Algorithm, data: &[u8]) -> Vec<u8> {
    match algorithm {
        Algorithm::Md5 => md5::Md5::digest(data).to_vec(),
        Algorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
        Algorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
        Algorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
        Algorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
        Algorithm::Sha3_256 => sha3::Sha3_256::digest(data).to_vec(),
        Algorithm::Sha3_384 => sha3::Sha3_384::digest(data).to_vec(),
        Algorithm::Sha3_512 => sha3::Sha3_512::digest(data).to_vec(),
    }
}

fn hmac_with<D>(key: &[u8], data: &[u8]) -> Vec<u8>
where
    D: Digest + digest::core_api::BlockSizeUser,
{
    use hmac::Mac;
    let mut mac =
        <hmac::SimpleHmac<D> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn keyed_digest(algorithm: Algorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
    match algorithm {
        Algorithm::Md5 => hmac_with::<md5::Md5>(key, data),
        Algorithm::Sha1 => hmac_with::<sha1::Sha1>(key, data),
        Algorithm::Sha256 => hmac_with::<sha2::Sha256>(key, data),
        Algorithm::Sha384 => hmac_with::<sha2::Sha384>(key, data),
        Algorithm::Sha512 => hmac_with::<sha2::Sha512>(key, data),
        Algorithm::Sha3_256 => hmac_with::<sha3::Sha3_256>(key, data),
        Algorithm::Sha3_384 => hmac_with::<sha3::Sha3_384>(key, data),
        Algorithm::Sha3_512 => hmac_with::<sha3::Sha3_512>(key, data),
    }
}

/// RSA PKCS#1 v1.5 signature of `value`, as Node.js's `createSign(algorithm).sign(key)` makes.
fn sign(algorithm: Algorithm, pem: &str, value: &str) -> Result<Vec<u8>, NodeError> {
    let key = RsaPrivateKey::from_pkcs1_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs8_pem(pem))
        .map_err(|e| {
            NodeError::new(format!(
                "the private key is not an RSA key in PEM form (PKCS#1 or PKCS#8): {e}"
            ))
            .with_parameter("privateKey")
        })?;
    let hashed = digest(algorithm, value.as_bytes());
    let scheme = match algorithm {
        Algorithm::Md5 => Pkcs1v15Sign::new::<md5::Md5>(),
        Algorithm::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
        Algorithm::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
        Algorithm::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
        Algorithm::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
        Algorithm::Sha3_256 => Pkcs1v15Sign::new::<sha3::Sha3_256>(),
        Algorithm::Sha3_384 => Pkcs1v15Sign::new::<sha3::Sha3_384>(),
        Algorithm::Sha3_512 => Pkcs1v15Sign::new::<sha3::Sha3_512>(),
    };
    key.sign(scheme, &hashed)
        .map_err(|e| NodeError::new(format!("signing failed: {e}")).with_parameter("privateKey"))
}

/// A random value: a v4 UUID, or `length` characters of letters and digits, hex or base64.
fn generate(kind: Generate, length: usize) -> String {
    let random_bytes = |n: usize| {
        let mut bytes = vec![0u8; n];
        rand::thread_rng().fill_bytes(&mut bytes);
        bytes
    };
    match kind {
        Generate::Uuid => uuid::Uuid::new_v4().to_string(),
        Generate::Ascii => Alphanumeric.sample_string(&mut rand::thread_rng(), length),
        Generate::Hex => hex(&random_bytes(length.div_ceil(2)))[..length].to_string(),
        Generate::Base64 => STANDARD.encode(random_bytes(length))[..length].to_string(),
    }
}
