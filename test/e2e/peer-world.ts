/**
 * The world the feature scenarios (files, groups, code) share: a real relay process, peers
 * (real cores in temp homes, driven over their sockets), alice's home configured from a
 * terminal before her window opens, the packed extension, and a code-server workbench with the
 * page objects every scenario uses. `start()` brings it up (packing the extension while the
 * relay and peers start); `stop()` takes a last screenshot and stops everything by PID.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestRelay } from '../support/relay';
import { missingTools, startWorkbench, type WorkbenchSession } from './harness';
import { Notifications, QuickInput, Tree, Workbench } from './pages';
import { killCoreOf, Peer } from './peer';
import { packSwitchboard } from './world';

export interface PeerWorldOptions {
  /** Names the screenshots and temp folders. */
  scenario: string;
  /** The peers besides alice (each a user on the relay with a core of its own). */
  peers: readonly string[];
  /** User settings over the harness's defaults (the dark theme is always set). */
  settings?: Record<string, unknown>;
  /** A folder under the world's root that the window opens as its workspace (`folder`). */
  workspace?: string;
}

export class PeerWorld {
  readonly relay = new TestRelay();
  /** Everything of this world's on disk: removed by stop(). */
  readonly root: string;
  readonly aliceHome: string;
  /** The window's workspace folder, when `workspace` was given (created by the scenario's prepare). */
  readonly folder: string | undefined;
  readonly peers: ReadonlyMap<string, Peer>;
  private vsixDir: string | undefined;
  private session: WorkbenchSession | undefined;
  private pages: { workbench: Workbench; qi: QuickInput; notifications: Notifications; inbox: Tree } | undefined;

  constructor(private readonly options: PeerWorldOptions) {
    this.root = mkdtempSync(join(tmpdir(), `sb-e2e-${options.scenario}-`));
    this.aliceHome = join(this.root, 'alice');
    this.folder = options.workspace === undefined ? undefined : join(this.root, options.workspace);
    this.peers = new Map(options.peers.map((name) => [name, new Peer(name, join(this.root, name))]));
  }

  /** `prepare` runs while the extension is packed (fixtures on disk, a git repository…). */
  async start(prepare?: () => void | Promise<void>): Promise<void> {
    const missing = missingTools();
    if (missing) throw new Error(missing);
    this.vsixDir = mkdtempSync(join(tmpdir(), 'sb-e2e-vsix-'));
    const vsixDir = this.vsixDir;
    const packed = Promise.resolve().then(() => packSwitchboard(vsixDir));
    await prepare?.();
    await this.relay.start();
    // alice's home is configured from a terminal (`switchboard init`) before the window opens
    await this.relay.configureHome(this.aliceHome, 'alice');
    await Promise.all([...this.peers.values()].map((p) => p.start(this.relay)));
    this.session = await startWorkbench({
      scenario: this.options.scenario,
      vsix: await packed,
      folder: this.folder,
      env: { SWITCHBOARD_HOME: this.aliceHome },
      settings: { 'workbench.colorTheme': 'Default Dark Modern', ...this.options.settings },
    });
    const page = this.session.page;
    this.pages = { workbench: new Workbench(page), qi: new QuickInput(page), notifications: new Notifications(page), inbox: new Tree(page, 'Inbox') };
    await this.pages.workbench.waitReady();
  }

  peer(name: string): Peer {
    const p = this.peers.get(name);
    if (!p) throw new Error(`no peer ${name} in this world`);
    return p;
  }

  get wb(): WorkbenchSession {
    return this.started(this.session);
  }

  get workbench(): Workbench {
    return this.started(this.pages).workbench;
  }

  get qi(): QuickInput {
    return this.started(this.pages).qi;
  }

  get notifications(): Notifications {
    return this.started(this.pages).notifications;
  }

  get inbox(): Tree {
    return this.started(this.pages).inbox;
  }

  async stop(): Promise<void> {
    if (this.session) {
      await this.session.screenshot(`${this.options.scenario}-final`).catch(() => undefined);
      await this.session.close();
    }
    // the extension started alice's core (detached): stop it by its pid, if it is still hers
    await killCoreOf(this.aliceHome);
    for (const p of this.peers.values()) await p.stop();
    await this.relay.dispose();
    rmSync(this.root, { recursive: true, force: true, maxRetries: 3 });
    if (this.vsixDir) rmSync(this.vsixDir, { recursive: true, force: true });
  }

  private started<T>(value: T | undefined): T {
    if (value === undefined) throw new Error(`the ${this.options.scenario} world is not started`);
    return value;
  }
}
