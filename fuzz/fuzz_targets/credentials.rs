//! The credentials file (`n8n export:credentials --decrypted`) on any text: credentials or an
//! error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = sluice_runtime::CredentialSet::from_export_json(text);
    }
});
