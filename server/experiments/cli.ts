/**
 * `fashionml experiments …`: declare an experiment in the manifest, list them, analyse the
 * devices' reports, and fill the store with simulated devices to try it all out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { OUTCOME_TYPES } from '../../models/experiments/types';
import type { DataPaths } from '../config';
import { Registry } from '../registry/registry';
import { declareExperiment, experimentResults, ExperimentError, findExperiment, formatResults, listExperiments, newSalt } from './experiments';
import { DEFAULT_SIMULATION, simulateExperiment } from './simulate';
import { ExperimentStore } from './store';

/** Where the devices' reports are kept, beside the feature store. */
export function experimentsDbPath(paths: DataPaths): string {
  return join(paths.root, 'experiments.sqlite');
}

/** `name=model:weight`, e.g. `control=champion:50` or `challenger=fashion-ranker@3:50`. */
function variantFlag(value: string, previous: { name: string; model: string; weight: number }[] = []) {
  const match = /^([^=]+)=([^:]+):([0-9.]+)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected name=model:weight (e.g. control=champion:50), got ${JSON.stringify(value)}`);
  return [...previous, { name: match[1]!, model: match[2]!, weight: Number(match[3]) }];
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ExperimentError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ExperimentError(`${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

interface DeclareFlags {
  file?: string;
  id?: string;
  salt?: string;
  variant?: { name: string; model: string; weight: number }[];
  start?: string;
  end?: string;
  metrics?: string;
  description?: string;
  replace?: boolean;
}

/** Adds the `experiments` command group to `program`; `paths()` resolves the data directory when a command runs. */
export function addExperimentsCommands(program: Command, paths: () => DataPaths): Command {
  const group = program.command('experiments').description('A/B experiments: declare them in the manifest, list them, and analyse the devices\' opt-in aggregate reports.');

  group
    .command('declare')
    .description('Write an experiment into the manifest (validated; the first variant is the control). Give --file, or the flags.')
    .option('--file <exp.json>', 'the experiment as JSON: {id, salt, variants: [{name, model, weight}], start, end, metrics}')
    .option('--id <id>', 'experiment id (lower-case letters, digits, -)')
    .option('--salt <salt>', 'assignment salt (default: random; a new salt reshuffles every device)')
    .option('--variant <name=model:weight>', 'a variant, repeatable: e.g. control=champion:50 challenger=fashion-ranker@3:50', variantFlag)
    .option('--start <iso>', 'start (ISO 8601; default now)')
    .option('--end <iso>', 'end (ISO 8601)')
    .option('--metrics <list>', `outcomes of interest, comma-separated (${OUTCOME_TYPES.join(', ')})`)
    .option('--description <text>', 'what is being tested')
    .option('--replace', 'replace an experiment of the same id')
    .action((flags: DeclareFlags) => {
      let input: unknown;
      if (flags.file) {
        if (flags.id || flags.variant) throw new ExperimentError('Give either --file or --id/--variant flags, not both');
        input = readJson(flags.file);
      } else {
        if (!flags.id || !flags.variant || !flags.end) throw new ExperimentError('Without --file, --id, --end and at least two --variant flags are required');
        input = {
          id: flags.id,
          salt: flags.salt ?? newSalt(),
          variants: flags.variant,
          start: flags.start ?? new Date().toISOString(),
          end: flags.end,
          ...(flags.metrics ? { metrics: flags.metrics.split(',').map((m) => m.trim()) } : {}),
          ...(flags.description ? { description: flags.description } : {}),
        };
      }
      const registry = new Registry(paths().registry);
      const experiment = declareExperiment(registry, input, { replace: Boolean(flags.replace) });
      console.log(
        `Declared experiment ${experiment.id} (${experiment.variants.map((v) => `${v.name}: ${v.model} × ${v.weight}`).join(', ')}), ` +
          `${experiment.start} → ${experiment.end}; manifest sequence ${registry.manifest().sequence}`,
      );
    });

  group
    .command('list')
    .description('List the experiments the manifest declares.')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      const experiments = listExperiments(new Registry(paths().registry));
      if (flags.json) return console.log(JSON.stringify(experiments, null, 2));
      if (experiments.length === 0) return console.log('No experiments declared (fashionml experiments declare --file exp.json)');
      const now = Date.now();
      console.table(
        experiments.map((e) => ({
          id: e.id,
          status: now < Date.parse(e.start) ? 'scheduled' : now < Date.parse(e.end) ? 'running' : 'ended',
          variants: e.variants.map((v) => `${v.name}=${v.model}:${v.weight}`).join(' '),
          start: e.start,
          end: e.end,
          metrics: e.metrics.join(','),
        })),
      );
    });

  group
    .command('report')
    .argument('<id>', 'experiment id')
    .description('Per variant: exposures, outcomes, rates with 95 % Wilson intervals, the difference from the control (Newcombe interval, z-test p-value), and a sample-ratio-mismatch check.')
    .option('--json', 'print JSON (as GET /v1/experiments/<id>/results)')
    .action((id: string, flags: { json?: boolean }) => {
      const p = paths();
      const store = ExperimentStore.open(experimentsDbPath(p));
      try {
        const results = experimentResults(new Registry(p.registry), store, id);
        console.log(flags.json ? JSON.stringify(results, null, 2) : formatResults(results));
      } finally {
        store.close();
      }
    });

  group
    .command('simulate')
    .argument('<id>', 'experiment id')
    .description('Store reports from simulated devices (seeded install ids, real assignment), to try the analysis.')
    .option('--devices <n>', 'simulated devices', positiveInt, DEFAULT_SIMULATION.devices)
    .option('--opt-in <share>', 'share of shoppers who opted in', fraction, DEFAULT_SIMULATION.optIn)
    .option('--lift <x>', 'relative lift of the non-control variants (0.1 = +10 %)', Number, DEFAULT_SIMULATION.lift)
    .option('--seed <n>', 'random seed', positiveInt, DEFAULT_SIMULATION.seed)
    .action(async (id: string, flags: { devices: number; optIn: number; lift: number; seed: number }) => {
      const p = paths();
      const experiment = findExperiment(new Registry(p.registry), id);
      const store = ExperimentStore.open(experimentsDbPath(p));
      try {
        const s = await simulateExperiment(experiment, store, { ...DEFAULT_SIMULATION, devices: flags.devices, optIn: flags.optIn, lift: flags.lift, seed: flags.seed, now: Date.now() });
        console.log(
          `Simulated ${s.devices} devices over ${s.days.length} days (${s.days[0]} … ${s.days.at(-1)}): ` +
            `${s.reportingDevices} opted in and sent ${s.reports} reports${s.duplicates ? ` (${s.duplicates} already stored)` : ''}`,
        );
      } finally {
        store.close();
      }
    });

  return group;
}
