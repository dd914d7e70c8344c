-- When each source feed last delivered anything (any way in): a death registry that stops
-- sending looks exactly like "nobody died", so its silence must be visible, across restarts.
create table source_feeds (
    source           text primary key,
    last_received_at timestamptz not null,
    items_received   bigint not null default 0
);
