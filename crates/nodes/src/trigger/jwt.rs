//! JSON Web Tokens with n8n's `jwtAuth` credential: the Webhook node verifies the bearer token of
//! a request with it (`authentication: jwtAuth`) and Respond to Webhook signs a payload with it
//! (`respondWith: jwt`). One type reads the credential so both agree on keys and algorithms.
//!
//! The credential is `{keyType: "passphrase" | "pemKey", secret, privateKey, publicKey,
//! algorithm}`; HMAC algorithms use the secret's bytes, RSA/ECDSA/EdDSA ones the PEM keys (pasted
//! keys whose line breaks were lost are re-wrapped). Verification checks `exp` and `nbf` when the
//! token has them, with no leeway, and ignores `aud`/`iss` (n8n sets no expected values); the
//! error messages are the ones n8n users see from its JWT library (`jwt expired`, ...).

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey, Header, Validation};
use sluice_model::Value;
use std::fmt;
use std::str::FromStr;

/// A `jwtAuth` credential, read once per use.
pub struct JwtCredential {
    algorithm: Algorithm,
    key: Key,
}

enum Key {
    Passphrase(String),
    Pem { private: String, public: String },
}

/// Why a token could not be made or checked: the credential is unusable (the server's fault) or
/// the token is not acceptable (the caller's).
#[derive(Debug, PartialEq)]
pub enum JwtError {
    Credential(String),
    Token(String),
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwtError::Credential(m) => write!(f, "the jwtAuth credential cannot be used: {m}"),
            JwtError::Token(m) => f.write_str(m),
        }
    }
}

impl JwtCredential {
    /// Read the stored credential data.
    pub fn from_data(data: &Value) -> Result<Self, JwtError> {
        let text = |k: &str| data[k].as_str().unwrap_or_default().to_string();
        let name = data["algorithm"].as_str().unwrap_or("HS256");
        let algorithm = Algorithm::from_str(name).map_err(|_| {
            JwtError::Credential(format!(
                "algorithm '{name}' is not supported (supported: HS256, HS384, HS512, RS256, \
                 RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA)"
            ))
        })?;
        let key = match data["keyType"].as_str().unwrap_or("passphrase") {
            "passphrase" => Key::Passphrase(text("secret")),
            "pemKey" => Key::Pem {
                private: normalize_pem(&text("privateKey")),
                public: normalize_pem(&text("publicKey")),
            },
            other => {
                return Err(JwtError::Credential(format!(
                    "key type '{other}' is not 'passphrase' or 'pemKey'"
                )))
            }
        };
        Ok(JwtCredential { algorithm, key })
    }

    /// A signed token for `payload` (an `iat` claim is added to objects without one, as n8n's
    /// signing does); `now_secs` is the issue time.
    pub fn sign(&self, payload: &Value, now_secs: i64) -> Result<String, JwtError> {
        let key = match &self.key {
            Key::Passphrase(secret) => EncodingKey::from_secret(secret.as_bytes()),
            Key::Pem { private, .. } => self
                .pem_key(
                    private,
                    EncodingKey::from_rsa_pem,
                    EncodingKey::from_ec_pem,
                    EncodingKey::from_ed_pem,
                )
                .map_err(|e| JwtError::Credential(format!("private key: {e}")))?,
        };
        let mut payload = payload.clone();
        if let Value::Object(claims) = &mut payload {
            claims.entry("iat").or_insert_with(|| now_secs.into());
        }
        jsonwebtoken::encode(&Header::new(self.algorithm), &payload, &key)
            .map_err(|e| JwtError::Credential(e.to_string()))
    }

    /// The payload of `token` when its signature, algorithm and time claims are valid.
    pub fn verify(&self, token: &str) -> Result<Value, JwtError> {
        let key = match &self.key {
            Key::Passphrase(secret) => DecodingKey::from_secret(secret.as_bytes()),
            Key::Pem { public, .. } => self
                .pem_key(
                    public,
                    DecodingKey::from_rsa_pem,
                    DecodingKey::from_ec_pem,
                    DecodingKey::from_ed_pem,
                )
                .map_err(|e| JwtError::Credential(format!("public key: {e}")))?,
        };
        let mut validation = Validation::new(self.algorithm);
        validation.required_spec_claims.clear();
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| {
                JwtError::Token(
                    match e.kind() {
                        ErrorKind::ExpiredSignature => "jwt expired",
                        ErrorKind::ImmatureSignature => "jwt not active",
                        ErrorKind::InvalidSignature => "invalid signature",
                        ErrorKind::InvalidAlgorithm => "invalid algorithm",
                        ErrorKind::InvalidToken
                        | ErrorKind::Base64(_)
                        | ErrorKind::Json(_)
                        | ErrorKind::Utf8(_) => "jwt malformed",
                        _ => return JwtError::Token(e.to_string()),
                    }
                    .to_string(),
                )
            })
    }

    /// A PEM key read by the parser for the algorithm's family: RSA (RS*, PS*), EC (ES*) or
    /// EdDSA.
    fn pem_key<K>(
        &self,
        pem: &str,
        rsa: PemParser<K>,
        ec: PemParser<K>,
        ed: PemParser<K>,
    ) -> jsonwebtoken::errors::Result<K> {
        let parse = match self.algorithm.family() {
            AlgorithmFamily::Ec => ec,
            AlgorithmFamily::Ed => ed,
            AlgorithmFamily::Rsa | AlgorithmFamily::Hmac => rsa,
        };
        parse(pem.as_bytes())
    }
}

