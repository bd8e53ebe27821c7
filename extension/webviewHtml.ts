/** The conversation webview's HTML: static skeleton, strict CSP with a per-load nonce. No vscode. */

export function makeNonce(random: (n: number) => Uint8Array): string {
  return Buffer.from(random(18)).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export interface HtmlInputs {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  codiconUri: string;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** No peer data is ever interpolated here: the thread arrives later as typed messages. */
export function conversationHtml(i: HtmlInputs): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(i.cspSource, i.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(i.codiconUri)}">
<link rel="stylesheet" href="${attr(i.styleUri)}">
<title>Switchboard conversation</title>
</head>
<body>
<div class="top"><span class="codicon codicon-comment-discussion"></span><h1 id="peer"></h1><div id="trust" class="trust" role="status" hidden><span id="trust-icon" class="codicon"></span><span id="trust-text" class="trust-text"></span><button id="verify" class="button secondary" type="button">Verify Safety Number…</button></div></div>
<div id="members" class="members-wrap" hidden></div>
<div id="banner" class="banner" role="status" hidden></div>
<div id="drop-hint" class="drop-hint" hidden>Drop files from the Explorer to attach them</div>
<main id="scroller" aria-live="polite">
<div class="older-wrap"><button id="older" class="button secondary" type="button" hidden>Load older messages</button></div>
<div id="empty" class="empty" hidden>No messages yet. Say hello below.</div>
<div id="thread" role="log" aria-label="Messages"></div>
</main>
<form id="composer" class="composer">
<div id="replying" class="replying" hidden><span class="codicon codicon-reply"></span><span id="replying-text" class="replying-text"></span><button id="replying-cancel" class="icon-button codicon codicon-close" type="button" title="Cancel reply" aria-label="Cancel reply"></button></div>
<div id="pending" class="pending" hidden></div>
<div class="row"><button id="attach" class="icon-button codicon codicon-attach" type="button" title="Attach files…" aria-label="Attach files…"></button><textarea id="input" rows="3" placeholder="Message (Enter to send, Shift+Enter for a new line)" aria-label="Message"></textarea><button id="send" class="button" type="submit"><span class="codicon codicon-send"></span>Send</button></div>
<div id="verdict" class="verdict" role="status" hidden></div>
</form>
<script nonce="${attr(i.nonce)}" src="${attr(i.scriptUri)}"></script>
</body>
</html>`;
}
