/** The slice of a core connection the models need; vscode-free so tests can fake it. */
import type { Method, ParamsOf, ResultOf } from '../protocol/rpc';

export interface Rpc {
  request<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
}
