-- ingest: a stable order for paging dead letters.
alter table dead_letters add column seq bigserial;
create unique index dead_letters_seq on dead_letters (seq);
