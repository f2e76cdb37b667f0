/**
 * Renders the PWA icons from the SVG sources in public/. Run after changing the artwork:
 *   npx tsx scripts/make-icons.ts
 * The PNGs are committed, so a build needs no image tooling.
 */
import sharp from 'sharp';

const sizes = [
  { source: 'public/favicon.svg', out: 'public/icons/icon-192.png', size: 192 },
  { source: 'public/favicon.svg', out: 'public/icons/icon-512.png', size: 512 },
  { source: 'public/icons/maskable.svg', out: 'public/icons/maskable-512.png', size: 512 },
  { source: 'public/favicon.svg', out: 'public/icons/apple-touch-icon-180.png', size: 180 },
];

for (const { source, out, size } of sizes) {
  await sharp(source, { density: 72 * (size / 64) }).resize(size, size).png({ compressionLevel: 9 }).toFile(out);
  console.log(`${out} (${size}×${size})`);
}
