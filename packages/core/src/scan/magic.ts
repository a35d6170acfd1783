/**
 * The magic detector: what the content is (from its first bytes) against what
 * its name claims. Executables and scripts are noted (`info`/`low`: running
 * code is the product here, not a threat by itself); an executable or script
 * wearing the name of an image or a document is `medium`; names that lie to
 * people (double extensions, right-to-left overrides) are flagged too.
 */
import { evidenceAt } from './evidence.js';
import { HeadBuffer } from './head.js';
import { sniff, type ContentInfo } from './sniff.js';
import type { Detector, Finding, Severity } from './types.js';

const NAME = 'magic';

/** Types a text-like extension accepts: any text, any script. */
const TEXT = ['text', 'text/utf16', 'script/*'] as const;
const EXECUTABLE_EXTENSIONS = ['pe', 'mz'] as const;

/** Extension → content types it should hold. Extensions not listed are not checked. */
const EXPECTED: Readonly<Record<string, readonly string[]>> = Object.freeze({
  ...spread(['png'], ['png']),
  ...spread(['jpg', 'jpeg', 'jpe', 'jfif'], ['jpeg']),
  ...spread(['gif'], ['gif']),
  ...spread(['bmp', 'dib'], ['bmp']),
  ...spread(['webp'], ['webp']),
  ...spread(['tif', 'tiff'], ['tiff']),
  ...spread(['pdf'], ['pdf']),
  ...spread(['doc', 'xls', 'ppt', 'msi', 'msg'], ['ole']),
  ...spread(['rtf'], ['rtf', 'text']),
  ...spread(['zip', 'jar', 'war', 'ear', 'apk', 'aab', 'ipa', 'docx', 'xlsx', 'pptx', 'odt', 'ods', 'odp', 'epub', 'whl', 'nupkg', 'xpi', 'vsix', 'crx'], ['zip']),
  ...spread(['gz', 'tgz'], ['gzip']),
  ...spread(['bz2', 'tbz', 'tbz2'], ['bzip2']),
  ...spread(['xz', 'txz'], ['xz']),
  ...spread(['zst', 'tzst'], ['zstd']),
  ...spread(['lz4'], ['lz4']),
  ...spread(['7z'], ['7z']),
  ...spread(['rar'], ['rar']),
  ...spread(['tar'], ['tar']),
  ...spread(['deb', 'a'], ['ar']),
  ...spread(['cab'], ['cab']),
  ...spread(['cpio'], ['cpio']),
  ...spread(['mp3'], ['mp3']),
  ...spread(['mp4', 'm4a', 'm4v', 'mov', 'heic', 'avif'], ['mp4']),
  ...spread(['ogg', 'oga', 'ogv', 'opus'], ['ogg']),
  ...spread(['flac'], ['flac']),
  ...spread(['wav'], ['wav']),
  ...spread(['avi'], ['avi']),
  ...spread(['sqlite', 'sqlite3'], ['sqlite']),
  ...spread(['wasm'], ['wasm']),
  ...spread(['class'], ['java-class']),
  ...spread(['dex'], ['dex']),
  ...spread(['exe', 'dll', 'sys', 'scr', 'efi', 'ocx', 'cpl', 'drv'], [...EXECUTABLE_EXTENSIONS]),
  ...spread(['so', 'ko', 'elf'], ['elf']),
  ...spread(['o'], ['elf', 'macho']),
  ...spread(['dylib', 'bundle'], ['macho', 'macho-fat']),
  ...spread(
    [
      'txt', 'text', 'md', 'markdown', 'rst', 'adoc', 'csv', 'tsv', 'json', 'jsonl', 'ndjson', 'xml', 'html', 'htm', 'xhtml', 'css', 'svg',
      'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf', 'log', 'env', 'properties', 'sql', 'js', 'mjs', 'cjs', 'ts', 'mts', 'cts', 'jsx', 'tsx',
      'py', 'pyw', 'rb', 'pl', 'pm', 'sh', 'bash', 'zsh', 'fish', 'php', 'lua', 'go', 'rs', 'c', 'h', 'cc', 'cpp', 'hpp', 'java', 'kt', 'swift',
      'cs', 'r', 'tcl', 'awk', 'ps1', 'psm1', 'bat', 'cmd', 'vbs', 'gitignore', 'dockerfile', 'makefile',
    ],
    [...TEXT],
  ),
});

function spread(exts: readonly string[], types: readonly string[]): Record<string, readonly string[]> {
  return Object.fromEntries(exts.map((e) => [e, types]));
}

