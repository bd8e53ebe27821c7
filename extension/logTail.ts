/** Tails the core's log file (<home>/core.log) into an output channel, from the last 64 KiB. */
import { closeSync, openSync, readSync, statSync, unwatchFile, watchFile } from 'node:fs';
import * as vscode from 'vscode';
import { Disposable } from './lifecycle';

const INITIAL_BYTES = 64 * 1024;

export class CoreLogTail extends Disposable {
  readonly channel: vscode.OutputChannel;
  private path: string | undefined;
  private offset = 0;

  constructor() {
    super();
    this.channel = this._register(vscode.window.createOutputChannel('Switchboard Core'));
    this._register({ dispose: () => this.unwatch() });
  }

  /** Start (or switch) tailing, then reveal the channel. */
  show(path: string): void {
    if (this.path !== path) {
      this.unwatch();
      this.path = path;
      this.channel.clear();
      this.channel.appendLine(`— tailing ${path} —`);
      let size = 0;
      try {
        size = statSync(path).size;
      } catch {
        this.channel.appendLine('(the core has not written a log yet)');
      }
      this.offset = Math.max(0, size - INITIAL_BYTES);
      if (this.offset > 0) this.channel.appendLine('…');
      this.pump();
      watchFile(path, { interval: 1000 }, () => this.pump());
    }
    this.channel.show(true);
  }

  private pump(): void {
    const path = this.path;
    if (!path) return;
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return;
    }
    if (size < this.offset) {
      this.channel.appendLine('— log truncated or rotated —');
      this.offset = 0;
    }
    if (size === this.offset) return;
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const len = Math.min(size - this.offset, 4 * 1024 * 1024);
      const buf = Buffer.alloc(len);
      const n = readSync(fd, buf, 0, len, this.offset);
      this.offset += n;
      this.channel.append(buf.subarray(0, n).toString('utf8'));
    } catch {
      // transient: next tick retries
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  private unwatch(): void {
    if (this.path) unwatchFile(this.path);
    this.path = undefined;
  }
}
