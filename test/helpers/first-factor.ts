/** First-factor doubles for the login and registration tests. */
import type { FirstFactorResult, FirstFactorSource } from '../../src/auth/types.ts';

/** A first factor behind a counter (how often it was asked); `answer` overrides it (a silent RADIUS host: 'timeout'). */
export class Counted implements FirstFactorSource {
  asked = 0;
  answer: FirstFactorResult['answer'] | undefined;
  constructor(private readonly inner: FirstFactorSource) {}
  async check(user: string, password: Buffer): Promise<FirstFactorResult> {
    this.asked++;
    return this.answer ? { answer: this.answer } : this.inner.check(user, password);
  }
}
