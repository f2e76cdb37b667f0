/**
 * What the demo catalog is made of: the article types (with the category path, genders and usages
 * they come in, in proportions loosely following the real Myntra catalog), the colours and the
 * seasons. Values are spelled as in the Kaggle data so the same importer and reports apply.
 */

export const DEMO_GENDERS = ['Men', 'Women', 'Unisex', 'Boys', 'Girls'] as const;
export type DemoGender = (typeof DEMO_GENDERS)[number];

export const DEMO_SEASONS = ['Summer', 'Fall', 'Winter', 'Spring'] as const;
export const SEASON_WEIGHTS = [0.4, 0.26, 0.2, 0.14];

/** The silhouette a picture is drawn from (see pictures.ts). */
export type Shape =
  | 'tshirt'
  | 'shirt'
  | 'top'
  | 'kurta'
  | 'jeans'
  | 'trousers'
  | 'shorts'
  | 'dress'
  | 'saree'
  | 'shoe'
  | 'sneaker'
  | 'heels'
  | 'watch'
  | 'handbag'
  | 'backpack'
  | 'sunglasses';

/** The twelve demo colours (Kaggle `baseColour` names) and how they are painted. */
export const DEMO_COLOURS = {
  Black: '#242424',
  White: '#f7f7f5',
  'Navy Blue': '#1e2c57',
  Blue: '#2f6fdc',
  Red: '#d12f2f',
  Green: '#2f7d3a',
  Grey: '#8d8d8d',
  Pink: '#f38fb5',
  Yellow: '#f6c531',
  Brown: '#7a5344',
  Purple: '#7a2aa0',
  Beige: '#d9c6a3',
} as const;
export type DemoColour = keyof typeof DEMO_COLOURS;
export const COLOUR_NAMES = Object.keys(DEMO_COLOURS) as DemoColour[];

export interface ArticleSpec {
  articleType: string;
  masterCategory: string;
  subCategory: string;
  shape: Shape;
  /** How often this type appears, relative to the others. */
  weight: number;
  genders: Partial<Record<DemoGender, number>>;
  usages: Record<string, number>;
  /** The product noun in titles ("Demo Navy Blue Slim Fit Shirt"). */
  noun: string;
  /** Style words for plain items; patterned ones are called "Striped" or "Polka Dot". */
  styles: readonly string[];
  /** Whether the picture may carry stripes or dots. */
  patterned: boolean;
  /** Colours this type comes in (all twelve when absent). */
  colours?: readonly DemoColour[];
}

