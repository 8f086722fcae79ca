"""weir's DPDK dataplane on a real link: weir runs in network namespace A with its DPDK
port on net_af_packet over one end of a veth pair, owning the media IP itself (ARP, ICMP
echo, UDP), while HTTPS/WSS stays on the kernel's IP of the same interface; pktgen and
the checks run from namespace B at the other end (topology: netns_topology.py).

From ns B: 5 ICMP echoes to the media IP all answered with correct checksums, an ARP
entry for it with veth A's MAC, then pktgen --transport webrtc (16 consumers, 100 pps,
5 s) through it with loss < 0.1 %, every transport's selected tuple media IP <-> ns B, no
UDP or ICMP checksum errors counted by ns B's kernel, and (when weir's /stats has them)
the DPDK stack's counters agreeing: echoes answered, ARP answered, no checksum drops.

WEIR_NETNS_MODE=kernel runs weir's kernel dataplane on the same topology instead (the
media IP then is a second kernel address on veth A): a check of this plumbing itself.
Needs root and `ip netns`; without them the test fails, it does not skip.
"""

import http.client
import json
import os
import subprocess

import netns_topology as nt
import pktgen_webrtc as pw
import weirtest as wt

MODE = os.environ.get("WEIR_NETNS_MODE", "dpdk")
CONSUMERS = 16
RATE_PPS = 100
DURATION_S = 5
PINGS = 5


class _NsHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS whose socket is made in a namespace (this process runs in the root one)."""

    def __init__(self, ns, *args, **kwargs):
        self.ns = ns
        super().__init__(*args, **kwargs)

    def connect(self):
        with nt.entered(self.ns):
            super().connect()


class NetnsWeir(wt.Weir):
    """weir inside ns A; its API is reached from ns B at the kernel IP, as clients do."""

    def __init__(self, exe, topo, extra_args, rtc_ports):
        super().__init__(exe, extra_args=extra_args, rtc_ports=rtc_ports)
        self.topo = topo
        # `ip netns exec` execs weir: the pid stays weir's, for SIGTERM and --server-pid.
        self.args = topo.exec_args(topo.ns_a, self.args)

    @property
    def api_url(self):
        return f"https://{self.topo.kernel_ip}:{self.http_port}"

    def connection(self, timeout):
        return _NsHTTPSConnection(self.topo.ns_b, self.topo.kernel_ip, self.http_port,
                                  timeout=timeout, context=wt.tls_context())


class NetnsPktgenRun(pw.PktgenRun):
    def __init__(self, topo, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.args = topo.exec_args(topo.ns_b, self.args)


def weir_args(topo, weir_exe):
    common = ["--listen-ip", topo.media_ip, "--http-ip", topo.kernel_ip]
    if MODE == "kernel":
        return common
    help_text = subprocess.run([weir_exe, "--help"], capture_output=True, text=True,
                               timeout=10).stdout
    wt.check("--dataplane" in help_text,
             f"{weir_exe} has no --dataplane option (no DPDK dataplane in this build); "
             "WEIR_NETNS_MODE=kernel tests this topology with the kernel dataplane")
    eal = os.environ.get("WEIR_NETNS_EAL_ARGS",
                         "--no-huge --no-pci -m 1024 --no-shconf --no-telemetry "
                         f"--vdev=net_af_packet0,iface={topo.veth_a}")
    return ["--dataplane", "dpdk", "--dpdk-eal-args", eal,
            "--dpdk-prefix-length", str(topo.prefix_length), *common]


def check_ping_and_arp(topo):
    ping = nt.icmp_ping(topo.ns_b, topo.media_ip, count=PINGS)
    wt.log(f"ping {topo.media_ip} from {topo.ns_b}: {ping}")
    wt.check(ping["bad_checksum"] == 0, f"echo replies with a bad ICMP checksum: {ping}")
    wt.check(ping["received"] == PINGS, f"{ping['received']} of {PINGS} echoes answered: {ping}")
    neigh = topo.neighbor(topo.ns_b, topo.veth_b, topo.media_ip)
    mac_a = topo.mac(topo.ns_a, topo.veth_a)
    wt.log(f"ip neigh in {topo.ns_b}: {neigh}")
    wt.check(neigh is not None and neigh.get("lladdr") == mac_a,
             f"ARP entry for {topo.media_ip} in {topo.ns_b}: {neigh}, want lladdr {mac_a}")
    wt.check(not set(neigh.get("state", [])) & {"FAILED", "INCOMPLETE"},
             f"ARP entry for {topo.media_ip} is {neigh['state']}")


def check_transports(topo, done):
    stats = done["weirStats"]
    for tid, s in stats.items():
        wt.check(isinstance(s, dict), f"no stats for transport {tid}: {s}")
        wt.check(s["iceState"] in pw.ICE_UP and s["dtlsState"] == "connected",
                 f"transport {tid}: iceState {s['iceState']}, dtlsState {s['dtlsState']}")
        wt.check(wt.dropped(s, "srtpAuthFailed") == 0, f"transport {tid}: SRTP failures {s}")
        t = s.get("iceSelectedTuple", {})
        wt.check(t.get("localIp") == topo.media_ip and t.get("remoteIp") == topo.peer_ip,
                 f"transport {tid}: selected tuple {t}, want {topo.media_ip} <-> {topo.peer_ip}")
    for c in done["consumers"]:
        wt.check(c["endpointState"] == "connected" and c["received"] > 0,
                 f"consumer {c['index']} in pktgen: {c}")


def check_net_stack(weir, result):
    """The DPDK stack's counters in /stats (workers[].netStack), when this weir has them."""
    workers = weir.api("GET", "/stats").get("workers", [])
    stacks = [w["netStack"] for w in workers if isinstance(w, dict) and "netStack" in w]
    if not stacks:
        wt.check(MODE == "kernel", f"DPDK mode but /stats has no workers[].netStack: {workers}")
        wt.log("kernel mode: /stats has no netStack counters")
        return
    wt.log("netStack: " + json.dumps(stacks))
    total = lambda key: sum(int(s.get(key, 0)) for s in stacks)
    dropped = lambda key: sum(int(s.get("dropped", {}).get(key, 0)) for s in stacks)
    wt.check(total("icmpEchoAnswered") >= PINGS, f"icmpEchoAnswered < {PINGS}: {stacks}")
    wt.check(total("arpRequestsAnswered") >= 1, f"no ARP request answered: {stacks}")
    wt.check(total("rxUdp") >= result["sent"], f"rxUdp below pktgen's sent {result['sent']}")
    wt.check(total("txFrames") >= result["forwarded"],
             f"txFrames below pktgen's forwarded {result['forwarded']}")
    for key in ("udpChecksum", "ipv4Checksum", "ipv4Header", "udpLength", "noBuffer"):
        wt.check(dropped(key) == 0, f"the DPDK stack dropped {dropped(key)} for {key}: {stacks}")


