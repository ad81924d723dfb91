// Signed requests: TC3-HMAC-SHA256 for service `im` with the scene's key,
// built as raw HTTP bytes, decided by camd through authorizeSigned and
// compared with `camctl verify --service im` on the very same bytes (allowed,
// explicitly denied, tampered body, wrong key); a body given as its SHA-256;
// and the signer against Tencent's published example.
package com.camd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SignedTest {
    static final String APP = "qcs::im::uin/100000000001:sdkappid/1400000001";

    /** A POST to / as a Chat SDK sends it, signed with the key. */
    static byte[] rawSigned(String id, String secret, String action, byte[] body) {
        long ts = System.currentTimeMillis() / 1000;
        List<Map.Entry<String, String>> headers = List.of(
                Map.entry("Content-Type", "application/json"),
                Map.entry("Host", "im.tencentcloudapi.com"),
                Map.entry("X-TC-Action", action),
                Map.entry("X-TC-Timestamp", Long.toString(ts)),
                Map.entry("X-TC-Version", "2019-03-06"));
        String auth = Tc3.authorization(id, secret, "im", ts, "POST", "/", "", headers,
                List.of("content-type", "host", "x-tc-action"), body);
        StringBuilder b = new StringBuilder("POST / HTTP/1.1\r\nAuthorization: ").append(auth).append("\r\n");
        for (Map.Entry<String, String> h : headers) {
            b.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        b.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(b.toString().getBytes(StandardCharsets.UTF_8));
        out.writeBytes(body);
        return out.toByteArray();
    }

    /** An answer reduced to what both sides print. */
    record Verdict(boolean allowed, String reason, String policy, Integer statement, long uin, String code) {
        static Verdict of(Decision d) {
            return new Verdict(d.allowed(), d.reason(), d.policy(), d.statement(), d.uin(), null);
        }

        static Verdict error(String code) {
            return new Verdict(false, null, null, null, 0, code);
        }
    }

    static Verdict mine(CamdClient c, byte[] raw, String action) throws CamdConnectionException {
        try {
            return Verdict.of(c.authorizeSigned(SignedHttp.parse(raw), APP, List.of(), action));
        } catch (CamdConnectionException e) {
            throw e;
        } catch (CamdException e) {
            return Verdict.error(e.code());
        }
    }

    @SuppressWarnings("unchecked")
    static Verdict camctl(String bin, String socket, byte[] raw) throws Exception {
        Process p = new ProcessBuilder(bin, "--socket", socket, "--json", "verify", "--service", "im",
                "--resource", APP).start();
        p.getOutputStream().write(raw);
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        int code = p.exitValue();
        if (code == 0 || code == 1) {
            Map<String, Object> j = (Map<String, Object>) Json.parse(out.trim());
            boolean allowed = "Allow".equals(j.get("Decision"));
            assertEquals(code == 0, allowed, "camctl exited " + code + " for " + out);
            Object st = j.get("StatementIndex");
            return new Verdict(allowed, (String) j.get("Reason"), (String) j.get("PolicyName"),
                    st == null ? null : ((Long) st).intValue(), (Long) j.get("Uin"), null);
        }
        // `camctl: <Code>: message`, as every camctl error.
        String msg = err.trim();
        if (msg.startsWith("camctl: ")) {
            msg = msg.substring("camctl: ".length());
        }
        int colon = msg.indexOf(':');
        return Verdict.error((colon < 0 ? msg : msg.substring(0, colon)).trim());
    }

    @Test
    void signedRequestsAgreeWithCamctlVerify() throws Exception {
        String socket = TestEnv.socket().toString();
        String id = TestEnv.env("CAMD_TEST_KEY_ID");
        String secret = TestEnv.env("CAMD_TEST_KEY_SECRET");
        String bin = TestEnv.env("CAMD_TEST_CAMCTL");
        byte[] body = "{\"GroupId\":\"@TGS#1\",\"Text\":\"héllo\"}".getBytes(StandardCharsets.UTF_8);
        byte[] tampered = new String(rawSigned(id, secret, "SendMessage", body), StandardCharsets.UTF_8)
                .replace("\"Text\"", "\"Texu\"").getBytes(StandardCharsets.UTF_8);
        Object[][] cases = {
            {"allowed", rawSigned(id, secret, "SendMessage", body), new Verdict(true, "Allow", "NoDestroy", 0, 0, null)},
            {"explicitly denied", rawSigned(id, secret, "DestroyGroup", body),
                new Verdict(false, "ExplicitDeny", "NoDestroy", 1, 0, null)},
            {"tampered body", tampered, Verdict.error("AuthFailure.SignatureFailure")},
            {"wrong key", rawSigned(id, "not-the-key", "SendMessage", body), Verdict.error("AuthFailure.SignatureFailure")},
        };
        try (CamdClient c = CamdClient.connect(TestEnv.socket())) {
            for (Object[] k : cases) {
                byte[] raw = (byte[]) k[1];
                Verdict got = mine(c, raw, "im");
                Verdict want = (Verdict) k[2];
                if (want.code() == null) {
                    assertNotEquals(0, got.uin(), k[0] + ": no uin");
                    want = new Verdict(want.allowed(), want.reason(), want.policy(), want.statement(), got.uin(), null);
                }
                assertEquals(want, got, (String) k[0]);
                assertEquals(got, camctl(bin, socket, raw), k[0] + ": camctl verify disagrees");
            }
        }
    }

    @Test
    void aHashedBodyAndAnExplicitActionAndNoAction() throws Exception {
        TestEnv.socket();
        String id = TestEnv.env("CAMD_TEST_KEY_ID");
        String secret = TestEnv.env("CAMD_TEST_KEY_SECRET");
        byte[] body = "{\"GroupId\":\"@TGS#1\"}".getBytes(StandardCharsets.UTF_8);
        SignedHttp r = SignedHttp.parse(rawSigned(id, secret, "SendMessage", body)).hashed();
        try (CamdClient c = CamdClient.connect(TestEnv.socket())) {
            Decision d = c.authorizeSigned(r, APP, List.of(Map.entry("qcs:ip", "10.0.0.1")), "im:GetGroupInfo");
            assertTrue(d.allowed() && d.reason().equals("Allow"), d.toString());
            CamdException e = org.junit.jupiter.api.Assertions.assertThrows(CamdException.class,
                    () -> c.authorizeSigned(r, APP, List.of(), null));
            assertEquals("MissingParameter", e.code());
        }
    }

    @Test
    void theSigningHereIsTencents() {
        // Tencent's published example (CVM DescribeInstances), as src/credentials/tc3.rs checks it.
        byte[] body = "{\"Limit\": 1, \"Filters\": [{\"Values\": [\"\\u672a\\u547d\\u540d\"], \"Name\": \"instance-name\"}]}"
                .getBytes(StandardCharsets.UTF_8);
        List<Map.Entry<String, String>> headers = List.of(
                Map.entry("Content-Type", "application/json; charset=utf-8"),
                Map.entry("Host", "cvm.tencentcloudapi.com"),
                Map.entry("X-TC-Action", "DescribeInstances"));
        String got = Tc3.authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******",
                "cvm", 1551113065, "POST", "/", "", headers, List.of("content-type", "host"), body);
        assertEquals("TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, "
                + "SignedHeaders=content-type;host, "
                + "Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c", got);
    }
}
