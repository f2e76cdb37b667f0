// Worker entry: loads the TypeScript worker through tsx (the same way bin/fashionml.mjs runs the CLI).
import { register } from 'tsx/esm/api';

register();
await import('./batch-recommend.worker.ts');
