/* test_camd.c: libcamd against the real camd (tests/clients.rs runs it):
 * `test_camd daemon` answers the shared cases' questions and is shared by
 * 8 threads, then (with $CAMD_TEST_RESTART_SOCKET, else reported SKIP)
 * lives through a real restart of camd; `test_camd closes PATH` and `test_camd silent PATH` meet a
 * server that closes mid-frame or never answers. Exit 0 when every check
 * held. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "camd.h"

static int failures = 0;
static int skipped = 0;
#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
            failures++;                                                    \
        }                                                                  \
    } while (0)

static const char *APP = "qcs::im::uin/100000000001:sdkappid/1400000001";

static const char *env(const char *name) {
    const char *v = getenv(name);
    if (!v) {
        fprintf(stderr, "%s is not set\n", name);
        exit(2);
    }
    return v;
}

static void decision(camd_client *c, const char *user, const char *action, int allowed,
                     const char *reason, const char *policy, int64_t statement) {
    camd_decision d;
    camd_error e = {0};
    int rc = camd_authorize_user(c, user, action, APP, NULL, 0, &d, &e);
    CHECK(rc == CAMD_OK, "%s %s: %s: %s", user, action, e.code, e.message);
    if (rc != CAMD_OK) return;
    CHECK(d.allowed == allowed, "%s %s: allowed %d", user, action, d.allowed);
    CHECK(strcmp(d.reason, reason) == 0, "%s %s: reason %s", user, action, d.reason);
    CHECK(strcmp(d.policy, policy) == 0, "%s %s: policy %s", user, action, d.policy);
    CHECK(d.statement == statement, "%s %s: statement %lld", user, action,
          (long long)d.statement);
}

static void refused(int rc, camd_error *e, const char *code) {
    CHECK(rc == CAMD_ERROR, "expected %s, got success", code);
    CHECK(strcmp(e->code, code) == 0, "expected %s, got %s: %s", code, e->code, e->message);
}

static void *worker(void *arg) {
    camd_client *c = arg;
    for (int i = 0; i < 200; i++) {
        camd_decision d;
        camd_error e = {0};
        const char *action = (i % 2) ? "im:GetGroupInfo" : "im:SendMessage";
        int rc = camd_authorize_user(c, "reader", action, APP, NULL, 0, &d, &e);
        CHECK(rc == CAMD_OK && d.allowed == (i % 2), "thread decision %d: %s", i, e.code);
    }
    return NULL;
}

/* The line of the decision log at `path` whose decision_id is `id`, read
 * into `line` (up to `n` bytes); 0 when found within 5 s. */
