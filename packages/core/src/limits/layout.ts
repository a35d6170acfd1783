/**
 * Finds where each cgroup controller Warden needs lives: a cgroup v1
 * hierarchy of its own, or the unified (v2) hierarchy. Hosts mix both (this
 * one has memory, pids and cpu on v1 and an almost empty v2), so the decision
 * is per controller. Pure parsing here; `readCgroupLayout` does the I/O.
 */
import { readFile } from 'node:fs/promises';
import { WardenError } from '@warden/protocol';

export const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
/** `freezer` is optional: it lets the host stop a sandbox while it reads the sandbox's files. */
export type Controller = (typeof CONTROLLERS)[number] | 'freezer';

export interface ControllerPlace {
  readonly hierarchy: 'v1' | 'v2';
  /** Mount point of the hierarchy, e.g. /sys/fs/cgroup/memory or /sys/fs/cgroup/unified. */
  readonly mount: string;
}

export type CgroupLayout = Readonly<Record<(typeof CONTROLLERS)[number], ControllerPlace> & { freezer?: ControllerPlace }>;

/** Every controller with its place, the optional freezer included when the host has one. */
export function placesOf(layout: CgroupLayout): Array<[Controller, ControllerPlace]> {
  return (Object.entries(layout) as Array<[Controller, ControllerPlace | undefined]>).filter((e): e is [Controller, ControllerPlace] => e[1] !== undefined);
}

interface Mount {
  readonly point: string;
  readonly fstype: string;
  readonly superOptions: readonly string[];
}

/** The kernel writes space, tab, newline and backslash in mountinfo paths as octal escapes (\040 …). */
const decodeMountPath = (p: string): string => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

/** Parses /proc/self/mountinfo (see proc(5)), in mount order. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const point = left[4];
    const fstype = right[0];
    if (point === undefined || fstype === undefined) continue;
    out.push({ point: decodeMountPath(point), fstype, superOptions: (right[2] ?? '').split(',') });
  }
  return out;
}

/**
 * Decides per controller. `v2Controllers` maps a cgroup2 mount point to the
 * controllers its root offers (the contents of its cgroup.controllers).
 */
export function decideLayout(mounts: readonly Mount[], v2Controllers: ReadonlyMap<string, readonly string[]>): CgroupLayout {
  const missing: Controller[] = [];
  const place = {} as Record<(typeof CONTROLLERS)[number], ControllerPlace> & { freezer?: ControllerPlace };
  for (const c of CONTROLLERS) {
    const v1 = mounts.find((m) => m.fstype === 'cgroup' && m.superOptions.includes(c));
    if (v1) {
      place[c] = { hierarchy: 'v1', mount: v1.point };
      continue;
    }
    const v2 = mounts.find((m) => m.fstype === 'cgroup2' && (v2Controllers.get(m.point) ?? []).includes(c));
    if (v2) {
      place[c] = { hierarchy: 'v2', mount: v2.point };
      continue;
    }
    missing.push(c);
  }
  if (missing.length > 0) {
    throw new WardenError(
      'E_LIMIT_UNSUPPORTED',
      `The cgroup controller(s) ${missing.join(', ')} are not available on this host, so sandbox limits cannot be enforced. Mount them (cgroup v1) or enable them in the cgroup v2 root's cgroup.subtree_control; \`warden doctor\` shows what was found.`,
      { details: { missing } },
    );
  }
  // cgroup v2 freezes any non-root cgroup (cgroup.freeze); v1 needs the freezer hierarchy.
  const freezerV1 = mounts.find((m) => m.fstype === 'cgroup' && m.superOptions.includes('freezer'));
  const v2Any = mounts.find((m) => m.fstype === 'cgroup2');
  if (freezerV1) place.freezer = { hierarchy: 'v1', mount: freezerV1.point };
  else if (v2Any) place.freezer = { hierarchy: 'v2', mount: v2Any.point };
  return Object.freeze(place);
}

export async function readCgroupLayout(): Promise<CgroupLayout> {
  const mounts = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
  const v2 = new Map<string, string[]>();
  for (const m of mounts.filter((x) => x.fstype === 'cgroup2')) {
    const text = await readFile(`${m.point}/cgroup.controllers`, 'utf8').catch(() => '');
    v2.set(m.point, text.trim().split(/\s+/).filter(Boolean));
  }
  return decideLayout(mounts, v2);
}
