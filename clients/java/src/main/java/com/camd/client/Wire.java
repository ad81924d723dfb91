package com.camd.client;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * camd's binary protocol (docs/protocol.md): postcard encoding of the decision
 * requests (Ping, Authorize, Batch, AuthorizeSigned, AuthorizeAt) and of the
 * replies they get (Pong, Decision, Decisions, errors), with the optional
 * trailing fields of the decision log: a request's {@code traceparent} and a
 * reply's {@code revision} and {@code decision_id}. Checked against
 * tests/wire/*.jsonl by WireTest.
 */
final class Wire {
    private Wire() {
    }

    static final int VERSION = 1;
    static final byte[] HELLO = {'C', 'A', 'M', 'D', 0, (byte) VERSION};
    static final int MAX_BATCH = 4096;

    static final int BODY_PING = 0;
    static final int BODY_AUTHORIZE = 1;
    static final int BODY_BATCH = 2;
    static final int BODY_AUTHORIZE_SIGNED = 33;
    static final int BODY_AUTHORIZE_AT = 48;

    static final int REPLY_PONG = 0;
    static final int REPLY_DECISION = 1;
    static final int REPLY_DECISIONS = 2;

    // ---- encoding ----

    static final class Out {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream(128);

        Out() {
            b.write(0); b.write(0); b.write(0); b.write(0); // the frame length, filled in by frame()
        }

        Out varint(long v) {
            while ((v & ~0x7FL) != 0) {
                b.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            b.write((int) v);
            return this;
        }

        Out zigzag(long v) {
            return varint((v << 1) ^ (v >> 63));
        }

        Out bool(boolean v) {
            b.write(v ? 1 : 0);
            return this;
        }

        Out bytes(byte[] v) {
            varint(v.length);
            b.write(v, 0, v.length);
            return this;
        }

        Out str(String s) {
            return bytes(s.getBytes(StandardCharsets.UTF_8));
        }

        Out pairs(List<Map.Entry<String, String>> kv) {
            varint(kv.size());
            for (Map.Entry<String, String> e : kv) {
                str(e.getKey()).str(e.getValue());
            }
            return this;
        }

        /** The frame: the 4-byte big-endian body length, then the body. */
        byte[] frame() {
            byte[] f = b.toByteArray();
            int n = f.length - 4;
            f[0] = (byte) (n >>> 24);
            f[1] = (byte) (n >>> 16);
            f[2] = (byte) (n >>> 8);
            f[3] = (byte) n;
            return f;
        }
    }

    /** Request.auth: an access key presented with admin requests (never by this client's decisions). */
    record Auth(String secretId, String secretKey) {
        @Override
        public String toString() {
            return "Auth{" + secretId + ", SecretKey hidden}";
        }
    }

    /** Request { id, auth, body: variant ... }. */
    private static Out request(long id, Auth auth, int variant) {
        Out o = new Out().varint(id);
        if (auth == null) {
            o.varint(0);
        } else {
            o.varint(1).str(auth.secretId()).str(auth.secretKey());
        }
        return o.varint(variant);
    }

    static byte[] ping(long id) {
        return request(id, null, BODY_PING).frame();
    }

    static byte[] authorize(long id, Ask ask) {
        return authorize(id, null, ask);
    }

    static byte[] authorize(long id, Auth auth, Ask ask) {
        return authorize(id, auth, ask, null);
    }

    static byte[] authorize(long id, Auth auth, Ask ask, String traceparent) {
        Out o = request(id, auth, BODY_AUTHORIZE);
        ask(o, ask);
        return traced(o, traceparent).frame();
    }

    /**
     * Request.traceparent: after the body, only when given (without it the
     * frame is the same bytes as before the field existed).
     */
    private static Out traced(Out o, String traceparent) {
        return traceparent == null ? o : o.str(traceparent);
    }

    /** The bytes a traceparent adds to a request frame (0 for none). */
    static int tracedBytes(String traceparent) {
        if (traceparent == null) {
            return 0;
        }
        int n = traceparent.getBytes(StandardCharsets.UTF_8).length;
        return n + 5; // its varint length takes at most 5 bytes
    }

    static byte[] batch(long id, List<Ask> asks) {
        return batch(id, null, asks);
    }

    static byte[] batch(long id, Auth auth, List<Ask> asks) {
        Out o = request(id, auth, BODY_BATCH).varint(asks.size());
        for (Ask a : asks) {
            ask(o, a);
        }
        return o.frame();
    }

