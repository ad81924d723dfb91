package com.camd.client;

/**
 * camd's decision.
 *
 * @param allowed    whether the action is allowed
 * @param reason     {@code Root}, {@code Allow}, {@code ExplicitDeny}, {@code FailClosedDeny},
 *                   {@code ImplicitDeny}, {@code BoundaryDeny}, {@code BoundaryFailClosedDeny}
 *                   or {@code OutsideBoundary}
 * @param policy     the deciding policy, or {@code null}
 * @param statement  the deciding statement's index in it, or {@code null}
 * @param uin        the uin decided for
 * @param decisionId the id of the decision's record in camd's decision log
 *                   (16 lowercase hex digits, the log's {@code decision_id}),
 *                   or {@code null} when the log is off
 */
public record Decision(boolean allowed, String reason, String policy, Integer statement, long uin,
                       String decisionId) {
    /** A decision without a decision id (camd's decision log off). */
    public Decision(boolean allowed, String reason, String policy, Integer statement, long uin) {
        this(allowed, reason, policy, statement, uin, null);
    }

    /** The same decision with {@code decisionId} as its id. */
    Decision withDecisionId(String id) {
        return new Decision(allowed, reason, policy, statement, uin, id);
    }

    /** The line camctl prints: {@code Allow: Allow by policy `P` statement[0]}. */
    public String describe() {
        String why;
        if (policy != null && statement != null) {
            why = reason + " by policy `" + policy + "` statement[" + statement + "]";
        } else if ("ImplicitDeny".equals(reason)) {
            why = "no statement allows it (implicit deny)";
        } else if ("OutsideBoundary".equals(reason) && policy != null) {
            why = "OutsideBoundary: the permissions boundary `" + policy + "` does not allow it";
        } else if ("Root".equals(reason)) {
            why = "the root account is allowed everything";
        } else {
            why = reason;
        }
        return (allowed ? "Allow" : "Deny") + ": " + why;
    }
}
