/**
 * Resources: `switchboard://inbox` (the newest messages) and `switchboard://conversation/{peer}`
 * (one conversation; listed from the core's conversations). A client that subscribes
 * (resources/subscribe) is sent `notifications/resources/updated` when a message arrives for a
 * resource it watches, so it is pushed instead of polling. The event stream behind that is
 * opened on the first subscription and resumes across core restarts like every other.
 */
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import type { Message } from '../../protocol/rpc';
import type { Subscription } from './core-link';
import type { ToolContext } from './message-tools';
import { toMcpMessage, UNTRUSTED_NOTICE } from './untrusted';
import type { Log } from './core-link';

export const INBOX_URI = 'switchboard://inbox';
const CONVERSATION_PREFIX = 'switchboard://conversation/';

/** `#team` travels as `%23team` in a URI. */
export function conversationUri(peer: string): string {
  return `${CONVERSATION_PREFIX}${encodeURIComponent(peer)}`;
}

/** A resource's text: JSON whose bodies are untrusted text objects, with the notice beside them. */
function json(uri: string, value: Record<string, unknown>): ReadResourceResult {
  return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ notice: UNTRUSTED_NOTICE, ...value }) }] };
}

export function registerResources(server: McpServer, { link }: ToolContext, log: Log): void {
  server.registerResource(
    'inbox',
    INBOX_URI,
    { title: 'Inbox', description: 'The newest 50 received messages, every conversation, newest first', mimeType: 'application/json' },
    async (uri) => {
      const r = await link.call('inbox/list', { limit: 50 });
      return json(uri.href, { messages: r.messages.map(toMcpMessage), has_more: r.has_more });
    },
  );

  server.registerResource(
    'conversation',
    new ResourceTemplate(`${CONVERSATION_PREFIX}{peer}`, {
      list: async () => {
        const r = await link.call('conversation/list', {});
        return { resources: r.conversations.map((c) => ({ uri: conversationUri(c.peer), name: c.peer, mimeType: 'application/json', description: `${c.kind} conversation, ${c.unread} unread of ${c.total}` })) };
      },
    }),
    { title: 'Conversation', description: 'The newest 50 messages with one user or #group, oldest first', mimeType: 'application/json' },
    async (uri, variables) => {
      const raw = variables.peer;
      const peer = decodeURIComponent(Array.isArray(raw) ? raw.join(',') : (raw ?? ''));
      const r = await link.call('conversation/messages', { peer, limit: 50 });
      return json(uri.href, { peer, messages: r.messages.map(toMcpMessage), has_more: r.has_more });
    },
  );

  const watched = new Set<string>();
  let feed: Promise<Subscription> | undefined;
  const changed = (m: Message) => {
    for (const uri of [INBOX_URI, conversationUri(m.conversation)]) if (watched.has(uri)) void server.server.sendResourceUpdated({ uri }).catch(() => {});
  };

  server.server.registerCapabilities({ resources: { subscribe: true } });
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    watched.add(normalize(request.params.uri));
    feed ??= link.subscribe(undefined, (name, params) => {
      if (name === 'message/received' || name === 'message/updated') changed(params.message);
    });
    try {
      await feed;
    } catch (error) {
      feed = undefined;
      log(`resource subscription: ${String(error)}`);
      throw error;
    }
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    watched.delete(normalize(request.params.uri));
    return {};
  });
}

/** One spelling per resource: `#` and `%23` alike, names in their canonical (lower) case. */
function normalize(uri: string): string {
  return uri.startsWith(CONVERSATION_PREFIX) ? conversationUri(decodeURIComponent(uri.slice(CONVERSATION_PREFIX.length)).toLowerCase()) : uri;
}
