// camd's decision log (CAMD_TEST_DECISION_LOG names its file in the test
// scene): a decision and a batch sent with a traceparent, whose decision ids
// must each name exactly one record of that file, with the same answer and
// the traceparent's trace id (a batch's items: first, first + 1, ...).
package com.camd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DecisionLogTest {
    static final String APP = "qcs::im::uin/100000000001:sdkappid/1400000001";
    static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

    /** The decision log file, or the test is skipped. */
    private static Path logFile() {
        String s = System.getenv("CAMD_TEST_DECISION_LOG");
        assumeTrue(s != null && !s.isEmpty(), "CAMD_TEST_DECISION_LOG is unset: no decision log to read");
        return Path.of(s);
    }

    private static void isAnId(String id) {
        assertTrue(id != null && id.matches("[0-9a-f]{16}"), "not a decision id: " + id);
    }

    /**
     * The records of {@code ids}, by id, polling up to 5 s until each has one
     * (the log's writer flushes within a few ms).
     */
    @SuppressWarnings("unchecked")
    private static Map<String, List<Map<String, Object>>> records(Path file, List<String> ids) throws Exception {
        long until = System.nanoTime() + 5_000_000_000L;
        while (true) {
            Map<String, List<Map<String, Object>>> found = new HashMap<>();
            boolean partial = false;
            if (Files.exists(file)) {
                String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
                for (String line : text.split("\n")) {
                    String id = ids.stream().filter(i -> line.contains("\"" + i + "\"")).findFirst().orElse(null);
                    if (id == null) {
                        continue;
                    }
                    Map<String, Object> rec;
                    try {
                        rec = (Map<String, Object>) Json.parse(line);
                    } catch (IllegalArgumentException e) {
                        partial = true; // a line being written
                        continue;
                    }
                    String at = (String) rec.get("decision_id");
                    if (ids.contains(at)) {
                        found.computeIfAbsent(at, k -> new ArrayList<>()).add(rec);
                    }
                }
            }
            if (!partial && found.keySet().containsAll(ids)) {
                return found;
            }
            if (System.nanoTime() > until) {
                List<String> missing = new ArrayList<>(ids);
                missing.removeAll(found.keySet());
                fail("no record in " + file + " within 5 s for decision ids " + missing);
            }
            Thread.sleep(20);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> theRecord(Map<String, List<Map<String, Object>>> all, String id) {
        List<Map<String, Object>> recs = all.get(id);
        assertEquals(1, recs.size(), "records with decision_id " + id + ": " + recs);
        Map<String, Object> rec = recs.get(0);
        assertEquals(TRACE_ID, rec.get("trace_id"), "trace_id of " + id);
        return rec;
    }

    @SuppressWarnings("unchecked")
    private static void sameAnswer(Map<String, List<Map<String, Object>>> all, Decision d) {
        Map<String, Object> result = (Map<String, Object>) theRecord(all, d.decisionId()).get("result");
        assertEquals(d.allowed(), result.get("allowed"), "result.allowed of " + d.decisionId());
        assertEquals(d.reason(), result.get("reason"), "result.reason of " + d.decisionId());
    }

    @Test
    @SuppressWarnings("unchecked")
    void decisionIdsNameTheirRecordsWithTheTraceId() throws Exception {
        Path file = logFile();
        try (CamdClient client = CamdClient.connect(TestEnv.socket())) {
            Decision single = client.authorize(Ask.byUser("reader", "im:GetGroupInfo", APP), TRACEPARENT);
            List<Result> batch = client.authorizeBatch(List.of(
                    Ask.byUser("reader", "im:GetGroupInfo", APP),
                    Ask.byUser("reader", "im:DestroyGroup", APP),
                    Ask.byUser("nobody", "im:GetGroupInfo", APP)), TRACEPARENT);
            assertTrue(single.allowed(), single.toString());
            isAnId(single.decisionId());
            assertEquals(3, batch.size());
            Decision allow = batch.get(0).get();
            Decision deny = batch.get(1).get();
            assertTrue(allow.allowed(), allow.toString());
            assertFalse(deny.allowed(), deny.toString());
            assertFalse(batch.get(2).isOk());
            assertEquals("ResourceNotFound.UserNotExist", batch.get(2).code());
            isAnId(allow.decisionId());
            long first = Long.parseUnsignedLong(allow.decisionId(), 16);
            assertEquals(Wire.decisionIdText(first + 1), deny.decisionId());
            String errorId = Wire.decisionIdText(first + 2);

            Map<String, List<Map<String, Object>>> all = records(file,
                    List.of(single.decisionId(), allow.decisionId(), deny.decisionId(), errorId));
            sameAnswer(all, single);
            sameAnswer(all, allow);
            sameAnswer(all, deny);
            Map<String, Object> err = (Map<String, Object>) theRecord(all, errorId).get("result");
            assertEquals("error", err.get("outcome"), "result.outcome of " + errorId);
        }
    }

    @Test
    void everyKindOfDecisionCarriesItsId() throws Exception {
        logFile();
        String keyId = TestEnv.env("CAMD_TEST_KEY_ID");
        String secret = TestEnv.env("CAMD_TEST_KEY_SECRET");
        byte[] body = "{\"GroupId\":\"@TGS#1\"}".getBytes(StandardCharsets.UTF_8);
        SignedHttp signed = SignedHttp.parse(SignedTest.rawSigned(keyId, secret, "GetGroupInfo", body));
        try (CamdClient client = CamdClient.connect(TestEnv.socket())) {
            List<Decision> all = List.of(
                    client.authorizeUser("reader", "im:GetGroupInfo", APP),
                    client.authorizeKey(keyId, secret, "im:GetGroupInfo", APP, List.of()),
                    client.authorizeSigned(signed, APP, List.of(), "im", TRACEPARENT),
                    client.authorizeAt(0, Ask.byUser("reader", "im:GetGroupInfo", APP), TRACEPARENT));
            for (Decision d : all) {
                isAnId(d.decisionId());
            }
            assertEquals(all.size(), all.stream().map(Decision::decisionId).distinct().count(), all.toString());
        }
        assertNull(new Decision(true, "Allow", "P", 0, 7).decisionId());
    }
}