export const ARTICLES: readonly ArticleSpec[] = [
  {
    articleType: 'Tshirts', masterCategory: 'Apparel', subCategory: 'Topwear', shape: 'tshirt', weight: 14,
    genders: { Men: 6, Women: 2, Boys: 1.5, Girls: 1, Unisex: 0.6 }, usages: { Casual: 4, Sports: 1 },
    noun: 'T-shirt', styles: ['Crew Neck', 'Polo', 'Graphic', 'V-Neck'], patterned: true,
  },
  {
    articleType: 'Shirts', masterCategory: 'Apparel', subCategory: 'Topwear', shape: 'shirt', weight: 9,
    genders: { Men: 6, Women: 1.5, Boys: 1 }, usages: { Casual: 3, Formal: 2 },
    noun: 'Shirt', styles: ['Slim Fit', 'Regular Fit', 'Oxford', 'Linen'], patterned: true,
  },
  {
    articleType: 'Tops', masterCategory: 'Apparel', subCategory: 'Topwear', shape: 'top', weight: 6,
    genders: { Women: 5, Girls: 1.5 }, usages: { Casual: 3, Party: 1 },
    noun: 'Top', styles: ['Sleeveless', 'Peplum', 'Wrap', 'Tank'], patterned: true,
  },
  {
    articleType: 'Kurtas', masterCategory: 'Apparel', subCategory: 'Topwear', shape: 'kurta', weight: 6,
    genders: { Women: 5, Men: 1 }, usages: { Ethnic: 1 },
    noun: 'Kurta', styles: ['Straight', 'A-Line', 'Embroidered', 'Printed'], patterned: true,
  },
  {
    articleType: 'Jeans', masterCategory: 'Apparel', subCategory: 'Bottomwear', shape: 'jeans', weight: 5,
    genders: { Men: 3, Women: 2, Boys: 0.5, Girls: 0.3 }, usages: { Casual: 1 },
    noun: 'Jeans', styles: ['Skinny Fit', 'Slim Fit', 'Straight Fit', 'Bootcut'], patterned: false,
    colours: ['Blue', 'Navy Blue', 'Black', 'Grey', 'White'],
  },
  {
    articleType: 'Trousers', masterCategory: 'Apparel', subCategory: 'Bottomwear', shape: 'trousers', weight: 3,
    genders: { Men: 3, Women: 1 }, usages: { Formal: 2, Casual: 1 },
    noun: 'Trousers', styles: ['Pleated', 'Flat Front', 'Chino', 'Tapered'], patterned: false,
    colours: ['Black', 'Navy Blue', 'Grey', 'Beige', 'Brown', 'White'],
  },
  {
    articleType: 'Shorts', masterCategory: 'Apparel', subCategory: 'Bottomwear', shape: 'shorts', weight: 4,
    genders: { Men: 3, Women: 1, Boys: 1, Girls: 0.6 }, usages: { Casual: 2, Sports: 1 },
    noun: 'Shorts', styles: ['Cargo', 'Denim', 'Running', 'Bermuda'], patterned: true,
  },
  {
    articleType: 'Dresses', masterCategory: 'Apparel', subCategory: 'Dress', shape: 'dress', weight: 5,
    genders: { Women: 4, Girls: 1 }, usages: { Casual: 2, Party: 2 },
    noun: 'Dress', styles: ['Maxi', 'Fit and Flare', 'Shift', 'A-Line'], patterned: true,
  },
  {
    articleType: 'Sarees', masterCategory: 'Apparel', subCategory: 'Saree', shape: 'saree', weight: 3,
    genders: { Women: 1 }, usages: { Ethnic: 1 },
    noun: 'Saree', styles: ['Silk', 'Georgette', 'Chiffon', 'Cotton'], patterned: true,
  },
  {
    articleType: 'Casual Shoes', masterCategory: 'Footwear', subCategory: 'Shoes', shape: 'shoe', weight: 6,
    genders: { Men: 4, Women: 1, Unisex: 1, Boys: 0.3 }, usages: { Casual: 1 },
    noun: 'Casual Shoes', styles: ['Loafer', 'Slip-On', 'Lace-Up', 'Canvas'], patterned: false,
  },
  {
    articleType: 'Sports Shoes', masterCategory: 'Footwear', subCategory: 'Shoes', shape: 'sneaker', weight: 5,
    genders: { Men: 3, Women: 1.5, Unisex: 0.3 }, usages: { Sports: 1 },
    noun: 'Sneakers', styles: ['Running', 'Training', 'Walking'], patterned: false,
  },
  {
    articleType: 'Heels', masterCategory: 'Footwear', subCategory: 'Shoes', shape: 'heels', weight: 3,
    genders: { Women: 1 }, usages: { Casual: 1, Party: 1, Formal: 0.5 },
    noun: 'Heels', styles: ['Stiletto', 'Block', 'Pointed Toe'], patterned: false,
  },
  {
    articleType: 'Watches', masterCategory: 'Accessories', subCategory: 'Watches', shape: 'watch', weight: 5,
    genders: { Men: 3, Women: 2, Unisex: 0.5 }, usages: { Casual: 2, Formal: 1 },
    noun: 'Watch', styles: ['Analog', 'Chronograph', 'Minimal'], patterned: false,
    colours: ['Black', 'Brown', 'Grey', 'White', 'Navy Blue', 'Blue', 'Pink', 'Beige'],
  },
  {
    articleType: 'Handbags', masterCategory: 'Accessories', subCategory: 'Bags', shape: 'handbag', weight: 5,
    genders: { Women: 1 }, usages: { Casual: 2, Formal: 1 },
    noun: 'Handbag', styles: ['Tote', 'Satchel', 'Shoulder', 'Structured'], patterned: true,
  },
  {
    articleType: 'Backpacks', masterCategory: 'Accessories', subCategory: 'Bags', shape: 'backpack', weight: 3,
    genders: { Unisex: 3, Men: 0.4, Women: 0.3 }, usages: { Casual: 2, Sports: 1 },
    noun: 'Backpack', styles: ['Laptop', 'Daypack', 'Rucksack'], patterned: false,
  },
  {
    articleType: 'Sunglasses', masterCategory: 'Accessories', subCategory: 'Eyewear', shape: 'sunglasses', weight: 3,
    genders: { Men: 2, Women: 1.3, Unisex: 0.7 }, usages: { Casual: 1 },
    noun: 'Sunglasses', styles: ['Aviator', 'Wayfarer', 'Round', 'Oversized'], patterned: false,
    colours: ['Black', 'Brown', 'Grey', 'Blue', 'Green', 'Red', 'Pink', 'Purple'],
  },
];
