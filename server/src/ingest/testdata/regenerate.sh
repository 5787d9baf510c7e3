#!/bin/sh
# Regenerates the flow-export captures in this folder and their expected.json (tshark's reading).
# Needs (Debian): softflowd, pmacct (pmacctd), tshark (dumpcap, run as root or with capture
# rights on lo), node. Traffic comes from make-traffic.mjs; each exporter meters it and sends
# to 127.0.0.1, where dumpcap records the datagrams.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" /tmp/dst.pcap' EXIT
node make-traffic.mjs "$tmp/traffic.pcap"

# capture OUT PORT CMD…: record UDP to PORT on lo while CMD runs
capture() {
  out=$1 port=$2
  shift 2
  dumpcap -q -i lo -f "udp dst port $port" -P -w "$tmp/cap.pcap" -a duration:12 2>/dev/null &
  dpid=$!
  sleep 2
  "$@" >"$tmp/exporter.log" 2>&1 || true
  wait "$dpid" || true
  cp "$tmp/cap.pcap" "$out"
  chmod 644 "$out"
  echo "$out: $(tshark -r "$out" 2>/dev/null | wc -l) datagrams"
}

# softflowd mishandles long -r / -c paths (it hangs): keep them short
cp "$tmp/traffic.pcap" /tmp/dst.pcap
for v in 5 9 10; do
  capture "softflowd-v$v.pcap" 39055 timeout 8 softflowd -r /tmp/dst.pcap -n 127.0.0.1:39055 -v "$v" -6 -d -p /tmp/dsf.pid -c /tmp/dsf.ctl
done

for v in 9 10; do
  cat >"$tmp/nf.conf" <<CONF
daemonize: false
pcap_savefile: $tmp/traffic.pcap
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:39056
nfprobe_version: $v
CONF
  capture "pmacct-nfprobe-v$v.pcap" 39056 timeout 8 pmacctd -f "$tmp/nf.conf"
done

cat >"$tmp/sf.conf" <<CONF
daemonize: false
pcap_savefile: $tmp/traffic.pcap
plugins: sfprobe
sfprobe_receiver: 127.0.0.1:39063
sfprobe_agentip: 192.0.2.10
sampling_rate: 4
CONF
capture "pmacct-sfprobe.pcap" 39063 timeout 8 pmacctd -f "$tmp/sf.conf"

node make-expected.mjs softflowd-v5.pcap:39055 softflowd-v9.pcap:39055 softflowd-v10.pcap:39055 \
  pmacct-nfprobe-v9.pcap:39056 pmacct-nfprobe-v10.pcap:39056 pmacct-sfprobe.pcap:39063 >expected.json
echo "expected.json written"
