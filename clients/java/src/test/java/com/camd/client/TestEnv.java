// Shared helpers for the tests: the scene's environment (CAMD_SOCKET, the
// case file, the keys), skipping daemon tests only when CAMD_SOCKET is unset,
// and turning JSON asks (cases.json, the wire vectors) into Ask values.
package com.camd.client;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

final class TestEnv {
    private TestEnv() {
    }

    static final Path ROOT = Path.of(System.getProperty("user.dir")).toAbsolutePath();

    /** CAMD_SOCKET, or the test is skipped (the only reason a test here is skipped). */
    static Path socket() {
        String s = System.getenv("CAMD_SOCKET");
        assumeTrue(s != null && !s.isEmpty(), "CAMD_SOCKET is unset: no camd to ask");
        return Path.of(s);
    }

    static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isEmpty()) {
            throw new AssertionError(name + " is unset (tests/clients.rs sets it with CAMD_SOCKET)");
        }
        return v;
    }

    static Path casesFile() {
        String s = System.getenv("CAMD_TEST_CASES");
        return s != null && !s.isEmpty() ? Path.of(s) : ROOT.resolve("../../tests/clients/cases.json").normalize();
    }

    static Path wireDir() {
        String s = System.getenv("CAMD_TEST_WIRE");
        return s != null && !s.isEmpty() ? Path.of(s) : ROOT.resolve("../../tests/wire").normalize();
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> cases() throws Exception {
        Map<String, Object> all = (Map<String, Object>) Json.parse(Files.readString(casesFile()));
        return (List<Map<String, Object>>) all.get("cases");
    }

    /** `${NAME}` in a case's string, from the environment. */
    static String fill(String s) {
        Matcher m = Pattern.compile("\\$\\{([A-Z0-9_]+)}").matcher(s);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(b, Matcher.quoteReplacement(env(m.group(1))));
        }
        m.appendTail(b);
        return b.toString();
    }

    static List<Map.Entry<String, String>> pairs(Object o) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        if (o != null) {
            for (Object p : (List<?>) o) {
                List<?> kv = (List<?>) p;
                out.add(Map.entry(fill((String) kv.get(0)), fill((String) kv.get(1))));
            }
        }
        return out;
    }

    /** A case's ask: {"user"|"secret_id"+"secret_key", "action", "resource", "context"?}. */
    static Ask caseAsk(Map<String, Object> ask) {
        String action = fill((String) ask.get("action"));
        String resource = fill((String) ask.get("resource"));
        List<Map.Entry<String, String>> ctx = pairs(ask.get("context"));
        if (ask.containsKey("user")) {
            return Ask.byUser(fill((String) ask.get("user")), action, resource, ctx);
        }
        return Ask.byKey(fill((String) ask.get("secret_id")), fill((String) ask.get("secret_key")),
                action, resource, ctx);
    }

    /** An `Authorize` as serde writes it: {"ByUser": {...}} or {"ByKey": {...}}. */
    @SuppressWarnings("unchecked")
    static Ask wireAsk(Map<String, Object> authorize) {
        if (authorize.containsKey("ByUser")) {
            Map<String, Object> a = (Map<String, Object>) authorize.get("ByUser");
            Map<String, Object> user = (Map<String, Object>) a.get("user");
            List<Map.Entry<String, String>> ctx = pairs(a.get("context"));
            if (user.containsKey("Name")) {
                return Ask.byUser((String) user.get("Name"), (String) a.get("action"), (String) a.get("resource"), ctx);
            }
            return Ask.byUin((Long) user.get("Uin"), (String) a.get("action"), (String) a.get("resource"), ctx);
        }
        Map<String, Object> a = (Map<String, Object>) authorize.get("ByKey");
        Map<String, Object> key = (Map<String, Object>) a.get("key");
        return Ask.byKey((String) key.get("secret_id"), (String) key.get("secret_key"), (String) a.get("action"),
                (String) a.get("resource"), pairs(a.get("context")));
    }
}
