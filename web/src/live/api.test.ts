import { describe, expect, it } from 'vitest';
import { filenameOf } from './api.js';

describe('download file names', () => {
  it('takes the server-given name from Content-Disposition, else the fallback', () => {
    expect(filenameOf('attachment; filename="downstream-abc-asn-174.json"', 'x')).toBe('downstream-abc-asn-174.json');
    expect(filenameOf('attachment; filename=remediation.csv', 'x')).toBe('remediation.csv');
    expect(filenameOf("attachment; filename*=UTF-8''r%C3%A9port.eml", 'x')).toBe('réport.eml');
    expect(filenameOf(null, 'fallback.json')).toBe('fallback.json');
    expect(filenameOf('inline', 'fallback.json')).toBe('fallback.json');
  });
});
