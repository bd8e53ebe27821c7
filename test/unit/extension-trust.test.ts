/**
 * Trust in a peer's keys in the extension (docs/extension.md "Trust"): the Inbox model and its
 * rows against a real core (Core.start in this process on a temp home, asked over its socket as
 * the extension asks), the core's live `trust/changed`, a send the core refused with
 * key_changed said in a person's words, the conversation header's state, the Verify Safety
 * Number dialog and the typed number's check.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type TrustChanged, type TrustInfo } from '../../protocol/rpc';
import { InboxModel, type ConversationNode } from '../../extension/inboxModel';
import { conversationIconId, conversationItemText } from '../../extension/format';
import { keptDraft, mismatchText, safetyNumberDialog, safetyNumberInputProblem, sendRefusalText, threadTrust, trustRefusalCode } from '../../extension/trustText';
import type { Core } from '../../server/core';
import { PeerKeys } from '../../server/store/peer-keys';
import { signDeviceRecord } from '../../lib/node/e2e/device-record';
import { generateIdentity } from '../../lib/node/e2e/identity';
import { newId } from '../../lib/node/ids';
import { directStoreFields } from '../support/messages';
import { until } from '../support/wait';
import { withLiveCore, type LiveCore } from '../support/live-core';

interface Live extends LiveCore {
  /** Every trust/changed this client received, in order. */
  trust: TrustChanged[];
}

async function withCore(body: (live: Live) => Promise<void>): Promise<void> {
  const trust: TrustChanged[] = [];
  await withLiveCore('trust-test', (live) => body({ ...live, trust }), (name, params) => {
    if (name === 'trust/changed') trust.push(params);
  });
}

/** One message from `from`, stored as the sync engine stores a delivery, so `from` is a conversation and a peer. */
async function deliver(core: Core, from: string): Promise<void> {
  const repo = core.service.repo;
  await core.service.writes.run(() => {
    const id = newId();
    const now = new Date().toISOString();
    repo.insertMessage({ id, client_message_id: `c-${id}`, server_id: newId(), conversation: from, direction: 'in', from, to: 'me', body: `from ${from}`, reply_to: null, request_id: null, created_at: now, state: 'received', read: true, ...directStoreFields('in') });
    repo.touchPeer(from, now);
    repo.addEvent('message/received', id, now);
  });
}

/** `user`'s keys pinned, and a different key waiting beside them: what the core stores when the relay now lists another key. */
function pinChanged(core: Core, user: string): void {
  const device = 'd1';
  new PeerKeys(core.service.repo.db).put(user, { pinned: [signDeviceRecord(generateIdentity(), user, device, 1)], pending: [signDeviceRecord(generateIdentity(), user, device, 2)], verified: false }, new Date());
}

