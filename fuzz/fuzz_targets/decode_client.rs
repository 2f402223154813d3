//! Fuzz target: arbitrary bytes into the client-message decoder, the first thing the
//! server does with anything a client sends; an input's payload then into the two ways
//! of reading it, the game's serde type (what the server does) and the input layout the
//! game declares in its schema (what the browser and generic clients use).
//!
//! Properties: decoding never panics; whatever decodes re-encodes to bytes that decode to
//! the same message (`decode(encode(x)) == x`), no longer than the input (the encoder is
//! canonical, the input may not be) and within the decode limit. For an `Input`, its
//! `data` decoded as the demo's `Controls` and by the demo's declared input layout agree:
//! both fail, or both succeed with the same values; then the layout's encoder and serde's
//! write the same bytes, no longer than the payload, which decode to the same controls.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tickwire_server::Game;
use tickwire_server::games::controls::Controls;
use tickwire_server::games::demo::{Demo, DemoConfig};
use tickwire_shared::ClientMsg;
use tickwire_shared::codec::{
    CLIENT_DECODE_LIMIT, decode_client, decode_client_value, encode_client, encode_value,
};
use tickwire_shared::layout::{self, LayoutField, Prim, Value};

/// The demo's declared input layout, from its schema (built once).
static INPUT: LazyLock<Vec<LayoutField>> = LazyLock::new(|| {
    let capture = Demo::replicate(&DemoConfig::default())
        .build(Demo::NAME)
        .expect("the demo's schema is valid");
    let input = capture.schema().def().input.clone();
    let want = [("buttons", Prim::U8), ("aim", Prim::U16)];
    assert!(
        input.len() == want.len()
            && input
                .iter()
                .zip(want)
                .all(|(f, (n, p))| f.name == n && f.prim == p),
        "the demo declares another input layout than Controls: {input:?}"
    );
    input
});

/// Reads an input payload both ways and checks they agree.
fn check_input(bytes: &[u8]) {
    let typed = decode_client_value::<Controls>(bytes);
    let by_layout = layout::decode_fields(&INPUT, bytes);
    match (typed, by_layout) {
        (Ok(c), Ok(values)) => {
            let want = vec![Value::Int(c.buttons.into()), Value::Int(c.aim.into())];
            assert_eq!(values, want, "the layout read other values than serde");
            let encoded = encode_value(&c);
            assert_eq!(
                layout::encode_fields(&INPUT, &values).expect("decoded values re-encode"),
                encoded,
                "the layout and serde encode the same controls differently"
            );
            assert!(encoded.len() <= bytes.len(), "controls re-encode longer");
            let again = decode_client_value::<Controls>(&encoded).expect("controls re-decode");
            assert_eq!(again, c);
        }
        (Err(_), Err(_)) => {}
        (typed, by_layout) => {
            panic!("serde and the layout disagree on {bytes:?}: {typed:?} vs {by_layout:?}")
        }
    }
}

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
    if let ClientMsg::Input { data: input, .. } = &msg {
        check_input(input);
    }
});