static int record_of(const char *path, const char *id, char *line, size_t n) {
    char want[64];
    snprintf(want, sizeof want, "\"decision_id\":\"%s\"", id);
    for (int tries = 0; tries < 100; tries++) {
        FILE *f = fopen(path, "r");
        if (f) {
            while (fgets(line, (int)n, f)) {
                if (strstr(line, want)) {
                    fclose(f);
                    return 0;
                }
            }
            fclose(f);
        }
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    return -1;
}

/* Decisions carry their record's id, and the traceparent reaches it. */
static void decision_log_checks(camd_client *c) {
    const char *log = getenv("CAMD_TEST_DECISION_LOG");
    if (!log) {
        printf("SKIP decision log: CAMD_TEST_DECISION_LOG is not set\n");
        skipped++;
        return;
    }
    camd_ask_options o = {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", {0}};
    camd_decision d;
    camd_error e = {0};
    int rc = camd_authorize_user_with(c, "reader", "im:GetGroupInfo", APP, NULL, 0, &o, &d, &e);
    CHECK(rc == CAMD_OK && d.allowed, "with options: %s %s", e.code, e.message);
    CHECK(strlen(o.decision_id) == 16, "a decision id: `%s`", o.decision_id);
    char line[8192];
    CHECK(record_of(log, o.decision_id, line, sizeof line) == 0, "no record %s", o.decision_id);
    CHECK(strstr(line, "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""), "trace: %s", line);
    CHECK(strstr(line, "\"allowed\":true"), "allowed: %s", line);
    camd_ask_options k = {NULL, {'x', 0}};
    rc = camd_authorize_key_with(c, env("CAMD_TEST_KEY_ID"), env("CAMD_TEST_KEY_SECRET"),
                                 "im:DestroyGroup", APP, NULL, 0, &k, &d, &e);
    CHECK(rc == CAMD_OK && !d.allowed, "by key with options: %s", e.code);
    CHECK(record_of(log, k.decision_id, line, sizeof line) == 0, "no record %s", k.decision_id);
    CHECK(strstr(line, "\"reason\":\"ExplicitDeny\"") && !strstr(line, "trace_id"),
          "by key: %s", line);
    CHECK(strstr(line, env("CAMD_TEST_KEY_SECRET")) == NULL, "the SecretKey is in the log");
}

static int daemon_checks(void) {
    camd_error e = {0};
    camd_client *c = camd_connect(env("CAMD_SOCKET"), 2000, &e);
    CHECK(c != NULL, "connect: %s: %s", e.code, e.message);
    if (!c) return 1;
    decision(c, "reader", "im:GetGroupInfo", 1, "Allow", "QcloudChatReadOnlyAccess", 0);
    decision(c, "reader", "im:SendMessage", 0, "ImplicitDeny", "", -1);
    decision(c, "keeper", "im:DestroyGroup", 0, "ExplicitDeny", "NoDestroy", 1);

    camd_decision d;
    const char *ctx[] = {"qcs:ip", "10.0.0.1"};
    int rc = camd_authorize_user(c, "reader", "im:GetGroupInfo", APP, ctx, 1, &d, &e);
    CHECK(rc == CAMD_OK && d.allowed, "with a context: %s", e.code);
    CHECK(d.uin >= 200000000001ULL, "the principal's uin: %llu", (unsigned long long)d.uin);
    rc = camd_authorize_key(c, env("CAMD_TEST_KEY_ID"), env("CAMD_TEST_KEY_SECRET"),
                            "im:SendMessage", APP, NULL, 0, &d, &e);
    CHECK(rc == CAMD_OK && d.allowed && strcmp(d.policy, "NoDestroy") == 0, "by key: %s %s",
          e.code, e.message);
    rc = camd_authorize_user(c, "nobody", "im:GetGroupInfo", "*", NULL, 0, &d, &e);
    refused(rc, &e, "ResourceNotFound.UserNotExist");
    rc = camd_authorize_key(c, env("CAMD_TEST_KEY_ID"), "not-the-key", "im:SendMessage", "*",
                            NULL, 0, &d, &e);
    refused(rc, &e, "AuthFailure.InvalidAuthorization");
    CHECK(strstr(e.message, "not-the-key") == NULL, "the SecretKey is in the message");
    rc = camd_authorize_key(c, env("CAMD_TEST_DISABLED_KEY_ID"),
                            env("CAMD_TEST_DISABLED_KEY_SECRET"), "im:SendMessage", "*", NULL, 0,
                            &d, &e);
    refused(rc, &e, "AuthFailure.InvalidAuthorization");
    rc = camd_authorize_user(c, "reader", "SendMessage", "*", NULL, 0, &d, &e);
    refused(rc, &e, "InvalidParameter");
    rc = camd_authorize_user(c, NULL, "im:SendMessage", "*", NULL, 0, &d, &e);
    refused(rc, &e, "InvalidParameter");
    rc = camd_authorize_user(c, "reader", "im:SendMessage", "*", NULL, 3, &d, &e);
    refused(rc, &e, "InvalidParameter");
    rc = camd_authorize_user(NULL, "reader", "im:SendMessage", "*", NULL, 0, &d, &e);
    refused(rc, &e, "InvalidParameter");
    rc = camd_authorize_user(c, "reader", "im:SendMessage", "*", NULL, 0, NULL, NULL);
    CHECK(rc == CAMD_ERROR, "a NULL out is refused");
    decision_log_checks(c);

    pthread_t t[8];
    for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, worker, c);
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    camd_close(c);
    camd_close(NULL);
    CHECK(strlen(camd_version()) > 0, "a version");

    c = camd_connect("/nonexistent/camd.sock", 0, &e);
    CHECK(c == NULL, "connect to nothing");
    CHECK(strcmp(e.code, "ClientError.Connection") == 0, "connect to nothing: %s", e.code);
    return 0;
}

/* Asks the restart service at `path` to kill camd and start it again:
 * returns 0 once it answered "ok\n" (camd serves again), -1 otherwise. */
static int restart_camd(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a.sun_path) { close(fd); return -1; }
    strcpy(a.sun_path, path);
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char line[128];
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || write(fd, "restart\n", 8) != 8) {
        close(fd);
        return -1;
    }
    while (got < sizeof line - 1) {
        ssize_t n = read(fd, line + got, sizeof line - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
        if (memchr(line, '\n', got)) break;
    }
    close(fd);
    line[got] = 0;
    CHECK(strcmp(line, "ok\n") == 0, "the restart service answered \"%s\"", line);
    return strcmp(line, "ok\n") == 0 ? 0 : -1;
}

/* The right answer to reader im:GetGroupInfo on APP, or not. */
static int right_answer(const camd_decision *d) {
    return d->allowed == 1 && strcmp(d->reason, "Allow") == 0 &&
           strcmp(d->policy, "QcloudChatReadOnlyAccess") == 0 && d->statement == 0;
}

static atomic_int stop_askers, restarted;
static atomic_int right_total, right_after, conn_errors, wrong;

/* Asks on a client of its own until told to stop, tallying the answers. */
static void *asker(void *arg) {
    (void)arg;
    camd_error e = {0};
    camd_client *c = camd_connect(env("CAMD_SOCKET"), 2000, &e);
    CHECK(c != NULL, "asker connect: %s", e.code);
    if (!c) return NULL;
    while (!atomic_load(&stop_askers)) {
        camd_decision d;
        int rc = camd_authorize_user(c, "reader", "im:GetGroupInfo", APP, NULL, 0, &d, &e);
        if (rc != CAMD_OK && strcmp(e.code, "ClientError.Connection") == 0) {
            atomic_fetch_add(&conn_errors, 1); /* camd was down: counted, never an answer */
            nanosleep(&(struct timespec){0, 5000000}, NULL);
        } else if (rc == CAMD_OK && right_answer(&d)) {
            atomic_fetch_add(&right_total, 1);
            if (atomic_load(&restarted)) atomic_fetch_add(&right_after, 1);
        } else {
            atomic_fetch_add(&wrong, 1);
            fprintf(stderr, "asker: a wrong answer: rc %d %s %s %s\n", rc, e.code, d.reason, d.policy);
        }
    }
    camd_close(c);
    return NULL;
}

/* camd SIGKILLed and started again under a client: the same client answers
 * right afterwards (reconnecting itself), and 4 threads asking across the
 * restart get only right answers or connection errors. */
static void restart_checks(void) {
    const char *svc = getenv("CAMD_TEST_RESTART_SOCKET");
    if (!svc || !*svc) {
        printf("SKIP restart: CAMD_TEST_RESTART_SOCKET is unset: no restart service to restart camd with\n");
        skipped++;
        return;
    }
    camd_error e = {0};
    camd_client *c = camd_connect(env("CAMD_SOCKET"), 2000, &e);
    CHECK(c != NULL, "connect: %s: %s", e.code, e.message);
    if (!c) return;
    camd_decision d;
    int rc = camd_authorize_user(c, "reader", "im:GetGroupInfo", APP, NULL, 0, &d, &e);
    CHECK(rc == CAMD_OK && right_answer(&d), "before the restart: %s %s", e.code, e.message);
    if (restart_camd(svc) == 0) {
        memset(&e, 0, sizeof e);
        rc = camd_authorize_user(c, "reader", "im:GetGroupInfo", APP, NULL, 0, &d, &e);
        CHECK(rc == CAMD_OK && right_answer(&d), "the same client after the restart: %s %s", e.code,
              e.message);
    }
    camd_close(c);

    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, asker, NULL);
    nanosleep(&(struct timespec){0, 300000000}, NULL);
    int ok = restart_camd(svc) == 0;
    atomic_store(&restarted, 1);
    nanosleep(&(struct timespec){0, 700000000}, NULL);
    atomic_store(&stop_askers, 1);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    printf("restart: %d right answers (%d after it), %d connection errors while camd was down\n",
           atomic_load(&right_total), atomic_load(&right_after), atomic_load(&conn_errors));
    CHECK(atomic_load(&wrong) == 0, "%d wrong answers across the restart", atomic_load(&wrong));
    CHECK(!ok || atomic_load(&right_after) > 0, "no right answer after the restart");
}

/* A server at PATH that closes (or never answers) after the hello. */
static int broken_server(const char *path, const char *want) {
    camd_error e = {0};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    camd_client *c = camd_connect(path, 300, &e);
    if (c) {
        camd_decision d;
        int rc = camd_authorize_user(c, "reader", "im:SendMessage", "*", NULL, 0, &d, &e);
        CHECK(rc == CAMD_ERROR, "a broken server gave an answer");
        camd_close(c);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    CHECK(strcmp(e.code, want) == 0, "expected %s, got %s: %s", want, e.code, e.message);
    CHECK(secs < 5.0, "took %.1f s", secs);
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN); /* as camd.h asks */
    if (argc >= 2 && strcmp(argv[1], "daemon") == 0) {
        daemon_checks();
        restart_checks();
    } else if (argc >= 3 && strcmp(argv[1], "closes") == 0) {
        broken_server(argv[2], "ClientError.Connection");
    } else if (argc >= 3 && strcmp(argv[1], "silent") == 0) {
        broken_server(argv[2], "ClientError.Timeout");
    } else {
        fprintf(stderr, "usage: test_camd daemon | closes PATH | silent PATH\n");
        return 2;
    }
    printf("%s: %d failures, %d skipped\n", argv[1], failures, skipped);
    return failures ? 1 : 0;
}