describe('the Inbox and a changed key, against a real core', () => {
  it('marks the user whose keys changed (peers/list), follows trust/changed, and the refused send says why', async () => {
    await withCore(async ({ core, rpc, trust }) => {
      await deliver(core, 'bob');
      await deliver(core, 'carol');
      pinChanged(core, 'bob');
      const model = new InboxModel(() => rpc, 50, 1);
      try {
        await model.refresh();
        const bob = model.conversation('bob')!;
        const carol = model.conversation('carol')!;
        assert.equal(bob.trust, 'changed');
        assert.equal(carol.trust, 'unverified');
        assert.equal(conversationIconId(bob), 'warning', 'the row’s badge');
        assert.match(conversationItemText(bob).description, /^keys changed · /);
        assert.match(conversationItemText(bob).tooltip, /^bob\nKeys changed: sends are blocked until you accept them \(Verify Safety Number…\)\n/);
        assert.equal(conversationIconId(carol), 'account');
        assert.doesNotMatch(conversationItemText(carol).description, /keys/);

        // the core refuses the send: nothing is stored, and the words say so
        const refused = await rpc.request('message/send', { to: 'bob', body: 'not while changed', client_message_id: newId() }).then(
          () => undefined,
          (err: unknown) => err,
        );
        assert.equal(trustRefusalCode(refused), 'key_changed');
        assert.equal(
          sendRefusalText('bob', refused, 'composer'),
          "Not sent to bob: bob's keys changed since you last saw them. Compare the safety number (Verify Safety Number…), accept the new keys, then send again. Your message is kept in the composer.",
        );
        assert.match(sendRefusalText('bob', refused, 'draft')!, /Your message is kept as the conversation's draft\.$/);
        assert.equal(sendRefusalText('bob', new Error('socket closed'), 'composer'), undefined, 'any other failure is not a trust refusal');

        // accepted (here; the CLI or another window alike): the core tells every client, and only bob's row changes
        const changed: (ConversationNode | undefined)[] = [];
        const sub = model.onDidChange((n) => changed.push(n));
        const accepted = await rpc.request('trust/accept', { user: 'bob' });
        assert.equal(accepted.trust, 'unverified');
        await until('trust/changed', () => trust.length > 0);
        assert.deepEqual(trust, [{ user: 'bob', trust: 'unverified' }]);
        for (const t of trust) model.applyTrust(t.user, t.trust);
        sub.dispose();
        assert.deepEqual(changed, [bob], 'the row alone, not the whole tree');
        assert.equal(bob.trust, 'unverified');
        assert.equal(conversationIconId(bob), 'account');
        assert.doesNotMatch(conversationItemText(bob).description, /keys changed/);

        // the same state again changes nothing (no needless tree refresh)
        const again: unknown[] = [];
        const sub2 = model.onDidChange((n) => again.push(n));
        model.applyTrust('bob', 'unverified');
        model.applyTrust('carol', 'unverified');
        sub2.dispose();
        assert.deepEqual(again, []);

        // what a window that was away (no trust/changed) learns on its next refresh
        pinChanged(core, 'carol');
        await model.refresh();
        assert.equal(model.conversation('carol'), carol, 'the same node, refreshed');
        assert.equal(carol.trust, 'changed');

        // a conversation that appears after its trust was said shows it
        model.applyTrust('dave', 'changed');
        await deliver(core, 'dave');
        await model.refreshConversations();
        assert.equal(model.conversation('dave')?.trust, 'changed');
      } finally {
        model.dispose();
      }
    });
  });
});

const info = (over: Partial<TrustInfo>): TrustInfo => ({
  user: 'bob',
  trust: 'unverified',
  safety_number: '12345 67890 12345 67890 12345 67890 12345 67890 12345 67890 12345 67890',
  new_safety_number: null,
  devices: 1,
  fresh: true,
  ...over,
});

describe('Verify Safety Number…: the dialog, the typed number, the header', () => {
  it('offers Mark as Verified for an unverified peer, with the number grouped as the CLI prints it', () => {
    const d = safetyNumberDialog(info({}));
    assert.equal(d.text, 'Safety number of you and bob');
    assert.deepEqual(d.actions, ['Mark as Verified']);
    assert.equal(d.detail.split('\n')[0], 'bob: unverified (1 device)');
    assert.equal(d.detail.split('\n')[2], 'Safety number: 12345 67890 12345 67890 12345 67890 12345 67890 12345 67890 12345 67890');
  });

  it('offers only Accept New Keys while the keys changed, with both numbers', () => {
    const d = safetyNumberDialog(info({ trust: 'changed', devices: 2, new_safety_number: '99999 00000 99999 00000 99999 00000 99999 00000 99999 00000 99999 00000' }));
    assert.deepEqual(d.actions, ['Accept New Keys']);
    const lines = d.detail.split('\n');
    assert.equal(lines[0], 'bob: keys changed (2 devices)');
    assert.equal(lines[3], 'New safety number: 99999 00000 99999 00000 99999 00000 99999 00000 99999 00000 99999 00000');
    assert.match(d.detail, /sends to bob are blocked/);
  });

  it('offers nothing more for a verified peer, and says when the relay could not be asked', () => {
    const d = safetyNumberDialog(info({ trust: 'verified', fresh: false }));
    assert.deepEqual(d.actions, []);
    assert.match(d.detail, /\(The relay could not be asked: these are the keys pinned before\.\)$/);
  });

  it('shows a peer-chosen name inert: hidden characters as escapes, one line', () => {
    const d = safetyNumberDialog(info({ user: 'bob\u202Eevil\nline' }));
    assert.doesNotMatch(d.text + d.detail, /\u202E/);
    assert.match(d.text, /<U\+202E>/);
    assert.equal(d.text.includes('\n'), false);
    assert.doesNotMatch(mismatchText('bob\u202E'), /\u202E/);
  });

  it('checks the typed number’s shape; spaces, dashes and line breaks are ignored', () => {
    assert.equal(safetyNumberInputProblem('12345 67890 12345 67890 12345 67890\n12345-67890 12345 67890 12345 67890'), undefined);
    assert.equal(safetyNumberInputProblem(''), 'Type or paste the 60 digits the other person reads out');
    assert.equal(safetyNumberInputProblem('12345 6789O'), 'A safety number is digits only (spaces and dashes are ignored)');
    assert.equal(safetyNumberInputProblem('1'.repeat(59)), 'A safety number has 60 digits; this has 59');
  });

  it('says a mismatch plainly: nothing marked', () => {
    assert.equal(mismatchText('bob'), 'Switchboard: that is not the safety number of you and bob. Nothing was marked verified. Compare it again with bob; if it truly differs, someone may be in the middle.');
  });

  it('keeps a refused palette send in the conversation\'s draft without losing the draft already there', () => {
    assert.equal(keptDraft('', 'are these your keys?'), 'are these your keys?');
    assert.equal(keptDraft('half a thought', 'are these your keys?'), 'half a thought\n\nare these your keys?');
    assert.equal(keptDraft('half a thought', ''), 'half a thought', 'files only: nothing to keep, the draft stays');
    assert.equal(keptDraft('   ', 'x'), 'x');
  });

  it('gives the conversation header a state for a user, none for a group', () => {
    assert.equal(threadTrust(true, 'changed'), null);
    assert.deepEqual(threadTrust(false, 'changed'), { state: 'changed', text: 'Keys changed: sends are blocked until you verify the safety number and accept the new keys.' });
    assert.deepEqual(threadTrust(false, 'verified'), { state: 'verified', text: 'Safety number verified' });
    assert.deepEqual(threadTrust(false, 'unverified'), { state: 'unverified', text: 'Safety number not verified' });
  });
});
