/**
 * What the scanner reports. A detector looks at a file's bytes as they stream
 * past and reports findings; the verdict engine combines them.
 */

/** How bad a finding would be if it is what it looks like. */
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

/** Overall level of a verdict. */
export type Level = 'clean' | 'suspicious' | 'malicious' | 'critical';

export interface Evidence {
  /** Byte offset in the scanned file (for a member of an archive: inside that member). */
  readonly offset: number;
  readonly length: number;
  /** A short, printable excerpt (escaped, at most ~80 characters). */
  readonly excerpt?: string;
}

export interface Finding {
  /** The detector that found it: size, magic, entropy, patterns, secrets, archive. */
  readonly detector: string;
  /** Stable rule id, e.g. `magic/elf-executable`, `patterns/reverse-shell-bash`, `secrets/aws-access-key`. */
  readonly ruleId: string;
  readonly severity: Severity;
  /**
   * How sure the detector is that this finding is real and as bad as `severity`
   * says, from 0 to 1. 1 is certain (a known test signature, a zip bomb).
   */
  readonly certainty: number;
  /** One sentence for people: what was found and why it matters. */
  readonly message: string;
  readonly evidence: readonly Evidence[];
  /**
   * For findings inside an archive: the member path, outermost first (`a.zip!inner.tar!x.sh`),
   * relative to the file the verdict is about (its own name is not included).
   */
  readonly member?: string;
  /**
   * true when the finding says part of the file was not examined (a limit ran
   * out, an encrypted or unsupported member): the verdict is then at least
   * suspicious whatever the severity, because what was not looked at cannot be called clean.
   */
  readonly incomplete?: boolean;
}

export interface DetectorReport {
  readonly name: string;
  /** false when the detector does not apply to this content (e.g. entropy on an image). */
  readonly ran: boolean;
  readonly durationMs: number;
  /** Set when the detector failed; a failed detector never makes a file look clean. */
  readonly error?: string;
}

export interface Verdict {
  readonly level: Level;
  /** 0..1: combined likelihood that the file is dangerous. */
  readonly score: number;
  /** 0..1: how much independent detectors agree (and how many could run). */
  readonly confidence: number;
  readonly findings: readonly Finding[];
  /** Names the top findings with offsets; says "no detector found anything" when clean. */
  readonly explanation: string;
  readonly detectors: readonly DetectorReport[];
  readonly bytes: number;
  readonly sha256: string;
  /** Detected content type, e.g. `elf`, `pe`, `zip`, `png`, `text`, `script/sh`. */
  readonly contentType: string;
  /**
   * true when the scan stopped before the end of the file (a time or size limit ran
   * out; a finding says which): `bytes` and `sha256` then describe the scanned prefix.
   */
  readonly truncated?: boolean;
}

/** What a member scan may be told about the member up front (from the archive's own headers; untrusted). */
export interface MemberInfo {
  /** Size the archive declares for the member; a mismatch with the bytes delivered becomes a finding. */
  readonly size?: number;
}

/** What every detector learns about the file before the bytes arrive. */
export interface ScanContext {
  /** File name or path as given (for extension checks); may be empty. */
  readonly name: string;
  /** Declared size in bytes when known (a stream may not know it). */
  readonly size?: number;
  /** Archive nesting depth: 0 for the file itself, 1 for a member of it, … */
  readonly depth: number;
  /**
   * Scans a member of an archive with the whole scanner (all detectors, one
   * level deeper), for the archive detector. The scanner bounds depth, member
   * count and total expanded bytes and answers with a finding when they run out.
   * Never rejects. Answers with the member's own verdict (its findings' `member`
   * paths are relative to the member, as in any verdict). Those findings reach
   * this file's verdict through the scanner itself, re-rooted as `name!…`; a
   * detector need not lift them, and lifted copies (same detector, rule,
   * re-rooted member and evidence) are dropped as duplicates.
   */
  readonly scanMember: (name: string, data: AsyncIterable<Uint8Array> | Uint8Array, info?: MemberInfo) => Promise<Verdict>;
  /**
   * Aborted when this file's time budget runs out (or the caller cancels); a detector
   * that does slow asynchronous work in `finish` should stop then.
   */
  readonly signal?: AbortSignal;
}

/**
 * A detector: `start` is called once per file; the returned run sees every
 * chunk in order (with its offset) and then `finish`. Detectors must keep
 * bounded state (no buffering of the whole file) and never throw on any input.
 */
export interface Detector {
  readonly name: string;
  start(ctx: ScanContext): DetectorRun;
}

export interface DetectorRun {
  /** `chunk` is only valid during the call (the scanner may reuse its buffer): copy what you keep. */
  update(chunk: Uint8Array, offset: number): void;
  /**
   * Called after the last chunk. `contentType` is the magic detector's answer,
   * so a detector can decide it does not apply (return `ran: false`).
   */
  finish(info: FinishInfo): Promise<{ ran: boolean; findings: Finding[] }> | { ran: boolean; findings: Finding[] };
}

export interface FinishInfo {
  readonly contentType: string;
  /** Bytes the detector was given. */
  readonly bytes: number;
  /** true when the scanner stopped early (a limit ran out): the detector saw only a prefix of the file. */
  readonly truncated?: boolean;
}
