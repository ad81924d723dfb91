/* check.c: the C example program: asks camd one question through libcamd,
 * as `camctl check` / `camctl auth` do, and prints `Allow: ...` or
 * `Deny: ...` with the reason; exit 0 on Allow, 1 on Deny, 2 on an error
 * (`check: <CAM code>: message`).
 *
 *   check [--socket PATH] (--user NAME | --secret-id ID) --action ACTION
 *         --resource RESOURCE [--context JSON | --context KEY=VALUE]...
 *         [--timeout SECONDS]
 *
 * With --secret-id the SecretKey is $CAMD_SECRET_KEY, else the first line
 * of stdin; it is only handed to libcamd, never printed. --context takes a
 * JSON object ({"qcs:ip":"10.0.0.1"}, a value may be an array of strings),
 * a JSON array of [key, value] pairs, or KEY=VALUE; it may be repeated. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "camd.h"

enum { EXIT_ALLOW = 0, EXIT_DENY = 1, EXIT_ERR = 2 };

static int fail(const char *code, const char *fmt, const char *arg) {
    fprintf(stderr, "check: %s: ", code);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return EXIT_ERR;
}

/* The context: 2 * n strings, key0, value0, ... (heap copies). */
static char **ctx = NULL;
static size_t ctx_n = 0, ctx_cap = 0;

static int add_pair(char *k, char *v) {
    if (ctx_n == ctx_cap) {
        size_t cap = ctx_cap ? ctx_cap * 2 : 8;
        char **p = realloc(ctx, cap * 2 * sizeof *p);
        if (!p) return -1;
        ctx = p;
        ctx_cap = cap;
    }
    ctx[2 * ctx_n] = k;
    ctx[2 * ctx_n + 1] = v;
    ctx_n++;
    return 0;
}

/* A small JSON reader: just strings, arrays of strings, objects of those. */
static const char *jp;
static void ws(void) {
    while (*jp == ' ' || *jp == '\t' || *jp == '\n' || *jp == '\r') jp++;
}

static int hex4(unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *jp++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* A JSON string at jp, decoded to UTF-8 (heap), or NULL. */
static char *jstring(void) {
    ws();
    if (*jp != '"') return NULL;
    jp++;
    size_t cap = strlen(jp) * 2 + 8, n = 0; /* \uXXXX never grows past 2x */
    char *out = malloc(cap);
    if (!out) return NULL;
    for (;;) {
        unsigned char c = (unsigned char)*jp++;
        if (c == '"') break;
        if (c == 0 || c < 0x20) { free(out); return NULL; }
        if (c != '\\') { out[n++] = (char)c; continue; }
        char e = *jp++;
        unsigned u;
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u':
            if (hex4(&u)) { free(out); return NULL; }
            if (u >= 0xD800 && u < 0xDC00) {
                unsigned lo;
                if (jp[0] != '\\' || jp[1] != 'u') { free(out); return NULL; }
                jp += 2;
                if (hex4(&lo) || lo < 0xDC00 || lo >= 0xE000) { free(out); return NULL; }
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            } else if (u >= 0xDC00 && u < 0xE000) {
                free(out);
                return NULL;
            }
            if (u < 0x80) {
                out[n++] = (char)u;
            } else if (u < 0x800) {
                out[n++] = (char)(0xC0 | (u >> 6));
                out[n++] = (char)(0x80 | (u & 0x3F));
            } else if (u < 0x10000) {
                out[n++] = (char)(0xE0 | (u >> 12));
                out[n++] = (char)(0x80 | ((u >> 6) & 0x3F));
                out[n++] = (char)(0x80 | (u & 0x3F));
            } else {
                out[n++] = (char)(0xF0 | (u >> 18));
                out[n++] = (char)(0x80 | ((u >> 12) & 0x3F));
                out[n++] = (char)(0x80 | ((u >> 6) & 0x3F));
                out[n++] = (char)(0x80 | (u & 0x3F));
            }
            break;
        default: free(out); return NULL;
        }
    }
    out[n] = 0;
    return out;
}