/** Decoys for `invoice.pdf.exe`: what people expect to open safely. */
const DECOY_EXTENSIONS = new Set(['pdf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'rtf', 'odt', 'txt', 'csv', 'jpg', 'jpeg', 'png', 'gif', 'bmp', 'mp3', 'mp4', 'avi', 'mov', 'zip', 'rar', 'html', 'htm']);
/** What Windows or a desktop runs when the file is opened. */
const RUNNABLE_EXTENSIONS = new Set(['exe', 'scr', 'com', 'pif', 'bat', 'cmd', 'vbs', 'vbe', 'js', 'jse', 'wsf', 'wsh', 'hta', 'lnk', 'ps1', 'msi', 'jar', 'cpl', 'dll', 'desktop', 'app', 'command', 'sh']);
/** Bidirectional overrides and isolates make `exe.pdf` display for `fdp.exe`. */
const BIDI = /[\u202a-\u202e\u2066-\u2069]/u;

/** Base name and its extensions, lower-cased. Windows drops trailing dots and spaces, so they do not hide an extension. */
export function nameParts(name: string): { base: string; ext: string; prev: string } {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1).replace(/[. ]+$/, '');
  const parts = base.toLowerCase().split('.');
  // `.bashrc` has no extension; `a.b.c` has ext `c` and prev `b`.
  if (parts.length < 2 || (parts.length === 2 && parts[0] === '')) return { base, ext: '', prev: '' };
  return { base, ext: parts.at(-1)!, prev: parts.length > 2 ? parts.at(-2)! : '' };
}

function accepts(expected: readonly string[], info: ContentInfo): boolean {
  return expected.includes(info.type) || (info.kind === 'script' && expected.includes('script/*'));
}

function describeExpected(expected: readonly string[]): string {
  if (expected.includes('script/*')) return 'text';
  return expected.join(' or ');
}

function finding(ruleId: string, severity: Severity, certainty: number, message: string, evidence: Finding['evidence']): Finding {
  return { detector: NAME, ruleId, severity, certainty, message, evidence };
}

const ROLE_RULES: Readonly<Record<string, readonly [string, Severity]>> = {
  executable: ['executable', 'low'],
  library: ['shared-library', 'low'],
  object: ['object', 'info'],
  core: ['core-dump', 'info'],
  other: ['other', 'low'],
};

/** Pure: the magic findings for a file whose first bytes are `head`. `complete`: `head` is the whole file. */
export function magicFindings(head: Uint8Array, name: string, complete: boolean): { info: ContentInfo; findings: Finding[] } {
  const info = sniff(head, complete);
  const findings: Finding[] = [];
  const magic = evidenceAt(0, info.magicBytes, head.subarray(0, Math.min(info.magicBytes, 16)));

  if (info.kind === 'executable') {
    const native = info.type === 'elf' || info.type === 'pe' || info.type === 'mz' || info.type === 'macho' || info.type === 'macho-fat';
    if (native) {
      const [suffix, severity] = ROLE_RULES[info.role ?? 'other'] ?? ROLE_RULES.other!;
      const format = info.type === 'macho-fat' ? 'macho' : info.type === 'mz' ? 'pe' : info.type;
      findings.push(finding(`magic/${format}-${suffix}`, severity, 1, `Native code: ${info.description}.`, [magic]));
    } else {
      findings.push(finding(`magic/${info.type}`, 'info', 1, `Portable code: ${info.description}.`, [magic]));
    }
    if (info.malformed !== undefined) {
      // Loaders are lenient where analyzers are strict: a broken header is a classic way to hide from the latter.
      findings.push(finding('magic/malformed-header', 'low', 0.6, `Executable header is malformed (${info.malformed}); loaders may still run it while analyzers misread it.`, [magic]));
    }
  } else if (info.kind === 'script') {
    const lineEnd = head.indexOf(0x0a);
    const line = head.subarray(0, Math.min(lineEnd === -1 ? head.length : lineEnd, 120));
    findings.push(finding('magic/script', 'info', 1, `Script: ${info.description}.`, [evidenceAt(0, line.length, line)]));
  }

  const { base, ext, prev } = nameParts(name);
  const expected = EXPECTED[ext];
  if (expected !== undefined && info.kind !== 'empty' && !accepts(expected, info)) {
    const expectsCode = expected.some((t) => (EXECUTABLE_EXTENSIONS as readonly string[]).includes(t) || t === 'elf' || t === 'macho');
    const disguised = (info.kind === 'executable' || info.kind === 'script') && !expectsCode;
    findings.push(
      finding(
        'magic/extension-mismatch',
        disguised ? 'medium' : 'low',
        disguised ? 0.9 : 0.6,
        disguised
          ? `Content is ${info.description} but the name ends in .${ext}, which should be ${describeExpected(expected)}: code disguised as data.`
          : `Content is ${info.description} but the name ends in .${ext}, which should be ${describeExpected(expected)}.`,
        [magic],
      ),
    );
  }
  if (prev !== '' && DECOY_EXTENSIONS.has(prev) && RUNNABLE_EXTENSIONS.has(ext)) {
    findings.push(finding('magic/double-extension', 'medium', 0.8, `Name ${JSON.stringify(base)} poses as .${prev} but opens as .${ext}.`, []));
  }
  if (BIDI.test(name)) {
    findings.push(finding('magic/bidi-name', 'high', 0.8, `Name ${JSON.stringify(base)} contains a bidirectional override, which makes it display differently from what it is.`, []));
  }
  return { info, findings };
}

/**
 * Detects content type and extension/content mismatches from the first
 * HEAD_BYTES of a file. Bounded state: one 8 KiB copy.
 *
 * @example
 * const scanner = createScanner({ detectors: [magicDetector()] });
 */
export function magicDetector(): Detector {
  return {
    name: NAME,
    start(ctx) {
      const head = new HeadBuffer();
      return {
        update(chunk) {
          if (!head.full) head.push(chunk);
        },
        finish({ bytes, truncated }) {
          const h = head.bytes();
          return { ran: true, findings: magicFindings(h, ctx.name, truncated !== true && bytes === h.length).findings };
        },
      };
    },
  };
}
