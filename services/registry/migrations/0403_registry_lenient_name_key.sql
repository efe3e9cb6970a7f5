-- depends: 0402_registry_indexes
-- F-2: the lookup by name matches on the lenient key, the stored name_key with ı as i
-- (İ, I, ı and i fold together: the ID card's machine-readable zone and an English
-- keyboard write İ as I). services/registry/names.py computes the same in Python
-- (names.lenient_key) and services/registry/schema.py holds the expression
-- (LENIENT_KEY) that the bulk loader indexes after its COPY; a query must spell it
-- exactly so to use this index.
--
-- An i followed by a combining dot above (U+0307: what other languages' lower case
-- makes of İ) is now folded to i in the exact key too; keys stored before kept it.

UPDATE persons
   SET name_key = replace(replace(name_key, 'i' || U&'\0307', 'i'), 'ı' || U&'\0307', 'i')
 WHERE strpos(name_key, U&'\0307') > 0;

CREATE INDEX IF NOT EXISTS persons_name_lenient_idx ON persons ((translate(name_key, 'ı', 'i')));
