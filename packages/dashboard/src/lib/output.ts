/** Command output as the terminal view keeps it: runs of stdout and stderr text, capped. */

export type Stream = 'stdout' | 'stderr';

export interface Chunk {
  readonly stream: Stream;
  readonly text: string;
}

export interface Output {
  readonly chunks: readonly Chunk[];
  /** Characters dropped from the start to stay under the cap. */
  readonly dropped: number;
}

export const EMPTY_OUTPUT: Output = { chunks: [], dropped: 0 };

/** Default cap on what one view holds (characters): enough to read, bounded so a flood cannot freeze the page. */
export const MAX_OUTPUT_CHARS = 1_000_000;

/** Appends text, merging it into the last run when the stream is the same; drops the oldest text beyond `maxChars`. */
export function appendOutput(out: Output, stream: Stream, text: string, maxChars = MAX_OUTPUT_CHARS): Output {
  if (text === '') return out;
  const chunks = [...out.chunks];
  const last = chunks.at(-1);
  if (last?.stream === stream) chunks[chunks.length - 1] = { stream, text: last.text + text };
  else chunks.push({ stream, text });
  let total = chunks.reduce((n, c) => n + c.text.length, 0);
  let dropped = out.dropped;
  while (total > maxChars) {
    const first = chunks[0];
    if (!first) break;
    const excess = total - maxChars;
    if (first.text.length <= excess) {
      chunks.shift();
      total -= first.text.length;
      dropped += first.text.length;
    } else {
      chunks[0] = { stream: first.stream, text: first.text.slice(excess) };
      total -= excess;
      dropped += excess;
    }
  }
  return { chunks, dropped };
}

/** The whole text of a stream (for tests and copying). */
export function textOf(out: Output, stream?: Stream): string {
  return out.chunks
    .filter((c) => stream === undefined || c.stream === stream)
    .map((c) => c.text)
    .join('');
}
