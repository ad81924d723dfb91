package com.camd.client;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One binary-protocol connection to camd, used by one thread at a time.
 * Non-blocking with a selector, so that every wait has a deadline and
 * pipelined frames are written while replies are read (neither side's buffer
 * can stall the other).
 */
final class Conn implements AutoCloseable {
    private static final int MAX_RESPONSE = 64 << 20;

    private final SocketChannel ch;
    private final Selector sel;
    private final SelectionKey key;
    private ByteBuffer in = ByteBuffer.allocate(64 * 1024).flip(); // read mode: unread bytes
    private long nextId = 1;

    private Conn(SocketChannel ch, Selector sel, SelectionKey key) {
        this.ch = ch;
        this.sel = sel;
        this.key = key;
    }

    /** Connects and exchanges the hello, by {@code deadline} (System.nanoTime). */
    static Conn open(Path socket, long deadline) throws CamdException {
        SocketChannel ch = null;
        Selector sel = null;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            // Non-blocking: a full listen backlog fails (EAGAIN) instead of waiting past the deadline.
            ch.configureBlocking(false);
            sel = Selector.open();
            SelectionKey key = ch.register(sel, SelectionKey.OP_CONNECT);
            if (!ch.connect(UnixDomainSocketAddress.of(socket))) {
                while (!ch.finishConnect()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new CamdTimeoutException("cannot connect to camd at " + socket + " in time");
                    }
                    sel.selectedKeys().clear();
                    sel.select(Math.max(1, left / 1_000_000));
                }
            }
            key.interestOps(SelectionKey.OP_READ);
            Conn c = new Conn(ch, sel, key);
            c.hello(deadline);
            return c;
        } catch (IOException e) {
            closeQuietly(ch, sel);
            throw new CamdConnectionException("cannot connect to camd at " + socket + ": " + e.getMessage(), e);
        } catch (CamdException | RuntimeException e) {
            closeQuietly(ch, sel);
            throw e;
        }
    }

    private static void closeQuietly(SocketChannel ch, Selector sel) {
        try {
            if (sel != null) {
                sel.close();
            }
        } catch (IOException ignored) {
            // closing
        }
        try {
            if (ch != null) {
                ch.close();
            }
        } catch (IOException ignored) {
            // closing
        }
    }

    private void hello(long deadline) throws CamdException {
        ByteBuffer out = ByteBuffer.wrap(Wire.HELLO);
        pump(out, 6, deadline);
        byte[] h = new byte[6];
        in.get(h);
        if (h[0] != 'C' || h[1] != 'A' || h[2] != 'M' || h[3] != 'D') {
            throw new CamdProtocolException("the peer is not camd (its hello is not CAMD)");
        }
        int version = ((h[4] & 0xFF) << 8) | (h[5] & 0xFF);
        if (version != Wire.VERSION) {
            throw new CamdProtocolException(
                    "camd speaks protocol version " + version + "; this client speaks " + Wire.VERSION);
        }
    }

    long nextId() {
        return nextId++;
    }

    /** True when nothing is left unread (a connection fit for another request). */
    boolean clean() {
        return !in.hasRemaining() && ch.isOpen();
    }

    /**
     * Writes {@code frames} (whose request ids are {@code ids}) and reads one
     * response for each, in order, checking each id. A response with id 0 is
     * camd refusing a frame it could not read; it is returned (an error) and
     * the caller discards the connection.
     */
    List<Wire.Response> exchange(List<byte[]> frames, long[] ids, long deadline) throws CamdException {
        int total = 0;
        for (byte[] f : frames) {
            total += f.length;
        }
        ByteBuffer out = ByteBuffer.allocate(total);
        for (byte[] f : frames) {
            out.put(f);
        }
        out.flip();
        List<Wire.Response> replies = new ArrayList<>(frames.size());
        for (int i = 0; i < frames.size(); i++) {
            pump(out, 4, deadline);
            int len = in.getInt(in.position());
            if (len < 0 || len > MAX_RESPONSE) {
                throw new CamdProtocolException("camd announced a reply of " + (len & 0xFFFFFFFFL)
                        + " bytes, over this client's limit of " + MAX_RESPONSE);
            }
            pump(out, 4 + len, deadline);
            in.position(in.position() + 4);
            ByteBuffer body = in.slice(in.position(), len);
            in.position(in.position() + len);
            Wire.Response r = Wire.decode(body);
            if (r.id != ids[i]) {
                if (r.id == 0 && !r.ok()) {
                    replies.add(r);
                    return replies;
                }
                throw new CamdProtocolException("camd answered request " + r.id + " for request " + ids[i]);
            }
            replies.add(r);
        }
        return replies;
    }

    /** Writes what is left of {@code out} while reading until {@code need} bytes are unread. */
    private void pump(ByteBuffer out, int need, long deadline) throws CamdException {
        try {
            while (in.remaining() < need || (out.hasRemaining() && in.remaining() < need)) {
                if (out.hasRemaining()) {
                    ch.write(out);
                }
                if (readSome() > 0) {
                    continue;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new CamdTimeoutException("camd did not answer in time");
                }
                key.interestOps(SelectionKey.OP_READ | (out.hasRemaining() ? SelectionKey.OP_WRITE : 0));
                sel.selectedKeys().clear();
                sel.select(Math.max(1, (left + 999_999) / 1_000_000));
            }
            // Whatever we read, finish writing our own frames' bytes only when
            // asked for more replies: camd reads all of them before answering.
        } catch (IOException e) {
            throw new CamdConnectionException("the connection to camd failed: " + e.getMessage(), e);
        }
    }

    /** Reads what is available without blocking; -1 (as an exception) on end of stream. */
    private int readSome() throws IOException, CamdConnectionException {
        if (in.position() > 0 || in.limit() == in.capacity()) {
            in.compact(); // write mode
        } else {
            in.position(in.limit()).limit(in.capacity());
        }
        if (!in.hasRemaining()) {
            ByteBuffer bigger = ByteBuffer.allocate(in.capacity() * 2);
            in.flip();
            bigger.put(in);
            in = bigger;
        }
        int n;
        try {
            n = ch.read(in);
        } finally {
            in.flip();
        }
        if (n < 0) {
            throw new CamdConnectionException(in.hasRemaining()
                    ? "camd closed the connection in the middle of a frame"
                    : "camd closed the connection");
        }
        return n;
    }

    @Override
    public void close() {
        closeQuietly(ch, sel);
    }
}
