// The binary encoder and decoder against camd's golden vectors
// (tests/wire/requests.jsonl and replies.jsonl): each decision request this
// client sends must be byte for byte the `postcard` frame, and each reply it
// reads must decode to what the `json` line says; and the decision log's
// trailing fields (a request's traceparent, a reply's revision and
// decision_id) appended to those vectors.
package com.camd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WireTest {
    /** name -> {json: parsed json line, postcard: frame bytes}. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object[]> vectors(String file) throws Exception {
        Map<String, Object[]> out = new HashMap<>();
        for (String line : Files.readAllLines(TestEnv.wireDir().resolve(file))) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> v = (Map<String, Object>) Json.parse(line);
            out.put((String) v.get("name"), new Object[] {
                Json.parse((String) v.get("json")), HexFormat.of().parseHex((String) v.get("postcard"))});
        }
        return out;
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    @SuppressWarnings("unchecked")
    private static Wire.Auth auth(Map<String, Object> req) {
        Map<String, Object> a = (Map<String, Object>) req.get("auth");
        return a == null ? null : new Wire.Auth((String) a.get("secret_id"), (String) a.get("secret_key"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> body(Object[] v) {
        return (Map<String, Object>) ((Map<String, Object>) v[0]).get("body");
    }

    private static long id(Object[] v) {
        return (Long) ((Map<?, ?>) v[0]).get("id");
    }

    @Test
    void pingEncodesAsTheVector() throws Exception {
        Object[] v = vectors("requests.jsonl").get("Ping");
        assertEquals(hex((byte[]) v[1]), hex(Wire.ping(id(v))));
    }

    @Test
    @SuppressWarnings("unchecked")
    void authorizeEncodesAsTheVector() throws Exception {
        Object[] v = vectors("requests.jsonl").get("Authorize");
        Ask ask = TestEnv.wireAsk((Map<String, Object>) body(v).get("Authorize"));
        byte[] got = Wire.authorize(id(v), auth((Map<String, Object>) v[0]), ask);
        assertEquals(hex((byte[]) v[1]), hex(got));
    }

    @Test
    @SuppressWarnings("unchecked")
    void batchEncodesAsTheVector() throws Exception {
        Object[] v = vectors("requests.jsonl").get("Batch");
        List<Ask> asks = new ArrayList<>();
        for (Object a : (List<Object>) body(v).get("Batch")) {
            asks.add(TestEnv.wireAsk((Map<String, Object>) a));
        }
        assertEquals(2, asks.size());
        assertEquals(hex((byte[]) v[1]), hex(Wire.batch(id(v), auth((Map<String, Object>) v[0]), asks)));
    }

    @Test
    @SuppressWarnings("unchecked")
    void authorizeAtEncodesAsTheVector() throws Exception {
        Object[] v = vectors("requests.jsonl").get("AuthorizeAt");
        Map<String, Object> at = (Map<String, Object>) body(v).get("AuthorizeAt");
        Ask ask = TestEnv.wireAsk((Map<String, Object>) at.get("ask"));
        byte[] got = Wire.authorizeAt(id(v), auth((Map<String, Object>) v[0]), (Long) at.get("min_revision"), ask);
        assertEquals(hex((byte[]) v[1]), hex(got));
    }

    @Test
    @SuppressWarnings("unchecked")
    void authorizeSignedEncodesAsTheVector() throws Exception {
        Object[] v = vectors("requests.jsonl").get("AuthorizeSigned");
        Map<String, Object> s = (Map<String, Object>) body(v).get("AuthorizeSigned");
        Map<String, Object> r = (Map<String, Object>) s.get("request");
        Map<String, Object> payload = (Map<String, Object>) r.get("payload");
        List<Object> bytes = (List<Object>) payload.get("Body");
        byte[] body = new byte[bytes.size()];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (long) (Long) bytes.get(i);
        }
        SignedHttp http = SignedHttp.withBody((String) r.get("method"), (String) r.get("path"),
                (String) r.get("query"), TestEnv.pairs(r.get("headers")), body);
        byte[] got = Wire.authorizeSigned(id(v), auth((Map<String, Object>) v[0]), http,
                (String) s.get("resource"), TestEnv.pairs(s.get("context")), (String) s.get("action"));
        assertEquals(hex((byte[]) v[1]), hex(got));
    }

    private static Wire.Response decode(Object[] v) throws Exception {
        byte[] frame = (byte[]) v[1];
        int len = ByteBuffer.wrap(frame).getInt();
        assertEquals(frame.length - 4, len, "the vector's length prefix");
        return Wire.decode(ByteBuffer.wrap(frame, 4, len).slice());
    }

    @SuppressWarnings("unchecked")
    private static void sameDecision(Map<String, Object> want, Decision got) {
        assertEquals(want.get("allowed"), got.allowed());
        assertEquals(want.get("reason"), got.reason());
        assertEquals(want.get("policy"), got.policy());
        Object st = want.get("statement");
        assertEquals(st == null ? null : ((Long) st).intValue(), got.statement());
        assertEquals(want.get("uin"), got.uin());
    }

    @Test
    @SuppressWarnings("unchecked")
    void pongDecodesIgnoringTheRevision() throws Exception {
        Object[] v = vectors("replies.jsonl").get("Pong");
        Wire.Response r = decode(v);
        assertEquals(id(v), r.id);
        assertTrue(r.ok());
        assertEquals(Wire.REPLY_PONG, r.variant);
        Map<String, Object> ok = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) v[0])
                .get("result")).get("Ok");
        assertEquals(((Long) ok.get("Pong")).intValue(), r.pong);
    }

    @Test
    @SuppressWarnings("unchecked")
    void decisionDecodesAsTheVector() throws Exception {
        Object[] v = vectors("replies.jsonl").get("Decision");
        Wire.Response r = decode(v);
        assertEquals(id(v), r.id);
        assertEquals(Wire.REPLY_DECISION, r.variant);
        Map<String, Object> ok = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) v[0])
                .get("result")).get("Ok");
        sameDecision((Map<String, Object>) ok.get("Decision"), r.decision);
    }

    @Test
    @SuppressWarnings("unchecked")
    void decisionsDecodeAsTheVector() throws Exception {
        Object[] v = vectors("replies.jsonl").get("Decisions");
        Wire.Response r = decode(v);
        assertEquals(id(v), r.id);
        assertEquals(Wire.REPLY_DECISIONS, r.variant);
        Map<String, Object> ok = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) v[0])
                .get("result")).get("Ok");
        List<Object> want = (List<Object>) ok.get("Decisions");
        assertEquals(want.size(), r.decisions.size());
        for (int i = 0; i < want.size(); i++) {
            Map<String, Object> w = (Map<String, Object>) want.get(i);
            Result got = r.decisions.get(i);
            if (w.containsKey("Ok")) {
                sameDecision((Map<String, Object>) w.get("Ok"), got.decision());
            } else {
                Map<String, Object> e = (Map<String, Object>) w.get("Err");
                assertFalse(got.isOk());
                assertEquals(e.get("code"), got.code());
                assertEquals(e.get("message"), got.message());
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void errorDecodesAsTheVector() throws Exception {
        Object[] v = vectors("replies.jsonl").get("Error");
        Wire.Response r = decode(v);
        assertEquals(id(v), r.id);
        Map<String, Object> e = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) v[0])
                .get("result")).get("Err");
        assertEquals(e.get("code"), r.errCode);
        assertEquals(e.get("message"), r.errMessage);
        assertNull(r.decision);
    }

    @Test
    void otherRepliesAndGarbageAreProtocolErrors() throws Exception {
        Object[] done = vectors("replies.jsonl").get("Done");
        assertThrows(CamdProtocolException.class, () -> decode(done));
        byte[] dec = (byte[]) vectors("replies.jsonl").get("Decision")[1];
        for (int cut = 5; cut < dec.length - 1; cut += 3) {
            ByteBuffer b = ByteBuffer.wrap(dec, 4, cut - 4).slice();
            assertThrows(CamdProtocolException.class, () -> Wire.decode(b), "cut at " + cut);
        }
        ByteBuffer badBool = ByteBuffer.wrap(new byte[] {2, 0, 1, 7});
        assertThrows(CamdProtocolException.class, () -> Wire.decode(badBool));
    }

    static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    /** {@code frame} with {@code tail} appended to its body (the length prefix fixed). */
    private static byte[] appended(byte[] frame, byte[] tail) {
        ByteBuffer b = ByteBuffer.allocate(frame.length + tail.length);
        b.put(frame).put(tail).putInt(0, frame.length - 4 + tail.length);
        return b.array();
    }

    /** The postcard String of the traceparent: its byte length (55, one varint byte), then its bytes. */
    private static byte[] traceparentBytes() {
        byte[] t = TRACEPARENT.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] out = new byte[t.length + 1];
        out[0] = (byte) t.length;
        System.arraycopy(t, 0, out, 1, t.length);
        return out;
    }

    @Test
    @SuppressWarnings("unchecked")
    void aTraceparentFollowsTheBody() throws Exception {
        Object[] v = vectors("requests.jsonl").get("Authorize");
        Map<String, Object> req = (Map<String, Object>) v[0];
        Ask ask = TestEnv.wireAsk((Map<String, Object>) body(v).get("Authorize"));
        assertEquals(hex(appended((byte[]) v[1], traceparentBytes())),
                hex(Wire.authorize(id(v), auth(req), ask, TRACEPARENT)));
        assertEquals(hex((byte[]) v[1]), hex(Wire.authorize(id(v), auth(req), ask, null)));

        Object[] b = vectors("requests.jsonl").get("Batch");
        List<byte[]> asks = new ArrayList<>();
        for (Object a : (List<Object>) body(b).get("Batch")) {
            asks.add(Wire.askBytes(TestEnv.wireAsk((Map<String, Object>) a)));
        }
        assertNull(((Map<String, Object>) b[0]).get("auth"));
        assertEquals(hex(appended((byte[]) b[1], traceparentBytes())), hex(Wire.batchOf(id(b), asks, TRACEPARENT)));

        Object[] at = vectors("requests.jsonl").get("AuthorizeAt");
        Map<String, Object> atBody = (Map<String, Object>) body(at).get("AuthorizeAt");
        byte[] got = Wire.authorizeAt(id(at), auth((Map<String, Object>) at[0]), (Long) atBody.get("min_revision"),
                TestEnv.wireAsk((Map<String, Object>) atBody.get("ask")), TRACEPARENT);
        assertEquals(hex(appended((byte[]) at[1], traceparentBytes())), hex(got));
    }

    @Test
    void aDecisionCarriesTheTrailingDecisionId() throws Exception {
        byte[] frame = (byte[]) vectors("replies.jsonl").get("Decision")[1];
        // Without the log: no id.
        assertNull(Wire.decode(ByteBuffer.wrap(frame, 4, frame.length - 4).slice()).decision.decisionId());
        // revision 0 (zigzag 00), then decision_id 0x1a23758fa3b00000 as a varint.
        Wire.Out tail = new Wire.Out().zigzag(0).varint(0x1a23758fa3b00000L);
        byte[] t = tail.frame();
        byte[] withId = appended(frame, java.util.Arrays.copyOfRange(t, 4, t.length));
        Wire.Response r = Wire.decode(ByteBuffer.wrap(withId, 4, withId.length - 4).slice());
        assertEquals("1a23758fa3b00000", r.decision.decisionId());
        assertTrue(r.decision.allowed());
        // A revision alone (cluster mode, log off): still no id.
        byte[] revOnly = appended(frame, new byte[] {0x50});
        assertNull(Wire.decode(ByteBuffer.wrap(revOnly, 4, revOnly.length - 4).slice()).decision.decisionId());
        // The whole u64 range, as %016x.
        t = new Wire.Out().zigzag(7).varint(-1L).frame();
        byte[] high = appended(frame, java.util.Arrays.copyOfRange(t, 4, t.length));
        assertEquals("ffffffffffffffff",
                Wire.decode(ByteBuffer.wrap(high, 4, high.length - 4).slice()).decision.decisionId());
    }

    @Test
    void aBatchsItemsGetConsecutiveDecisionIds() throws Exception {
        // Response { id 9, Ok(Decisions [Ok(allow), Err, Ok(deny)]), revision 0, decision_id 2^64 - 2 }.
        Wire.Out o = new Wire.Out().varint(9).varint(0).varint(Wire.REPLY_DECISIONS).varint(3);
        o.varint(0).bool(true).str("Allow").varint(1).str("P").varint(1).varint(0).varint(7);
        o.varint(1).str("ResourceNotFound.UserNotExist").str("no user `nobody`");
        o.varint(0).bool(false).str("ImplicitDeny").varint(0).varint(0).varint(7);
        byte[] f = o.zigzag(0).varint(-2L).frame();
        Wire.Response r = Wire.decode(ByteBuffer.wrap(f, 4, f.length - 4).slice());
        assertEquals("fffffffffffffffe", r.decisions.get(0).decision().decisionId());
        assertFalse(r.decisions.get(1).isOk()); // an error has no id to show
        // Item i is first + i, in u64 arithmetic.
        assertEquals("0000000000000000", r.decisions.get(2).decision().decisionId());
        assertEquals(new Decision(false, "ImplicitDeny", null, null, 7, "0000000000000000"),
                r.decisions.get(2).decision());
    }

    @Test
    void theSecretKeyIsNeverShown() {
        Ask a = Ask.byKey("AKIDx", "the-secret-key", "im:SendMessage", "*", List.of());
        assertFalse(a.toString().contains("the-secret-key"), a.toString());
        assertFalse(new Wire.Auth("AKIDx", "the-secret-key").toString().contains("the-secret-key"));
    }
}
