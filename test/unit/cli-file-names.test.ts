/**
 * lib/file-names.ts: whatever name a peer gives a file, what `download` writes is one plain
 * base name that cannot leave the directory, hide, lie about itself, name a device or break
 * the file system's length limit, and two files of one message never share a name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FALLBACK_FILE_NAME, safeFileName, safeFileNames } from '../../lib/file-names';
import { MAX_ATTACHMENT_NAME_BYTES } from '../../protocol/files';
import { utf8ByteLength } from '../../protocol/limits';

/** What every result must be, whatever went in. */
function assertSafe(name: string): void {
  assert.ok(name.length > 0, 'not empty');
  assert.ok(!/[/\\]/.test(name), `${JSON.stringify(name)} has no separator`);
  assert.ok(!name.startsWith('.'), `${JSON.stringify(name)} is not hidden`);
  assert.ok(!/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b\u200e\u200f\ufeff]/.test(name), `${JSON.stringify(name)} has no control or bidi character`);
  assert.ok(!/[. ]$/.test(name), `${JSON.stringify(name)} has no trailing dot or space`);
  assert.ok(utf8ByteLength(name) <= MAX_ATTACHMENT_NAME_BYTES, `${JSON.stringify(name)} fits in ${MAX_ATTACHMENT_NAME_BYTES} bytes`);
  assert.notEqual(name, '..');
}

test('path climbing and absolute names become one name inside the directory', () => {
  assert.equal(safeFileName('../../.bashrc'), 'bashrc');
  assert.equal(safeFileName('/etc/passwd'), 'etc_passwd');
  assert.equal(safeFileName('..\\..\\Windows\\win.ini'), 'Windows_win.ini');
  assert.equal(safeFileName('a/../b.txt'), 'a_b.txt');
  assert.equal(safeFileName('C:\\evil.bat'), 'C__evil.bat');
  assert.equal(safeFileName('./report.pdf'), 'report.pdf');
});

test('dots alone, empty and whitespace names become the fallback', () => {
  for (const name of ['...', '..', '.', '', '   ', '/', '\u0000', '\u202e', '. . .']) assert.equal(safeFileName(name), FALLBACK_FILE_NAME, JSON.stringify(name));
});

test('control, bidi and invisible characters are dropped, so the name on disk is the name shown', () => {
  assert.equal(safeFileName('a\u0000b'), 'ab');
  assert.equal(safeFileName('\u202Egnp.exe'), 'gnp.exe');
  assert.equal(safeFileName('photo\u202Egnp.exe'), 'photognp.exe');
  assert.equal(safeFileName('ter\u001b[31mminal\u0007.txt'), 'ter[31mminal.txt');
  assert.equal(safeFileName('zero\u200bwidth\ufeff.md'), 'zerowidth.md');
  assert.equal(safeFileName('line\nbreak\r.txt'), 'linebreak.txt');
});

test('leading dots, a leading dash, trailing dots and spaces go; Windows-forbidden characters are replaced', () => {
  assert.equal(safeFileName('.hidden'), 'hidden');
  assert.equal(safeFileName('..ssh'), 'ssh');
  assert.equal(safeFileName('-rf'), '_rf');
  assert.equal(safeFileName('notes. . '), 'notes');
  assert.equal(safeFileName('what?<is>"this"|*.txt'), 'what__is__this___.txt');
});

test('names Windows reserves for devices get a prefix, with or without an extension, in any case', () => {
  for (const name of ['CON', 'con', 'PRN', 'AUX', 'NUL', 'COM1', 'com9', 'LPT1', 'CON.txt', 'nul.tar.gz']) assert.equal(safeFileName(name), `_${name}`, name);
  assert.equal(safeFileName('CONSOLE.txt'), 'CONSOLE.txt');
  assert.equal(safeFileName('icon.png'), 'icon.png');
});

test('emoji and other scripts are kept as written, joiners included', () => {
  assert.equal(safeFileName('👩‍💻 notes.md'), '👩‍💻 notes.md');
  assert.equal(safeFileName('отчёт.pdf'), 'отчёт.pdf');
  assert.equal(safeFileName('رسم‌بياني.png'), 'رسم‌بياني.png');
  // NFC: the decomposed é is the same name as the composed one
  assert.equal(safeFileName('cafe\u0301.txt'), 'caf\u00e9.txt');
});

test('a very long name is cut to 255 UTF-8 bytes, keeping its extension and whole characters', () => {
  const ascii = safeFileName(`${'a'.repeat(400)}.tar.gz`);
  assert.equal(utf8ByteLength(ascii), MAX_ATTACHMENT_NAME_BYTES);
  assert.ok(ascii.endsWith('a.gz'));
  const emoji = safeFileName(`${'👩‍💻'.repeat(40)}.png`);
  assert.ok(utf8ByteLength(emoji) <= MAX_ATTACHMENT_NAME_BYTES);
  assert.ok(emoji.endsWith('👩‍💻.png'), 'no emoji cut in half');
  assert.ok(/^(👩‍💻)+\.png$/u.test(emoji));
  // An over-long "extension" is no extension: the name is simply cut.
  const tail = safeFileName(`x.${'y'.repeat(300)}`);
  assert.equal(utf8ByteLength(tail), MAX_ATTACHMENT_NAME_BYTES);
  assert.ok(tail.startsWith('x.yyy'));
});

test('hostile names all come out safe', () => {
  const hostile = ['../../.bashrc', '/etc/passwd', 'a\u0000b', '\u202Egnp.exe', 'CON', '...', 'x'.repeat(1000), '🙂'.repeat(200), ' .', '-', '\\\\server\\share', '.\u0000.', `${'.'.repeat(300)}x`, `${'é'.repeat(200)}.txt`];
  for (const name of hostile) assertSafe(safeFileName(name));
});

test('the names of one message are distinct, case-insensitively, each still within the limit', () => {
  assert.deepEqual(safeFileNames(['report.pdf', 'Report.pdf', 'report.pdf', 'a/report.pdf']), ['report.pdf', 'Report (2).pdf', 'report (3).pdf', 'a_report.pdf']);
  assert.deepEqual(safeFileNames(['../x', '/x', 'x']), ['x', 'x (2)', 'x (3)']);
  assert.deepEqual(safeFileNames(['...', '', '\u0000']), ['attachment', 'attachment (2)', 'attachment (3)']);
  const long = `${'b'.repeat(300)}.txt`;
  const names = safeFileNames([long, long]);
  assert.notEqual(names[0], names[1]);
  for (const name of names) assertSafe(name);
  assert.ok(names[1]!.endsWith(' (2).txt'));
});
