-- ingest: CSV batches and their progress, visible while a file streams in.
create table csv_batches (
    id            text primary key,
    source        text not null,
    status        text not null default 'RUNNING',
    rows_read     bigint not null default 0,
    accepted      bigint not null default 0,
    duplicates    bigint not null default 0,
    dead_lettered bigint not null default 0,
    ignored       bigint not null default 0,
    error         text,
    started_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
