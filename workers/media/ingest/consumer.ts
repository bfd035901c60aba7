// SCAFFOLD: registers media.ingest (ingest part)
