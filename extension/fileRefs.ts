/**
 * Where a file reference from a message body points, if anywhere: a file inside one of the
 * workspace folders, never outside them. The path is peer text: `..` that climbs out of a
 * folder, an absolute path outside every folder, and a symbolic link inside a folder whose
 * target is outside it are all refused (null), as is anything that is not a regular file.
 * No vscode import: unit-tested against real folders (test/unit/extension-file-refs.test.ts).
 */
import { realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';

/** `child` is `folder` itself or below it (both absolute and normalized). */
export function isInside(folder: string, child: string): boolean {
  const rel = path.relative(folder, child);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

async function real(p: string): Promise<string | null> {
  try {
    return await realpath(p);
  } catch {
    return null;
  }
}

export interface ResolvedRef {
  /** The file's absolute path (its real path, symbolic links followed). */
  file: string;
  /** The workspace folder it is in. */
  folder: string;
}

/**
 * The file `ref` (as written in a body: POSIX separators, relative to a folder, or absolute)
 * names inside one of `folders` (absolute paths), the first folder that has it winning; null
 * when none does.
 */
export async function resolveRef(folders: readonly string[], ref: string): Promise<ResolvedRef | null> {
  if (!ref || ref.includes('\0') || ref.length > 1024) return null;
  const native = ref.split('/').join(path.sep);
  for (const folder of folders) {
    const base = path.resolve(folder);
    const candidate = path.isAbsolute(native) ? path.resolve(native) : path.resolve(base, native);
    if (candidate === base) continue;
    const [realBase, realFile] = await Promise.all([real(base), real(candidate)]);
    // where it really leads (links followed, `..` applied) must be inside the folder's real path
    if (!realBase || !realFile || !isInside(realBase, realFile)) continue;
    try {
      if ((await stat(realFile)).isFile()) return { file: realFile, folder: realBase };
    } catch {
      // vanished between the two calls: not there
    }
  }
  return null;
}
