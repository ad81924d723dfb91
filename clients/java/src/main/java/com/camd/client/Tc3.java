package com.camd.client;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * TC3-HMAC-SHA256 signing as Tencent Cloud API 3.0 does it, for tests and for
 * Chat developers checking their integration against camd. The SecretKey is
 * only used, never kept or printed.
 */
public final class Tc3 {
    private Tc3() {
    }

    /** The {@code Authorization} header value for the request. */
    public static String authorization(String secretId, String secretKey, String service, long timestamp,
                                       String method, String path, String query,
                                       List<Map.Entry<String, String>> headers, List<String> signed,
                                       byte[] body) {
        StringBuilder canon = new StringBuilder();
        canon.append(method).append('\n').append(path).append('\n').append(query).append('\n');
        for (String name : signed) {
            for (Map.Entry<String, String> h : headers) {
                if (h.getKey().equalsIgnoreCase(name)) {
                    canon.append(name).append(':').append(h.getValue().trim().toLowerCase(Locale.ROOT)).append('\n');
                }
            }
        }
        String signedHeaders = String.join(";", signed);
        canon.append('\n').append(signedHeaders).append('\n').append(sha256Hex(body));
        String date = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC)
                .format(Instant.ofEpochSecond(timestamp));
        String scope = date + "/" + service + "/tc3_request";
        String toSign = "TC3-HMAC-SHA256\n" + timestamp + "\n" + scope + "\n"
                + sha256Hex(canon.toString().getBytes(StandardCharsets.UTF_8));
        byte[] k = hmac(("TC3" + secretKey).getBytes(StandardCharsets.UTF_8), date);
        k = hmac(k, service);
        k = hmac(k, "tc3_request");
        String sig = HexFormat.of().formatHex(hmac(k, toSign));
        return "TC3-HMAC-SHA256 Credential=" + secretId + "/" + scope + ", SignedHeaders=" + signedHeaders
                + ", Signature=" + sig;
    }

    static String sha256Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String msg) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m.doFinal(msg.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
