-- The server's own record of two facts that Better-Auth's tables have no place for. Better-Auth's
-- tables stay exactly as Better-Auth creates them.
-- "authserver_email_change": the address a user's account took through change-email. While the
-- account still has that address, a social sign-in with it is not linked to the account
-- implicitly: whoever clicked the new address's link may not be the account's owner.
-- "authserver_spent_link": emailed links (by the SHA-256 of their token) that are single-use
-- although their token is a stateless JWT; the primary key lets exactly one request spend one.
-- Never edit this file: add a new numbered file instead.
create table "authserver_email_change" ("userId" text not null primary key references "user" ("id") on delete cascade, "email" text not null, "createdAt" timestamptz default CURRENT_TIMESTAMP not null);

create table "authserver_spent_link" ("tokenHash" text not null primary key, "expiresAt" timestamptz not null);

create index "authserver_spent_link_expiresAt_idx" on "authserver_spent_link" ("expiresAt");
