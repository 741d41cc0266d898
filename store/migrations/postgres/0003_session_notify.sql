-- Tell every server instance when a session or a user changes, whoever changed it (this server,
-- a Better-Auth server on the same database, or an operator with psql): instances keep validated
-- sessions in memory and drop them when notified. NOTIFY is delivered on commit and never on
-- rollback. Sessions are named by the first 32 hex digits of sha256(token), never the token.
create or replace function "authserver_session_changed"() returns trigger language plpgsql as $$
begin
  perform pg_notify('authserver_sessions', 't:' || left(encode(sha256(convert_to(OLD."token", 'UTF8')), 'hex'), 32) || ':' || OLD."userId");
  return null;
end
$$;

create trigger "authserver_session_changed" after update or delete on "session" for each row execute function "authserver_session_changed"();

create or replace function "authserver_user_changed"() returns trigger language plpgsql as $$
begin
  perform pg_notify('authserver_sessions', 'u:' || OLD."id");
  return null;
end
$$;

create trigger "authserver_user_changed" after update or delete on "user" for each row execute function "authserver_user_changed"();
