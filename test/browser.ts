/**
 * Shared harness for end-to-end tests and browser benchmarks: the real app server on a free
 * loopback port, and Debian's Chromium driven by playwright-core with a fresh profile.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildAppServer } from '../server/http/app';
// Declares window.fashionml, the handle tests drive the app through.
import type {} from '../src/lib/debug-handle';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that make headless Chromium quiet on a closed network and expose a WebGPU adapter. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--enable-unsafe-webgpu',
  // Without a GPU, WebGPU runs on SwiftShader (Vulkan) and WebGL on SwiftShader through ANGLE.
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

export const APP_DIR = resolve(process.env.FASHIONML_APP_DIR ?? 'dist');

export interface RunningApp {
  url: string;
  server: FastifyInstance;
  close(): Promise<void>;
}

/** Serves the built app on 127.0.0.1 with a free port. */
export async function startApp(port = 0): Promise<RunningApp> {
  const server = await buildAppServer({ appDir: APP_DIR });
  const url = await server.listen({ host: '127.0.0.1', port });
  return { url, server, close: () => server.close() };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen on any page, for assertions and debugging. */
  errors: string[];
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Flags added to {@link CHROMIUM_ARGS}. */
  extraArgs?: string[];
  /** Flags of {@link CHROMIUM_ARGS} to leave out (e.g. to emulate a device without WebGPU). */
  withoutArgs?: string[];
}

/** Launches Chromium with a fresh, throw-away profile. */
export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const args = [...CHROMIUM_ARGS.filter((arg) => !options.withoutArgs?.includes(arg)), ...(options.extraArgs ?? [])];
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with "apt-get install -y chromium libvulkan1".`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'fashionml-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args,
    viewport: { width: 1280, height: 800 },
  });
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits until the on-device engine is ready or failed, and returns its status element's text. */
export async function waitForEngine(page: Page, timeoutMs = 90_000): Promise<'ready' | 'error'> {
  const status = page.getByTestId('engine-status').first();
  await status.and(page.locator('[data-status="ready"], [data-status="error"]')).waitFor({ timeout: timeoutMs });
  return (await status.getAttribute('data-status')) as 'ready' | 'error';
}

/**
 * Starts the app server and a browser for the current test file (beforeAll) and stops both
 * (afterAll). Read `.app` and `.browser` inside tests, once the hooks have run.
 */
export function useAppAndBrowser(options: LaunchOptions = {}): { readonly app: RunningApp; readonly browser: Browser } {
  const state: { app?: RunningApp; browser?: Browser } = {};
  beforeAll(async () => {
    state.app = await startApp();
    state.browser = await launchBrowser(options);
  });
  afterAll(async () => {
    await state.browser?.close();
    await state.app?.close();
  });
  return {
    get app() {
      if (!state.app) throw new Error('useAppAndBrowser: the app is only available inside tests');
      return state.app;
    },
    get browser() {
      if (!state.browser) throw new Error('useAppAndBrowser: the browser is only available inside tests');
      return state.browser;
    },
  };
}
