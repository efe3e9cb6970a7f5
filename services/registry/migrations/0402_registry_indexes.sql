-- depends: 0401_registry
CREATE INDEX IF NOT EXISTS persons_name_key_idx ON persons (name_key);
CREATE INDEX IF NOT EXISTS id_documents_fin_idx ON id_documents (fin);
