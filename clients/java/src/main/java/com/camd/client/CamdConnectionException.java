package com.camd.client;

/**
 * The connection to camd failed: camd is not listening, it closed the
 * connection (possibly mid-frame), it sent bytes that are not a valid reply,
 * or it answered another request's id. No decision is ever inferred from such
 * a connection; it is discarded. {@link #code()} is {@code null}.
 */
public class CamdConnectionException extends CamdException {
    private static final long serialVersionUID = 1L;

    public CamdConnectionException(String message) {
        super(message, (Throwable) null);
    }

    public CamdConnectionException(String message, Throwable cause) {
        super(message, cause);
    }

    /** True when the connection was closed or could not be made (worth a retry on a new one). */
    boolean retryable() {
        return true;
    }
}
