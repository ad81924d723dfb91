package com.camd.client;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A client for camd, safe to share between threads: it keeps a small pool of
 * binary-protocol connections (at most {@code maxConnections} at once; a
 * thread that finds them all busy waits for one, within its timeout).
 *
 * <p>Every call has a deadline ({@link Builder#timeout}, default 5 s) and
 * ends with a decision, a {@link CamdException} carrying camd's CAM code, or
 * a {@link CamdConnectionException}: never a hang, and never another
 * request's answer (each response's id is checked). A decision whose
 * connection turns out to be closed (camd restarted, or closed it as idle) is
 * asked once more on a new connection.
 *
 * <p>With camd's decision log on, each {@link Decision} carries the id of its
 * record ({@link Decision#decisionId()}); the decision requests also take a
 * W3C {@code traceparent} (an overload with a last {@code traceparent}
 * argument; {@code null}: none), which camd records with their decisions.
 */
public final class CamdClient implements AutoCloseable {
    /** The socket when neither a path nor {@code CAMD_SOCKET} is given. */
    public static final String DEFAULT_SOCKET = "state/camd.sock";

    private final Path socket;
    private final long timeoutNanos;
    private final long reconnectNanos;
    private final int maxIdle;
    private final int maxFrameBytes;
    private final Semaphore slots;
    private final ConcurrentLinkedDeque<Conn> idle = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;

    private CamdClient(Builder b) {
        this.socket = b.socket;
        this.timeoutNanos = b.timeout.toNanos();
        this.reconnectNanos = b.reconnectWindow.toNanos();
        this.maxIdle = b.maxConnections;
        this.maxFrameBytes = b.maxFrameBytes;
        this.slots = new Semaphore(b.maxConnections, true);
    }

    /** Connects to the socket at {@code socket} (checking that camd answers) with the defaults. */
    public static CamdClient connect(Path socket) throws CamdException {
        return builder().socket(socket).connect();
    }

    /** Connects to {@code $CAMD_SOCKET}, else {@value #DEFAULT_SOCKET}. */
    public static CamdClient connect() throws CamdException {
        return builder().connect();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options; {@link #connect()} makes the client. */
    public static final class Builder {
        private Path socket;
        private Duration timeout = Duration.ofSeconds(5);
        private Duration reconnectWindow = Duration.ofSeconds(1);
        private int maxConnections = 8;
        private int maxFrameBytes = 1 << 20;

        private Builder() {
            String env = System.getenv("CAMD_SOCKET");
            socket = Path.of(env != null && !env.isEmpty() ? env : DEFAULT_SOCKET);
        }

        public Builder socket(Path p) {
            socket = Objects.requireNonNull(p);
            return this;
        }

        /** The longest a call may take, connecting and retrying included (default 5 s). */
        public Builder timeout(Duration d) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("the timeout must be positive");
            }
            timeout = d;
            return this;
        }

        /** How long a retry waits for camd to listen again after a restart (default 1 s, within the timeout). */
        public Builder reconnectWindow(Duration d) {
            reconnectWindow = Objects.requireNonNull(d);
            return this;
        }

        /** The most connections open at once (default 8; camd limits connections per uid). */
        public Builder maxConnections(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1");
            }
            maxConnections = n;
            return this;
        }

        /**
         * camd's {@code max_frame_bytes} (default 1 MiB, camd's default): batches
         * are split into frames no larger.
         */
        public Builder maxFrameBytes(int n) {
            if (n < 1024) {
                throw new IllegalArgumentException("maxFrameBytes must be at least 1024");
            }
            maxFrameBytes = n;
            return this;
        }

        /** The client, with one connection made (so that a wrong path fails here). */
        public CamdClient connect() throws CamdException {
            CamdClient c = new CamdClient(this);
            c.idle.add(Conn.open(socket, System.nanoTime() + c.timeoutNanos));
            return c;
        }
    }

    public Path socket() {
        return socket;
    }

    // ---- the questions ----

    /** May user {@code name} do {@code action} on {@code resource}? */
    public Decision authorizeUser(String name, String action, String resource,
                                  List<Map.Entry<String, String>> context) throws CamdException {
        return authorize(Ask.byUser(name, action, resource, context));
    }

    public Decision authorizeUser(String name, String action, String resource) throws CamdException {
        return authorize(Ask.byUser(name, action, resource, List.of()));
    }

    /** May the user with this uin do {@code action} on {@code resource}? */
    public Decision authorizeUser(long uin, String action, String resource,
                                  List<Map.Entry<String, String>> context) throws CamdException {
        return authorize(Ask.byUin(uin, action, resource, context));
    }

    /** May the owner of this access key do {@code action} on {@code resource}? The key is checked first. */
    public Decision authorizeKey(String secretId, String secretKey, String action, String resource,
                                 List<Map.Entry<String, String>> context) throws CamdException {
        return authorize(Ask.byKey(secretId, secretKey, action, resource, context));
    }

    /** One question. */
    public Decision authorize(Ask ask) throws CamdException {
        return authorize(ask, null);
    }

    /**
     * One question, sent with a W3C trace context
     * ({@code 00-<32 hex>-<16 hex>-<2 hex>}; {@code null}: none) that camd's
     * decision log records as the decision's {@code trace_id} and
     * {@code span_id}. camd ignores an invalid one.
     */
    public Decision authorize(Ask ask, String traceparent) throws CamdException {
        Objects.requireNonNull(ask);
        return decision(one(id -> Wire.authorize(id, null, ask, traceparent)));
    }

    /**
     * Many questions; one answer each, in order: a decision or that
     * question's own error. More than 4,096 questions go as several Batch
     * frames, pipelined on one connection.
     */
    public List<Result> authorizeBatch(List<Ask> asks) throws CamdException {
        return authorizeBatch(asks, null);
    }

    /**
     * Many questions, every frame of them sent with a W3C trace context
     * ({@code null}: none), as {@link #authorize(Ask, String)}.
     */
    public List<Result> authorizeBatch(List<Ask> asks, String traceparent) throws CamdException {
        List<Ask> all = List.copyOf(asks);
        int overhead = 32 + Wire.tracedBytes(traceparent); // a Batch frame's bytes besides its asks
        List<Result> out = new ArrayList<>(all.size());
        if (all.isEmpty()) {
            return out;
        }
        // Split into Batch frames of at most 4,096 questions and maxFrameBytes.
        List<List<byte[]>> chunks = new ArrayList<>();
        List<byte[]> chunk = new ArrayList<>();
        long size = 0;
        for (Ask a : all) {
            byte[] e = Wire.askBytes(a);
            if (e.length + overhead > maxFrameBytes) {
                throw new IllegalArgumentException("a question of " + e.length
                        + " bytes does not fit in camd's frame limit of " + maxFrameBytes);
            }
            if (!chunk.isEmpty() && (chunk.size() == Wire.MAX_BATCH || size + e.length + overhead > maxFrameBytes)) {
                chunks.add(chunk);
                chunk = new ArrayList<>();
                size = 0;
            }
            chunk.add(e);
            size += e.length;
        }
        chunks.add(chunk);
        List<Wire.Response> replies = call(conn -> {
            List<byte[]> frames = new ArrayList<>(chunks.size());
            long[] ids = new long[chunks.size()];
            for (int i = 0; i < chunks.size(); i++) {
                ids[i] = conn.nextId();
                frames.add(Wire.batchOf(ids[i], chunks.get(i), traceparent));
            }
            return new Frames(frames, ids);
        });
        for (int i = 0; i < chunks.size(); i++) {
            Wire.Response r = replies.get(i);
            int want = chunks.get(i).size();
            if (!r.ok()) {
                throw new CamdException(r.errCode, r.errMessage);
            }
            if (r.variant != Wire.REPLY_DECISIONS || r.decisions.size() != want) {
                throw new CamdProtocolException("camd answered a batch of " + want + " with "
                        + (r.decisions == null ? "reply variant " + r.variant : r.decisions.size() + " answers"));
            }
            out.addAll(r.decisions);
        }
        return out;
    }

    /**
     * A TC3-signed HTTP request: camd checks the signature and decides for
     * the key's owner. {@code action} is the action ({@code im:SendMessage})
     * or only the service ({@code im}: the signed {@code X-TC-Action} then
     * names the action); {@code null} is answered {@code MissingParameter}.
     */
    public Decision authorizeSigned(SignedHttp request, String resource,
                                    List<Map.Entry<String, String>> context, String action) throws CamdException {
        return authorizeSigned(request, resource, context, action, null);
    }

    /** A TC3-signed HTTP request, sent with a W3C trace context ({@code null}: none). */
    public Decision authorizeSigned(SignedHttp request, String resource, List<Map.Entry<String, String>> context,
                                    String action, String traceparent) throws CamdException {
        Objects.requireNonNull(request);
        Objects.requireNonNull(resource);
        List<Map.Entry<String, String>> ctx = context == null ? List.of() : List.copyOf(context);
        return decision(one(id -> Wire.authorizeSigned(id, null, request, resource, ctx, action, traceparent)));
    }

    /**
     * Cluster mode: the decision once this host has applied at least
     * {@code minRevision} ({@code FailedOperation.ClusterRevisionNotReached}
     * if it does not in time).
     */
    public Decision authorizeAt(long minRevision, Ask ask) throws CamdException {
        return authorizeAt(minRevision, ask, null);
    }

    /** Cluster mode, sent with a W3C trace context ({@code null}: none). */
    public Decision authorizeAt(long minRevision, Ask ask, String traceparent) throws CamdException {
        Objects.requireNonNull(ask);
        return decision(one(id -> Wire.authorizeAt(id, null, minRevision, ask, traceparent)));
    }

    /** The protocol version camd answers with. */
    public int ping() throws CamdException {
        Wire.Response r = one(Wire::ping);
        if (!r.ok()) {
            throw new CamdException(r.errCode, r.errMessage);
        }
        if (r.variant != Wire.REPLY_PONG) {
            throw new CamdProtocolException("camd answered Ping with reply variant " + r.variant);
        }
        return r.pong;
    }

    private static Decision decision(Wire.Response r) throws CamdException {
        if (!r.ok()) {
            throw new CamdException(r.errCode, r.errMessage);
        }
        if (r.variant != Wire.REPLY_DECISION) {
            throw new CamdProtocolException("camd answered a decision request with reply variant " + r.variant);
        }
        return r.decision;
    }

    // ---- connections ----

    private record Frames(List<byte[]> frames, long[] ids) {
    }

    private interface Encoder {
        Frames encode(Conn c);
    }

    private interface OneEncoder {
        byte[] encode(long id);
    }

    private Wire.Response one(OneEncoder e) throws CamdException {
        return call(conn -> {
            long id = conn.nextId();
            return new Frames(List.of(e.encode(id)), new long[] {id});
        }).get(0);
    }

    private List<Wire.Response> call(Encoder enc) throws CamdException {
        if (closed) {
            throw new CamdConnectionException("the client is closed");
        }
        long deadline = System.nanoTime() + timeoutNanos;
        try {
            if (!slots.tryAcquire(timeoutNanos, TimeUnit.NANOSECONDS)) {
                throw new CamdTimeoutException("no connection to camd came free in time");
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new CamdConnectionException("interrupted while waiting for a connection", ie);
        }
        try {
            Conn c = idle.pollFirst();
            boolean pooled = c != null;
            try {
                if (c == null) {
                    c = Conn.open(socket, deadline);
                }
                return attempt(c, enc, deadline);
            } catch (CamdConnectionException e) {
                if (!e.retryable()) {
                    throw e;
                }
                // camd closed it (restarted, or idle): the other idle ones are
                // likely stale too. Ask once more on a new connection.
                drainIdle();
                Conn fresh = reopen(deadline, pooled ? null : e);
                return attempt(fresh, enc, deadline);
            }
        } finally {
            slots.release();
        }
    }

    private List<Wire.Response> attempt(Conn c, Encoder enc, long deadline) throws CamdException {
        boolean keep = false;
        try {
            Frames f = enc.encode(c);
            List<Wire.Response> replies = c.exchange(f.frames(), f.ids(), deadline);
            if (replies.size() < f.frames().size()) {
                // camd refused a frame it could not read (id 0): an error, and the connection goes.
                Wire.Response r = replies.get(replies.size() - 1);
                throw new CamdException(r.errCode, r.errMessage);
            }
            keep = c.clean();
            return replies;
        } finally {
            if (keep && !closed && idle.size() < maxIdle) {
                idle.addFirst(c);
            } else {
                c.close();
            }
        }
    }

    /** A new connection, retrying while camd is not listening (a restart) within the reconnect window. */
    private Conn reopen(long deadline, CamdConnectionException first) throws CamdException {
        long until = Math.min(deadline, System.nanoTime() + reconnectNanos);
        while (true) {
            try {
                return Conn.open(socket, deadline);
            } catch (CamdConnectionException e) {
                if (!e.retryable() || System.nanoTime() + 50_000_000L > until) {
                    throw first != null ? first : e;
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new CamdConnectionException("interrupted while reconnecting", ie);
            }
        }
    }

    private void drainIdle() {
        Conn c;
        while ((c = idle.pollFirst()) != null) {
            c.close();
        }
    }

    /** Closes the idle connections; connections in use close when their call ends. */
    @Override
    public void close() {
        closed = true;
        drainIdle();
    }

    @Override
    public String toString() {
        return "CamdClient{" + socket + "}";
    }
}
