import type { IncidentKind } from '@downstream/shared';

/** What one abuse notice says; filled from a remediation row and the subscriber's binding. */
export interface NoticeInput {
  org: string;
  reference: string;
  subscriberName?: string;
  subscriber: string;
  ip: string;
  kinds: IncidentKind[];
  firstSeen: string;
  lastSeen: string;
  evidence: string;
  packets: number;
  bytes: number;
  help: { url?: string; phone?: string; email?: string };
}

interface KindText {
  /** Subject fragment: "Your connection … <what>". */
  what: string;
  meaning: string;
  todo: string[];
}

/**
 * Per abuse kind: what was seen, what it means and what to do, in words a subscriber (not an
 * engineer) can act on. Kinds a customer endpoint is not accused of (inbound attacks) fall back to
 * the generic text.
 */
const KINDS: Partial<Record<IncidentKind, KindText>> = {
  'spam-bot': {
    what: 'sent spam e-mail',
    meaning:
      'A device on your connection sent e-mail directly to many mail servers on the Internet. Home devices do not normally do this: it is the typical sign of a computer infected with spam-sending malware (a "spam bot"), or of a mail program or server set up to relay mail for others.',
    todo: [
      'Run a full scan with an up-to-date anti-virus program on every computer on your connection, and remove what it finds.',
      'Update the operating system and programs (browser, PDF reader, office) of every device.',
      'Change the passwords of your e-mail accounts after the scan, from a clean device.',
      'If you run a mail server yourself, make sure it is not an open relay and sends through our mail servers.',
    ],
  },
  scanner: {
    what: 'scanned other networks',
    meaning:
      'A device on your connection contacted a large number of addresses and ports on the Internet, looking for machines to break into. This is what worms and compromised devices (cameras, routers, NAS boxes, computers) do once an attacker controls them.',
    todo: [
      'Find devices that should not talk to the Internet by themselves: cameras, smart-home hubs, NAS boxes, old routers. Update their firmware or unplug them.',
      'Change default passwords on every such device and on your router.',
      'Scan your computers with an up-to-date anti-virus program.',
      'Turn off port forwarding (UPnP, DMZ) on your router unless you need it.',
    ],
  },
  'ddos-participation': {
    what: 'took part in a denial-of-service attack',
    meaning:
      'A device on your connection sent a flood of traffic at a target on the Internet at the same time as many other machines: it is part of a botnet, a network of infected devices an attacker uses to knock services offline. Besides the harm to others, it uses up your own connection.',
    todo: [
      'Look for infected devices: cameras, routers, NAS boxes, set-top boxes and computers. Update their firmware or software, or unplug them until updated.',
      'Change default and weak passwords, especially on your router and any device reachable from the Internet.',
      'Restart your router after the update; if it is old and gets no more updates, replace it.',
      'Scan your computers with an up-to-date anti-virus program.',
    ],
  },
  external: {
    what: 'was reported for abuse',
    meaning:
      'Another network reported abusive traffic (such as spam, attacks or scanning) coming from your connection. It usually means a device on your connection is infected or misconfigured.',
    todo: [
      'Scan your computers with an up-to-date anti-virus program.',
      'Update the firmware of your router and of devices such as cameras and NAS boxes, and change their default passwords.',
    ],
  },
};

const GENERIC: KindText = {
  what: 'was involved in network abuse',
  meaning:
    'Our network monitoring saw abusive traffic coming from your connection. It usually means a device on your connection is infected or misconfigured.',
  todo: [
    'Scan your computers with an up-to-date anti-virus program.',
    'Update the firmware of your router and of devices such as cameras and NAS boxes, and change their default passwords.',
  ],
};

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Subject and plain-text body of one abuse notice. */
export function renderNotice(n: NoticeInput): { subject: string; text: string } {
  const primary = KINDS[n.kinds[0]] ?? GENERIC;
  const others = n.kinds.slice(1).map((k) => KINDS[k] ?? GENERIC);
  const subject = `[${n.org}] Your connection ${n.ip} ${primary.what} (ref ${n.reference})`;
  const help: string[] = [];
  if (n.help.url) help.push(`  Web:   ${n.help.url}`);
  if (n.help.phone) help.push(`  Phone: ${n.help.phone}`);
  if (n.help.email) help.push(`  Mail:  ${n.help.email}`);
  if (help.length === 0) help.push('  Reply to this message.');
  const lines = [
    `Dear ${n.subscriberName ?? 'customer'},`,
    '',
    `our network monitoring saw abusive traffic from your Internet connection (account ${n.subscriber}).`,
    '',
    'WHAT WE SAW',
    `  Address:   ${n.ip}`,
    `  When:      ${n.firstSeen} to ${n.lastSeen} (UTC)`,
    `  What:      ${n.kinds.join(', ')}`,
    `  Evidence:  ${n.evidence}`,
    `  Traffic:   ${int(n.packets)} packets, ${int(n.bytes)} bytes`,
    `  Reference: ${n.reference}`,
    '',
    'WHAT IT MEANS',
    `  ${primary.meaning}`,
    ...others.flatMap((o) => ['', `  ${o.meaning}`]),
    '',
    'WHAT TO DO',
    ...[...new Set([primary, ...others].flatMap((k) => k.todo))].map((t, i) => `  ${i + 1}. ${t}`),
    '',
    'We only see how much traffic went where, never its content. If the traffic continues, we may',
    'have to limit your connection to protect others until the problem is fixed.',
    '',
    'HOW TO GET HELP',
    ...help,
    `  Please quote the reference ${n.reference}.`,
    '',
    `${n.org}`,
    '',
  ];
  return { subject, text: lines.join('\n') };
}
