// IndexedDB quota failures turned into an error that says how much was needed and how much the browser allows.
//
// API:
//   class StorageQuotaError extends Error { neededBytes; usageBytes?; quotaBytes?; what }
//   isQuotaError(e): boolean                       // DOMException QuotaExceededError (also inside an AbortError tx)
//   quotaError(what, neededBytes, cause): Promise<StorageQuotaError>   // reads navigator.storage.estimate()
//   storageEstimate(): Promise<{ usageBytes?: number; quotaBytes?: number }>

export interface StorageEstimateInfo {
  usageBytes?: number;
  quotaBytes?: number;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export class StorageQuotaError extends Error {
  readonly neededBytes: number;
  readonly usageBytes: number | undefined;
  readonly quotaBytes: number | undefined;
  /** What was being stored ("dataset shards 1a2b3c..."). */
  readonly what: string;

  constructor(what: string, neededBytes: number, estimate: StorageEstimateInfo, options?: { cause?: unknown }) {
    const { usageBytes, quotaBytes } = estimate;
    const room = usageBytes !== undefined && quotaBytes !== undefined
      ? `; this site uses ${formatBytes(usageBytes)} of the ${formatBytes(quotaBytes)} the browser allows (${formatBytes(Math.max(0, quotaBytes - usageBytes))} free)`
      : '';
    super(`browser storage is full: storing ${what} needs ${formatBytes(neededBytes)}${room}. Clear old dataset caches or free disk space.`, options);
    this.name = 'StorageQuotaError';
    this.neededBytes = neededBytes;
    this.usageBytes = usageBytes;
    this.quotaBytes = quotaBytes;
    this.what = what;
  }
}

export function isQuotaError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const name = (e as { name?: unknown }).name;
  if (name === 'QuotaExceededError') return true;
  // A transaction aborted by a failed request reports the request's error as its cause or in its message.
  const msg = (e as { message?: unknown }).message;
  return typeof msg === 'string' && /quota/i.test(msg);
}

export async function storageEstimate(): Promise<StorageEstimateInfo> {
  try {
    if (typeof navigator === 'undefined' || navigator.storage === undefined) return {};
    const e = await navigator.storage.estimate();
    return { ...(e.usage !== undefined ? { usageBytes: e.usage } : {}), ...(e.quota !== undefined ? { quotaBytes: e.quota } : {}) };
  } catch {
    return {};
  }
}

export async function quotaError(what: string, neededBytes: number, cause: unknown): Promise<StorageQuotaError> {
  return new StorageQuotaError(what, neededBytes, await storageEstimate(), { cause });
}
