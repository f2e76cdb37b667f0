/**
 * A registry to sync from, for the sync end-to-end tests: a private copy of the shopper app's demo
 * data directory (test/shop-fixture.ts: the demo catalog ingested, a trained image encoder and
 * ranker pack registered as `champion`, the catalog published), served by the real app server,
 * behind a small HTTP proxy that can misbehave on purpose:
 *
 * - `cutAfter(sha256, n)`: the next response for that blob sends n body bytes, then the socket is
 *   destroyed (a connection lost mid-download);
 * - `corrupt(sha256)`: that blob is served with one byte flipped (same length);
 * - `hideCatalog`: `/v1/manifest` answers as a registry with nothing published yet.
 *
 * Every request through the proxy is recorded (path, Range, If-None-Match, status) so tests can
 * say exactly what was fetched. The fixture can publish a new catalog version (with deltas) and
 * register a new champion, as `fashionml` would on the server.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { CatalogItem } from '../models/catalog/item';
import { dataPaths } from '../server/config';
import { buildAppServer } from '../server/http/app';
import { Registry } from '../server/registry/registry';
import type { CatalogEntry, ModelVersion } from '../server/registry/registry';
import { FeatureStore } from '../server/store/feature-store';
import { APP_DIR } from './browser';
import { prepareShopData } from './shop-fixture';

export interface ProxiedRequest {
  method: string;
  path: string;
  range?: string;
  ifNoneMatch?: string;
  status: number;
  /** Body bytes the proxy passed on (fewer than the blob when cut). */
  bytes: number;
}

export class SyncProxy {
  readonly requests: ProxiedRequest[] = [];
  /** Answer `/v1/manifest` as a registry with nothing published. */
  hideCatalog = false;
  private readonly cuts = new Map<string, number>();
  private readonly corrupted = new Set<string>();
  private server: Server | undefined;

  constructor(private readonly upstream: URL) {}

  cutAfter(sha256: string, bytes: number): void {
    this.cuts.set(sha256, bytes);
  }

  corrupt(sha256: string): void {
    this.corrupted.add(sha256);
  }

  /** Blob requests recorded so far, optionally for one blob. */
  blobRequests(sha256?: string): ProxiedRequest[] {
    return this.requests.filter((r) => r.path.startsWith('/v1/blobs/') && (!sha256 || r.path.endsWith(sha256)));
  }

