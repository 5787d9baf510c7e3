import { open, stat, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from 'pino';

export interface TailerOptions {
  pollMs: number;
  /** Start at the beginning of the file found at start-up (otherwise at its end). */
  fromStart: boolean;
  /** Longest line kept; a longer one is dropped and reported (EVE lines are a few KiB). */
  maxLineBytes?: number;
  logger?: Logger;
  /** Hand on empty lines too (formats where a blank line ends a record). */
  blankLines?: boolean;
  onLine: (line: string) => void;
  onError?: (message: string) => void;
}

const CHUNK = 1024 * 1024;

/**
 * Follows a growing line-oriented file the way `tail -F` does, by polling: polling works on every
 * file system and survives rotation. Rotation (logrotate rename + new file, or copytruncate) is
 * seen as a new inode or a shrunken size: what was left in the old file is read to its end first,
 * then the new file is read from its start, so no line is lost or read twice.
 */
export class FileTailer {
  private fh: FileHandle | undefined;
  private ino = -1;
  private pos = 0;
  private partial = '';
  private decoder = new StringDecoder('utf8');
  private dropping = false;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();
  private first = true;
  private stopped = false;

  constructor(
    readonly path: string,
    private readonly opts: TailerOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
    this.timer.unref();
    void this.poll();
  }

  /** Run one poll now (tests, and a final read on stop). Polls never overlap. */
  poll(): Promise<void> {
    this.busy = this.busy.then(() => this.pollOnce()).catch((err: Error) => this.opts.onError?.(err.message));
    return this.busy;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.busy;
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }

  private async pollOnce(): Promise<void> {
    if (this.stopped) return;
    let st;
    try {
      st = await stat(this.path);
    } catch (err) {
      // Not there (yet, or mid-rotation): keep the old handle, if any, and drain it.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (this.fh) await this.readToEnd();
      this.first = false;
      return;
    }
    if (!this.fh || st.ino !== this.ino) {
      if (this.fh) {
        await this.readToEnd();
        await this.fh.close().catch(() => undefined);
        this.flushPartial();
      }
      this.fh = await open(this.path, 'r');
      this.decoder = new StringDecoder('utf8');
      this.ino = st.ino;
      this.pos = this.first && !this.opts.fromStart ? st.size : 0;
      this.opts.logger?.info({ path: this.path, at: this.pos }, 'tailing file');
    } else if (st.size < this.pos) {
      // copytruncate: same inode, shorter file.
      this.pos = 0;
      this.partial = '';
    }
    this.first = false;
    await this.readToEnd();
  }

  private async readToEnd(): Promise<void> {
    if (!this.fh) return;
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await this.fh.read(buf, 0, CHUNK, this.pos);
      if (bytesRead <= 0) return;
      this.pos += bytesRead;
      this.consume(this.decoder.write(buf.subarray(0, bytesRead)));
    }
  }

  private consume(text: string): void {
    const max = this.opts.maxLineBytes ?? 1024 * 1024;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const piece = text.slice(start, nl);
      start = nl + 1;
      if (this.dropping) {
        this.dropping = false;
        this.partial = '';
        continue;
      }
      const line = this.partial + piece;
      this.partial = '';
      if (line.trim() || this.opts.blankLines) this.opts.onLine(line);
    }
    if (!this.dropping) this.partial += text.slice(start);
    if (this.partial.length > max) {
      this.opts.onError?.(`line longer than ${max} bytes in ${this.path} dropped`);
      this.partial = '';
      this.dropping = true;
    }
  }

  /** A rotated-away file's last line without a newline is still a line. */
  private flushPartial(): void {
    const line = this.partial;
    this.partial = '';
    if (!this.dropping && line.trim()) this.opts.onLine(line);
    this.dropping = false;
  }
}
