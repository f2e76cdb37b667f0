/**
 * The request a batch recommendation makes of the engine for one shopper (`fashionml recommend`, for
 * e-mails and outside evaluation) and that the real-shop evaluation scores: one definition, so what
 * a shop sends out is what was measured. Bought items stay eligible: in fashion a shopper's next
 * purchase is often a repeat of a basic, and the ranker decides whether it ranks.
 */
import type { FeedRequest, HistoryEvent } from './types';

export function batchFeedRequest(history: HistoryEvent[], now: number, k: number): FeedRequest {
  // Nobody reads a batch row's explanation: skipping it saves the explainer's solve per shopper.
  return { history, now, k, diversity: 0, filters: { excludePurchased: false }, explain: false };
}
