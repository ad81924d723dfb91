package com.camd.client;

/**
 * An answer from camd that is not a decision: camd refused the question and
 * said why with a CAM error code ({@code ResourceNotFound.UserNotExist},
 * {@code AuthFailure.InvalidAuthorization}, {@code InvalidParameter}, ...).
 *
 * <p>Checked on purpose: an authorization call that fails must be turned into
 * a deliberate outcome (normally: deny) by every caller, and the compiler is
 * the cheapest way to make sure no request thread forgets. Its subclass
 * {@link CamdConnectionException} is the client's own failure (camd
 * unreachable, a closed or garbled connection, a timeout): {@link #code()} is
 * then {@code null}.
 *
 * <p>Messages never contain a SecretKey.
 */
public class CamdException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String code;
    private final String remoteMessage;

    /** An error camd answered: {@code code} is the CAM error code. */
    public CamdException(String code, String message) {
        super(code + ": " + message);
        this.code = code;
        this.remoteMessage = message;
    }

    CamdException(String message, Throwable cause) {
        super(message, cause);
        this.code = null;
        this.remoteMessage = null;
    }

    /** The CAM error code camd answered; {@code null} for a connection failure. */
    public String code() {
        return code;
    }

    /** camd's own message (without the code); {@code null} for a connection failure. */
    public String remoteMessage() {
        return remoteMessage;
    }
}
