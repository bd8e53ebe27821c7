/**
 * Requests and notifications typed at the call site through protocol/rpc.ts's maps (`Requests`,
 * `Notifications`), vscode-eslint's pattern of one typed definition shared by both sides: a
 * method name fixes its params and result, a notification name fixes its payload, and nothing
 * in extension/ names a payload type by hand or casts a result. vscode-free so tests can fake it.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { Method, NotificationName, Notifications, ParamsOf, ResultOf } from '../protocol/rpc';
import type { IDisposable } from './lifecycle';

/** The slice of a core connection the models and commands need. */
export interface Rpc {
  request<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
}

/** What the typed wrappers need of a JSON-RPC client: vscode-languageclient's LanguageClient and vscode-jsonrpc's connection both have it. */
export interface JsonRpcClient {
  sendRequest<P, R, E>(type: RequestType<P, R, E>, params: P): Promise<R>;
  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): IDisposable;
}

/** The typed definition of a request: its name, params and result from protocol/rpc.ts's `Requests`. */
export function requestType<M extends Method>(method: M): RequestType<ParamsOf<M>, ResultOf<M>, unknown> {
  return new RequestType<ParamsOf<M>, ResultOf<M>, unknown>(method);
}

/** The typed definition of a notification: its name and payload from protocol/rpc.ts's `Notifications`. */
export function notificationType<N extends NotificationName>(name: N): NotificationType<Notifications[N]> {
  return new NotificationType<Notifications[N]>(name);
}

/** `method` with its params; the answer typed as that method's result. */
export function request<M extends Method>(client: JsonRpcClient, method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
  return client.sendRequest(requestType(method), params);
}

/** Calls `handler` with each `name` notification, its payload typed as `Notifications[name]`. */
export function onCoreNotification<N extends NotificationName>(client: JsonRpcClient, name: N, handler: (params: Notifications[N]) => void): IDisposable {
  return client.onNotification(notificationType(name), handler);
}
