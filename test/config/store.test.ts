/** ConfigStore.derived: computed once per change, one getter per selector, no listener per getter. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigStore } from '../../src/config/store.ts';

test('a derived value is computed once per change, after a batch ends, and shared by everyone who asks', async () => {
  const store = new ConfigStore(() => ({ port: 1812 }));
  let computed = 0;
  const select = (m: Readonly<{ port: number }>) => (computed++, { port: m.port });
  const get = store.derived(select);
  assert.equal(store.derived(select), get, 'the same getter for the same selector');
  for (let i = 0; i < 20; i++) store.derived((m) => m.port);
  assert.equal(store.listenerCount('change'), 1, 'no listener per getter');

  assert.equal(get().port, 1812);
  assert.equal(get(), get());
  assert.equal(computed, 1);
  store.update((m) => void (m.port = 1645));
  assert.equal(get().port, 1645);
  assert.equal(computed, 2);

  await store.batch(async () => {
    store.update((m) => void (m.port = 1));
    assert.equal(get().port, 1645, 'held back until the batch ends, like the change event');
  });
  assert.equal(get().port, 1);
  store.reset();
  assert.equal(get().port, 1812);
});
