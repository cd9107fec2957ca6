import { describe, expect, it } from 'vitest';

import en from './en.json';
import ko from './ko.json';

/** Every key path of a catalogue, `a.b.c`. */
function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) {
    return [prefix];
  }
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

/** `{{name}}` placeholders of a message. */
const placeholders = (message: string) =>
  [...message.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

describe('message catalogues', () => {
  it('English and Korean have exactly the same keys', () => {
    expect(keys(ko).sort()).toEqual(keys(en).sort());
  });

  it('no message is empty, and each keeps the same placeholders in both languages', () => {
    const at = (c: unknown, key: string): unknown =>
      key.split('.').reduce<unknown>((o, part) => (o as Record<string, unknown>)[part], c);
    const flat = (c: unknown) => Object.fromEntries(keys(c).map((k) => [k, at(c, k)]));
    const [e, k] = [flat(en), flat(ko)];
    for (const key of Object.keys(e)) {
      expect(String(e[key]).trim(), key).not.toBe('');
      expect(String(k[key]).trim(), key).not.toBe('');
      expect(placeholders(String(k[key])), key).toEqual(placeholders(String(e[key])));
    }
  });

  it('words every error code the server can send', async () => {
    const { ErrorCode } = await import('../../../src/common/error-codes');
    const { Refusal } = await import('../../../src/booking/booking-rules');
    for (const code of [...Object.values(ErrorCode), ...Object.values(Refusal)]) {
      expect(Object.keys(en.errors), code).toContain(code);
    }
  });
});
