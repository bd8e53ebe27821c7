/** `--nats` URL lists and the name → key-token encoding of relay/jetstream/. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNatsUrls } from '../../relay/jetstream/urls';
import { fromToken, token } from '../../relay/jetstream/keys';

test('--nats: a comma-separated list of nats:// or tls:// URLs; a bare host:port is nats://; duplicates once', () => {
  assert.deepEqual(parseNatsUrls('nats://a:4222, b:4223,tls://c:4224,nats://a:4222'), { urls: ['nats://a:4222', 'nats://b:4223', 'tls://c:4224'] });
  assert.deepEqual(parseNatsUrls('nats://h'), { urls: ['nats://h'] });
});

test('--nats: refused with a line that says what to do', () => {
  const problem = (v: string) => {
    const r = parseNatsUrls(v);
    assert.ok('problem' in r, v);
    return r.problem;
  };
  assert.match(problem(''), /at least one URL/);
  assert.match(problem(' , '), /at least one URL/);
  assert.match(problem('http://a:80'), /not a nats:\/\/ or tls:\/\/ URL/);
  assert.match(problem('nats://user:pw@a:4222'), /--nats-creds/);
  assert.match(problem('nats://a:99999'), /not a URL/);
});

test('key tokens: one token per name, no dots or wildcards, distinct names stay distinct, reversible', () => {
  const names = ['alice', 'a.b', 'a', 'b.c', 'x*y', 'x>y', 'ünï', '01a2-…', 'a b'];
  const tokens = names.map(token);
  for (const t of tokens) assert.match(t, /^[A-Za-z0-9_-]+$/);
  assert.equal(new Set(tokens).size, names.length);
  assert.deepEqual(tokens.map(fromToken), names);
  assert.throws(() => token(''));
});
