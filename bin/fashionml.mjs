#!/usr/bin/env node
// Runs the TypeScript command directly through tsx, so there is no separate build step.
import { register } from 'tsx/esm/api';

register();
await import('../server/cli.ts');
