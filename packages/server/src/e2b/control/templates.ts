/**
 * E2B templates on Warden. E2B sandboxes start from a template image; Warden's
 * default sandbox already has what the SDKs' default templates promise (a
 * shell, Python and Node for the code interpreter), so both names start one.
 * Which template a sandbox was created from is kept for as long as the
 * sandbox lives, which is at most as long as this server process: sandboxes do
 * not survive a restart.
 */
import { WardenError } from '@warden/protocol';

/** The templates this server has: each is Warden's default sandbox. */
export const TEMPLATES: readonly string[] = Object.freeze(['base', 'code-interpreter-v1']);

/** The `templateID` of sandboxes made through Warden's own API (no E2B template). */
export const WARDEN_TEMPLATE = 'warden';

export function checkTemplate(name: string): string {
  if (!TEMPLATES.includes(name)) {
    throw new WardenError('E_TEMPLATE_NOT_FOUND', `No E2B template ${JSON.stringify(name)} on this Warden server; it has ${TEMPLATES.map((t) => JSON.stringify(t)).join(' and ')} (both Warden's default sandbox). Custom templates cannot be built here.`, {
      details: { template: name, templates: [...TEMPLATES] },
    });
  }
  return name;
}

/** Which template each live sandbox came from. */
export class SandboxTemplates {
  readonly #byId = new Map<string, string>();

  set(sandboxId: string, template: string): void {
    this.#byId.set(sandboxId, template);
  }

  of(sandboxId: string): string {
    return this.#byId.get(sandboxId) ?? WARDEN_TEMPLATE;
  }

  forget(sandboxId: string): void {
    this.#byId.delete(sandboxId);
  }
}
