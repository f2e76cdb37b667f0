/**
 * A shopper's photo to pixels, in the page: decoded by the browser (EXIF orientation applied),
 * shrunk when it is far larger than the encoder needs, and read back as RGBA for the worker.
 */
import type { RgbaImage } from '../../../models/recommend/types';

/** Longest side kept; the encoder sees 64×64, so more only costs time. */
export const MAX_PHOTO_SIDE = 1024;

export async function decodePhoto(file: Blob): Promise<RgbaImage> {
  if (file.size === 0) throw new Error('The photo is empty (0 bytes)');
  if (file.type && !file.type.startsWith('image/')) throw new Error(`"${file.type}" is not a picture: choose a JPEG, PNG or WebP photo`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch (error) {
    throw new Error(`The photo could not be read (${error instanceof Error ? error.message : String(error)}): choose a JPEG, PNG or WebP picture`);
  }
  try {
    const scale = Math.min(1, MAX_PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('This browser cannot read picture pixels (no 2D canvas)');
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, width, height);
    const pixels = context.getImageData(0, 0, width, height);
    return { width, height, data: pixels.data };
  } finally {
    bitmap.close();
  }
}
