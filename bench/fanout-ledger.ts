/**
 * The fan-out bench's tally: which member received which message, so a missing, duplicated or
 * unexpected delivery fails the bench instead of flattering its figure.
 */

/** Member i's user name (and the index the ledger knows it by). */
export const memberName = (i: number): string => `m${String(i).padStart(4, '0')}`;

/**
 * Every delivery of every member, by message index: `remaining[i]` members still to receive
 * message i; a member receiving one twice, or one never sent, is a failure recorded here.
 */
export class FanoutLedger {
  private readonly seen: Uint8Array[];
  readonly remaining: Int32Array;
  readonly failures: string[] = [];

  constructor(
    private readonly members: number,
    capacity: number,
    private readonly onComplete: () => void,
  ) {
    this.seen = Array.from({ length: members }, () => new Uint8Array(capacity));
    this.remaining = new Int32Array(capacity).fill(members);
  }

  delivered(member: number, clientMessageId: string, sent: number): void {
    const index = Number(clientMessageId.slice(clientMessageId.lastIndexOf('-') + 1));
    if (!Number.isInteger(index) || index < 0 || index >= sent) {
      this.failures.push(`${memberName(member)} received ${clientMessageId}, which was not sent`);
      return;
    }
    if (this.seen[member]![index]!++ > 0) {
      this.failures.push(`${memberName(member)} received ${clientMessageId} twice`);
      return;
    }
    if (--this.remaining[index]! === 0) this.onComplete();
  }

  /** Messages below `sent` some member never received, as "message: how many members lack it". */
  missing(sent: number): string[] {
    const lacking: string[] = [];
    for (let i = 0; i < sent; i++) if (this.remaining[i] !== 0) lacking.push(`message ${i}: ${this.remaining[i]} of ${this.members} members`);
    return lacking;
  }
}
