import { join } from 'node:path';
import { openStore, type Db } from '../../server/store/db';
import { Repository } from '../../server/store/repository';
import { tempHome } from './cli';

/** A real store (`store.db`, migrated) in a fresh temp home; `close` closes it and removes the home. */
export interface TempStore {
  home: string;
  db: Db;
  repo: Repository;
  close(): void;
}

export function openTempStore(prefix = 'sb-store-'): TempStore {
  const { home, cleanup } = tempHome(prefix);
  const db = openStore(join(home, 'store.db'), home);
  return {
    home,
    db,
    repo: new Repository(db),
    close: () => {
      db.close();
      cleanup();
    },
  };
}
