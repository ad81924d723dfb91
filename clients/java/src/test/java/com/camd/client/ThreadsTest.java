// One client shared by 8 threads, 200 decisions each, mixing the shared
// cases: every answer must be the one cases.json states (no answer given to
// another thread's question), with the pool never above its limit.
package com.camd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ThreadsTest {
    @Test
    @SuppressWarnings("unchecked")
    void eightThreadsTimesTwoHundredDecisionsAllRight() throws Exception {
        List<Map<String, Object>> cases = TestEnv.cases();
        List<Ask> asks = new ArrayList<>();
        for (Map<String, Object> c : cases) {
            asks.add(TestEnv.caseAsk((Map<String, Object>) c.get("ask")));
        }
        try (CamdClient client = CamdClient.builder().socket(TestEnv.socket()).maxConnections(4).connect()) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    final int thread = t;
                    done.add(pool.submit(() -> {
                        int right = 0;
                        for (int i = 0; i < 200; i++) {
                            int k = (thread * 7 + i) % cases.size();
                            Decision d = null;
                            String code = null;
                            if (i % 50 == 49) {
                                // now and then a small batch on the same pool
                                Result r = client.authorizeBatch(List.of(asks.get(k))).get(0);
                                d = r.decision();
                                code = r.code();
                            } else {
                                try {
                                    d = client.authorize(asks.get(k));
                                } catch (CamdConnectionException e) {
                                    throw e;
                                } catch (CamdException e) {
                                    code = e.code();
                                }
                            }
                            CasesTest.check(cases.get(k), d, code);
                            right++;
                        }
                        return right;
                    }));
                }
                int total = 0;
                for (Future<Integer> f : done) {
                    total += f.get(60, TimeUnit.SECONDS);
                }
                assertEquals(1600, total);
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
