//! Fuzz target: a connection's byte stream through the binary frame decoder,
//! as the server reads it (hello, then length-prefixed postcard frames).
//! Every frame that decodes must encode and decode back to itself, and the
//! batch length read before decoding must agree with the decoder.
#![no_main]

use camd::protocol::{
    Body, HELLO_LEN, decode_hello, decode_request, encode_request, frame_len, peek_batch,
};
use libfuzzer_sys::fuzz_target;

const MAX_FRAME: usize = 65_536;

fuzz_target!(|data: &[u8]| {
    let Some((hello, mut rest)) = data.split_first_chunk::<HELLO_LEN>() else {
        return;
    };
    let _ = decode_hello(hello);
    while let Some((header, after)) = rest.split_first_chunk::<4>() {
        let Ok(len) = frame_len(*header, MAX_FRAME) else {
            return;
        };
        let Some((body, next)) = after.split_at_checked(len) else {
            return;
        };
        let peeked = peek_batch(body);
        if let Ok(req) = decode_request(body) {
            if let Body::Batch(items) = &req.body {
                assert_eq!(peeked, Some((req.id, items.len() as u64)));
            } else {
                assert_eq!(peeked, None);
            }
            let framed = encode_request(&req).expect("a decoded request encodes");
            let again = decode_request(&framed[4..]).expect("an encoded request decodes");
            assert_eq!(again, req);
        }
        rest = next;
    }
});