/// A jsonwebtoken constructor of keys of one family from PEM text.
type PemParser<K> = fn(&[u8]) -> jsonwebtoken::errors::Result<K>;

/// A PEM block with its base64 body re-wrapped at 64 columns: keys pasted into a one-line field
/// often arrive with spaces or literal `\n` where the line breaks were.
fn normalize_pem(text: &str) -> String {
    let text = text.replace("\\n", "\n");
    let text = text.trim();
    const BEGIN: &str = "-----BEGIN ";
    let (Some(begin), Some(end)) = (text.find(BEGIN), text.find("-----END ")) else {
        return text.to_string();
    };
    let Some(label_len) = text[begin + BEGIN.len()..].find("-----") else {
        return text.to_string();
    };
    let body_start = begin + BEGIN.len() + label_len + "-----".len();
    if body_start > end {
        return text.to_string();
    }
    let body: String = text[body_start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut pem = format!("{}\n", &text[begin..body_start]);
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(text[end..].trim());
    pem.push('\n');
    pem
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;

    fn passphrase(secret: &str, algorithm: &str) -> JwtCredential {
        JwtCredential::from_data(
            &json!({"keyType": "passphrase", "secret": secret, "algorithm": algorithm}),
        )
        .unwrap()
    }

    #[test]
    fn signs_and_verifies_with_a_passphrase() {
        let credential = passphrase("s3cret", "HS384");
        let token = credential.sign(&json!({"sub": "ada"}), NOW).unwrap();
        assert_eq!(
            credential.verify(&token),
            Ok(json!({"sub": "ada", "iat": NOW}))
        );
        let other = passphrase("other", "HS384");
        assert_eq!(
            other.verify(&token),
            Err(JwtError::Token("invalid signature".into()))
        );
        let other_algorithm = passphrase("s3cret", "HS256");
        assert_eq!(
            other_algorithm.verify(&token),
            Err(JwtError::Token("invalid algorithm".into()))
        );
        assert_eq!(
            credential.verify("not.a.token"),
            Err(JwtError::Token("jwt malformed".into()))
        );
    }

    #[test]
    fn checks_time_claims() {
        let credential = passphrase("s3cret", "HS256");
        let expired = credential.sign(&json!({"exp": 1000}), NOW).unwrap();
        assert_eq!(
            credential.verify(&expired),
            Err(JwtError::Token("jwt expired".into()))
        );
        let future = credential
            .sign(&json!({"nbf": 4_000_000_000i64}), NOW)
            .unwrap();
        assert_eq!(
            credential.verify(&future),
            Err(JwtError::Token("jwt not active".into()))
        );
    }

    #[test]
    fn signs_with_the_private_key_and_verifies_with_the_public_one() {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let public = rsa::RsaPublicKey::from(&private);
        // As pasted into a one-line field: the line breaks became spaces.
        let private_pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap()
            .replace('\n', " ");
        let public_pem = public.to_public_key_pem(LineEnding::LF).unwrap();
        let credential = JwtCredential::from_data(&json!({"keyType": "pemKey",
            "privateKey": private_pem, "publicKey": public_pem, "algorithm": "RS256"}))
        .unwrap();
        let token = credential
            .sign(&json!({"iat": 5, "role": "admin"}), NOW)
            .unwrap();
        assert_eq!(
            credential.verify(&token),
            Ok(json!({"iat": 5, "role": "admin"}))
        );
    }

    #[test]
    fn unusable_credentials_are_named() {
        let unsupported =
            JwtCredential::from_data(&json!({"keyType": "passphrase", "algorithm": "ES512"}));
        assert!(matches!(unsupported, Err(JwtError::Credential(m)) if m.contains("ES512")));
        let bad_pem = JwtCredential::from_data(
            &json!({"keyType": "pemKey", "privateKey": "nope", "algorithm": "RS256"}),
        )
        .unwrap();
        assert!(matches!(
            bad_pem.sign(&json!({}), NOW),
            Err(JwtError::Credential(m)) if m.contains("private key")
        ));
    }

    #[test]
    fn rewraps_pasted_pem_keys() {
        let one_line = "-----BEGIN PUBLIC KEY----- AAAA BBBB -----END PUBLIC KEY-----";
        assert_eq!(
            normalize_pem(one_line),
            "-----BEGIN PUBLIC KEY-----\nAAAABBBB\n-----END PUBLIC KEY-----\n"
        );
        let escaped = "-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----";
        assert_eq!(
            normalize_pem(escaped),
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        );
    }
}
