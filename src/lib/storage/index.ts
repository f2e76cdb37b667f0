/** On-device storage: open a `FashionStore` and pass it to whatever needs persistence. */
export { openFashionStore } from './store';
export type { CloseReason, FashionStore, KeyQuery, OpenFashionStoreOptions, WriteOp } from './store';
export { SCHEMA_VERSION } from './migrations';
export { DB_NAME, STORE_NAMES, catalogChunksOf, chunksOf, embeddingsOf } from './schema';
export type {
  BlobRecord,
  CatalogChunkRecord,
  DownloadChunkRecord,
  EmbeddingRecord,
  ExperimentRecord,
  FashionDB,
  IndexKeyOf,
  IndexOf,
  InteractionRecord,
  InteractionType,
  ItemRecord,
  KeyOf,
  MetaRecord,
  MetricSample,
  RecordOf,
  StoreName,
} from './schema';
export { StorageQuotaError, estimateStorage, isQuotaExceededError, requestPersistence } from './quota';
export type { PersistenceResult, StorageEstimateResult, StorageQuotaDetails } from './quota';
