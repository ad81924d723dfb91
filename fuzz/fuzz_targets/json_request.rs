//! Fuzz target: one JSON line through the JSON request reader. A request it
//! accepts must survive the binary encoding unchanged.
#![no_main]

use camd::protocol::{decode_request, encode_request, json_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = json_request(data) {
        let framed = encode_request(&req).expect("a decoded request encodes");
        let again = decode_request(&framed[4..]).expect("an encoded request decodes");
        assert_eq!(again, req);
    }
});
