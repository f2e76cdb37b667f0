/**
 * An in-process stand-in for the sync API (`/v1/manifest` with ETag/304, `/v1/blobs/<sha256>`
 * with Range), as a `fetch` function, for unit tests of the sync logic. It publishes real format-2
 * catalog blobs and can misbehave on purpose: cut a connection after N bytes, serve bytes that do
 * not match a blob's name, ignore Range, or be unreachable. (The end-to-end tests use the real
 * server instead.)
 */
import { encodeDeltaPayload, encodeSnapshotPayload, gzip } from '../../../models/catalog/snapshot-codec';
import type { CatalogItem } from '../../../models/catalog/item';
import { sha256Hex } from './download';
import type { ManifestCatalog, ManifestModel } from './manifest';

export interface RecordedRequest {
  url: string;
  range?: string;
  ifNoneMatch?: string;
  status: number;
}

export class FakeRegistry {
  readonly blobs = new Map<string, Uint8Array>();
  readonly requests: RecordedRequest[] = [];
  catalog: ManifestCatalog | null = null;
  readonly catalogs = new Map<number, CatalogItem[]>();
  models: ManifestModel[] = [];
  aliases: Record<string, { model: string; version: number }> = {};
  sequence = 0;
  /** Every request fails as a network error. */
  offline = false;
  /** Serve Range requests as a full 200 (a server or proxy without Range support). */
  ignoreRange = false;
  /** Blob sha256 → cut the connection after this many body bytes, for the next `times` requests. */
  readonly cuts = new Map<string, { afterBytes: number; times: number }>();
  /** Blob sha256s served with one byte flipped. */
  readonly corrupt = new Set<string>();

  /** Publishes `items` as catalog `version` (with a delta from the current one, if any). */
  async publishCatalog(version: number, items: CatalogItem[]): Promise<ManifestCatalog> {
    const contentHash = `hash-v${version}-${items.length}`;
    const snapshot = await this.put(await gzip(encodeSnapshotPayload({ version, contentHash, items })));
    const deltas: ManifestCatalog['deltas'] = [];
    const previous = this.catalog;
    if (previous) {
      const before = new Map(this.catalogs.get(previous.version)!.map((i) => [i.id, i]));
      const after = new Map(items.map((i) => [i.id, i]));
      const delta = {
        from: previous.version,
        to: version,
        contentHash,
        added: items.filter((i) => !before.has(i.id)),
        changed: items.filter((i) => before.has(i.id) && JSON.stringify(before.get(i.id)) !== JSON.stringify(i)),
        removed: [...before.keys()].filter((id) => !after.has(id)),
      };
      deltas.push({ from: previous.version, ...(await this.put(await gzip(encodeDeltaPayload(delta)))) });
    }
    this.catalogs.set(version, items);
    this.catalog = { version, contentHash, itemCount: items.length, snapshot, deltas, publishedAt: new Date(0).toISOString() };
    this.sequence++;
    return this.catalog;
  }

  /** Registers a model version with these files (name → bytes). */
  async addModel(id: string, version: number, kind: string, files: Record<string, Uint8Array>, inputs: Record<string, unknown> = {}): Promise<ManifestModel> {
    const entry: ManifestModel = {
      id,
      version,
      kind,
      inputs,
      files: await Promise.all(Object.entries(files).map(async ([name, bytes]) => ({ name, ...(await this.put(bytes)) }))),
      metrics: {},
      lineage: { dataVersion: 1, codeVersion: 'test', parent: null },
      createdAt: new Date(0).toISOString(),
    };
    this.models.push(entry);
    this.sequence++;
    return entry;
  }

  setAlias(alias: string, model: string, version: number): void {
    this.aliases[alias] = { model, version };
    this.sequence++;
  }

  async put(bytes: Uint8Array): Promise<{ sha256: string; size: number }> {
    const sha256 = await sha256Hex(bytes as Uint8Array<ArrayBuffer>);
    this.blobs.set(sha256, bytes);
    return { sha256, size: bytes.byteLength };
  }

  manifestJson(): string {
    return JSON.stringify({
      format: 'fashionml.manifest/1',
      sequence: this.sequence,
      generatedAt: new Date(0).toISOString(),
      catalog: this.catalog,
      catalogHistory: [],
      models: this.models,
      aliases: this.aliases,
      experiments: [],
    });
  }

  /** Blob requests made so far (path and Range), for assertions. */
  blobRequests(sha256?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.url.includes('/v1/blobs/') && (!sha256 || r.url.endsWith(sha256)));
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init?.headers);
    const record: RecordedRequest = { url, status: 0 };
    const range = headers.get('Range');
    const ifNoneMatch = headers.get('If-None-Match');
    if (range) record.range = range;
    if (ifNoneMatch) record.ifNoneMatch = ifNoneMatch;
    this.requests.push(record);
    if (this.offline) throw new TypeError('Failed to fetch');
    const respond = (body: BodyInit | null, status: number, extra: Record<string, string> = {}) => {
      record.status = status;
      return new Response(body, { status, headers: extra });
    };

    if (url.endsWith('/v1/manifest')) {
      const body = this.manifestJson();
      const etag = `"${(await sha256Hex(new TextEncoder().encode(body))).slice(0, 32)}"`;
      if (ifNoneMatch === etag) return respond(null, 304, { ETag: etag });
      return respond(body, 200, { ETag: etag, 'Content-Type': 'application/json' });
    }
    const match = /\/v1\/blobs\/([0-9a-f]{64})$/.exec(url);
    const stored = match ? this.blobs.get(match[1]!) : undefined;
    if (!match || !stored) return respond(JSON.stringify({ error: 'not_found' }), 404);
    const sha = match[1]!;
    let bytes = stored;
    if (this.corrupt.has(sha)) {
      bytes = stored.slice();
      bytes[bytes.length >> 1]! ^= 0xff;
    }
    let status = 200;
    const extra: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
    const start = range && !this.ignoreRange ? Number(/^bytes=(\d+)-$/.exec(range)?.[1]) : 0;
    if (start > 0) {
      if (start >= bytes.length) return respond(null, 416, { 'Content-Range': `bytes */${bytes.length}` });
      extra['Content-Range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
      bytes = bytes.slice(start);
      status = 206;
    }
    const cut = this.cuts.get(sha);
    if (cut && cut.times > 0) {
      cut.times--;
      const head = bytes.slice(0, cut.afterBytes);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(head);
        },
        pull(controller) {
          controller.error(new TypeError('network error: connection reset'));
        },
      });
      return respond(body, status, extra);
    }
    return respond(bytes as Uint8Array<ArrayBuffer>, status, extra);
  };
}
