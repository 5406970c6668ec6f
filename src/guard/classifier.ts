import { z } from 'zod';

/** A tenant's external classifier (docs/guardrails.md): an HTTP endpoint that judges a message. */
export const classifierSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    /** Sent with every request, e.g. `Authorization: Bearer ${CLASSIFIER_TOKEN}`. */
    headers: z.record(z.string(), z.string()).default({}),
    directions: z.array(z.enum(['in', 'out'])).min(1).default(['in', 'out']),
    timeoutMs: z.number().int().positive().max(30_000).default(1000),
    /** Largest request body sent; a bigger message is not sent, and counts as the classifier being unavailable. */
    maxBytes: z.number().int().positive().max(16 * 1024 * 1024).default(64 * 1024),
    /** What an unavailable classifier means (an error, a time-out, an answer that is not a verdict, a message over maxBytes). */
    onError: z.enum(['deny', 'allow']).default('deny'),
  })
  .strict();

export type ClassifierConfig = z.infer<typeof classifierSchema>;

const verdictSchema = z.object({ verdict: z.enum(['allow', 'flag', 'block']), reason: z.string().max(500).optional(), categories: z.array(z.string().max(100)).max(50).optional() });

export type ClassifierVerdict = z.infer<typeof verdictSchema>;

/** What the classifier is asked: the message, and where it goes. */
export interface ClassifierRequest {
  tenant: string;
  direction: 'in' | 'out';
  upstream: string;
  name: string;
  content: unknown;
}

/** Largest answer read from a classifier. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Asks the classifier for a verdict: POST of {@link ClassifierRequest} as JSON, answered with
 * `{"verdict": "allow" | "flag" | "block", "reason"?, "categories"?}`. Resolves the verdict, or the reason the
 * classifier could not give one (the caller applies `onError`).
 */
export async function classify(config: ClassifierConfig, request: ClassifierRequest, fetcher: typeof fetch): Promise<ClassifierVerdict | { unavailable: string }> {
  const body = JSON.stringify(request);
  if (new TextEncoder().encode(body).length > config.maxBytes) return { unavailable: 'the message is over the classifier\'s maxBytes' };
  try {
    const response = await fetcher(config.url, {
      method: 'POST',
      headers: { ...config.headers, 'content-type': 'application/json', accept: 'application/json' },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(config.timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) return { unavailable: `the classifier answered ${response.status}` };
    if (text.length > MAX_ANSWER_BYTES) return { unavailable: 'the classifier\'s answer is too large' };
    const verdict = verdictSchema.safeParse(JSON.parse(text));
    return verdict.success ? verdict.data : { unavailable: 'the classifier\'s answer is not a verdict' };
  } catch (error) {
    return { unavailable: error instanceof Error && error.name === 'TimeoutError' ? 'the classifier did not answer in time' : 'the classifier could not be reached or answered with something other than JSON' };
  }
}
