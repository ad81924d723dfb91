package camd

// The W3C trace context a caller sends with its decisions: carried by the
// call's context, written after the request's body (docs/protocol.md,
// Request's traceparent), recorded by camd's decision log as the records'
// trace_id and span_id.

import "context"

type traceparentKey struct{}

// ContextWithTraceparent is ctx carrying a W3C traceparent
// (`00-<32 hex>-<16 hex>-<2 hex>`) that the decisions asked with it
// (Authorize, AuthorizeBatch, AuthorizeSigned, AuthorizeAt and the helpers
// on them) send to camd. It is not checked here: camd ignores an invalid
// one. "" sends none.
func ContextWithTraceparent(ctx context.Context, traceparent string) context.Context {
	return context.WithValue(ctx, traceparentKey{}, traceparent)
}

// Traceparent is the traceparent ctx carries ("" when none).
func Traceparent(ctx context.Context) string {
	s, _ := ctx.Value(traceparentKey{}).(string)
	return s
}
