import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface BlobRef {
  sha256: string;
  size: number;
}

/**
 * Content-addressed, immutable files: a blob's name is the sha256 of its bytes, so it can be cached
 * forever and verified by anyone. Laid out as `<root>/<first two hex>/<sha256>`.
 */
export class BlobStore {
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  /** Stores bytes (idempotent) and returns their address. */
  put(bytes: Uint8Array): BlobRef {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const path = this.path(sha256);
    if (!existsSync(path)) {
      mkdirSync(join(this.root, sha256.slice(0, 2)), { recursive: true });
      writeFileAtomic(path, bytes);
    }
    return { sha256, size: bytes.length };
  }

  putFile(file: string): BlobRef {
    return this.put(readFileSync(file));
  }

  has(sha256: string): boolean {
    return SHA256_HEX.test(sha256) && existsSync(this.path(sha256));
  }

  /** Where a blob lives; throws on anything that is not a sha256, so no path can escape the root. */
  path(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`Not a sha256 hex digest: ${JSON.stringify(sha256)}`);
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  read(sha256: string): Buffer {
    return readFileSync(this.path(sha256));
  }

  /** Every stored blob with its size. */
  list(): BlobRef[] {
    const out: BlobRef[] = [];
    for (const prefix of readdirSync(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const name of readdirSync(join(this.root, prefix))) {
        if (SHA256_HEX.test(name)) out.push({ sha256: name, size: statSync(join(this.root, prefix, name)).size });
      }
    }
    return out;
  }

  delete(sha256: string): void {
    rmSync(this.path(sha256), { force: true });
  }
}