/* Adds a pair to the context, the key copied. */
static int add_kv(const char *k, char *v) {
    char *kc = strdup(k);
    if (!kc || add_pair(kc, v)) { free(kc); free(v); return -1; }
    return 0;
}

/* --context as JSON: {"k": "v" | ["v1", ...], ...} or [["k", "v"], ...]. */
static int parse_json_context(const char *s) {
    jp = s;
    ws();
    if (*jp == '{') {
        jp++;
        ws();
        if (*jp == '}') { jp++; goto end; }
        for (;;) {
            char *k = jstring();
            if (!k) return -1;
            ws();
            if (*jp++ != ':') { free(k); return -1; }
            ws();
            if (*jp == '[') {
                jp++;
                ws();
                if (*jp == ']') jp++;
                else for (;;) {
                    char *v = jstring();
                    if (!v || add_kv(k, v)) { free(k); return -1; }
                    ws();
                    if (*jp == ',') { jp++; continue; }
                    if (*jp++ == ']') break;
                    free(k);
                    return -1;
                }
            } else {
                char *v = jstring();
                if (!v || add_kv(k, v)) { free(k); return -1; }
            }
            free(k);
            ws();
            if (*jp == ',') { jp++; continue; }
            if (*jp++ == '}') break;
            return -1;
        }
    } else if (*jp == '[') {
        jp++;
        ws();
        if (*jp == ']') { jp++; goto end; }
        for (;;) {
            ws();
            if (*jp++ != '[') return -1;
            char *k = jstring();
            if (!k) return -1;
            ws();
            if (*jp++ != ',') { free(k); return -1; }
            char *v = jstring();
            if (!v || add_pair(k, v)) { free(k); free(v); return -1; }
            ws();
            if (*jp++ != ']') return -1;
            ws();
            if (*jp == ',') { jp++; continue; }
            if (*jp++ == ']') break;
            return -1;
        }
    } else {
        return -1;
    }
end:
    ws();
    return *jp ? -1 : 0;
}

static int parse_context(const char *s) {
    const char *t = s;
    while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r') t++;
    if (*t == '{' || *t == '[') return parse_json_context(t);
    const char *eq = strchr(s, '=');
    if (!eq || eq == s) return -1;
    char *k = strndup(s, (size_t)(eq - s)), *v = strdup(eq + 1);
    if (!k || !v || add_pair(k, v)) { free(k); free(v); return -1; }
    return 0;
}

/* The SecretKey: $CAMD_SECRET_KEY, else the first line of stdin. */
static char *secret_key(void) {
    const char *k = getenv("CAMD_SECRET_KEY");
    if (k && *k) return strdup(k);
    if (isatty(STDIN_FILENO)) return NULL;
    char line[4096];
    if (!fgets(line, sizeof line, stdin)) return NULL;
    line[strcspn(line, "\r\n")] = 0;
    return line[0] ? strdup(line) : NULL;
}

/* The line camctl prints for a decision. */
static void verdict(const camd_decision *d) {
    const char *v = d->allowed ? "Allow" : "Deny";
    if (d->policy[0] && d->statement >= 0)
        printf("%s: %s by policy `%s` statement[%lld]\n", v, d->reason, d->policy,
               (long long)d->statement);
    else if (strcmp(d->reason, "ImplicitDeny") == 0)
        printf("%s: no statement allows it (implicit deny)\n", v);
    else if (strcmp(d->reason, "OutsideBoundary") == 0 && d->policy[0])
        printf("%s: OutsideBoundary: the permissions boundary `%s` does not allow it\n", v,
               d->policy);
    else if (strcmp(d->reason, "Root") == 0)
        printf("%s: the root account is allowed everything\n", v);
    else
        printf("%s: %s\n", v, d->reason);
}

