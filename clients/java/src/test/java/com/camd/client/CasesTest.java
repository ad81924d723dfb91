// Every shared case of tests/clients/cases.json asked of the real camd, one
// by one and then all as one batch, with the answers the file states (the
// same ones every client in clients/ gives); plus ping and AuthorizeAt.
package com.camd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

class CasesTest {
    @SuppressWarnings("unchecked")
    static void check(Map<String, Object> c, Decision d, String code) {
        String name = (String) c.get("name");
        Map<String, Object> want = (Map<String, Object>) c.get("expect");
        if (want.containsKey("error")) {
            assertEquals(want.get("error"), code, name + ": got " + d);
            return;
        }
        if (d == null) {
            fail(name + ": expected " + want + ", got error " + code);
        }
        assertEquals(want.get("allowed"), d.allowed(), name);
        assertEquals(want.get("reason"), d.reason(), name);
        assertEquals(want.get("policy"), d.policy(), name);
        Object st = want.get("statement");
        assertEquals(st == null ? null : ((Long) st).intValue(), d.statement(), name);
        assertTrue(d.uin() > 0, name + ": no uin");
    }

    @TestFactory
    @SuppressWarnings("unchecked")
    Stream<DynamicTest> eachCaseSingly() throws Exception {
        CamdClient client = CamdClient.connect(TestEnv.socket());
        return TestEnv.cases().stream().map(c -> DynamicTest.dynamicTest((String) c.get("name"), () -> {
            Ask ask = TestEnv.caseAsk((Map<String, Object>) c.get("ask"));
            try {
                check(c, client.authorize(ask), null);
            } catch (CamdConnectionException e) {
                throw e;
            } catch (CamdException e) {
                check(c, null, e.code());
            }
        })).onClose(client::close);
    }

    @Test
    @SuppressWarnings("unchecked")
    void allCasesAsOneBatch() throws Exception {
        try (CamdClient client = CamdClient.connect(TestEnv.socket())) {
            List<Map<String, Object>> cases = TestEnv.cases();
            List<Ask> asks = new ArrayList<>();
            for (Map<String, Object> c : cases) {
                asks.add(TestEnv.caseAsk((Map<String, Object>) c.get("ask")));
            }
            List<Result> got = client.authorizeBatch(asks);
            assertEquals(cases.size(), got.size());
            for (int i = 0; i < cases.size(); i++) {
                check(cases.get(i), got.get(i).decision(), got.get(i).code());
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aBatchLargerThanOneFrameIsSplitAndInOrder() throws Exception {
        // The test scene's camd has max_frame_bytes = 65536.
        try (CamdClient client = CamdClient.builder().socket(TestEnv.socket()).maxFrameBytes(65536).connect()) {
            List<Map<String, Object>> cases = TestEnv.cases();
            List<Ask> asks = new ArrayList<>();
            for (int i = 0; i < 5000; i++) {
                asks.add(TestEnv.caseAsk((Map<String, Object>) cases.get(i % 3).get("ask")));
            }
            List<Result> got = client.authorizeBatch(asks);
            assertEquals(5000, got.size());
            for (int i = 0; i < got.size(); i++) {
                check(cases.get(i % 3), got.get(i).decision(), got.get(i).code());
            }
            assertEquals(List.of(), client.authorizeBatch(List.of()));
        }
    }

    @Test
    void pingAndAuthorizeAtAndByUin() throws Exception {
        try (CamdClient client = CamdClient.connect(TestEnv.socket())) {
            assertEquals(1, client.ping());
            String app = "qcs::im::uin/100000000001:sdkappid/1400000001";
            Decision d = client.authorizeUser("reader", "im:GetGroupInfo", app);
            // Standalone camd: any revision it has reached is fine, the decision is the same.
            Decision at = client.authorizeAt(0, Ask.byUser("reader", "im:GetGroupInfo", app, List.of()));
            // The same answer; each its own decision id (the decision log on).
            assertEquals(d.withDecisionId(null), at.withDecisionId(null));
            Decision byUin = client.authorizeUser(d.uin(), "im:GetGroupInfo", app, List.of());
            assertEquals(d.withDecisionId(null), byUin.withDecisionId(null));
            CamdException e = assertThrows(CamdException.class,
                    () -> client.authorizeUser("nobody", "im:GetGroupInfo", "*"));
            assertEquals("ResourceNotFound.UserNotExist", e.code());
        }
    }

    @Test
    void theSecretKeyIsNotInErrors() throws Exception {
        try (CamdClient client = CamdClient.connect(TestEnv.socket())) {
            String secret = "wrong-secret-key-1234567890";
            CamdException e = assertThrows(CamdException.class, () -> client.authorizeKey(
                    TestEnv.env("CAMD_TEST_KEY_ID"), secret, "im:SendMessage", "*", List.of()));
            assertEquals("AuthFailure.InvalidAuthorization", e.code());
            assertTrue(!e.getMessage().contains(secret) && !e.toString().contains(secret), e.toString());
        }
    }
}
