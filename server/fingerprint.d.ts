export interface SendContent {
    to: string;
    body: string;
    reply_to?: string | null;
    request_id?: string | null;
}
export declare function fingerprint(content: SendContent): string;
