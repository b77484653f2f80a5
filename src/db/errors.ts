/**
 * Turns the DOMExceptions IndexedDB throws into messages a user can act on.
 * Every write goes through one transaction, so a failure means nothing of
 * that write was kept and everything saved before is intact; say so.
 */
export class StorageError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'StorageError';
  }
}

export function describeStorageError(e: unknown, action: string): StorageError {
  if (e instanceof StorageError) return e;
  const name = (e as { name?: string } | null)?.name ?? '';
  if (name === 'QuotaExceededError') {
    return new StorageError(`Storage is full: could not ${action}. Nothing was changed; delete or export a dataset to make room.`, e);
  }
  if (name === 'VersionError') {
    return new StorageError('This browser holds data from a newer version of Lattice Lab. Reload to get the newer app; nothing was changed.', e);
  }
  if (name === 'InvalidStateError' || name === 'UnknownError') {
    return new StorageError(`The browser's storage is unavailable (private mode or disk error): could not ${action}. Nothing was changed.`, e);
  }
  return new StorageError(`Could not ${action}: ${(e as Error)?.message ?? String(e)}. Nothing was changed.`, e);
}
