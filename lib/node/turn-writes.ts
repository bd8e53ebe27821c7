/**
 * Holds a stream's writes until the end of the current event-loop turn, so every frame
 * written in one turn leaves in one system call and reaches the peer in one read. On a busy
 * link that is most of the cost of a small frame; on an idle one it adds no wait beyond the
 * turn that wrote it.
 */
export interface Corkable {
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
}

/** Returns `hold`: call it before writing; the first call in a turn corks, the turn's end uncorks. */
export function writesPerTurn(stream: Corkable): () => void {
  let held = false;
  const release = () => {
    held = false;
    if (!stream.destroyed) stream.uncork();
  };
  return () => {
    if (held) return;
    held = true;
    stream.cork();
    setImmediate(release);
  };
}