  /** Sync API requests (manifest and blobs) recorded so far. */
  apiRequests(): ProxiedRequest[] {
    return this.requests.filter((r) => r.path === '/v1/manifest' || r.path.startsWith('/v1/blobs/'));
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    const record: ProxiedRequest = { method: req.method ?? 'GET', path, status: 0, bytes: 0 };
    if (typeof req.headers.range === 'string') record.range = req.headers.range;
    if (typeof req.headers['if-none-match'] === 'string') record.ifNoneMatch = req.headers['if-none-match'];
    this.requests.push(record);

    if (path === '/v1/manifest' && this.hideCatalog) {
      const body = JSON.stringify({ format: 'fashionml.manifest/1', sequence: 0, generatedAt: new Date(0).toISOString(), catalog: null, catalogHistory: [], models: [], aliases: {}, experiments: [] });
      record.status = 200;
      record.bytes = body.length;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' }).end(body);
      return;
    }
    const sha = /^\/v1\/blobs\/([0-9a-f]{64})$/.exec(path)?.[1];
    const upstream = httpRequest(
      new URL(req.url ?? '/', this.upstream),
      { method: req.method, headers: { ...req.headers, host: this.upstream.host } },
      (answer) => {
        record.status = answer.statusCode ?? 0;
        const cut = sha ? this.cuts.get(sha) : undefined;
        if (sha && cut !== undefined && record.status < 300) {
          this.cuts.delete(sha);
          res.writeHead(record.status, answer.headers);
          let sent = 0;
          answer.on('data', (chunk: Buffer) => {
            if (sent >= cut) return;
            const part = chunk.subarray(0, cut - sent);
            sent += part.length;
            record.bytes = sent;
            res.write(part);
            // Let the bytes reach the client, then drop the connection mid-body.
            if (sent >= cut) setTimeout(() => res.socket?.destroy(), 50);
          });
          return;
        }
        if (sha && this.corrupted.has(sha) && record.status < 300) {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const body = Buffer.concat(chunks);
            body[body.length >> 1]! ^= 0xff;
            record.bytes = body.length;
            res.writeHead(record.status, answer.headers).end(body);
          });
          return;
        }
        res.writeHead(record.status, answer.headers);
        answer.on('data', (chunk: Buffer) => (record.bytes += chunk.length));
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}

export interface SyncFixture {
  /** The proxy's origin: what the browser opens. */
  url: string;
  proxy: SyncProxy;
  dataDir: string;
  registry: Registry;
  /** Publishes the catalog's next version, with `change` applied to the current items (deltas included). */
  publishCatalogVersion(change: (items: CatalogItem[]) => CatalogItem[]): CatalogEntry;
  /**
   * Registers a new version of the champion ranker whose files are the current champion's with
   * `ranker.json` marked and `changedFile` altered (so those two are new blobs), and moves
   * `champion` to it. Returns the new entry.
   */
  newChampion(changedFile?: string): ModelVersion;
  close(): Promise<void>;
}

/** Copies the demo shop data (made or cached by test/shop-fixture.ts) and serves it behind the proxy. */
export async function startSyncFixture(): Promise<SyncFixture> {
  const data = await prepareShopData('demo');
  const dataDir = mkdtempSync(join(tmpdir(), 'fashionml-sync-'));
  cpSync(data.dataDir, dataDir, { recursive: true });
  const paths = dataPaths(dataDir);
  const registry = new Registry(paths.registry);
  const store = FeatureStore.open(paths.featureStore);
  const server: FastifyInstance = await buildAppServer({ appDir: APP_DIR, api: { registry, thumbsDir: paths.thumbs } });
  const upstream = await server.listen({ host: '127.0.0.1', port: 0 });
  const proxy = new SyncProxy(new URL(upstream));
  const url = await proxy.listen();
  let variant = 0;

  return {
    url,
    proxy,
    dataDir,
    registry,
    publishCatalogVersion(change) {
      const latest = store.latestVersion();
      if (!latest) throw new Error('sync fixture: the copied feature store has no catalog version');
      const items = change(store.items(latest.version));
      const next = store.addCatalogVersion({ items, source: 'sync-fixture', rowsRead: items.length, quarantined: [] });
      return registry.publishCatalog(store, next.version);
    },
    newChampion(changedFile = 'image-embeddings.q8') {
      const manifest = registry.manifest();
      const alias = manifest.aliases.champion;
      const current = manifest.models.find((m) => m.id === alias?.model && m.version === alias.version);
      if (!current) throw new Error('sync fixture: the registry has no champion to copy');
      const dir = join(dataDir, 'work', `ranker-${++variant}`);
      mkdirSync(dir, { recursive: true });
      for (const file of current.files) {
        let bytes = readFileSync(registry.blobs.path(file.sha256));
        if (file.name === 'ranker.json') {
          const meta = JSON.parse(bytes.toString('utf8')) as { extra?: Record<string, unknown> };
          meta.extra = { ...meta.extra, syncFixtureVariant: variant };
          bytes = Buffer.from(JSON.stringify(meta));
        } else if (file.name === changedFile) {
          // A different int8 value in the first row: still a valid matrix, a different blob.
          bytes = Buffer.from(bytes);
          bytes[0] = (bytes[0]! + variant) & 0x7f;
        }
        writeFileSync(join(dir, file.name), bytes);
      }
      const entry = registry.registerModel({
        id: current.id,
        kind: current.kind,
        dir,
        inputs: current.inputs,
        metrics: current.metrics,
        dataVersion: current.lineage.dataVersion,
        codeVersion: 'sync-fixture',
        parent: `${current.id}@${current.version}`,
      });
      registry.setAlias('champion', entry.id, entry.version);
      return entry;
    },
    async close() {
      await proxy.close();
      await server.close();
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
