package com.camd.client;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One question for camd: may this user (by name or uin) or this access key's
 * owner do {@code action} on {@code resource}, given the context pairs?
 * {@link #toString()} never shows the SecretKey.
 */
public final class Ask {
    final String userName;   // ByUser by name
    final Long uin;          // ByUser by uin
    final String secretId;   // ByKey
    final String secretKey;  // ByKey
    final String action;
    final String resource;
    final List<Map.Entry<String, String>> context;

    private Ask(String userName, Long uin, String secretId, String secretKey, String action,
                String resource, List<Map.Entry<String, String>> context) {
        this.userName = userName;
        this.uin = uin;
        this.secretId = secretId;
        this.secretKey = secretKey;
        this.action = Objects.requireNonNull(action, "action");
        this.resource = Objects.requireNonNull(resource, "resource");
        this.context = context == null ? List.of() : List.copyOf(context);
        for (Map.Entry<String, String> e : this.context) {
            Objects.requireNonNull(e.getKey(), "context key");
            Objects.requireNonNull(e.getValue(), "context value");
        }
    }

    public static Ask byUser(String name, String action, String resource,
                             List<Map.Entry<String, String>> context) {
        return new Ask(Objects.requireNonNull(name, "name"), null, null, null, action, resource, context);
    }

    public static Ask byUser(String name, String action, String resource) {
        return byUser(name, action, resource, List.of());
    }

    public static Ask byUin(long uin, String action, String resource,
                            List<Map.Entry<String, String>> context) {
        return new Ask(null, uin, null, null, action, resource, context);
    }

    public static Ask byKey(String secretId, String secretKey, String action, String resource,
                            List<Map.Entry<String, String>> context) {
        return new Ask(null, null, Objects.requireNonNull(secretId, "secretId"),
                Objects.requireNonNull(secretKey, "secretKey"), action, resource, context);
    }

    public String action() {
        return action;
    }

    public String resource() {
        return resource;
    }

    public List<Map.Entry<String, String>> context() {
        return context;
    }

    @Override
    public String toString() {
        String who = secretId != null ? "key " + secretId + " (SecretKey hidden)"
                : userName != null ? "user " + userName : "uin " + uin;
        return "Ask{" + who + ", " + action + " on " + resource + ", context " + context + "}";
    }
}
