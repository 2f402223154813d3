//! Fuzz target: arbitrary bytes into the client-message decoder, the first thing the
//! server does with anything a client sends.
//!
//! Properties: decoding never panics; whatever decodes re-encodes to bytes that decode to
//! the same message (`decode(encode(x)) == x`), no longer than the input (the encoder is
//! canonical, the input may not be) and within the decode limit.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tickwire_shared::codec::{CLIENT_DECODE_LIMIT, decode_client, encode_client};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = decode_client(data) else {
        return;
    };
    let bytes = encode_client(&msg);
    assert!(
        bytes.len() <= data.len(),
        "re-encoding grew {} bytes to {}: {msg:?}",
        data.len(),
        bytes.len()
    );
    assert!(bytes.len() <= CLIENT_DECODE_LIMIT);
    match decode_client(&bytes) {
        Ok(again) => assert_eq!(again, msg, "decode(encode(x)) != x"),
        Err(e) => panic!("a decoded message re-encodes to undecodable bytes ({e}): {msg:?}"),
    }
});
