import { describe, expect, it, vi } from 'vitest';
import { matchingEncoderFiles, modelFile, modelJson, rankerPackParts } from './model-files';
import type { ModelFiles } from './model-files';
import { RANKER_META_FILE } from './pack';
import { handMeta, handPack } from './testing/hand-pack';

const bytes = (text: string): ArrayBuffer => new TextEncoder().encode(text).buffer as ArrayBuffer;

/** The hand pack as the sync stores it: ranker.json plus one float32 file per matrix. */
function handRanker(meta = handMeta()): ModelFiles {
  const pack = handPack();
  const f32 = (values: Float32Array) => values.slice().buffer;
  return {
    ref: 'fashion-ranker@7',
    files: {
      [RANKER_META_FILE]: bytes(JSON.stringify(meta)),
      'factors.f32': f32(pack.itemFactors),
      'image.f32': f32(pack.imageEmbeddings!),
      'content.f32': f32(pack.contentVectors!),
      'stats.f32': f32(pack.itemStats!),
    },
  };
}

describe('model files', () => {
  it('names the version and the files it has when one is missing, and the file that is not JSON', () => {
    const model: ModelFiles = { ref: 'image-encoder@2', files: { 'model.json': bytes('{"a":'), 'weights.bin': new ArrayBuffer(8) } };
    expect(modelFile(model, 'weights.bin').byteLength).toBe(8);
    expect(() => modelFile(model, 'other.bin')).toThrow('image-encoder@2 has no file other.bin (it has model.json, weights.bin)');
    expect(() => modelJson(model, 'model.json')).toThrow(/image-encoder@2: model\.json is not valid JSON/);
  });

  it('decodes a ranker pack into the engine parts, and refuses a file that is not one', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { parts, meta } = rankerPackParts(handRanker(), [], 1);
    expect(meta.itemIds).toEqual(handMeta().itemIds);
    expect(Array.from(parts.pack.itemFactors)).toEqual(Array.from(handPack().itemFactors));
    expect(warn).not.toHaveBeenCalled();
    rankerPackParts(handRanker(), [], 2);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/fashion-ranker@7 was trained on catalog version 1; this device has 2/));
    warn.mockRestore();
    expect(() => rankerPackParts(handRanker({ ...handMeta(), format: 'other' as never }), [], 1)).toThrow(/ranker\.json has format "other"/);
  });

  it('hands over the encoder only when it is the one the pack’s embeddings came from, and says why not', () => {
    const encoder: ModelFiles = { ref: 'image-encoder@1', files: { 'model.json': bytes('{"format":"fashionml-image-encoder"}'), 'weights.bin': new ArrayBuffer(4) } };
    const match = matchingEncoderFiles('fashion-ranker@7', 'image-encoder@1', encoder);
    expect('files' in match && match.files.weights.byteLength).toBe(4);
    expect(matchingEncoderFiles('fashion-ranker@7', null, encoder)).toEqual({ reason: 'fashion-ranker@7 carries no image embeddings' });
    expect(matchingEncoderFiles('fashion-ranker@7', 'image-encoder@1', undefined)).toEqual({ reason: 'the image encoder image-encoder@1 has not been synced' });
    expect(matchingEncoderFiles('fashion-ranker@7', 'image-encoder@3', encoder)).toEqual({
      reason: 'the synced image encoder image-encoder@1 is not image-encoder@3, whose embeddings the pack holds',
    });
  });
});
