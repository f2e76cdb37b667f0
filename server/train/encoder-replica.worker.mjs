// Worker entry: loads the TypeScript replica through tsx (the same way bin/fashionml.mjs runs the CLI).
import { register } from 'tsx/esm/api';

register();
await import('./encoder-replica.worker.ts');
