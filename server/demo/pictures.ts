/**
 * Product pictures for the demo catalog: one SVG silhouette per article type (a T-shirt, trousers,
 * a dress, a shoe, a watch, a bag…) filled with the item's colour on a light background, rendered
 * by sharp into a 60×80 JPEG like the real Myntra photos. The same type and colour always look
 * alike, so an image model has something to learn; each item moves, scales and may be striped or
 * dotted a little, from its own seeded stream.
 */
import sharp from 'sharp';
import type { Shape } from './articles';
import type { Random } from './random';

export const PICTURE_WIDTH = 60;
export const PICTURE_HEIGHT = 80;

export type Pattern = 'plain' | 'stripes' | 'dots';

export interface PictureVariation {
  /** Offset of the silhouette in pixels. */
  dx: number;
  dy: number;
  /** Scale around the picture centre. */
  scale: number;
  pattern: Pattern;
  /** Stripe angle in degrees. */
  angle: number;
  /** Background grey level, 240–255. */
  background: number;
}

/** Small seeded changes from one item to the next; patterns only where the type can carry one. */
export function pictureVariation(random: Random, patterned: boolean): PictureVariation {
  const pattern: Pattern = patterned ? random.weighted<Pattern>(['plain', 'stripes', 'dots'], [0.6, 0.25, 0.15]) : 'plain';
  return {
    dx: Math.round(random.between(-3, 3) * 2) / 2,
    dy: Math.round(random.between(-3, 3) * 2) / 2,
    scale: Math.round(random.between(0.9, 1.05) * 100) / 100,
    pattern,
    angle: random.pick([0, 0, 90, 45]),
    background: 240 + random.int(16),
  };
}

