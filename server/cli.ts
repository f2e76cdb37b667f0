import { Command, InvalidArgumentError } from 'commander';
import { buildAppServer, closeOnSignals } from './http/app';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be an integer from 0 to 65535');
  return n;
}

/** The `fashionml` command. */
export function buildCli(): Command {
  const program = new Command('fashionml').description('FashionML: train, publish and serve on-device fashion recommendations.');

  program
    .command('serve')
    .description('Serve the built web app over HTTP.')
    .option('--host <host>', 'address to listen on', process.env.FASHIONML_HOST ?? '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', port, Number(process.env.FASHIONML_PORT ?? 8080))
    .option('--app <dir>', 'the built app (vite build output)', 'dist')
    .action(async (options: { host: string; port: number; app: string }) => {
      const app = await buildAppServer({ appDir: options.app, logger: true });
      closeOnSignals(app);
      const address = await app.listen({ host: options.host, port: options.port });
      console.log(`FashionML is being served at ${address}`);
    });

  return program;
}

await buildCli().parseAsync(process.argv).catch((error: unknown) => {
  console.error(`fashionml: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
