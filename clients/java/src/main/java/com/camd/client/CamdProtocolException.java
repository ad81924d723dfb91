package com.camd.client;

/** camd's bytes are not a valid reply to the request (garbled, another id, another shape). */
public class CamdProtocolException extends CamdConnectionException {
    private static final long serialVersionUID = 1L;

    public CamdProtocolException(String message) {
        super(message);
    }

    @Override
    boolean retryable() {
        return false;
    }
}
