// Builds expected.json (same shape and meaning as /work/shared/data/captures/expected.json, see
// SOURCES.md there) for our generated captures, from tshark's JSON dissection.
// Usage: node make-expected.mjs FILE:PORT… > expected.json
import { execFileSync } from 'node:child_process';

const files = {};
for (const arg of process.argv.slice(2)) {
  const [file, port] = arg.split(':');
  const sflow = file.includes('sfprobe');
  const json = execFileSync(
    'tshark',
    ['-n', '-r', file, '-d', `udp.port==${port},${sflow ? 'sflow' : 'cflow'}`, '-T', 'json'],
    {
      maxBuffer: 1 << 28,
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  ).toString();
  const packets = JSON.parse(json).map((p) => p._source.layers);
  files[file] = sflow ? sflowExpect(packets) : cflowExpect(packets);
  files[file].tshark_decode_as = [`udp.port==${port},${sflow ? 'sflow' : 'cflow'}`];
}
const version = execFileSync('tshark', ['--version']).toString().split('\n')[0];
process.stdout.write(
  JSON.stringify(
    { generated_with: version, notes: 'made by regenerate.sh; fields as in the shared captures expected.json', files },
    null,
    1,
  ) + '\n',
);

function num(x) {
  return x === undefined ? null : Number(x);
}

function cflowExpect(packets) {
  const e = {
    protocol: 'netflow/ipfix',
    export_packets: 0,
    exporters: [],
    versions: {},
    data_records: 0,
    options_data_records: 0,
    data_flowsets_without_template: 0,
    first_records: [],
  };
  const exporters = new Set();
  const optionIds = new Set();
  for (const l of packets) {
    const c = l.cflow;
    if (!c) continue;
    e.export_packets++;
    exporters.add(l.ip?.['ip.src'] ?? l.ipv6?.['ipv6.src']);
    e.versions[c['cflow.version']] = (e.versions[c['cflow.version']] ?? 0) + 1;
    for (const [k, v] of Object.entries(c)) {
      if (/^pdu \d+\/\d+$/.test(k)) {
        e.data_records++;
        if (e.first_records.length < 3) e.first_records.push(record(v));
      }
      if (!k.startsWith('FlowSet') && !k.startsWith('Set ')) continue;
      const id = Number(v['cflow.flowset_id']);
      if (id === 1 || id === 3) for (const t of findAll(v, 'cflow.template_id')) optionIds.add(Number(t));
      if (id < 256) continue;
      const flows = Object.entries(v).filter(([kk]) => /^Flow \d+$/.test(kk));
      if (flows.length === 0 && JSON.stringify(v).includes('no template found')) e.data_flowsets_without_template++;
      for (const [, f] of flows) {
        if (optionIds.has(id)) e.options_data_records++;
        else {
          e.data_records++;
          if (e.first_records.length < 3) e.first_records.push(record(f));
        }
      }
    }
  }
  e.exporters = [...exporters];
  return e;
}

function record(f) {
  return {
    src_addr: f['cflow.srcaddr'] ?? f['cflow.srcaddr_v6'] ?? null,
    dst_addr: f['cflow.dstaddr'] ?? f['cflow.dstaddr_v6'] ?? null,
    src_port: num(f['cflow.srcport']),
    dst_port: num(f['cflow.dstport']),
    protocol: num(f['cflow.protocol']),
    bytes: num(f['cflow.octets'] ?? f['cflow.octets64']),
    packets: num(f['cflow.packets'] ?? f['cflow.packets64']),
  };
}

function findAll(o, key, out = []) {
  if (o && typeof o === 'object') {
    for (const [k, v] of Object.entries(o)) {
      if (k === key) out.push(v);
      else findAll(v, key, out);
    }
  }
  return out;
}

function sflowExpect(packets) {
  const e = {
    protocol: 'sflow',
    export_packets: 0,
    exporters: [],
    agents: [],
    flow_samples: 0,
    counter_samples: 0,
    first_records: [],
  };
  const exporters = new Set();
  const agents = new Set();
  for (const l of packets) {
    const s = l.sflow;
    if (!s) continue;
    e.export_packets++;
    exporters.add(l.ip?.['ip.src'] ?? l.ipv6?.['ipv6.src']);
    agents.add(s['sflow_245.agent'] ?? s['sflow_245.agent.v6']);
    for (const v of Object.values(s)) {
      if (!v || typeof v !== 'object') continue;
      const type = Number(v['sflow_245.sampletype']);
      if (type === 2 || type === 4) e.counter_samples++;
      if (type !== 1 && type !== 3) continue;
      e.flow_samples++;
      if (e.first_records.length >= 3) continue;
      const raw = Object.values(v).find((r) => r && typeof r === 'object' && r['sflow_245.header_tree']);
      const tree = raw?.['sflow_245.header_tree'] ?? {};
      const ip = tree.ip ?? {};
      const ip6 = tree.ipv6 ?? {};
      const l4 = tree.tcp ?? tree.udp ?? {};
      e.first_records.push({
        sample_type: type,
        src_addr: ip['ip.src'] ?? ip6['ipv6.src'] ?? null,
        dst_addr: ip['ip.dst'] ?? ip6['ipv6.dst'] ?? null,
        protocol: num(ip['ip.proto'] ?? ip6['ipv6.nxt']),
        src_port: num(l4['tcp.srcport'] ?? l4['udp.srcport']),
        dst_port: num(l4['tcp.dstport'] ?? l4['udp.dstport']),
        bytes: num(raw?.['sflow_245.header.frame_length']),
        packets: 1,
        sampling_rate: num(v['sflow.flow_sample.sampling_rate']),
      });
    }
  }
  e.exporters = [...exporters];
  e.agents = [...agents];
  return e;
}
