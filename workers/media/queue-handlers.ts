// Registers MediaHub's queue handlers (ingest, hash-list imports) at module load.
import './ingest/consumer'
import './hashlists/import-consumer'