static const char *USAGE =
    "usage: check [--socket PATH] (--user NAME | --secret-id ID) --action ACTION --resource RESOURCE\n"
    "             [--context JSON | --context KEY=VALUE]... [--timeout SECONDS]\n"
    "  --secret-id: the SecretKey comes from $CAMD_SECRET_KEY, else the first line of stdin\n"
    "exit status: 0 Allow, 1 Deny, 2 error\n";

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN); /* as camd.h asks */
    const char *socket = NULL, *user = NULL, *secret_id = NULL, *action = NULL, *resource = NULL;
    double timeout = 5.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(USAGE, stdout);
            return EXIT_ALLOW;
        }
        const char *opts[] = {"--socket", "--user", "--uin", "--secret-id", "--action",
                              "--resource", "--context", "--timeout"};
        const char *name = NULL, *val = NULL;
        for (size_t o = 0; o < sizeof opts / sizeof *opts; o++) {
            size_t n = strlen(opts[o]);
            if (strcmp(a, opts[o]) == 0) {
                if (i + 1 >= argc) return fail("InvalidParameter", "%s needs a value", opts[o]);
                name = opts[o];
                val = argv[++i];
            } else if (strncmp(a, opts[o], n) == 0 && a[n] == '=') {
                name = opts[o];
                val = a + n + 1;
            }
        }
        if (!name) {
            fputs(USAGE, stderr);
            return fail("InvalidParameter", "unexpected argument `%s`", a);
        }
        if (strcmp(name, "--socket") == 0) socket = val;
        else if (strcmp(name, "--user") == 0) user = val;
        else if (strcmp(name, "--uin") == 0)
            return fail("InvalidParameter", "--uin %s: libcamd asks by user name only; give --user", val);
        else if (strcmp(name, "--secret-id") == 0) secret_id = val;
        else if (strcmp(name, "--action") == 0) action = val;
        else if (strcmp(name, "--resource") == 0) resource = val;
        else if (strcmp(name, "--context") == 0) {
            if (parse_context(val))
                return fail("InvalidParameter",
                            "--context `%s`: expected a JSON object, a JSON array of [key, value] pairs, or KEY=VALUE",
                            val);
        } else if (strcmp(name, "--timeout") == 0) {
            char *end;
            errno = 0;
            timeout = strtod(val, &end);
            if (errno || *end || !(timeout > 0 && timeout <= 3600))
                return fail("InvalidParameter", "--timeout `%s`: seconds, more than 0", val);
        }
    }
    if (!action || !resource) return fail("InvalidParameter", "%s", "--action and --resource are required");
    if ((user != NULL) + (secret_id != NULL) != 1)
        return fail("InvalidParameter", "%s", "give one of --user or --secret-id");
    char *key = NULL;
    if (secret_id && !(key = secret_key()))
        return fail("MissingParameter", "%s", "--secret-id needs the SecretKey in $CAMD_SECRET_KEY or on stdin");

    camd_error err = {0};
    uint32_t ms = (uint32_t)(timeout * 1000.0);
    camd_client *c = camd_connect(socket, ms ? ms : 1, &err);
    int rc = CAMD_ERROR;
    camd_decision d;
    if (c) {
        const char *const *cx = (const char *const *)ctx;
        rc = key ? camd_authorize_key(c, secret_id, key, action, resource, cx, ctx_n, &d, &err)
                 : camd_authorize_user(c, user, action, resource, cx, ctx_n, &d, &err);
        camd_close(c);
    }
    if (key) {
        memset(key, 0, strlen(key));
        free(key);
    }
    for (size_t i = 0; i < 2 * ctx_n; i++) free(ctx[i]);
    free(ctx);
    if (rc != CAMD_OK) return fail(err.code, "%s", err.message);
    verdict(&d);
    return d.allowed ? EXIT_ALLOW : EXIT_DENY;
}