function channels(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function toHex([r, g, b]: [number, number, number]): string {
  return `#${[r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
}

/** `hex` moved towards white (t > 0) or black (t < 0) by |t|. */
function shade(hex: string, t: number): string {
  const target = t > 0 ? 255 : 0;
  return toHex(channels(hex).map((v) => v + (target - v) * Math.abs(t)) as [number, number, number]);
}

function isLight(hex: string): boolean {
  const [r, g, b] = channels(hex);
  return 0.299 * r + 0.587 * g + 0.114 * b > 150;
}

/** Each silhouette: filled parts (painted with the garment fill) and detail lines (outline colour). */
const SHAPES: Record<Shape, { body: string[]; details?: string[]; extra?: (fill: string, line: string) => string }> = {
  tshirt: {
    body: ['M18,14 L25,11 Q30,16 35,11 L42,14 L52,25 L46,31 L42,27 L42,68 L18,68 L18,27 L14,31 L8,25 Z'],
    details: ['M25,11 Q30,16 35,11'],
  },
  shirt: {
    body: ['M19,15 L26,12 L34,12 L41,15 L49,42 L44,44 L41,30 L42,64 L18,64 L19,30 L16,44 L11,42 Z'],
    details: ['M26,12 L30,19 L34,12', 'M26,12 L27,21 L30,19 L33,21 L34,12', 'M30,19 L30,64', 'M34,30 L38,30 L38,34 L34,34 Z'],
  },
  top: {
    body: ['M22,16 L26,16 Q30,23 34,16 L38,16 L39,28 Q44,40 42,60 L18,60 Q16,40 21,28 Z'],
    details: ['M26,16 Q30,23 34,16', 'M21,34 Q30,37 39,34'],
  },
  kurta: {
    body: ['M20,10 L26,8 Q30,14 34,8 L40,10 L48,36 L44,38 L40,25 L42,75 L18,75 L20,25 L16,38 L12,36 Z'],
    details: ['M30,13 L30,26', 'M19,62 L19,75', 'M41,62 L41,75'],
  },
  jeans: {
    body: ['M18,8 L42,8 L45,74 L33,74 L30,28 L27,74 L15,74 Z'],
    details: ['M18,12 L42,12', 'M20,12 Q21,19 26,19', 'M40,12 Q39,19 34,19'],
  },
  trousers: {
    body: ['M18,8 L42,8 L44,74 L33,74 L30,26 L27,74 L16,74 Z'],
    details: ['M18,11 L42,11', 'M22,14 L21,74', 'M38,14 L39,74'],
  },
  shorts: {
    body: ['M16,22 L44,22 L47,54 L33,56 L30,36 L27,56 L13,54 Z'],
    details: ['M16,26 L44,26'],
  },
  dress: {
    body: ['M24,8 L27,8 Q30,13 33,8 L36,8 L38,27 L35,31 L48,73 L12,73 L25,31 L22,27 Z'],
    details: ['M25,31 L35,31'],
  },
  saree: {
    body: ['M22,8 L34,8 L38,30 L45,74 L15,74 L22,30 Z'],
    details: ['M15,70 L45,70'],
    extra: (_fill, line) => `<path d="M22,8 L34,8 L45,44 L38,47 Z" fill="${line}" opacity="0.55"/>`,
  },
  shoe: {
    body: ['M8,52 Q9,43 20,42 L30,41 Q36,47 46,48 Q53,50 53,56 L53,58 L8,58 Z'],
    details: ['M8,55 L53,55'],
  },
  sneaker: {
    body: ['M8,50 Q8,38 20,36 L28,36 Q34,44 46,46 Q54,48 54,54 L54,55 L8,55 Z'],
    details: ['M22,40 L27,38', 'M24,43 L29,41', 'M26,46 L31,44', 'M14,48 Q30,52 44,47'],
    extra: () => '<rect x="7" y="55" width="48" height="5" rx="2" fill="#f2f2f2" stroke="#9a9a9a" stroke-width="0.8"/>',
  },
  heels: {
    body: ['M11,36 Q11,32 15,32 L18,32 Q24,46 38,52 Q50,55 54,58 L53,61 L24,58 L17,50 L16,66 L12,66 Z'],
    details: ['M17,50 L24,58'],
  },
  watch: {
    body: ['M25,4 L35,4 L35,76 L25,76 Z'],
    details: ['M25,20 L35,20', 'M25,60 L35,60'],
    extra: (fill, line) =>
      `<circle cx="30" cy="40" r="12" fill="${fill}" stroke="${line}" stroke-width="1.2"/>` +
      '<circle cx="30" cy="40" r="9" fill="#fbfbfb" stroke="#b0b0b0" stroke-width="0.6"/>' +
      `<path d="M30,40 L30,33 M30,40 L35,42" stroke="${line}" stroke-width="1.2" fill="none"/>`,
  },
  handbag: {
    body: ['M12,36 L48,36 L52,70 L8,70 Z'],
    details: ['M12,44 L48,44', 'M28,44 L28,50 L32,50 L32,44'],
    extra: (_fill, line) => `<path d="M20,36 Q20,18 30,18 Q40,18 40,36" fill="none" stroke="${line}" stroke-width="2.5"/>`,
  },
  backpack: {
    body: ['M22,18 Q30,10 38,18 L44,20 Q47,21 47,26 L47,70 Q47,73 44,73 L16,73 Q13,73 13,70 L13,26 Q13,21 16,20 Z'],
    details: ['M19,46 L41,46 L41,66 L19,66 Z', 'M19,52 L41,52'],
    extra: (_fill, line) => `<path d="M26,14 Q30,7 34,14" fill="none" stroke="${line}" stroke-width="2"/>`,
  },
  sunglasses: {
    body: ['M8,34 L27,34 Q28,46 18,47 Q8,47 8,38 Z', 'M33,34 L52,34 L52,38 Q52,47 42,47 Q32,46 33,34 Z'],
    details: ['M27,36 Q30,33 33,36', 'M8,35 L4,33', 'M52,35 L56,33'],
  },
};

/** The SVG of one item's picture, 60×80 user units. */
export function pictureSvg(shape: Shape, colourHex: string, variation: PictureVariation): string {
  const spec = SHAPES[shape];
  const line = isLight(colourHex) ? shade(colourHex, -0.45) : shade(colourHex, -0.35);
  const accent = isLight(colourHex) ? shade(colourHex, -0.3) : shade(colourHex, 0.55);
  const bg = toHex([variation.background, variation.background, variation.background]);
  let defs = '';
  let fill = colourHex;
  if (variation.pattern === 'stripes') {
    defs =
      `<pattern id="p" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(${variation.angle})">` +
      `<rect width="6" height="6" fill="${colourHex}"/><rect width="6" height="2" fill="${accent}"/></pattern>`;
    fill = 'url(#p)';
  } else if (variation.pattern === 'dots') {
    defs =
      '<pattern id="p" width="5" height="5" patternUnits="userSpaceOnUse">' +
      `<rect width="5" height="5" fill="${colourHex}"/><circle cx="2.5" cy="2.5" r="1.1" fill="${accent}"/></pattern>`;
    fill = 'url(#p)';
  }
  const cx = PICTURE_WIDTH / 2;
  const cy = PICTURE_HEIGHT / 2;
  const transform = `translate(${cx + variation.dx} ${cy + variation.dy}) scale(${variation.scale}) translate(${-cx} ${-cy})`;
  const body = spec.body.map((d) => `<path d="${d}" fill="${fill}" stroke="${line}" stroke-width="1" stroke-linejoin="round"/>`).join('');
  const details = (spec.details ?? []).map((d) => `<path d="${d}" fill="none" stroke="${line}" stroke-width="0.8"/>`).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PICTURE_WIDTH}" height="${PICTURE_HEIGHT}" viewBox="0 0 ${PICTURE_WIDTH} ${PICTURE_HEIGHT}">` +
    `<defs>${defs}</defs><rect width="${PICTURE_WIDTH}" height="${PICTURE_HEIGHT}" fill="${bg}"/>` +
    `<g transform="${transform}">${body}${details}${spec.extra?.(fill, line) ?? ''}</g></svg>`
  );
}

/** Renders an item's picture as a 60×80 baseline JPEG (same input, same bytes). */
export async function renderPicture(shape: Shape, colourHex: string, variation: PictureVariation): Promise<Buffer> {
  return sharp(Buffer.from(pictureSvg(shape, colourHex, variation)))
    .resize(PICTURE_WIDTH, PICTURE_HEIGHT, { fit: 'fill' })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 90 })
    .toBuffer();
}
