package com.camd.client;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The example program ({@code clients/java/check}): decides one question with
 * camd, prints {@code Allow: ...} or {@code Deny: ...}, and exits 0 on Allow,
 * 1 on Deny, 2 on error (the CAM code in the message).
 *
 * <pre>
 * check [--socket PATH] (--user NAME | --uin UIN | --secret-id ID) --action A --resource R
 *       [--context JSON]... [--timeout SECONDS]
 * </pre>
 * {@code --context} is a JSON object {@code {"qcs:ip":"10.0.0.1"}}, a JSON
 * array of pairs {@code [["qcs:ip","10.0.0.1"]]}, or {@code KEY=VALUE};
 * repeatable. With {@code --secret-id} the SecretKey is {@code $CAMD_SECRET_KEY},
 * else the first line of stdin.
 */
public final class Check {
    private Check() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    private static int fail(String msg) {
        System.err.println("check: " + msg);
        return 2;
    }

    static int run(String[] args) {
        String socket = null;
        String user = null;
        String uin = null;
        String secretId = null;
        String action = null;
        String resource = null;
        double timeout = 5;
        List<Map.Entry<String, String>> context = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                v = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println("usage: check [--socket PATH] (--user NAME | --uin UIN | --secret-id ID)"
                        + " --action ACTION --resource RESOURCE [--context JSON]... [--timeout SECONDS]");
                return 0;
            }
            if (!List.of("--socket", "--user", "--uin", "--secret-id", "--action", "--resource", "--context",
                    "--timeout").contains(a)) {
                return fail("unknown argument `" + args[i] + "`");
            }
            if (v == null) {
                if (i + 1 >= args.length) {
                    return fail(a + " needs a value");
                }
                v = args[++i];
            }
            switch (a) {
                case "--socket" -> socket = v;
                case "--user" -> user = v;
                case "--uin" -> uin = v;
                case "--secret-id" -> secretId = v;
                case "--action" -> action = v;
                case "--resource" -> resource = v;
                case "--timeout" -> {
                    try {
                        timeout = Double.parseDouble(v);
                    } catch (NumberFormatException e) {
                        return fail("--timeout `" + v + "` is not a number of seconds");
                    }
                    if (!(timeout > 0)) {
                        return fail("--timeout must be positive");
                    }
                }
                default -> {
                    try {
                        context.addAll(parseContext(v));
                    } catch (IllegalArgumentException e) {
                        return fail("--context: " + e.getMessage());
                    }
                }
            }
        }
        if (action == null || resource == null) {
            return fail("--action and --resource are required");
        }
        int who = (user != null ? 1 : 0) + (uin != null ? 1 : 0) + (secretId != null ? 1 : 0);
        if (who != 1) {
            return fail("give one of --user, --uin or --secret-id");
        }
        Ask ask;
        if (secretId != null) {
            String key = secretKey();
            if (key == null) {
                return fail("--secret-id needs the SecretKey in $CAMD_SECRET_KEY or on stdin");
            }
            ask = Ask.byKey(secretId, key, action, resource, context);
        } else if (uin != null) {
            try {
                ask = Ask.byUin(Long.parseUnsignedLong(uin), action, resource, context);
            } catch (NumberFormatException e) {
                return fail("--uin `" + uin + "` is not a uin");
            }
        } else {
            ask = Ask.byUser(user, action, resource, context);
        }
        CamdClient.Builder b = CamdClient.builder().timeout(Duration.ofMillis((long) (timeout * 1000)));
        if (socket != null) {
            b.socket(Path.of(socket));
        }
        try (CamdClient c = b.connect()) {
            Decision d = c.authorize(ask);
            System.out.println(d.describe());
            return d.allowed() ? 0 : 1;
        } catch (CamdException e) {
            return fail(e.getMessage());
        }
    }

    private static String secretKey() {
        String k = System.getenv("CAMD_SECRET_KEY");
        if (k != null && !k.isEmpty()) {
            return k;
        }
        if (System.console() != null) {
            return null; // a terminal: do not wait for a line nobody will type
        }
        try {
            String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            return line == null || line.isEmpty() ? null : line;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    static List<Map.Entry<String, String>> parseContext(String v) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        String t = v.trim();
        if (t.startsWith("{")) {
            Object o = Json.parse(t);
            for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
                if (!(e.getValue() instanceof String s)) {
                    throw new IllegalArgumentException("the value of `" + e.getKey() + "` is not a string");
                }
                out.add(Map.entry((String) e.getKey(), s));
            }
        } else if (t.startsWith("[")) {
            Object o = Json.parse(t);
            for (Object p : (List<?>) o) {
                if (!(p instanceof List<?> pair) || pair.size() != 2
                        || !(pair.get(0) instanceof String k) || !(pair.get(1) instanceof String s)) {
                    throw new IllegalArgumentException("expected [[\"key\",\"value\"], ...]");
                }
                out.add(Map.entry(k, s));
            }
        } else {
            int eq = t.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected a JSON object, a JSON array of pairs or KEY=VALUE");
            }
            out.add(Map.entry(t.substring(0, eq), t.substring(eq + 1)));
        }
        return out;
    }
}
