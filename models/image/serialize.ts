/**
 * The image encoder as TF.js-style files: a `model.json` (format, config, weights manifest) and one
 * little-endian float32 `weights.bin` holding every weight in manifest order. Pure data in and out:
 * reading and writing the files is the caller's business (Node trainer, browser sync).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { createEncoder, setWeights, weightSpecs } from './encoder';
import type { Encoder, EncoderConfig, NamedWeight } from './encoder';

type TF = typeof tfc;

export const MODEL_FORMAT = 'fashionml-image-encoder';
export const WEIGHTS_FILE = 'weights.bin';

export interface EncoderModelJson {
  format: typeof MODEL_FORMAT;
  version: 1;
  config: EncoderConfig;
  /** Anything the trainer wants to record (metrics, data version, class names). */
  meta: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: 'float32' }[] }[];
}

export function toArtifacts(config: EncoderConfig, weights: readonly NamedWeight[], meta: Record<string, unknown> = {}): { modelJson: EncoderModelJson; weightData: ArrayBuffer } {
  const total = weights.reduce((sum, w) => sum + w.data.length, 0);
  const data = new Float32Array(total);
  let offset = 0;
  for (const w of weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (size !== w.data.length) throw new Error(`Weight ${w.name}: shape [${w.shape.join(',')}] does not match ${w.data.length} values`);
    data.set(w.data, offset);
    offset += size;
  }
  const bytes = new Uint8Array(data.buffer);
  if (!littleEndian()) swap32(bytes);
  return {
    modelJson: {
      format: MODEL_FORMAT,
      version: 1,
      config,
      meta,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: weights.map((w) => ({ name: w.name, shape: [...w.shape], dtype: 'float32' as const })) }],
    },
    weightData: data.buffer,
  };
}

export function fromArtifacts(modelJson: EncoderModelJson, weightData: ArrayBuffer): { config: EncoderConfig; weights: NamedWeight[] } {
  if (modelJson.format !== MODEL_FORMAT || modelJson.version !== 1) throw new Error(`Not a ${MODEL_FORMAT} v1 model.json`);
  const specs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const total = specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
  if (weightData.byteLength !== total * 4) throw new Error(`Weights hold ${weightData.byteLength} bytes, the manifest needs ${total * 4}`);
  const bytes = new Uint8Array(weightData.slice(0));
  if (!littleEndian()) swap32(bytes);
  const all = new Float32Array(bytes.buffer);
  let offset = 0;
  const weights = specs.map((s) => {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const w = { name: s.name, shape: [...s.shape], data: all.slice(offset, offset + size) };
    offset += size;
    return w;
  });
  const expected = weightSpecs(modelJson.config).map((s) => s.name);
  const missing = expected.filter((name) => !weights.some((w) => w.name === name));
  if (missing.length > 0) throw new Error(`Weights lack ${missing.join(', ')}`);
  return { config: modelJson.config, weights };
}

/** An encoder ready to embed, from the two files' contents. */
export function loadEncoder(tf: TF, modelJson: EncoderModelJson, weightData: ArrayBuffer): Encoder {
  const { config, weights } = fromArtifacts(modelJson, weightData);
  const encoder = createEncoder(tf, config);
  setWeights(tf, encoder, weights);
  return encoder;
}

function littleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

function swap32(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const a = bytes[i] as number;
    const b = bytes[i + 1] as number;
    bytes[i] = bytes[i + 3] as number;
    bytes[i + 1] = bytes[i + 2] as number;
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
}
