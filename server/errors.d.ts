/** Errors raised on purpose: they cross the socket as JSON-RPC errors and reach the user as one line. */
import { type ErrorCode, type ErrorData } from '../protocol/rpc';
import type { DiskFullError } from '../lib/node/storage-errors';
export declare class CoreError extends Error {
    readonly code: ErrorCode;
    readonly data: ErrorData;
    constructor(code: ErrorCode, message: string, data: ErrorData);
}
export declare const notFound: (what: string) => CoreError;
export declare const invalidParams: (message: string) => CoreError;
/** A write met a full disk: the message says where, and what to do. */
export declare const diskFull: (error: DiskFullError) => CoreError;
export declare const invalidState: (message: string) => CoreError;
