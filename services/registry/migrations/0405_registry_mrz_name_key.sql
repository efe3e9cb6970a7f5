-- depends: 0404_canonical_series_numbers
-- F-2: the lenient key now writes every Azerbaijani letter as the ID card's machine-
-- readable zone does (ı→i, ə→a, ü→u, ö→o, ğ→g, ş→s, ç→c), not only the dotless i:
-- "VUQAR QIZI" finds Vüqar qızı as "ISMAYIL" finds İsmayıl. services/registry/names.py
-- (names.lenient) computes the same in Python and services/registry/schema.py holds the
-- expression (LENIENT_KEY) that a query must spell exactly so to use this index.

DROP INDEX IF EXISTS persons_name_lenient_idx;
CREATE INDEX IF NOT EXISTS persons_name_mrz_idx
    ON persons ((translate(name_key, 'ıəüöğşç', 'iauogsc')));
