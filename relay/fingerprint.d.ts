import type { SendFrame } from '../protocol/relay';
export declare function sendFingerprint(message: SendFrame['message']): string;
