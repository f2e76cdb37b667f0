import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FeatureStore } from '../store/feature-store';
import { ingestCatalog } from './ingest-catalog';
import type { QualityReport } from './quality-report';

const REAL = resolve(process.cwd(), '../shared/data/myntra-fashion-small');
const hasRealData = existsSync(join(REAL, 'styles.csv'));
if (!hasRealData) console.warn(`ingest-catalog: ${REAL} not found: real-catalog tests are skipped`);

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fashionml-ingest-'));
  dirs.push(dir);
  return dir;
}

describe.skipIf(!hasRealData)('ingest of the real Myntra catalog (needs ../shared/data)', () => {
  it('accounts for every row, keeps the comma names, and reports no drift on a re-ingest', async () => {
    const dir = dataDir();
    const store = FeatureStore.open(join(dir, 'features.sqlite'));
    const lines = readFileSync(join(REAL, 'styles.csv'), 'utf8').split('\n').filter((l) => l.trim() !== '').length - 1;

    const first = await ingestCatalog({ catalog: REAL, skipImages: true, dataDir: dir, store });
    expect(first.catalog.rowsRead).toBe(lines);
    expect(first.catalog.accepted + first.catalog.quarantined).toBe(lines);
    expect(first.version.itemCount).toBe(first.catalog.accepted);
    const items = store.items(1);
    expect(items).toHaveLength(first.catalog.accepted);
    expect(items.find((i) => i.id === '23124')?.title).toBe('Converse Unisex Navy Blue Liv,Laugh,Love Flip-flops');
    expect(items.filter((i) => i.title.includes(',')).length).toBeGreaterThanOrEqual(17);

    const report = JSON.parse(readFileSync(first.report.json, 'utf8')) as QualityReport;
    expect(Object.keys(report.distributions.gender ?? {})).toHaveLength(5);
    expect(report.drift).toBeNull();
    expect(existsSync(first.report.html)).toBe(true);

    const second = await ingestCatalog({ catalog: REAL, skipImages: true, dataDir: dir, store });
    expect(second.version.version).toBe(2);
    expect(second.version.contentHash).toBe(first.version.contentHash);
    expect(store.delta(1, 2)).toMatchObject({ added: [], changed: [], removed: [] });
    const again = JSON.parse(readFileSync(second.report.json, 'utf8')) as QualityReport;
    expect(again.drift?.previousCatalogVersion).toBe(1);
    expect(again.drift?.columns.length).toBeGreaterThanOrEqual(7);
    for (const column of again.drift?.columns ?? []) expect(column.psi ?? 0, column.column).toBeLessThan(1e-9);
    expect(again.warnings.join(' ')).not.toMatch(/PSI/);
    store.close();
  }, 60_000);
});
