// A real restart: camd SIGKILLed and started again by the scene's restart service
// ($CAMD_TEST_RESTART_SOCKET) under a running client: the same CamdClient answers right afterwards,
// reconnecting by itself, and threads asking across the restart never get a wrong answer.
package com.camd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class RestartTest {
    private static final String APP = "qcs::im::uin/100000000001:sdkappid/1400000001";

    /** $CAMD_TEST_RESTART_SOCKET, or the test is skipped (reported, and counted as such by the runner). */
    private static Path service() {
        String s = System.getenv("CAMD_TEST_RESTART_SOCKET");
        assumeTrue(s != null && !s.isEmpty(),
                "CAMD_TEST_RESTART_SOCKET is unset: no restart service to restart camd with");
        return Path.of(s);
    }

    /** Asks the service to kill camd and start it again; returns once camd serves again. */
    private static void restartCamd(Path service) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(service));
            ch.write(ByteBuffer.wrap("restart\n".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer buf = ByteBuffer.allocate(256);
            StringBuilder line = new StringBuilder();
            while (line.indexOf("\n") < 0 && ch.read(buf) > 0) {
                buf.flip();
                line.append(StandardCharsets.UTF_8.decode(buf));
                buf.clear();
            }
            assertEquals("ok\n", line.toString(), "the restart service's answer");
        }
    }

    private static boolean right(Decision d) {
        return d.allowed() && "Allow".equals(d.reason()) && "QcloudChatReadOnlyAccess".equals(d.policy())
                && Integer.valueOf(0).equals(d.statement());
    }

    @Test
    @Timeout(20)
    void theSameClientAnswersRightAfterARealRestart() throws Exception {
        Path service = service();
        try (CamdClient c = CamdClient.builder().socket(TestEnv.socket()).maxConnections(1).connect()) {
            Decision d = c.authorizeUser("reader", "im:GetGroupInfo", APP);
            assertTrue(right(d), "before the restart: " + d);
            restartCamd(service);
            // camd serves again: a connection error here fails the test (the client reconnects itself).
            d = c.authorizeUser("reader", "im:GetGroupInfo", APP);
            assertTrue(right(d), "the same client after the restart: " + d);
        }
    }

    @Test
    @Timeout(20)
    void threadsAskingAcrossARealRestartGetOnlyRightAnswers() throws Exception {
        Path service = service();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean restarted = new AtomicBoolean();
        AtomicInteger rightTotal = new AtomicInteger();
        AtomicInteger rightAfter = new AtomicInteger();
        AtomicInteger connErrors = new AtomicInteger();
        List<String> wrong = java.util.Collections.synchronizedList(new ArrayList<>());
        try (CamdClient c = CamdClient.builder().socket(TestEnv.socket()).maxConnections(4)
                .timeout(Duration.ofSeconds(2)).connect()) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    done.add(pool.submit(() -> {
                        while (!stop.get()) {
                            try {
                                Decision d = c.authorizeUser("reader", "im:GetGroupInfo", APP);
                                if (right(d)) {
                                    rightTotal.incrementAndGet();
                                    if (restarted.get()) {
                                        rightAfter.incrementAndGet();
                                    }
                                } else {
                                    wrong.add(d.toString());
                                }
                            } catch (CamdTimeoutException | CamdProtocolException e) {
                                wrong.add(e.toString());
                            } catch (CamdConnectionException e) {
                                connErrors.incrementAndGet(); // camd was down: counted, never an answer
                                Thread.sleep(5);
                            } catch (CamdException e) {
                                wrong.add(e.toString());
                            }
                        }
                        return null;
                    }));
                }
                Thread.sleep(300);
                restartCamd(service);
                restarted.set(true);
                Thread.sleep(700);
                stop.set(true);
                for (Future<?> f : done) {
                    f.get(10, TimeUnit.SECONDS);
                }
            } finally {
                stop.set(true);
                pool.shutdownNow();
            }
        }
        System.err.printf("restart: %d right answers (%d after it), %d connection errors while camd was down%n",
                rightTotal.get(), rightAfter.get(), connErrors.get());
        assertEquals(List.of(), wrong, "wrong answers across the restart");
        assertTrue(rightAfter.get() > 0, "no right answer after the restart");
    }
}