    /** One Authorize's encoding alone (for splitting batches by size). */
    static byte[] askBytes(Ask a) {
        Out o = new Out();
        ask(o, a);
        byte[] f = o.frame();
        return java.util.Arrays.copyOfRange(f, 4, f.length);
    }

    /** A Batch frame of already encoded asks. */
    static byte[] batchOf(long id, List<byte[]> encoded) {
        return batchOf(id, encoded, null);
    }

    static byte[] batchOf(long id, List<byte[]> encoded, String traceparent) {
        Out o = request(id, null, BODY_BATCH).varint(encoded.size());
        for (byte[] e : encoded) {
            o.b.write(e, 0, e.length);
        }
        return traced(o, traceparent).frame();
    }

    static byte[] authorizeAt(long id, long minRevision, Ask ask) {
        return authorizeAt(id, null, minRevision, ask);
    }

    static byte[] authorizeAt(long id, Auth auth, long minRevision, Ask ask) {
        return authorizeAt(id, auth, minRevision, ask, null);
    }

    static byte[] authorizeAt(long id, Auth auth, long minRevision, Ask ask, String traceparent) {
        Out o = request(id, auth, BODY_AUTHORIZE_AT).zigzag(minRevision);
        ask(o, ask);
        return traced(o, traceparent).frame();
    }

    static byte[] authorizeSigned(long id, SignedHttp r, String resource,
                                  List<Map.Entry<String, String>> context, String action) {
        return authorizeSigned(id, null, r, resource, context, action);
    }

    static byte[] authorizeSigned(long id, Auth auth, SignedHttp r, String resource,
                                  List<Map.Entry<String, String>> context, String action) {
        return authorizeSigned(id, auth, r, resource, context, action, null);
    }

    static byte[] authorizeSigned(long id, Auth auth, SignedHttp r, String resource,
                                  List<Map.Entry<String, String>> context, String action,
                                  String traceparent) {
        Out o = request(id, auth, BODY_AUTHORIZE_SIGNED);
        o.str(r.method).str(r.path).str(r.query).pairs(r.headers);
        if (r.body != null) {
            o.varint(0).bytes(r.body);
        } else {
            o.varint(1).str(r.bodySha256);
        }
        o.str(resource).pairs(context);
        if (action == null) {
            o.varint(0);
        } else {
            o.varint(1).str(action);
        }
        return traced(o, traceparent).frame();
    }

    /** Authorize = 0 ByKey { key, action, resource, context } | 1 ByUser { user, ... }. */
    private static void ask(Out o, Ask a) {
        if (a.secretId != null) {
            o.varint(0).str(a.secretId).str(a.secretKey);
        } else if (a.userName != null) {
            o.varint(1).varint(0).str(a.userName);
        } else {
            o.varint(1).varint(1).varint(a.uin);
        }
        o.str(a.action).str(a.resource).pairs(a.context);
    }

    // ---- decoding ----

    /** A decoded Response: its id, and the reply (one of the fields set) or the error. */
    static final class Response {
        long id;
        int variant = -1;         // the Reply variant when ok
        int pong;                 // Pong
        Decision decision;        // Decision
        List<Result> decisions;   // Decisions
        String errCode;           // Err
        String errMessage;
        Long decisionId;          // the trailing decision_id (decision log on), else null

        boolean ok() {
            return errCode == null;
        }
    }

    static final class In {
        private final ByteBuffer b;

        In(ByteBuffer b) {
            this.b = b;
        }

        private CamdProtocolException garbled(String what) {
            return new CamdProtocolException("camd sent a garbled reply: " + what);
        }

        int u8() throws CamdProtocolException {
            if (!b.hasRemaining()) {
                throw garbled("the frame ends early");
            }
            return b.get() & 0xFF;
        }

        long varint() throws CamdProtocolException {
            long v = 0;
            for (int shift = 0; shift < 70; shift += 7) {
                int x = u8();
                if (shift == 63 && (x & 0xFE) != 0) {
                    throw garbled("a varint overflows 64 bits");
                }
                v |= (long) (x & 0x7F) << shift;
                if ((x & 0x80) == 0) {
                    return v;
                }
            }
            throw garbled("a varint is too long");
        }

