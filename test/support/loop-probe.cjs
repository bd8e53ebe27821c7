// Preloaded into a CLI child (NODE_OPTIONS=--require …): once the command has printed its
// first output and that turn has ended, it reports on stderr what still keeps the process
// alive. A command that answered must leave nothing behind that delays its exit.
'use strict';
const write = process.stdout.write.bind(process.stdout);
let probed = false;
process.stdout.write = (chunk, ...rest) => {
  const written = write(chunk, ...rest);
  if (!probed) {
    probed = true;
    setImmediate(() => process.stderr.write(`loop-probe ${JSON.stringify(process.getActiveResourcesInfo())}\n`));
  }
  return written;
};
