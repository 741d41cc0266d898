package plugin

import "context"

// SignInFailed records a refused sign-in in the audit log: event "sign-in", outcome failure,
// detail {"method","reason"} and the user when the attempt named a known one (userID "" when
// not). reason is a short kebab-case word (invalid-code, invalid-token, ...); the caller never
// passes what was typed (code, token, link, address), which must not reach the log. The change
// it records is a refusal, so a failure to write the row is logged by Audit and not returned.
func SignInFailed(ctx context.Context, h Host, method, userID, reason string) {
	SignInFailedWith(ctx, h, method, userID, reason, nil)
}

// SignInFailedWith is SignInFailed with further non-secret detail (a passkey's id).
func SignInFailedWith(ctx context.Context, h Host, method, userID, reason string, more map[string]any) {
	d := map[string]any{"method": method, "reason": reason}
	for k, v := range more {
		d[k] = v
	}
	_ = h.Audit(ctx, nil, AuditEvent{Event: "sign-in", UserID: userID, Failed: true, Detail: d})
}
