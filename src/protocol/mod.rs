//! The wire: versioned request/response types and the codec. This module is
//! the only one that knows the byte layout (see docs/protocol.md); the rest of
//! camd converts to and from these types explicitly.

mod account;
mod borrowed;
mod codec;
mod decision_id;
mod decision_log;
mod envelope;
mod kind;
mod managed;
mod messages;
mod ops;
mod replies;
mod roles;

pub use account::*;
pub use borrowed::{
    AskRef, DecisionBody, DecisionRequest, KeyRef, UserRefRef, decode_decision, encode_batch,
};
pub use codec::{
    FrameError, HELLO_LEN, MAGIC, PROTOCOL_VERSION, decode_hello, decode_request, decode_response,
    encode_hello, encode_request, encode_response, frame_len, json_request, json_response,
    peek_batch,
};
pub use decision_id::{BadDecisionId, DecisionId, SEQ_BITS};
pub use decision_log::{DecisionLogInfo, SinkInfo};
pub use envelope::{Request, Response};
pub use kind::PolicyKind;
pub use managed::*;
pub use messages::*;
pub use ops::*;
pub use replies::{
    AnswerRef, DecisionFrame, DecisionRef, DecisionsRef, WireErrorRef, append_trailer,
    read_decisions,
};
pub use roles::*;
