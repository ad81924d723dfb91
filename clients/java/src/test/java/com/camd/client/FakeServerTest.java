// A fake camd on a Unix socket in the test, misbehaving on purpose: it closes
// mid-frame (CamdConnectionException), never answers (a timeout, fast),
// answers another request's id (refused), closes an idle connection (the
// client asks again on a new one and gets the right answer), or speaks
// another protocol version.
package com.camd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FakeServerTest {
    /** What the fake does with a connection after the hello; returns when done. */
    interface Behaviour {
        void serve(SocketChannel c, int connection) throws IOException;
    }

    private Path dir;
    private ServerSocketChannel server;
    private Thread thread;

    private Path start(Behaviour b) throws IOException {
        return start(b, new byte[] {'C', 'A', 'M', 'D', 0, 1});
    }

    private Path start(Behaviour b, byte[] hello) throws IOException {
        dir = Files.createTempDirectory("camd-fake");
        Path sock = dir.resolve("camd.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(sock));
        AtomicInteger n = new AtomicInteger();
        thread = new Thread(() -> {
            while (true) {
                try {
                    SocketChannel c = server.accept();
                    int k = n.getAndIncrement();
                    Thread t = new Thread(() -> {
                        try (c) {
                            readN(c, 6);
                            c.write(ByteBuffer.wrap(hello));
                            b.serve(c, k);
                        } catch (IOException ignored) {
                            // the client went away
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        thread.setDaemon(true);
        thread.start();
        return sock;
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        if (dir != null) {
            Files.deleteIfExists(dir.resolve("camd.sock"));
            Files.deleteIfExists(dir);
        }
    }

    static byte[] readN(SocketChannel c, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                throw new IOException("closed");
            }
        }
        return b.array();
    }

    /** Reads one request frame; returns its id (the first varint of the body). */
    static long readRequest(SocketChannel c) throws IOException {
        int len = ByteBuffer.wrap(readN(c, 4)).getInt();
        byte[] body = readN(c, len);
        long id = 0;
        for (int i = 0, shift = 0; ; i++, shift += 7) {
            id |= (long) (body[i] & 0x7F) << shift;
            if ((body[i] & 0x80) == 0) {
                return id;
            }
        }
    }

    /** A Decision reply for {@code id}: allowed, "Allow", policy P, statement 0, uin 7. */
    static byte[] decision(long id) {
        // id must be < 128 here (one varint byte)
        byte[] body = HexFormat.of().parseHex("00" + "0001" + "0105416c6c6f77" + "010150" + "0100" + "07");
        body[0] = (byte) id;
        ByteBuffer f = ByteBuffer.allocate(4 + body.length);
        f.putInt(body.length).put(body);
        return f.array();
    }

    private static final Ask ASK = Ask.byUser("alice", "im:SendMessage", "*", java.util.List.of());

    @Test
    void aServerThatClosesMidFrameIsAConnectionError() throws Exception {
        Path sock = start((c, k) -> {
            readRequest(c);
            byte[] d = decision(1);
            c.write(ByteBuffer.wrap(d, 0, d.length - 5)); // then close
        });
        try (CamdClient client = CamdClient.builder().socket(sock).timeout(Duration.ofSeconds(3)).connect()) {
            long t0 = System.nanoTime();
            CamdConnectionException e = assertTimeoutPreemptively(Duration.ofSeconds(2),
                    () -> assertThrows(CamdConnectionException.class, () -> client.authorize(ASK)));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertEquals(null, e.code());
            assertTrue(System.nanoTime() - t0 < 1_500_000_000L, "not fast");
        }
    }

    @Test
    void aServerThatNeverAnswersTimesOut() throws Exception {
        Path sock = start((c, k) -> {
            readRequest(c);
            try {
                Thread.sleep(10_000);
            } catch (InterruptedException ignored) {
                // stop
            }
        });
        try (CamdClient client = CamdClient.builder().socket(sock).timeout(Duration.ofMillis(300)).connect()) {
            long t0 = System.nanoTime();
            assertTimeoutPreemptively(Duration.ofSeconds(2),
                    () -> assertThrows(CamdTimeoutException.class, () -> client.authorize(ASK)));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 250 && ms < 1500, "took " + ms + " ms");
        }
    }

    @Test
    void anotherRequestsIdIsRefused() throws Exception {
        Path sock = start((c, k) -> {
            long id = readRequest(c);
            c.write(ByteBuffer.wrap(decision(id + 1)));
            readN(c, 1);
        });
        try (CamdClient client = CamdClient.builder().socket(sock).timeout(Duration.ofSeconds(2)).connect()) {
            CamdProtocolException e = assertThrows(CamdProtocolException.class, () -> client.authorize(ASK));
            assertTrue(e.getMessage().contains("for request"), e.getMessage());
        }
    }

    @Test
    void aClosedIdleConnectionIsReplacedAndTheDecisionAskedAgain() throws Exception {
        // Every connection answers one request and then closes, as camd does
        // when it restarts or finds a connection idle.
        Path sock = start((c, k) -> {
            long id = readRequest(c);
            c.write(ByteBuffer.wrap(decision(id)));
        });
        try (CamdClient client = CamdClient.builder().socket(sock).timeout(Duration.ofSeconds(2)).connect()) {
            for (int i = 0; i < 3; i++) {
                Decision d = client.authorize(ASK);
                assertEquals(new Decision(true, "Allow", "P", 0, 7), d);
                Thread.sleep(20); // let the close arrive
            }
        }
    }

    @Test
    void anotherProtocolVersionIsSaid() throws Exception {
        Path sock = start((c, k) -> { }, new byte[] {'C', 'A', 'M', 'D', 0, 2});
        CamdProtocolException e = assertThrows(CamdProtocolException.class,
                () -> CamdClient.builder().socket(sock).timeout(Duration.ofSeconds(2)).connect());
        assertTrue(e.getMessage().contains("camd speaks protocol version 2; this client speaks 1"), e.getMessage());
    }

    @Test
    void noSocketIsAConnectionErrorQuickly() throws Exception {
        Path missing = Files.createTempDirectory("camd-none").resolve("camd.sock");
        long t0 = System.nanoTime();
        assertThrows(CamdConnectionException.class, () -> CamdClient.connect(missing));
        assertTrue(System.nanoTime() - t0 < 1_000_000_000L);
        Files.delete(missing.getParent());
    }
}
