package com.camd.client;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A TC3-HMAC-SHA256-signed HTTP request exactly as the caller received it,
 * for {@link CamdClient#authorizeSigned}: method, path, query (without the
 * {@code ?}), the headers in order, and either the body's bytes or, for a
 * streamed body, their SHA-256 in lower-case hex.
 */
public final class SignedHttp {
    final String method;
    final String path;
    final String query;
    final List<Map.Entry<String, String>> headers;
    final byte[] body;        // null when bodySha256 is given
    final String bodySha256;  // null when body is given

    private SignedHttp(String method, String path, String query, List<Map.Entry<String, String>> headers,
                       byte[] body, String bodySha256) {
        this.method = Objects.requireNonNull(method, "method");
        this.path = Objects.requireNonNull(path, "path");
        this.query = query == null ? "" : query;
        this.headers = List.copyOf(headers);
        this.body = body;
        this.bodySha256 = bodySha256;
    }

    /** The request with the bytes of its body. */
    public static SignedHttp withBody(String method, String path, String query,
                                      List<Map.Entry<String, String>> headers, byte[] body) {
        return new SignedHttp(method, path, query, headers, body.clone(), null);
    }

    /** The request with only the SHA-256 (hex) of its body, for a streamed body. */
    public static SignedHttp withBodySha256(String method, String path, String query,
                                            List<Map.Entry<String, String>> headers, String sha256Hex) {
        return new SignedHttp(method, path, query, headers, null, Objects.requireNonNull(sha256Hex));
    }

    /**
     * A raw HTTP/1.1 request (request line, headers, blank line, body of
     * {@code Content-Length} bytes, else the rest), as received.
     */
    public static SignedHttp parse(byte[] raw) {
        int end = -1;
        for (int i = 0; i + 3 < raw.length; i++) {
            if (raw[i] == '\r' && raw[i + 1] == '\n' && raw[i + 2] == '\r' && raw[i + 3] == '\n') {
                end = i;
                break;
            }
        }
        if (end < 0) {
            throw new IllegalArgumentException("no end of the HTTP headers");
        }
        String head = new String(raw, 0, end, StandardCharsets.UTF_8);
        String[] lines = head.split("\r\n");
        String[] start = lines[0].split(" ");
        if (start.length != 3) {
            throw new IllegalArgumentException("not an HTTP request line: " + lines[0]);
        }
        String target = start[1];
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? "" : target.substring(q + 1);
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        int length = -1;
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c <= 0) {
                throw new IllegalArgumentException("not an HTTP header: " + lines[i]);
            }
            String name = lines[i].substring(0, c).trim();
            String value = lines[i].substring(c + 1).trim();
            headers.add(Map.entry(name, value));
            if (name.equalsIgnoreCase("content-length")) {
                length = Integer.parseInt(value);
            }
        }
        int from = end + 4;
        int to = length < 0 ? raw.length : Math.min(raw.length, from + length);
        return new SignedHttp(start[0], path, query, headers, Arrays.copyOfRange(raw, from, to), null);
    }

    /** The same request, its body given as its SHA-256 instead of its bytes. */
    public SignedHttp hashed() {
        return body == null ? this : new SignedHttp(method, path, query, headers, null, Tc3.sha256Hex(body));
    }

    @Override
    public String toString() {
        return "SignedHttp{" + method + " " + path + (query.isEmpty() ? "" : "?" + query) + ", "
                + headers.size() + " headers, "
                + (body != null ? body.length + " body bytes" : "body sha256 " + bodySha256) + "}";
    }
}
