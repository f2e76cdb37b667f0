import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dataPaths } from '../config';
import { Registry } from '../registry/registry';
import { addExperimentsCommands } from './cli';

let dir: string;
let out: string[];

/** Runs `fashionml experiments …` in-process against a data directory; returns what it printed. */
async function run(...args: string[]): Promise<string> {
  out = [];
  const program = new Command('fashionml').exitOverride();
  addExperimentsCommands(program, () => dataPaths(dir)).exitOverride();
  program.commands.forEach((c) => c.commands.forEach((sub) => sub.exitOverride()));
  await program.parseAsync(['node', 'fashionml', 'experiments', ...args]);
  return out.join('\n');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-exp-cli-'));
  const registry = new Registry(dataPaths(dir).registry);
  for (const name of ['one', 'two']) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'ranker.json'), name);
    registry.registerModel({ id: 'fashion-ranker', kind: 'fashion-ranker', dir: join(dir, name), dataVersion: 1, codeVersion: 't' });
  }
  registry.setAlias('champion', 'fashion-ranker', 1);
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void out.push(parts.join(' ')));
  vi.spyOn(console, 'table').mockImplementation((rows: unknown) => void out.push(JSON.stringify(rows)));
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('fashionml experiments', () => {
  it('declares from flags, lists, simulates and reports (table and JSON)', async () => {
    const start = new Date(Date.now() - 3 * 86_400_000).toISOString();
    const end = new Date(Date.now() + 20 * 86_400_000).toISOString();
    expect(await run('declare', '--id', 'ranker-v2', '--variant', 'control=champion:50', '--variant', 'challenger=fashion-ranker@2:50', '--start', start, '--end', end, '--metrics', 'click,purchase')).toMatch(
      /^Declared experiment ranker-v2 \(control: champion × 50, challenger: fashion-ranker@2 × 50\)/,
    );
    const salt = new Registry(dataPaths(dir).registry).manifest().experiments[0]!.salt;
    expect(salt).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.parse(await run('list', '--json'))).toEqual([expect.objectContaining({ id: 'ranker-v2', metrics: ['click', 'purchase'] })]);
    expect(await run('list')).toContain('"status":"running"');
    expect(await run('simulate', 'ranker-v2', '--devices', '300', '--opt-in', '1')).toMatch(/Simulated 300 devices over 4 days .*: \d+ opted in and sent \d+ reports/);
    const table = await run('report', 'ranker-v2');
    expect(table).toMatch(/click per exposure/);
    expect(table).toMatch(/Sample ratio \(devices\): observed \d+ \/ \d+/);
    const json = JSON.parse(await run('report', 'ranker-v2', '--json'));
    expect(json.variants.map((v: { name: string; devices: number }) => v.name)).toEqual(['control', 'challenger']);
    // Every device opted in; those not used on any of the 4 days had nothing to report.
    const reporting = json.variants[0].devices + json.variants[1].devices;
    expect(reporting).toBeGreaterThan(200);
    expect(reporting).toBeLessThanOrEqual(300);
    expect(json.monitoring.map((m: { variant: string }) => m.variant)).toEqual(['control', 'challenger']);
  });

  it('declares from a file and explains bad input', async () => {
    const file = join(dir, 'exp.json');
    writeFileSync(file, JSON.stringify({ id: 'x', salt: 'salt-for-x', variants: [{ name: 'a', model: 'champion', weight: 1 }], start: '2030-01-01T00:00:00Z', end: '2030-02-01T00:00:00Z' }));
    await expect(run('declare', '--file', file)).rejects.toThrow(/Experiment "x" is not valid: variants: needs at least two variants/);
    writeFileSync(file, '{"id": ');
    await expect(run('declare', '--file', file)).rejects.toThrow(/exp\.json is not JSON/);
    await expect(run('declare', '--file', join(dir, 'missing.json'))).rejects.toThrow(/Cannot read .*missing\.json: ENOENT/);
    await expect(run('declare', '--id', 'x')).rejects.toThrow(/--id, --end and at least two --variant flags are required/);
    await expect(run('declare', '--id', 'x', '--variant', 'a:champion')).rejects.toThrow(/expected name=model:weight/);
    await expect(run('report', 'nope')).rejects.toThrow(/No experiment "nope" in the manifest \(declared: none\)/);
  });
});
