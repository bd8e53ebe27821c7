/**
 * Lifecycle helpers with no `vscode` import, so models built on them are unit-testable.
 * Shapes match vscode's Disposable / Event, so instances can be handed to the API directly.
 */

export interface IDisposable {
  dispose(): unknown;
}

export function toDisposable(fn: () => void): IDisposable {
  let done = false;
  return {
    dispose() {
      if (!done) {
        done = true;
        fn();
      }
    },
  };
}

/** Base class that owns child disposables: everything `_register`ed is disposed with it. */
export abstract class Disposable implements IDisposable {
  private _disposables: IDisposable[] = [];
  private _isDisposed = false;

  protected get isDisposed(): boolean {
    return this._isDisposed;
  }

  protected _register<T extends IDisposable>(value: T): T {
    if (this._isDisposed) {
      value.dispose();
    } else {
      this._disposables.push(value);
    }
    return value;
  }

  dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    const list = this._disposables.reverse();
    this._disposables = [];
    for (const d of list) {
      try {
        d.dispose();
      } catch {
        // one failing child must not keep the others alive
      }
    }
  }
}

export type Event<T> = (listener: (e: T) => unknown, thisArg?: unknown, disposables?: IDisposable[]) => IDisposable;

/** A minimal event emitter with vscode.EventEmitter's shape. */
export class Emitter<T> implements IDisposable {
  private listeners = new Set<(e: T) => unknown>();

  readonly event: Event<T> = (listener, thisArg, disposables) => {
    const bound = thisArg === undefined ? listener : listener.bind(thisArg);
    this.listeners.add(bound);
    const d = toDisposable(() => this.listeners.delete(bound));
    disposables?.push(d);
    return d;
  };

  fire(e: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        console.error('[switchboard] listener failed', err);
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
