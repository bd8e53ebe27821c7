/**
 * The forwarder (forwarder.ts) as its own process, so a baseline runs on its own event loop as
 * the relay does and never shares one with the clients measuring it:
 * `node --import tsx bench/forwarder-process.ts` prints `forwarder listening on ws://…` once
 * ready and stops on SIGTERM or SIGINT.
 */
import { startForwarder } from './forwarder';

async function main(): Promise<void> {
  const forwarder = await startForwarder();
  process.stdout.write(`forwarder listening on ${forwarder.url}\n`);
  const stop = (): void => {
    void forwarder.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
