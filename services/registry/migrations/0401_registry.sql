-- depends: 0001_platform
-- The electronic table "Personal identification number" of the Population State
-- Registry Service (seed 001), and the audit trail of every query (F-6).
--
-- Bulk loads (shared by services/registry/loader.py) COPY into persons and
-- id_documents without their secondary indexes and create them afterwards
-- (see INDEXES below, kept in services/registry/schema.py).

CREATE TABLE persons (
    fin          char(7)  PRIMARY KEY,       -- 7 characters: digits and Latin capitals but I, O
    name         text     NOT NULL,
    surname      text     NOT NULL,
    patronymic   text     NOT NULL,          -- e.g. "Əli oğlu", "Rəşid qızı"
    sex          char(1)  NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date   date     NOT NULL,
    status       text     NOT NULL,          -- citizen | permanent_resident | stateless
    -- fold(name)|fold(surname)|fold(patronymic without oğlu/qızı)|birth date:
    -- the exact-match key of the lookup by name (F-2), see services/registry/names.py
    name_key     text     NOT NULL
);

CREATE TABLE id_documents (
    series_number text    PRIMARY KEY,       -- AZE12345678, or AA1234567 for children
    fin          char(7)  NOT NULL,
    issued_on    date     NOT NULL,
    expires_on   date     NOT NULL,
    status       text     NOT NULL CHECK (status IN ('valid', 'replaced', 'lost'))
);

CREATE TABLE fin_queries (
    query_id     uuid PRIMARY KEY,
    asked_at     timestamptz NOT NULL,
    method       text        NOT NULL,       -- id_card | name
    asked        jsonb       NOT NULL,       -- what was asked, as given
    client       text        NOT NULL,       -- where from
    channel      text        NOT NULL,
    outcome      text        NOT NULL,       -- found | not_found | ambiguous | invalid
    answered_fin char(7),                    -- what was answered, if anything
    latency_ms   real        NOT NULL
);
CREATE INDEX fin_queries_asked_at_idx ON fin_queries (asked_at);
