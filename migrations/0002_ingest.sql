-- ingest: the last row seen per upstream key (to derive moves and retractions) and dead letters.
create table source_rows (
    source_table text not null,
    primary_key  text not null,
    row          jsonb not null,
    updated_at   timestamptz not null default now(),
    primary key (source_table, primary_key)
);

create table dead_letters (
    id             uuid primary key,
    service        text not null,
    source         text not null,
    item           integer,
    field          text,
    reason         text not null,
    raw            text not null,
    received_at    timestamptz not null,
    correlation_id text
);
create index dead_letters_received_at on dead_letters (received_at desc);
