package com.camd.client;

/** camd did not answer within the client's timeout; the connection is discarded. */
public class CamdTimeoutException extends CamdConnectionException {
    private static final long serialVersionUID = 1L;

    public CamdTimeoutException(String message) {
        super(message);
    }

    @Override
    boolean retryable() {
        return false;
    }
}
