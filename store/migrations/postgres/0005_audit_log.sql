-- The server's own audit log: one row per security event (sign-in, sign-up, password change,
-- admin action, ...), written in the same transaction as the change it records where there is
-- one. "detail" is a JSON object (method, reason, ...) that never holds a secret, token, code or
-- password. Rows older than AUDIT_RETENTION are deleted by the housekeeping sweeper.
-- Dates are timestamptz.
-- Never edit this file: add a new numbered file instead.
create table "authserver_audit_log" ("id" text not null primary key, "createdAt" timestamptz not null, "event" text not null, "userId" text, "actorId" text, "ipAddress" text, "userAgent" text, "sessionId" text, "outcome" text not null, "detail" text not null);

create index "authserver_audit_log_createdAt_idx" on "authserver_audit_log" ("createdAt");

create index "authserver_audit_log_userId_idx" on "authserver_audit_log" ("userId", "createdAt");
