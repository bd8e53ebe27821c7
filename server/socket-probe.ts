/** Whether anything accepts connections on a socket path: a live core, as opposed to a stale file. */
import { connect } from 'node:net';
import { assertTrustedSocket } from '../lib/node/socket-trust';

/** Rejects with an UntrustedSocketError, without connecting, when the socket is not ours alone. */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    assertTrustedSocket(path);
    const socket = connect(path);
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
