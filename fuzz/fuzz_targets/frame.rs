//! Fuzz target: a connection's byte stream through the binary frame decoder,
//! as the server reads it (hello, then length-prefixed postcard frames).
//! Every frame that decodes must encode and decode back to itself, the
//! batch length read before decoding must agree with the decoder, and a
//! decision read in place must be the owned decoder's request.
#![no_main]

use camd::protocol::{
    AskRef, Body, DecisionBody, HELLO_LEN, decode_decision, decode_hello, decode_request,
    encode_request, frame_len, peek_batch,
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
        if let Some(borrowed) = decode_decision(body) {
            let owned = decode_request(body).expect("a decision read in place decodes owned");
            assert_eq!(owned.id, borrowed.id);
            match (&owned.body, &borrowed.body) {
                (Body::Ping, DecisionBody::Ping) => {}
                (Body::Authorize(a), DecisionBody::Authorize(b)) => assert_eq!(&AskRef::of(a), b),
                (Body::Batch(a), DecisionBody::Batch(b)) => {
                    assert!(a.iter().map(AskRef::of).eq(b.iter().cloned()));
                }
                other => panic!("read in place as another request: {other:?}"),
            }
        }
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
