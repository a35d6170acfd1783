/**
 * RFC 6962 (Certificate Transparency) Merkle tree hashes over event hashes:
 *
 *   MTH({})    = SHA-256()
 *   MTH({d0})  = SHA-256(0x00 || d0)                     (a leaf)
 *   MTH(D[n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   k = the largest power of two < n
 *
 * where each leaf's data d is the event hash's 32 raw bytes.
 *
 * The frontier keeps the roots of the perfect subtrees that make up the first
 * n leaves, one per set bit of n, largest first: appending is a binary
 * increment (O(1) amortised hashes) and the root folds them from the right
 * (O(log n)), so a checkpoint never rereads the log. Folding from the right is
 * exactly RFC 6962's split: the first subtree is the largest power of two < n.
 */
import { createHash } from 'node:crypto';
import { sha256Bytes } from './hash.js';

const HEX64 = /^[0-9a-f]{64}$/;

export const EMPTY_ROOT = createHash('sha256').digest('hex');

export const isHash = (s: unknown): s is string => typeof s === 'string' && HEX64.test(s);

export function leafHash(eventHash: string): Buffer {
  const b = Buffer.allocUnsafe(33);
  b[0] = 0x00;
  b.write(eventHash, 1, 'hex');
  return sha256Bytes(b);
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  const b = Buffer.allocUnsafe(65);
  b[0] = 0x01;
  left.copy(b, 1);
  right.copy(b, 33);
  return sha256Bytes(b);
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

export class MerkleFrontier {
  #size: number;
  /** Subtree roots, largest first; #levels[i] is log2 of the leaves under #nodes[i]. */
  readonly #nodes: Buffer[];
  readonly #levels: number[];

  private constructor(size: number, nodes: Buffer[], levels: number[]) {
    this.#size = size;
    this.#nodes = nodes;
    this.#levels = levels;
  }

  static empty(): MerkleFrontier {
    return new MerkleFrontier(0, [], []);
  }

  /**
   * Rebuilds a frontier saved with `hashes()`. Returns undefined when the
   * hashes cannot be the frontier of `size` leaves (wrong count or not hex).
   */
  static restore(size: number, hashes: readonly unknown[]): MerkleFrontier | undefined {
    if (!Number.isSafeInteger(size) || size < 0 || hashes.length !== popcount(size) || !hashes.every(isHash)) return undefined;
    const levels: number[] = [];
    for (let bit = 52; bit >= 0; bit--) if (Math.floor(size / 2 ** bit) % 2 === 1) levels.push(bit);
    return new MerkleFrontier(size, hashes.map((h) => Buffer.from(h, 'hex')), levels);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends the leaf for one event hash (hex). */
  push(eventHash: string): void {
    let node = leafHash(eventHash);
    let level = 0;
    while (this.#levels.length > 0 && this.#levels[this.#levels.length - 1] === level) {
      this.#levels.pop();
      node = nodeHash(this.#nodes.pop()!, node);
      level++;
    }
    this.#nodes.push(node);
    this.#levels.push(level);
    this.#size++;
  }

  /** MTH over every leaf pushed so far, hex. */
  root(): string {
    const n = this.#nodes.length;
    if (n === 0) return EMPTY_ROOT;
    let acc = this.#nodes[n - 1]!;
    for (let i = n - 2; i >= 0; i--) acc = nodeHash(this.#nodes[i]!, acc);
    return acc.toString('hex');
  }

  /** The subtree roots, largest first, hex: what `restore` takes. */
  hashes(): string[] {
    return this.#nodes.map((b) => b.toString('hex'));
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier(this.#size, [...this.#nodes], [...this.#levels]);
  }
}

/** MTH by the RFC's recursive definition, O(n log n): the reference the frontier is tested against. */
export function merkleRoot(eventHashes: readonly string[]): string {
  const mth = (from: number, to: number): Buffer => {
    const n = to - from;
    if (n === 1) return leafHash(eventHashes[from]!);
    let k = 1;
    while (k * 2 < n) k *= 2;
    return nodeHash(mth(from, from + k), mth(from + k, to));
  };
  return eventHashes.length === 0 ? EMPTY_ROOT : mth(0, eventHashes.length).toString('hex');
}
