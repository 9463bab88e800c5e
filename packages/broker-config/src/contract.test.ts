import { describe, expectTypeOf, it } from 'vitest';
import { encodeMessage } from './codec.js';
import type { PublicationName, PublicationPayload, SubscriptionPayload } from './index.js';

describe('the contract at compile time', () => {
  it('gives each publication and subscription its payload type', () => {
    expectTypeOf<PublicationPayload<'hello'>>().toEqualTypeOf<string>();
    expectTypeOf<SubscriptionPayload<'hello'>>().toEqualTypeOf<string>();
    expectTypeOf<PublicationPayload<'task_queue'>>().toEqualTypeOf<string>();
    expectTypeOf<PublicationName>().toEqualTypeOf<'hello' | 'task_queue'>();
  });

  it('refuses an unknown name or a payload of the wrong shape', () => {
    // Checked by `tsc` (the typecheck task): each line below must fail to compile.
    const mistakes = () => {
      // @ts-expect-error: no such message kind
      encodeMessage('goodbye', 'x');
      // @ts-expect-error: a hello payload is text
      encodeMessage('hello', { text: 'x' });
      // @ts-expect-error: no such publication
      expectTypeOf<PublicationPayload<'goodbye'>>();
    };
    expectTypeOf(mistakes).toBeFunction();
  });
});
