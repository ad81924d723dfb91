// The example program clients/java/check, run as a user would: Allow exits 0,
// Deny 1, an error 2 with the CAM code in its message; the SecretKey comes
// from CAMD_SECRET_KEY; bad arguments exit 2.
package com.camd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CheckTest {
    static final String APP = "qcs::im::uin/100000000001:sdkappid/1400000001";

    record Run(int code, String out, String err) {
    }

    static Run check(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(TestEnv.ROOT.resolve("check").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().remove("CAMD_SECRET_KEY");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "check hung");
        return new Run(p.exitValue(), out, err);
    }

    @Test
    void allowDenyAndErrorExitCodes() throws Exception {
        String sock = TestEnv.socket().toString();
        Run allow = check(Map.of(), "--socket", sock, "--user", "reader", "--action", "im:GetGroupInfo",
                "--resource", APP, "--context", "{\"qcs:ip\":\"10.0.0.1\"}");
        assertEquals(0, allow.code(), allow.toString());
        assertEquals("Allow: Allow by policy `QcloudChatReadOnlyAccess` statement[0]", allow.out().trim());

        Run deny = check(Map.of(), "--socket", sock, "--user", "keeper", "--action", "im:DestroyGroup",
                "--resource", APP);
        assertEquals(1, deny.code(), deny.toString());
        assertEquals("Deny: ExplicitDeny by policy `NoDestroy` statement[1]", deny.out().trim());

        Run unknown = check(Map.of(), "--socket", sock, "--user", "nobody", "--action", "im:GetGroupInfo",
                "--resource", "*");
        assertEquals(2, unknown.code(), unknown.toString());
        assertTrue(unknown.err().contains("ResourceNotFound.UserNotExist"), unknown.err());
    }

    @Test
    void byKeyWithTheSecretKeyFromTheEnvironment() throws Exception {
        String sock = TestEnv.socket().toString();
        String id = TestEnv.env("CAMD_TEST_KEY_ID");
        Run ok = check(Map.of("CAMD_SECRET_KEY", TestEnv.env("CAMD_TEST_KEY_SECRET")), "--socket", sock,
                "--secret-id", id, "--action", "im:SendMessage", "--resource", APP, "--context", "[[\"qcs:ip\",\"10.0.0.1\"]]");
        assertEquals(0, ok.code(), ok.toString());
        Run wrong = check(Map.of("CAMD_SECRET_KEY", "not-the-key-xyz"), "--socket", sock,
                "--secret-id", id, "--action", "im:SendMessage", "--resource", APP);
        assertEquals(2, wrong.code(), wrong.toString());
        assertTrue(wrong.err().contains("AuthFailure.InvalidAuthorization"), wrong.err());
        assertFalse(wrong.err().contains("not-the-key-xyz") || wrong.out().contains("not-the-key-xyz"));
        Run none = check(Map.of(), "--socket", sock, "--secret-id", id, "--action", "im:SendMessage", "--resource", APP);
        assertEquals(2, none.code(), none.toString());
    }

    @Test
    void badArgumentsAndNoDaemonExitTwo() throws Exception {
        TestEnv.socket();
        assertEquals(2, check(Map.of(), "--user", "reader").code());
        assertEquals(2, check(Map.of(), "--bogus").code());
        Run missing = check(Map.of(), "--socket", "/nonexistent/camd.sock", "--user", "reader",
                "--action", "im:GetGroupInfo", "--resource", "*");
        assertEquals(2, missing.code(), missing.toString());
        assertTrue(missing.err().contains("cannot connect"), missing.err());
    }
}
