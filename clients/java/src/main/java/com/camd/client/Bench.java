// The Java client's bench program (clients/java/bench): one JSON line of figures, the contract every
// clients/<lang>/bench follows (see README.md, "Bench").
package com.camd.client;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measures, against the camd at {@code $CAMD_SOCKET}: (a) one decision in flight through
 * {@link CamdClient#authorizeUser} ({@code $CAMD_BENCH_N} after 1,000 warm-ups, p50/p99 in µs); (b)
 * {@code $CAMD_BENCH_BATCHES} batches of {@code $CAMD_BENCH_BATCH} decisions through
 * {@link CamdClient#authorizeBatch} on one connection (decisions/s; the client splits a batch into
 * frames of at most {@code $CAMD_BENCH_MAX_FRAME_BYTES}, camd's {@code max_frame_bytes}, pipelined);
 * (c) camd-api over loopback HTTP with {@link HttpClient} (HTTP/1.1, kept alive), a GetUser signed
 * with {@link Tc3} afresh each time ({@code $CAMD_BENCH_HTTP_N} after 100 warm-ups). Every answer is
 * checked; a wrong one or a failure exits 2 with the reason on stderr.
 */
public final class Bench {
    private Bench() {
    }

    private static final String APP = "qcs::im::uin/100000000001:sdkappid/1400000001";

    /** A failed call or a wrong answer. */
    private static final class BenchError extends Exception {
        private static final long serialVersionUID = 1L;

        BenchError(String message) {
            super(message);
        }
    }

    @FunctionalInterface
    private interface Once {
        void run() throws Exception;
    }

    private static int env(String name, int dflt) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? dflt : Integer.parseInt(v);
    }

    private static double[] timed(int warmup, int n, Once once) throws Exception {
        for (int i = 0; i < warmup; i++) {
            once.run();
        }
        long[] lat = new long[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            once.run();
            lat[i] = System.nanoTime() - t;
        }
        Arrays.sort(lat);
        return new double[] {lat[n / 2] / 1e3, lat[(int) (n * 0.99)] / 1e3};
    }

    private static double[] single(CamdClient camd, int n) throws Exception {
        return timed(1000, n, () -> {
            Decision d = camd.authorizeUser("reader", "im:GetGroupInfo", APP);
            if (!d.allowed()) {
                throw new BenchError("reader im:GetGroupInfo was not allowed: " + d);
            }
        });
    }

    private static double batched(CamdClient camd, int batch, int batches) throws Exception {
        List<Ask> asks = Collections.nCopies(batch, Ask.byUser("reader", "im:GetGroupInfo", APP, List.of()));
        long t = System.nanoTime();
        for (int b = 0; b < batches; b++) {
            for (Result r : camd.authorizeBatch(asks)) {
                if (r.decision() == null || !r.decision().allowed()) {
                    throw new BenchError("a batched decision was not Allow: " + r);
                }
            }
        }
        return (double) batch * batches / ((System.nanoTime() - t) / 1e9);
    }

    private static double[] http(String url, String secretId, String secretKey, int n) throws Exception {
        URI uri = URI.create(url);
        String host = uri.getRawAuthority();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        byte[] body = "{\"Name\":\"reader\"}".getBytes(StandardCharsets.UTF_8);
        return timed(100, n, () -> {
            long ts = System.currentTimeMillis() / 1000;
            String auth = Tc3.authorization(secretId, secretKey, "cam", ts, "POST", "/", "",
                    List.of(Map.entry("Content-Type", "application/json"), Map.entry("Host", host.toLowerCase(Locale.ROOT))),
                    List.of("content-type", "host"), body);
            HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                    .header("Authorization", auth).header("Content-Type", "application/json")
                    .header("X-TC-Action", "GetUser").header("X-TC-Version", "2019-01-16")
                    .header("X-TC-Timestamp", Long.toString(ts))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
            HttpResponse<String> resp = client.send(req, HttpResponse.BodyHandlers.ofString());
            Object parsed;
            try {
                parsed = Json.parse(resp.body());
            } catch (RuntimeException e) {
                parsed = null;
            }
            Object r = parsed instanceof Map<?, ?> m ? m.get("Response") : null;
            if (!(r instanceof Map<?, ?> response)) {
                throw new BenchError("camd-api answered " + resp.statusCode() + " without a Response");
            }
            if (response.containsKey("Error")) {
                throw new BenchError("camd-api answered an error: " + response.get("Error"));
            }
        });
    }

    private static String num(Double x) {
        return x == null ? "null" : String.format(Locale.ROOT, "%.1f", x);
    }

    public static void main(String[] args) {
        try {
            String socket = System.getenv("CAMD_SOCKET");
            CamdClient.Builder b = CamdClient.builder().maxConnections(1)
                    .maxFrameBytes(env("CAMD_BENCH_MAX_FRAME_BYTES", 65536));
            if (socket != null && !socket.isEmpty()) {
                b.socket(Path.of(socket));
            }
            double[] one;
            double perSec;
            try (CamdClient camd = b.connect()) {
                one = single(camd, env("CAMD_BENCH_N", 20000));
                System.err.printf(Locale.ROOT, "single: p50 %.1f µs, p99 %.1f µs%n", one[0], one[1]);
                perSec = batched(camd, env("CAMD_BENCH_BATCH", 1000), env("CAMD_BENCH_BATCHES", 200));
                System.err.printf(Locale.ROOT, "batched: %.0f decisions/s%n", perSec);
            }
            Double h50 = null;
            Double h99 = null;
            String url = System.getenv("CAMD_BENCH_HTTP");
            if (url != null && !url.isEmpty()) {
                double[] h = http(url, System.getenv("CAMD_BENCH_KEY_ID"), System.getenv("CAMD_BENCH_KEY_SECRET"),
                        env("CAMD_BENCH_HTTP_N", 2000));
                h50 = h[0];
                h99 = h[1];
                System.err.printf(Locale.ROOT, "http: p50 %.1f µs, p99 %.1f µs%n", h50, h99);
            } else {
                System.err.println("CAMD_BENCH_HTTP is unset: no HTTP baseline");
            }
            System.out.println("{\"client\":\"java\",\"wire\":\"binary\",\"single_p50_us\":" + num(one[0])
                    + ",\"single_p99_us\":" + num(one[1]) + ",\"batched_per_sec\":" + Math.round(perSec)
                    + ",\"http_p50_us\":" + num(h50) + ",\"http_p99_us\":" + num(h99) + "}");
            System.exit(0);
        } catch (CamdException | BenchError | IOException | RuntimeException e) {
            System.err.println("bench: " + e);
        } catch (Exception e) {
            System.err.println("bench: " + e);
        }
        System.exit(2);
    }
}
