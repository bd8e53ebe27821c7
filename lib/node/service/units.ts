/**
 * The text of a service definition: a systemd user unit (Linux) or a launchd agent (macOS).
 * Pure functions of a `ServiceSpec`, so the same spec always gives the same bytes and a second
 * install can tell "unchanged" from "updated". Every file carries a mark (a header comment, a
 * plist key) by which install and uninstall recognise a file switchboard wrote and leave any
 * other alone.
 */
import { createHash } from 'node:crypto';

export type ServiceKind = 'core' | 'relay';
export type ServiceManager = 'systemd' | 'launchd';

export interface ServiceSpec {
  kind: ServiceKind;
  /** systemd unit name without `.service`, also the base of the launchd label: `switchboard-core`, `switchboard-core-1a2b3c4d`. */
  name: string;
  /** One line for Description= and the summary: what runs, for which home or data dir. */
  description: string;
  /** Absolute argv: node, the bundle, its flags. */
  program: readonly string[];
  /** stdout and stderr are appended here. */
  log: string;
  /** The verb that removes it, named in the header. */
  uninstall: string;
}

/** The first line of every unit switchboard writes; uninstall removes only a file that starts with it. */
export const SYSTEMD_MARK = '# Written by switchboard';
/** The plist key that marks an agent as switchboard's (launchd ignores keys it does not know). */
export const LAUNCHD_MARK_KEY = 'SwitchboardService';

/** How long the manager waits before restarting a failed service. */
export const RESTART_SECONDS = 5;

/**
 * The unit name for a home or a relay data dir: plain for the default one, else with a hash of
 * the path, so two homes get two units and the same home always the same one.
 */
export function serviceName(kind: ServiceKind, key: string, isDefault: boolean): string {
  const base = `switchboard-${kind}`;
  return isDefault ? base : `${base}-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

export function launchdLabel(name: string): string {
  // switchboard-core-1a2b3c4d → switchboard.core.1a2b3c4d
  return name.replace(/-/g, '.');
}

/** A path or argument no service file can hold faithfully: line breaks and other control characters. */
export function unwritable(text: string): boolean {
  return /[\u0000-\u001f\u007f]/.test(text);
}

/** systemd expands `%x` specifiers everywhere and `$VAR` in ExecStart: both are doubled to stay literal. */
function systemdLiteral(text: string): string {
  return text.replace(/%/g, '%%');
}

/** One ExecStart word: bare when it is plain, else double-quoted with `\` and `"` escaped (systemd.service(5), "Command lines"). */
export function systemdWord(arg: string): string {
  const literal = systemdLiteral(arg).replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(literal)) return literal;
  return `"${literal.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The words of an ExecStart line back: the inverse of `systemdWord`, for tests and `status`-like reports. */
export function parseExecStart(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    let word = '';
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') i++;
        word += line[i++];
      }
      i++;
    } else {
      while (i < line.length && line[i] !== ' ') word += line[i++];
    }
    words.push(word.replace(/\$\$/g, '$').replace(/%%/g, '%'));
  }
  return words;
}

export function systemdUnit(spec: ServiceSpec): string {
  const log = systemdLiteral(spec.log);
  return [
    `${SYSTEMD_MARK} (${spec.kind} service): \`${spec.uninstall}\` disables and removes it.`,
    '# A new install rewrites this file; delete the first line to make it yours (switchboard then leaves it alone).',
    '[Unit]',
    `Description=${systemdLiteral(spec.description)}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${spec.program.map(systemdWord).join(' ')}`,
    // Exit 0 is a requested stop (`switchboard daemon stop`, SIGTERM): it stays stopped. Exit 2 is a
    // usage error in the unit itself, which a restart cannot fix.
    'Restart=on-failure',
    `RestartSec=${RESTART_SECONDS}`,
    'RestartPreventExitStatus=2',
    // The log file and anything the process creates are the user's alone (the core's log quotes messages).
    'UMask=0077',
    `StandardOutput=append:${log}`,
    `StandardError=append:${log}`,
    // The core stops within 15 s (daemon stop's own deadline); past 20 s it is killed.
    'TimeoutStopSec=20',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function launchdPlist(spec: ServiceSpec): string {
  const string = (value: string) => `<string>${xml(value)}</string>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    `<!-- Written by switchboard (${xml(spec.kind)} service): ${xml(spec.uninstall)} unloads and removes it. A new install rewrites this file; delete the ${LAUNCHD_MARK_KEY} key to make it yours. -->`,
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>${string(launchdLabel(spec.name))}`,
    `  <key>${LAUNCHD_MARK_KEY}</key>${string(spec.kind)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...spec.program.map((arg) => `    ${string(arg)}`),
    '  </array>',
    '  <key>RunAtLoad</key><true/>',
    // Restarted when it exits unsuccessfully, as systemd's Restart=on-failure.
    '  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>',
    `  <key>ThrottleInterval</key><integer>${RESTART_SECONDS}</integer>`,
    '  <key>ProcessType</key><string>Background</string>',
    // 0077: the log and the files the process creates are the user's alone.
    '  <key>Umask</key><integer>63</integer>',
    `  <key>StandardOutPath</key>${string(spec.log)}`,
    `  <key>StandardErrorPath</key>${string(spec.log)}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

export function serviceFile(manager: ServiceManager, spec: ServiceSpec): string {
  return manager === 'systemd' ? systemdUnit(spec) : launchdPlist(spec);
}

/** Whether a file on disk is one switchboard wrote (and so may rewrite or remove). */
export function isOurs(manager: ServiceManager, text: string): boolean {
  return manager === 'systemd' ? text.startsWith(SYSTEMD_MARK) : text.includes(`<key>${LAUNCHD_MARK_KEY}</key>`);
}
