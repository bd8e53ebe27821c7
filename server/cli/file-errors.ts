/** What a person is told when a file they named cannot be read: one line, not a raw errno. */
import { errorMessage } from '../../lib/error-message';

/** `error` from fs, as the end of "<flag> <path>: …". */
export function readableFileProblem(error: unknown): string {
  switch ((error as NodeJS.ErrnoException)?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (you cannot read it; check its mode and owner)';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ELOOP':
      return 'too many symbolic links (a link loop?)';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    default:
      return `cannot be read (${errorMessage(error)})`;
  }
}
