package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strconv"

	"github.com/labstack/echo/v4"

	"authserver/auth"
	"authserver/auth/plugin"
	"authserver/content"
	"authserver/session"
	"authserver/store"
)

// apiError is an error in Better-Auth's wire form: {"message", "code"} with a status. An empty
// Code sends the message alone, as a few Better-Auth errors do.
type apiError struct {
	Status  int
	Code    string
	Message string
	// Empty sends no body (Better-Auth does so for a few errors, with a JSON content type).
	Empty bool
	// Untyped, with Empty, leaves out the content type too, as Better-Auth's router answers an
	// error that is not an API error (a plugin's send callback that threw).
	Untyped bool
	// retryAfter, in seconds, becomes an X-Retry-After header.
	retryAfter int
	// busyRetryAfter, in seconds, is a 503's Retry-After header (1 when zero).
	busyRetryAfter int
	// details are a plugin error's further body keys (plugin.Error.Details).
	details map[string]any
	// oauth writes the body in OAuth 2.0's shape, {"error":Code,"error_description":Message}
	// (plugin.OAuthError).
	oauth bool
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newAPIError(status int, code, message string) *apiError {
	return &apiError{Status: status, Code: code, Message: message}
}

// Errors raised by the HTTP layer itself.
var (
	errUnauthorized = newAPIError(http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")
	// errUpdateConflict answers a write that lost a race on a unique value no check names.
	errUpdateConflict  = newAPIError(http.StatusConflict, "CONFLICT", "Another request changed this value first. Please try again.")
	errBadJSON         = newAPIError(http.StatusBadRequest, "BAD_REQUEST", "Invalid JSON in request body")
	errSessionNotFresh = newAPIError(http.StatusForbidden, "SESSION_NOT_FRESH", "Session is not fresh")
	errMissingOrigin   = newAPIError(http.StatusForbidden, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin")
	errInvalidOrigin   = newAPIError(http.StatusForbidden, "INVALID_ORIGIN", "Invalid origin")
	errCrossSiteNav    = newAPIError(http.StatusForbidden, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", "Cross-site navigation login blocked. This request appears to be a CSRF attack.")
	errPostGetSession  = newAPIError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED", "POST method requires deferSessionRefresh to be enabled in session config")
	errFailedGetSess   = newAPIError(http.StatusUnauthorized, "FAILED_TO_GET_SESSION", "Failed to get session")
	errGetSessInternal = newAPIError(http.StatusInternalServerError, "FAILED_TO_GET_SESSION", "Failed to get session")
	errTooLarge        = newAPIError(http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "Request body is too large")
	// errServerBusy answers a password hash past the hashing bound (auth.ErrBusy).
	errServerBusy  = newAPIError(503, "SERVER_BUSY", "Too many sign-in attempts are being processed. Please try again shortly.")
	errUnavailable = newAPIError(http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Please try again shortly.")
	errInternal    = newAPIError(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "Internal Server Error")
)

// errorTable maps every error kind the services return onto Better-Auth's answer. It is the only
// place statuses and codes are chosen for domain errors; statuses and messages follow the running
// Better-Auth 1.7.25 server (checked by the compat suite), not memory.
var errorTable = []struct {
	err error
	api *apiError
}{
	{auth.ErrSignUpDisabled, newAPIError(400, "EMAIL_PASSWORD_SIGN_UP_DISABLED", "Email and password sign up is not enabled")},
	{auth.ErrEmailPasswordDisabled, newAPIError(400, "EMAIL_PASSWORD_DISABLED", "Email and password is not enabled")},
	{auth.ErrInvalidEmail, newAPIError(400, "INVALID_EMAIL", "Invalid email")},
	{auth.ErrInvalidPassword, newAPIError(400, "INVALID_PASSWORD", "Invalid password")},
	{auth.ErrPasswordTooShort, newAPIError(400, "PASSWORD_TOO_SHORT", "Password too short")},
	{auth.ErrPasswordTooLong, newAPIError(400, "PASSWORD_TOO_LONG", "Password too long")},
	{auth.ErrUserExists, newAPIError(422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.")},
	{auth.ErrCreateUser, newAPIError(422, "FAILED_TO_CREATE_USER", "Failed to create user")},
	{auth.ErrCreateSession, newAPIError(401, "FAILED_TO_CREATE_SESSION", "Failed to create session")},
	{auth.ErrInvalidCredentials, newAPIError(401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")},
	{auth.ErrEmailNotVerified, newAPIError(403, "EMAIL_NOT_VERIFIED", "Email not verified")},
	{auth.ErrCredentialAccountNotFound, newAPIError(400, "CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found")},
	{auth.ErrEmailCannotBeUpdated, newAPIError(400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")},
	{auth.ErrNoFieldsToUpdate, newAPIError(400, "", "No fields to update")},
	{auth.ErrUserNotFound, newAPIError(400, "USER_NOT_FOUND", "User not found")},
	{auth.ErrPasswordCompromised, newAPIError(400, "PASSWORD_COMPROMISED", "The password you entered has been compromised. Please choose a different password.")},
	{auth.ErrTooManyAttempts, newAPIError(429, "TOO_MANY_ATTEMPTS", "Too many failed sign-in attempts. Please try again later.")},
	{auth.ErrLastAccount, newAPIError(400, "FAILED_TO_UNLINK_LAST_ACCOUNT", "You can't unlink your last account")},
	{auth.ErrAccountNotFound, newAPIError(400, "ACCOUNT_NOT_FOUND", "Account not found")},
	{auth.ErrInvalidToken, newAPIError(400, "INVALID_TOKEN", "Invalid token")},
	{auth.ErrTokenExpired, newAPIError(401, "TOKEN_EXPIRED", "Token expired")},
	{auth.ErrEmailMismatch, newAPIError(400, "EMAIL_MISMATCH", "Email mismatch")},
	{auth.ErrEmailAlreadyVerified, newAPIError(400, "EMAIL_ALREADY_VERIFIED", "Email is already verified")},
	{auth.ErrChangeEmailDisabled, newAPIError(400, "CHANGE_EMAIL_DISABLED", "Change email is disabled")},
	{auth.ErrEmailIsTheSame, newAPIError(400, "", "Email is the same")},
	{auth.ErrDeleteUserDisabled, &apiError{Status: 404, Empty: true}},
	{auth.ErrSessionExpired, newAPIError(400, "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action.")},
	{auth.ErrInvalidUser, newAPIError(401, "INVALID_USER", "Invalid user")},
	{auth.ErrBusy, errServerBusy},
	{session.ErrVanished, errFailedGetSess},
	{content.ErrNotFound, newAPIError(404, "NOT_FOUND", "Content not found")},
	{content.ErrInvalidCursor, newAPIError(400, "INVALID_CURSOR", "Invalid cursor")},
	{auth.ErrProviderNotFound, newAPIError(404, "PROVIDER_NOT_FOUND", "Provider not found")},
	{auth.ErrIDTokenNotSupported, newAPIError(404, "ID_TOKEN_NOT_SUPPORTED", "id_token not supported")},
	{auth.ErrIDTokenInvalid, newAPIError(401, "INVALID_TOKEN", "Invalid token")},
	{auth.ErrFailedToGetUserInfo, newAPIError(401, "FAILED_TO_GET_USER_INFO", "Failed to get user info")},
	{auth.ErrUserEmailNotFound, newAPIError(401, "USER_EMAIL_NOT_FOUND", "User email not found")},
	{auth.ErrCallbackURLRequired, newAPIError(400, "CALLBACK_URL_REQUIRED", "callbackURL is required")},
	{auth.ErrSocialAccountLinked, newAPIError(409, "SOCIAL_ACCOUNT_ALREADY_LINKED", "Social account already linked")},
	{auth.ErrLinkingNotAllowed, newAPIError(401, "LINKING_NOT_ALLOWED", "Account not linked - linking not allowed")},
	{auth.ErrLinkingDifferentEmails, newAPIError(401, "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED", "Account not linked - different emails not allowed")},
	{auth.ErrLinkingFailed, newAPIError(417, "LINKING_FAILED", "Account not linked - unable to create account")},
	{auth.ErrRefreshTokenNotFound, newAPIError(400, "REFRESH_TOKEN_NOT_FOUND", "Refresh token not found")},
	{auth.ErrRefreshFailed, newAPIError(400, "FAILED_TO_REFRESH_ACCESS_TOKEN", "Failed to refresh access token")},
	{auth.ErrAccessTokenFailed, newAPIError(400, "FAILED_TO_GET_ACCESS_TOKEN", "Failed to get a valid access token")},
	{auth.ErrProviderNotConfigured, newAPIError(400, "PROVIDER_NOT_CONFIGURED", "Account is not associated with a configured social provider.")},
	{auth.ErrAccessTokenNotFound, newAPIError(400, "ACCESS_TOKEN_NOT_FOUND", "Access token not found")},
	// Store kinds come last: a service error that wraps one of the kinds above wins.
	{store.ErrUnavailable, errUnavailable},
	{store.ErrInvalidText, validationError("Invalid input: " + textMessage)},
	// A write for a user deleted after its session was checked: the session is gone too, so the
	// answer is the one a moment later's session check would give.
	{store.ErrGone, errUnauthorized},
}

// lookupError finds the wire answer for err, or nil when err is not a known kind.
func lookupError(err error) *apiError {
	var api *apiError
	if errors.As(err, &api) {
		return api
	}
	var oe *plugin.OAuthError
	if errors.As(err, &oe) {
		e := newAPIError(oe.Status, oe.Code, oe.Description)
		e.oauth = true
		return e
	}
	var pe *plugin.Error
	if errors.As(err, &pe) {
		e := newAPIError(pe.Status, pe.Code, pe.Message)
		e.Empty = pe.Code == "" && pe.Message == "" // a bare status, as Better-Auth's APIError.fromStatus
		e.details = pe.Details
		e.Untyped = e.Empty && pe.Thrown
		return e
	}
	// Errors that carry their own message: content's field checks ("[body.level] must be one of
	// ..."), and the social flows' provider and link failures.
	var ve *content.ValidationError
	if errors.As(err, &ve) {
		return validationError(ve.Error())
	}
	var pns *auth.ProviderNotSupportedError
	if errors.As(err, &pns) {
		if pns.Refresh {
			return newAPIError(http.StatusBadRequest, "TOKEN_REFRESH_NOT_SUPPORTED", "Provider "+pns.ProviderID+" does not support token refreshing.")
		}
		return newAPIError(http.StatusBadRequest, "PROVIDER_NOT_SUPPORTED", "Provider "+pns.ProviderID+" is not supported.")
	}
	var le *auth.LinkError
	if errors.As(err, &le) {
		return newAPIError(http.StatusUnauthorized, "OAUTH_LINK_ERROR", le.Reason)
	}
	var locked *auth.LockedError
	if errors.As(err, &locked) {
		e := *newAPIError(429, "TOO_MANY_ATTEMPTS", "Too many failed sign-in attempts. Please try again later.")
		e.retryAfter = int(math.Ceil(locked.RetryAfter.Seconds()))
		return &e
	}
	var busy *auth.BusyError
	if errors.As(err, &busy) {
		e := *errServerBusy
		e.busyRetryAfter = int(math.Ceil(busy.RetryAfter.Seconds()))
		return &e
	}
	for _, row := range errorTable {
		if errors.Is(err, row.err) {
			return row.api
		}
	}
	return nil
}

// errorHandler is Echo's HTTPErrorHandler: every error a handler returns is written here and
// nowhere else. Unknown errors become a generic 500 whose cause goes only to the log.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var he *echo.HTTPError
		if errors.As(err, &he) {
			switch he.Code {
			case http.StatusNotFound, http.StatusMethodNotAllowed:
				// Better-Auth's router answers unknown paths and wrong methods alike: 404, no body.
				_ = c.NoContent(http.StatusNotFound)
				return
			case http.StatusRequestEntityTooLarge:
				writeError(c, errTooLarge)
				return
			}
			if he.Code >= 400 && he.Code < 500 {
				writeError(c, newAPIError(he.Code, "BAD_REQUEST", http.StatusText(he.Code)))
				return
			}
		}
		if api := lookupError(err); api != nil {
			if api.Status >= 500 {
				log.LogAttrs(c.Request().Context(), slog.LevelError, "request failed",
					slog.String("request_id", requestID(c)), slog.String("code", api.Code), slog.String("error", err.Error()))
			}
			writeError(c, api)
			return
		}
		if errors.Is(err, context.Canceled) {
			// The client went away; nobody is left to read an answer.
			return
		}
		if errors.Is(err, context.DeadlineExceeded) {
			writeError(c, errUnavailable)
			return
		}
		log.LogAttrs(c.Request().Context(), slog.LevelError, "unexpected error",
			slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
		writeError(c, errInternal)
	}
}

func writeError(c echo.Context, e *apiError) {
	if e.Empty && e.Untyped {
		c.Response().WriteHeader(e.Status)
		return
	}
	if e.Empty {
		_ = c.Blob(e.Status, echo.MIMEApplicationJSON, nil)
		return
	}
	if e.oauth {
		_ = writeJSON(c, e.Status, struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}{e.Code, e.Message})
		return
	}
	// Better-Auth's key order: message, then code (absent for the few message-only errors).
	body := struct {
		Message string `json:"message"`
		Code    string `json:"code,omitempty"`
	}{e.Message, e.Code}
	if e.Status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, e.busyRetryAfter)))
	}
	if e.retryAfter > 0 {
		c.Response().Header().Set("X-Retry-After", strconv.Itoa(e.retryAfter))
	}
	if len(e.details) > 0 {
		_ = writeJSON(c, e.Status, withDetails(body.Message, body.Code, e.details))
		return
	}
	_ = writeJSON(c, e.Status, body)
}

// withDetails is an error body with further keys after message and code, in sorted order.
func withDetails(message, code string, details map[string]any) json.RawMessage {
	var b bytes.Buffer
	b.WriteString(`{"message":`)
	m, _ := json.Marshal(message)
	b.Write(m)
	if code != "" {
		b.WriteString(`,"code":`)
		c, _ := json.Marshal(code)
		b.Write(c)
	}
	keys := make([]string, 0, len(details))
	for k := range details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(details[k])
		if err != nil {
			continue
		}
		b.WriteByte(',')
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
