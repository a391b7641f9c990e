/**
 * Reads a file named by a copy source URL (SPEC §9): `flash:/NAME`, `tftp://HOST[:PORT]/FILE`,
 * `http://…` and `https://…` (certificates verified). Every failure is one SourceError with a reason.
 */
import { Flash, flashName } from './flash.ts';
import { TftpError, tftpGet } from './tftp.ts';

export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}

const TIMEOUT_MS = 10_000;
const MAX_BYTES = 16 * 1024 * 1024;

/** Reads the file at `url`; `signal` (Ctrl-C) ends the wait at once. */
export async function fetchSource(url: string, flash: Flash, signal?: AbortSignal): Promise<Buffer> {
  if (/^flash:/i.test(url)) {
    const name = flashName(url);
    if (!name) throw new SourceError(`invalid file name ${url}`);
    if (!flash.exists(name)) throw new SourceError(`file ${url} does not exist`);
    return Buffer.from(flash.readBytes(name));
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SourceError(`invalid URL ${url}`);
  }
  if (u.protocol === 'tftp:') {
    const file = decodeURIComponent(u.pathname.replace(/^\//, ''));
    if (!file) throw new SourceError('no file name in the URL');
    try {
      return await tftpGet(u.hostname.replace(/^\[|\]$/g, ''), u.port ? Number(u.port) : 69, file, { maxBytes: MAX_BYTES, signal });
    } catch (e) {
      throw new SourceError(e instanceof TftpError ? e.message : String(e));
    }
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    let res: Response;
    try {
      res = await fetch(u, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS), redirect: 'follow' });
    } catch (e) {
      if (signal?.aborted) throw new SourceError('interrupted');
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      // The Fetch standard's "bad port" list (6000, 6665-6669, 10080, …: ports of other protocols) is
      // refused before any connection; the bare "bad port" would read as a typing mistake.
      if (cause?.message === 'bad port') throw new SourceError(`port ${u.port} is refused for HTTP (a port of another protocol); serve the file on another port`);
      throw new SourceError(cause?.code ?? cause?.message ?? (e as Error).message);
    }
    if (!res.ok) throw new SourceError(`HTTP ${res.status} ${res.statusText}`);
    let body: Buffer;
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw new SourceError(signal?.aborted ? 'interrupted' : (e as Error).message);
    }
    if (body.length > MAX_BYTES) throw new SourceError('file too large');
    return body;
  }
  throw new SourceError(`unsupported source ${u.protocol.replace(/:$/, '')}; use flash:, tftp:, http: or https:`);
}
