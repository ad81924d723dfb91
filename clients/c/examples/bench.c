/* bench.c: the C client's bench program (run by ../bench): one JSON line
 * with the figures every clients/<lang>/bench prints. (a) one decision in
 * flight through camd_authorize_user: $CAMD_BENCH_N (20000) decisions
 * after 1000 warm-ups, p50 and p99 in µs, each checked allowed. (b) and
 * (c) are null: libcamd has no batch call, and C's standard library has
 * no HTTP or HMAC for the camd-api baseline. Diagnostics on stderr; exit 2
 * (with the reason) on any failure or wrong answer. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "camd.h"

static const char *APP = "qcs::im::uin/100000000001:sdkappid/1400000001";

static long env_long(const char *name, long dflt) {
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n <= 0) {
        fprintf(stderr, "bench: %s=%s is not a positive number\n", name, v);
        exit(2);
    }
    return n;
}

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void once(camd_client *c) {
    camd_decision d;
    camd_error e = {0};
    if (camd_authorize_user(c, "reader", "im:GetGroupInfo", APP, NULL, 0, &d, &e) != CAMD_OK) {
        fprintf(stderr, "bench: %s: %s\n", e.code, e.message);
        exit(2);
    }
    if (!d.allowed) {
        fprintf(stderr, "bench: reader im:GetGroupInfo was not allowed: %s\n", d.reason);
        exit(2);
    }
}

int main(void) {
    signal(SIGPIPE, SIG_IGN); /* as camd.h asks */
    long n = env_long("CAMD_BENCH_N", 20000);
    camd_error e = {0};
    camd_client *c = camd_connect(NULL, 0, &e); /* $CAMD_SOCKET */
    if (!c) {
        fprintf(stderr, "bench: %s: %s\n", e.code, e.message);
        return 2;
    }
    for (int i = 0; i < 1000; i++) once(c);
    double *lat = malloc((size_t)n * sizeof *lat);
    if (!lat) return 2;
    for (long i = 0; i < n; i++) {
        double t = now_us();
        once(c);
        lat[i] = now_us() - t;
    }
    camd_close(c);
    qsort(lat, (size_t)n, sizeof *lat, cmp);
    double p50 = lat[n / 2], p99 = lat[(long)(n * 0.99)];
    free(lat);
    fprintf(stderr, "single: p50 %.1f µs, p99 %.1f µs\n", p50, p99);
    fprintf(stderr, "batched: null (libcamd has no batch call)\n");
    fprintf(stderr, "http: null (no HTTP or HMAC in C's standard library)\n");
    printf("{\"client\":\"c\",\"wire\":\"binary\",\"single_p50_us\":%.1f,\"single_p99_us\":%.1f,"
           "\"batched_per_sec\":null,\"http_p50_us\":null,\"http_p99_us\":null}\n",
           p50, p99);
    return 0;
}
