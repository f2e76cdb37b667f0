import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where the backend keeps its state, set by `--data-dir` or FASHIONML_DATA_DIR (default `.data`). */
export interface DataPaths {
  root: string;
  featureStore: string;
  registry: string;
  images: string;
  thumbs: string;
  /** Product-page renditions (`<sha256>.webp`), beside the thumbnails. */
  photos: string;
  reports: string;
  demoSource: string;
}

/** Resolves the data directory and creates it on first use. */
export function dataPaths(flag?: string): DataPaths {
  const root = resolve(flag ?? process.env.FASHIONML_DATA_DIR ?? '.data');
  mkdirSync(root, { recursive: true });
  return {
    root,
    featureStore: join(root, 'features.sqlite'),
    registry: join(root, 'registry'),
    images: join(root, 'images'),
    thumbs: join(root, 'images', 'thumbs'),
    photos: join(root, 'images', 'photos'),
    reports: join(root, 'reports'),
    demoSource: join(root, 'demo-catalog'),
  };
}
