package com.camd.client;

/**
 * One answer of a batch: a {@link Decision}, or the CAM error camd gave for
 * that question alone ({@code code} and {@code message}).
 */
public record Result(Decision decision, String code, String message) {
    public static Result ok(Decision d) {
        return new Result(d, null, null);
    }

    public static Result error(String code, String message) {
        return new Result(null, code, message);
    }

    public boolean isOk() {
        return decision != null;
    }

    /** The decision, or the error as a {@link CamdException}. */
    public Decision get() throws CamdException {
        if (decision == null) {
            throw new CamdException(code, message);
        }
        return decision;
    }
}
