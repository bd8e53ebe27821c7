/**
 * The web-platform global the contracts use, which every runtime Switchboard ships on has
 * (Node, VS Code's extension host, the webview). protocol/ sees no node or DOM types at all
 * (its tsconfig.json), so the part of it they need is declared here and nothing else is.
 */
declare class URL {
  constructor(url: string, base?: string);
  readonly protocol: string;
  readonly hostname: string;
  readonly port: string;
  readonly username: string;
  readonly password: string;
  readonly search: string;
  readonly hash: string;
}

