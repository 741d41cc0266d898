-- The server's own audit log: one row per security event (sign-in, sign-up, password change,
-- admin action, ...), written in the same transaction as the change it records where there is
-- one. "detail" is a JSON object (method, reason, ...) that never holds a secret, token, code or
-- password. Rows older than AUDIT_RETENTION are deleted by the housekeeping sweeper.
-- Dates are stored as 24-character ISO strings (2026-12-03T03:25:52.410Z).
-- Never edit this file: add a new numbered file instead.
create table "authserver_audit_log" ("id" text not null primary key, "createdAt" date not null, "event" text not null, "userId" text, "actorId" text, "ipAddress" text, "userAgent" text, "sessionId" text, "outcome" text not null, "detail" text not null);

create index "authserver_audit_log_createdAt_idx" on "authserver_audit_log" ("createdAt");

create index "authserver_audit_log_userId_idx" on "authserver_audit_log" ("userId", "createdAt");

-- Webhook deliveries waiting to go out (WEBHOOK_URLS): one row per event and URL, written in the
-- audit row's transaction, deleted once the receiver answers 2xx. "id" is the webhook-id every
-- retry repeats; "payload" is the exact body signed.
create table "authserver_webhook_outbox" ("id" text not null primary key, "createdAt" date not null, "url" text not null, "payload" text not null, "attempts" integer not null, "nextAttemptAt" date not null, "lastError" text);

create index "authserver_webhook_outbox_nextAttemptAt_idx" on "authserver_webhook_outbox" ("nextAttemptAt");
