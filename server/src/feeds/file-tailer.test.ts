import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileTailer } from './file-tailer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(fromStart = false, maxLineBytes?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'tailer-'));
  dirs.push(dir);
  const path = join(dir, 'eve.json');
  const lines: string[] = [];
  const errors: string[] = [];
  // A long poll interval: the test drives polls itself so nothing depends on timing.
  const t = new FileTailer(path, {
    pollMs: 60_000,
    fromStart,
    maxLineBytes,
    onLine: (l) => lines.push(l),
    onError: (e) => errors.push(e),
  });
  return { path, lines, errors, t };
}

describe('FileTailer', () => {
  it('skips what was there at start unless fromStart, then follows appends and joins partial lines', async () => {
    const { path, lines, t } = setup();
    writeFileSync(path, 'old-1\nold-2\n');
    await t.poll();
    appendFileSync(path, 'a\nb-part');
    await t.poll();
    expect(lines).toEqual(['a']);
    appendFileSync(path, 'ial\n');
    await t.poll();
    expect(lines).toEqual(['a', 'b-partial']);
    await t.stop();
  });

  it('reads existing content with fromStart and waits for a file that does not exist yet', async () => {
    const { path, lines, t } = setup(true);
    await t.poll();
    writeFileSync(path, 'x\ny\n');
    await t.poll();
    expect(lines).toEqual(['x', 'y']);
    await t.stop();
  });

  it('survives rename rotation: drains the old file, then reads the new one from its start', async () => {
    const { path, lines, t } = setup(true);
    writeFileSync(path, '1\n');
    await t.poll();
    appendFileSync(path, '2\n3-no-newline');
    renameSync(path, `${path}.1`);
    await t.poll(); // file missing mid-rotation: old handle drained
    writeFileSync(path, '4\n');
    await t.poll();
    appendFileSync(path, '5\n');
    await t.poll();
    expect(lines).toEqual(['1', '2', '3-no-newline', '4', '5']);
    await t.stop();
  });

  it('survives copytruncate rotation', async () => {
    const { path, lines, t } = setup(true);
    writeFileSync(path, 'first line that is long\n');
    await t.poll();
    truncateSync(path, 0);
    appendFileSync(path, 'after\n');
    await t.poll();
    expect(lines).toEqual(['first line that is long', 'after']);
    await t.stop();
  });

  it('drops an over-long line and reports it, keeping the lines around it', async () => {
    const { path, lines, errors, t } = setup(true, 100);
    writeFileSync(path, `ok1\n${'z'.repeat(150)}`);
    await t.poll();
    appendFileSync(path, `${'z'.repeat(50)}\nok2\n`);
    await t.poll();
    expect(lines).toEqual(['ok1', 'ok2']);
    expect(errors).toHaveLength(1);
    await t.stop();
  });
});