def run(weir_exe, pktgen_exe):
    wt.check(pktgen_exe is not None, "usage: test_dpdk_netns.py <weir> <pktgen>")
    wt.check(MODE in nt.MODES, f"WEIR_NETNS_MODE={MODE!r}: want one of {nt.MODES}")
    try:
        nt.require_privileges()
    except nt.TopologyError as e:
        raise wt.TestFailure(f"cannot build the namespace topology: {e}")
    topo = nt.Topology(MODE)
    topo.install_cleanup()
    wt.log(f"mode {MODE}: creating {topo.ns_a} ({topo.kernel_ip}, media {topo.media_ip}) and "
           f"{topo.ns_b} ({topo.peer_ip})")
    try:
        topo.up(owner_pid=os.getpid())
        snmp_before = topo.snmp(topo.ns_b)
        with NetnsWeir(weir_exe, topo, weir_args(topo, weir_exe), rtc_ports=200) as weir:
            check_ping_and_arp(topo)
            args = ["--consumers", str(CONSUMERS), "--rate", str(RATE_PPS),
                    "--duration", str(DURATION_S), "--warmup", "5", "--local-ip", topo.peer_ip]
            with NetnsPktgenRun(topo, pktgen_exe, weir, args) as run:
                running = run.wait_report("running")
                wt.check(len(running["consumers"]) == CONSUMERS, f"report: {running}")
                rc, result = run.finish()
                wt.check(rc == 0, f"pktgen exited {rc}")
                pw.check_result(result, CONSUMERS)
                done = run.report()
            wt.check(done is not None and done["phase"] == "done", f"final report: {done}")
            check_transports(topo, done)
            check_net_stack(weir, result)
            pw.check_server_clean(weir)
        snmp_after = topo.snmp(topo.ns_b)
        delta = {f"{p}.{k}": snmp_after[p][k] - snmp_before[p].get(k, 0)
                 for p in ("Udp", "Icmp") for k in snmp_after[p]
                 if snmp_after[p][k] != snmp_before[p].get(k, 0)}
        wt.log(f"{topo.ns_b} /proc/net/snmp changes: {delta}")
        for key in ("Udp.InCsumErrors", "Icmp.InCsumErrors", "Udp.InErrors"):
            wt.check(delta.get(key, 0) == 0, f"{topo.ns_b}'s kernel counted {key} +{delta.get(key, 0)}")
        # The kernel checked the checksum of every datagram pktgen received (veth does
        # not mark them verified), so the check above covers weir's whole output.
        wt.check(delta.get("Udp.InDatagrams", 0) >= result["forwarded"],
                 f"{topo.ns_b} received {delta.get('Udp.InDatagrams', 0)} UDP datagrams, "
                 f"pktgen counted {result['forwarded']} forwarded")
    finally:
        topo.down()
    left = [ns for ns in (topo.ns_a, topo.ns_b) if nt.ns_exists(ns)]
    wt.check(not left, f"namespaces left behind: {left}")
    wt.log(f"mode {MODE}: namespaces removed")


if __name__ == "__main__":
    wt.main(run)
