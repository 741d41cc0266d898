-- Tables of the personalized content API (package content). Every per-user table is keyed by
-- Better-Auth's user id and cascades with the user; progress and bookmarks deliberately have no
-- foreign key to content_item, so reloading the catalog (which hides, never deletes, items that
-- left the folder) keeps them.
-- Dates are stored as 24-character ISO strings (2026-12-03T03:25:52.410Z), booleans as 0/1.
-- Never edit this file: add a new numbered file instead.
create table "content_item" ("slug" text not null primary key, "title" text not null, "summary" text not null, "level" text not null, "language" text not null, "readingMinutes" integer not null, "publishedAt" date not null, "hash" text not null, "removed" integer not null default 0, "createdAt" date not null, "updatedAt" date not null, "body" text not null, "sections" text not null);

create table "content_item_tag" ("tag" text not null, "slug" text not null references "content_item" ("slug") on delete cascade, primary key ("tag", "slug"));

create table "content_profile" ("userId" text not null primary key references "user" ("id") on delete cascade, "level" text not null, "topics" text not null, "language" text not null, "background" text not null, "goals" text not null, "createdAt" date not null, "updatedAt" date not null);

create table "content_progress" ("userId" text not null references "user" ("id") on delete cascade, "slug" text not null, "percent" integer not null, "completed" integer not null, "completedAt" date, "createdAt" date not null, "updatedAt" date not null, primary key ("userId", "slug"));

create table "content_bookmark" ("userId" text not null references "user" ("id") on delete cascade, "slug" text not null, "createdAt" date not null, primary key ("userId", "slug"));

-- The public list walks live items newest first. The feed ranks every live item from this index
-- alone (it covers slug, level, language and date), never touching the wide rows; the large
-- columns come last in the table so that reading a row's small columns stays cheap on SQLite.
create index "content_item_published_idx" on "content_item" ("removed", "publishedAt" desc, "slug", "level", "language");

-- The primary key serves "items with tag X" (the feed's interest match); this one serves "tags of item X".
create index "content_item_tag_slug_idx" on "content_item_tag" ("slug");

create index "content_progress_userId_updatedAt_idx" on "content_progress" ("userId", "updatedAt" desc, "slug");

create index "content_bookmark_userId_createdAt_idx" on "content_bookmark" ("userId", "createdAt" desc, "slug");
