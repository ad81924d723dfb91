/* camd.h: the C client of camd, the local CAM authorization daemon.
 *
 * Link with -lcamd (libcamd.so, built by `cargo build -p camd-c`). Every
 * function is safe to call from any thread; one camd_client may be shared
 * by threads (calls on it take turns, each waiting for the one before),
 * but camd_close must not race other calls on the same client. As with any
 * socket library, ignore SIGPIPE in the process (signal(SIGPIPE,
 * SIG_IGN)) so that writing to a camd that just restarted is an error, not
 * a signal that ends the process. No function aborts the process or
 * lets a Rust panic cross into C: a failure is a return value and a
 * camd_error with the CAM error code. A SecretKey passed in is never
 * copied into an error or kept after the call.
 */
#ifndef CAMD_H
#define CAMD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return values. */
#define CAMD_OK 0
#define CAMD_ERROR (-1)

/* A connection to camd (opaque). */
typedef struct camd_client camd_client;

/* A decision: allowed or not, why, and what decided it. */
typedef struct camd_decision {
    int allowed;         /* 1: allowed, 0: denied */
    char reason[32];     /* "Allow", "ExplicitDeny", "ImplicitDeny", ... */
    char policy[256];    /* the deciding policy's name; "" when none */
    int64_t statement;   /* the deciding statement's index; -1 when none */
    uint64_t uin;        /* the principal's uin */
} camd_decision;
#ifndef __cplusplus
_Static_assert(sizeof(camd_decision) == 312, "camd_decision's layout is libcamd's");
#endif

/* Why a call failed. `code` is a CAM error code (e.g.
 * "ResourceNotFound.UserNotExist", "AuthFailure.InvalidAuthorization");
 * "ClientError.Connection" when camd could not be reached or the
 * connection broke, "ClientError.Timeout" when it did not answer in time,
 * "InvalidParameter" when an argument is NULL or not UTF-8. Both strings
 * are NUL-terminated and cut to fit. */
typedef struct camd_error {
    char code[96];
    char message[512];
} camd_error;
#ifndef __cplusplus
_Static_assert(sizeof(camd_error) == 608, "camd_error's layout is libcamd's");
#endif

/* The library's version, e.g. "0.1.0" (static storage). */
const char *camd_version(void);

/* Connects to camd's socket at `socket_path` (NULL: $CAMD_SOCKET, else
 * "state/camd.sock"). Each read and write waits at most `timeout_ms`
 * (0: 5000). Returns NULL on failure, with `err` (may be NULL) filled in.
 * A connection camd closed (a restart) is opened again by the next call. */
camd_client *camd_connect(const char *socket_path, uint32_t timeout_ms, camd_error *err);

/* Closes the connection and frees the client; NULL is ignored. */
void camd_close(camd_client *client);

/* May user `user` (a sub-user's name) do `action` (e.g. "im:SendMessage")
 * on `resource` (e.g. "qcs::im::uin/100000000001:sdkappid/1400000001")?
 * `context` holds `context_pairs` key/value pairs as 2 * context_pairs
 * strings (key0, value0, key1, value1, ...); it may be NULL when
 * context_pairs is 0. On CAMD_OK `out` holds the decision; on CAMD_ERROR
 * `err` (may be NULL) says why. */
int camd_authorize_user(camd_client *client, const char *user, const char *action,
                        const char *resource, const char *const *context,
                        size_t context_pairs, camd_decision *out, camd_error *err);

/* As camd_authorize_user, for the owner of an access key: `secret_id` and
 * `secret_key` (checked by camd; a wrong or disabled key is
 * "AuthFailure.InvalidAuthorization"). */
int camd_authorize_key(camd_client *client, const char *secret_id, const char *secret_key,
                       const char *action, const char *resource,
                       const char *const *context, size_t context_pairs,
                       camd_decision *out, camd_error *err);

/* Per-call options of camd_authorize_user_with and camd_authorize_key_with. */
typedef struct camd_ask_options {
    const char *traceparent; /* in: a W3C traceparent sent with the request, which
                              * camd's decision log records (trace_id, span_id);
                              * NULL: none. camd ignores an invalid one. */
    char decision_id[17];    /* out: the decision's id, 16 hex digits, as its record in
                              * camd's decision log has it ("" when the log is off) */
} camd_ask_options;
#ifndef __cplusplus
_Static_assert(sizeof(camd_ask_options) == 32, "camd_ask_options's layout is libcamd's");
#endif

/* As camd_authorize_user, with `opts` (NULL: as camd_authorize_user). */
int camd_authorize_user_with(camd_client *client, const char *user, const char *action,
                             const char *resource, const char *const *context,
                             size_t context_pairs, camd_ask_options *opts,
                             camd_decision *out, camd_error *err);

/* As camd_authorize_key, with `opts` (NULL: as camd_authorize_key). */
int camd_authorize_key_with(camd_client *client, const char *secret_id,
                            const char *secret_key, const char *action,
                            const char *resource, const char *const *context,
                            size_t context_pairs, camd_ask_options *opts,
                            camd_decision *out, camd_error *err);

#ifdef __cplusplus
}
#endif

#endif /* CAMD_H */
