import ipaddr from 'ipaddr.js';
import { z } from 'zod';

export const IpAddress = z
  .string()
  .refine((s) => ipaddr.isValid(s) && (s.includes('.') ? ipaddr.IPv4.isValidFourPartDecimal(s) : true), {
    message: 'not a valid IPv4 or IPv6 address',
  });

export const Cidr = z.string().refine(
  (s) => {
    try {
      const [addr, len] = ipaddr.parseCIDR(s);
      if (addr.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(s.split('/')[0])) return false;
      return len >= 0;
    } catch {
      return false;
    }
  },
  { message: 'not a valid CIDR prefix (expected e.g. 198.51.100.0/24 or 2001:db8::/32)' },
);

export const Port = z
  .number({ error: 'expected a port number' })
  .int('expected an integer port')
  .min(0, 'port must be 0..65535')
  .max(65535, 'port must be 0..65535');
