// The shared cases (tests/clients/cases.json, $CAMD_TEST_CASES) against the
// real camd: each asked alone, then all as one batch, with the answers
// every client must give; and the other entry points (by uin, Ping,
// AuthorizeAt standalone, AuthorizeKey) on the same scene.
package camd

import (
	"errors"
	"strings"
	"testing"
)

func TestEverySharedCaseAlone(t *testing.T) {
	c := dialDaemon(t)
	ctx := testCtx(t)
	for _, sc := range sharedCases(t) {
		sc := sc
		d, err := c.Authorize(ctx, sc.ask())
		sc.check(t, d, err)
		if err != nil && sc.Expect.Error != nil {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, &Error{Code: *sc.Expect.Error}) {
				t.Errorf("%s: %v is not an *Error matching its code", sc.Name, err)
			}
			if errors.Is(err, ErrConnection) || errors.Is(err, ErrProtocol) {
				t.Errorf("%s: camd's answer %v is reported as a connection failure", sc.Name, err)
			}
		}
	}
}

func TestEverySharedCaseInOneBatch(t *testing.T) {
	c := dialDaemon(t)
	cases := sharedCases(t)
	asks := make([]Ask, len(cases))
	for i := range cases {
		asks[i] = cases[i].ask()
	}
	results, err := c.AuthorizeBatch(testCtx(t), asks)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	if len(results) != len(cases) {
		t.Fatalf("%d results for %d cases", len(results), len(cases))
	}
	for i, r := range results {
		cases[i].check(t, r.Decision, r.Err)
	}
	// An empty batch needs no round trip.
	if r, err := c.AuthorizeBatch(testCtx(t), nil); err != nil || len(r) != 0 {
		t.Errorf("empty batch: %v %v", r, err)
	}
}

func TestTheOtherEntryPoints(t *testing.T) {
	c := dialDaemon(t)
	ctx := testCtx(t)
	const app = "qcs::im::uin/100000000001:sdkappid/1400000001"
	if v, err := c.Ping(ctx); err != nil || v != ProtocolVersion {
		t.Fatalf("ping: %d %v", v, err)
	}
	byName, err := c.AuthorizeUser(ctx, UserName("reader"), "im:GetGroupInfo", app, nil)
	if err != nil || !byName.Allowed {
		t.Fatalf("by name: %v %v", byName, err)
	}
	// The same user by uin: the same decision.
	byUin, err := c.AuthorizeUser(ctx, UserUin(byName.Uin), "im:GetGroupInfo", app, nil)
	if err != nil || byUin.Allowed != byName.Allowed || byUin.Reason != byName.Reason ||
		!eqStr(byUin.Policy, byName.Policy) || !eqU32(byUin.Statement, byName.Statement) || byUin.Uin != byName.Uin {
		t.Errorf("by uin %d: %v %v, by name %v", byName.Uin, byUin, err, byName)
	}
	if _, err := c.AuthorizeUser(ctx, UserUin(1), "im:GetGroupInfo", app, nil); Code(err) != "ResourceNotFound.UserNotExist" {
		t.Errorf("unknown uin: %v", err)
	}
	d, err := c.AuthorizeKey(ctx, env(t, "CAMD_TEST_KEY_ID"), env(t, "CAMD_TEST_KEY_SECRET"), "im:DestroyGroup", app, nil)
	if err != nil || d.Allowed || d.Reason != "ExplicitDeny" || showStr(d.Policy) != "NoDestroy" || showU32(d.Statement) != "1" {
		t.Errorf("by key, explicit deny: %v %v", d, err)
	}
	// Standalone camd decides AuthorizeAt at once (no cluster to wait for).
	at, err := c.AuthorizeAt(ctx, 0, ByUser(UserName("reader"), "im:GetGroupInfo", app, nil))
	if err != nil {
		t.Logf("AuthorizeAt on a standalone camd: %v", err)
		if Code(err) == "" {
			t.Errorf("AuthorizeAt: not camd's answer: %v", err)
		}
	} else if at.Allowed != byName.Allowed || at.Reason != byName.Reason {
		t.Errorf("AuthorizeAt: %v, Authorize: %v", at, byName)
	}
}

func TestCamdsLimitsAreItsErrorsAndTheClientGoesOn(t *testing.T) {
	c := dialDaemon(t)
	ctx := testCtx(t)
	asks := make([]Ask, 4097) // max_batch_items is 4,096
	for i := range asks {
		asks[i] = ByUser(UserName("r"), "im:A", "*", nil)
	}
	if _, err := c.AuthorizeBatch(ctx, asks); Code(err) != "LimitExceeded.BatchSize" {
		t.Errorf("a batch of 4,097: %v", err)
	}
	if _, err := c.Ping(ctx); err != nil {
		t.Fatalf("after the batch: %v", err)
	}
	// A frame over max_frame_bytes (64 KiB in the scene, 1 MiB by
	// default): camd answers with an error and closes the connection,
	// maybe before it has all been written; its error is the answer.
	huge := []KV{{"k", strings.Repeat("a", 2<<20)}}
	_, err := c.AuthorizeUser(ctx, UserName("reader"), "im:GetGroupInfo", "*", huge)
	if Code(err) == "" {
		t.Errorf("a frame of 2 MiB: %v (expected camd's error)", err)
	}
	if _, err := c.Ping(ctx); err != nil {
		t.Fatalf("after the frame: %v", err)
	}
	// Invalid UTF-8 is camd's to refuse.
	if _, err := c.AuthorizeUser(ctx, UserName("reader\xff"), "im:GetGroupInfo", "*", nil); Code(err) != "InvalidParameter.MalformedRequest" {
		t.Errorf("invalid UTF-8: %v", err)
	}
	long := strings.Repeat("a", 1025)
	if _, err := c.AuthorizeUser(ctx, UserName("reader"), "im:GetGroupInfo", long, nil); Code(err) != "InvalidParameter" {
		t.Errorf("a resource of 1,025 bytes: %v", err)
	}
}
