import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_PATH } from './browser';

/** Builds the app once for every end-to-end test file (FASHIONML_E2E_SKIP_BUILD=1 reuses dist/). */
export default function setup(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `End-to-end tests need Chromium at ${CHROMIUM_PATH}: install it with "apt-get install -y chromium libvulkan1" ` +
        '(the test command in README.md does this when run as root).',
    );
  }
  if (process.env.FASHIONML_E2E_SKIP_BUILD === '1' && existsSync('dist/index.html')) return;
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
}
