// The registry's on-disk format, as the bones CLI writes it, seen from Node.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REGISTRY_DIR } from './env';

export interface Entry {
  cwd: string;
  name: string;
  hub_url: string;
  nats_url: string;
  hub_pid: number;
  started_at: string;
}

/** WorkspaceID: the first 16 hex characters of sha256 of the cleaned cwd. */
export function workspaceId(cwd: string): string {
  return crypto.createHash('sha256').update(path.normalize(cwd)).digest('hex').slice(0, 16);
}

export function entryPath(cwd: string): string {
  return path.join(REGISTRY_DIR, `${workspaceId(cwd)}.json`);
}

/** Writes an entry the way bones does: a temporary file renamed into place. */
export function writeEntry(entry: Entry): void {
  fs.mkdirSync(REGISTRY_DIR, { recursive: true });
  const target = entryPath(entry.cwd);
  const tmp = `${target}.tmp.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
  fs.renameSync(tmp, target);
}

/** An idle registration, as `bones up` writes it. */
export function idleEntry(cwd: string, name: string): Entry {
  return { cwd, name, hub_url: '', nats_url: '', hub_pid: 0, started_at: new Date().toISOString() };
}

export function readEntry(cwd: string): Entry | undefined {
  try {
    return JSON.parse(fs.readFileSync(entryPath(cwd), 'utf8')) as Entry;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The registry directory's file names, sorted; [] when it does not exist. */
export function registryFiles(): string[] {
  try {
    return fs.readdirSync(REGISTRY_DIR).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Deletes a workspace's entry and any legacy `<id>-<pid>.json` files. */
export function removeEntries(cwd: string): void {
  const id = workspaceId(cwd);
  for (const name of registryFiles()) {
    if (name === `${id}.json` || name.startsWith(`${id}-`)) {
      fs.rmSync(path.join(REGISTRY_DIR, name), { force: true });
    }
  }
}