        long u32() throws CamdProtocolException {
            long v = varint();
            if (v < 0 || v > 0xFFFFFFFFL) {
                throw garbled("a u32 out of range");
            }
            return v;
        }

        boolean bool() throws CamdProtocolException {
            int x = u8();
            if (x > 1) {
                throw garbled("a bool is " + x);
            }
            return x == 1;
        }

        String str() throws CamdProtocolException {
            long n = varint();
            if (n < 0 || n > b.remaining()) {
                throw garbled("a string is longer than the frame");
            }
            ByteBuffer s = b.slice(b.position(), (int) n);
            b.position(b.position() + (int) n);
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(s).toString();
            } catch (CharacterCodingException e) {
                throw garbled("a string is not UTF-8");
            }
        }

        String optStr() throws CamdProtocolException {
            return option() ? str() : null;
        }

        boolean option() throws CamdProtocolException {
            int tag = u8();
            if (tag > 1) {
                throw garbled("an option tag is " + tag);
            }
            return tag == 1;
        }

        Decision decision() throws CamdProtocolException {
            boolean allowed = bool();
            String reason = str();
            String policy = optStr();
            Integer statement = null;
            if (option()) {
                long s = u32();
                if (s > Integer.MAX_VALUE) {
                    throw garbled("a statement index out of range");
                }
                statement = (int) s;
            }
            long uin = varint();
            return new Decision(allowed, reason, policy, statement, uin);
        }

        int variant() throws CamdProtocolException {
            long v = varint();
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw garbled("a variant out of range");
            }
            return (int) v;
        }
    }

    /**
     * A Response body (without its length prefix). A trailing revision
     * (cluster mode, or with the decision log) is skipped; the decision_id
     * after it is given to the decision, or to a batch's items as first + i.
     * Replies other than Pong, Decision and Decisions are a protocol error
     * here, since no request of this client gets them.
     */
    static Response decode(ByteBuffer body) throws CamdProtocolException {
        In in = new In(body);
        Response r = new Response();
        r.id = in.varint();
        int result = in.u8();
        if (result == 1) {
            r.errCode = in.str();
            r.errMessage = in.str();
            return r;
        }
        if (result != 0) {
            throw in.garbled("a result tag is " + result);
        }
        r.variant = in.variant();
        switch (r.variant) {
            case REPLY_PONG -> {
                long v = in.varint();
                if (v < 0 || v > 0xFFFF) {
                    throw in.garbled("a u16 out of range");
                }
                r.pong = (int) v;
            }
            case REPLY_DECISION -> r.decision = in.decision();
            case REPLY_DECISIONS -> {
                long n = in.varint();
                if (n < 0 || n > body.remaining()) {
                    throw in.garbled("more decisions than bytes");
                }
                List<Result> list = new ArrayList<>((int) n);
                for (long i = 0; i < n; i++) {
                    int tag = in.u8();
                    if (tag == 0) {
                        list.add(Result.ok(in.decision()));
                    } else if (tag == 1) {
                        String code = in.str();
                        list.add(Result.error(code, in.str()));
                    } else {
                        throw in.garbled("a result tag is " + tag);
                    }
                }
                r.decisions = list;
            }
            default -> throw new CamdProtocolException(
                    "camd answered with reply variant " + r.variant + ", which no decision request gets");
        }
        trailer(in, body, r);
        return r;
    }

    /** Response.revision and .decision_id, when they follow the result; anything after them is ignored. */
    private static void trailer(In in, ByteBuffer body, Response r) throws CamdProtocolException {
        if (!body.hasRemaining()) {
            return;
        }
        in.varint(); // the revision (zigzag i64): not needed by a decision
        if (!body.hasRemaining() || r.variant == REPLY_PONG) {
            return;
        }
        long first = in.varint();
        r.decisionId = first;
        if (r.decision != null) {
            r.decision = r.decision.withDecisionId(decisionIdText(first));
        } else if (r.decisions != null) {
            for (int i = 0; i < r.decisions.size(); i++) {
                Result x = r.decisions.get(i);
                if (x.isOk()) {
                    // u64 addition: Java's long wraps the same way.
                    r.decisions.set(i, Result.ok(x.decision().withDecisionId(decisionIdText(first + i))));
                }
            }
        }
    }

    /** A decision id's text form: {@code %016x} of the u64. */
    static String decisionIdText(long id) {
        return HexFormat.of().toHexDigits(id);
    }
}
