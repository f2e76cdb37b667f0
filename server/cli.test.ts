/**
 * The `fashionml` command as a user runs it: a real process, a real data directory, a real SQLite
 * file. Checks the ingest → publish path, and that bad input stops with one clear message and a
 * non-zero exit while leaving the store as it was.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureStore } from './store/feature-store';

const BIN = resolve('bin/fashionml.mjs');
let root: string;
let dataDir: string;

function fashionml(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const HEADER = 'id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName';

async function kaggleFolder(name: string, rows: string[], images: string[]): Promise<string> {
  const dir = join(root, name);
  mkdirSync(join(dir, 'images'), { recursive: true });
  writeFileSync(join(dir, 'styles.csv'), `${[HEADER, ...rows].join('\n')}\n`);
  for (const id of images) {
    await sharp({ create: { width: 60, height: 80, channels: 3, background: { r: 20, g: 40, b: 160 } } })
      .jpeg()
      .toFile(join(dir, 'images', `${id}.jpg`));
  }
  return dir;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'fashionml-cli-'));
  dataDir = join(root, 'data');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('fashionml command', () => {
  it('prints help for every subcommand', () => {
    const help = fashionml('--help');
    expect(help.code).toBe(0);
    for (const command of ['ingest', 'publish', 'serve', 'start', 'versions']) expect(help.stdout).toContain(command);
    expect(fashionml('ingest', '--help').stdout).toContain('--catalog <path>');
  });

  it('ingests a catalog with photos and interactions, writes the report, and publishes it', async () => {
    const catalog = await kaggleFolder(
      'shop',
      [
        '1,Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual,Turtle Check Men Navy Blue Shirt',
        '2,Women,Apparel,Topwear,Tops,Red,Summer,2012,Casual,Red, White and Blue Top',
        ',Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,No Id Shirt',
        '3,Men,Footwear,Shoes,Casual Shoes,Black,Winter,2016,NA,Black Sneakers',
      ],
      ['1', '2'],
    );
    writeFileSync(join(catalog, 'events.csv'), 'user,item,type,timestamp\nu1,1,like,2024-01-02T10:00:00Z\nu1,99,view,2024-01-02T10:01:00Z\n');
    const ingest = fashionml('ingest', '--catalog', catalog, '--interactions', join(catalog, 'events.csv'));
    expect(ingest.stderr + ingest.stdout).not.toMatch(/Error:|at .*\.ts/);
    expect(ingest.code).toBe(0);
    expect(ingest.stdout).toContain('Catalog version 1: 3 items accepted, 1 quarantined of 4 rows read');
    expect(ingest.stdout).toMatch(/Interactions: 1 accepted, 1 quarantined of 2 rows \(unknown_item 1\)/);
    expect(existsSync(join(dataDir, 'features.sqlite'))).toBe(true);
    expect(existsSync(join(dataDir, 'reports', 'catalog-v1.html'))).toBe(true);

    const store = FeatureStore.open(join(dataDir, 'features.sqlite'));
    const items = store.items(1);
    expect(items.find((i) => i.id === '2')?.title).toBe('Red, White and Blue Top');
    expect(items.find((i) => i.id === '1')?.imageSha256).toMatch(/^[0-9a-f]{64}$/);
    store.close();

    const publish = fashionml('publish');
    expect(publish.code).toBe(0);
    expect(publish.stdout).toMatch(/Published catalog version 1 \(3 items/);
    const manifest = JSON.parse(readFileSync(join(dataDir, 'registry', 'manifest.json'), 'utf8')) as { catalog: { version: number } };
    expect(manifest.catalog.version).toBe(1);
  });

  it('stops on a fatal problem with one clear message and leaves the store as it was', async () => {
    const before = fashionml('versions').stdout;
    const missing = fashionml('ingest', '--catalog', join(root, 'nowhere'));
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^fashionml: .*nowhere/);

    const empty = join(root, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'styles.csv'), '');
    const emptyRun = fashionml('ingest', '--catalog', empty, '--no-images');
    expect(emptyRun.code).toBe(1);
    expect(emptyRun.stderr).toMatch(/^fashionml: .*styles\.csv.*empty/i);

    const semicolons = join(root, 'semicolons');
    mkdirSync(semicolons);
    writeFileSync(join(semicolons, 'styles.csv'), `${HEADER.replaceAll(',', ';')}\n1;Men;Apparel;Topwear;Shirts;Blue;Fall;2011;Casual;Shirt\n`);
    const wrongDelimiter = fashionml('ingest', '--catalog', semicolons, '--no-images');
    expect(wrongDelimiter.code).toBe(1);
    expect(wrongDelimiter.stderr).toMatch(/;|semicolon/i);

    expect(fashionml('versions').stdout).toBe(before);
  });

  it('evaluates on a split folder and writes the top-K per test user, never a training item', () => {
    const split = join(root, 'split');
    mkdirSync(split);
    writeFileSync(join(split, 'train.csv'), 'user,item,rating,timestamp\nu1,a,5,1\nu1,b,4,2\nu2,a,5,3\nu2,c,3,4\nu3,b,4,5\nu3,c,5,6\n');
    writeFileSync(join(split, 'test.csv'), 'user,item,rating,timestamp\nu1,c,5,7\nu3,a,4,8\n');
    writeFileSync(join(split, 'items.csv'), 'item\na\nb\nc\nd\n');
    const out = join(root, 'recs.csv');
    const run = fashionml('evaluate', '--split', split, '--out', out, '--k', '2');
    expect(run.code).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('user,item,rank,score');
    const recs = rows.slice(1).map((r) => r.split(','));
    expect(recs.map(([user, item, rank]) => `${user}:${item}:${rank}`)).toEqual(['u1:c:1', 'u1:d:2', 'u3:a:1', 'u3:d:2']);
    const bad = fashionml('evaluate', '--split', join(root, 'nowhere'), '--out', out);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^fashionml: .*train\.csv/);
  });

  it('refuses to publish when nothing was ingested', () => {
    const other = spawnSync(process.execPath, [BIN, '--data-dir', join(root, 'fresh'), 'publish'], { encoding: 'utf8' });
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('Nothing to publish: ingest a catalog first');
  });
});
