"""Two network namespaces joined by a veth pair, for running weir's DPDK dataplane (and,
to test this plumbing, its kernel one) against real peers (python3 standard library only).

    weir-a-<id>: veth "weir-va", kernel IP 10.77.<n>.1/24 (HTTPS/WSS signaling). weir runs
                 here; in DPDK mode its port is net_af_packet on weir-va and it owns the
                 media IP 10.77.<n>.2 itself (ARP, ICMP echo, UDP), the kernel does not
                 have it. In kernel mode .2 is a second address of weir-va.
    weir-b-<id>: veth "weir-vb", 10.77.<n>.3/24: the peers (pktgen, chromium).

The veth ends are created inside their namespaces, so nothing appears in the root
namespace and only the namespace names must be unique: <id> is the owning process's pid.
Both ends get checksum offload, TSO/GSO and GRO off and IPv6 disabled: with tx checksum
offload on, a UDP packet sent from ns B reaches an AF_PACKET socket on weir-va with only
the pseudo-header sum in its checksum field (tp_status TP_STATUS_CSUMNOTREADY), which a
userspace stack rightly drops; GSO/GRO would show it frames larger than the MTU; IPv6
would add router solicitations and MLD reports it has no use for.

Cleanup: down() stops what still runs in the namespaces (by pid: only processes this
test started can be in them) and deletes both. up() first removes namespaces left by
earlier runs whose owner is gone, and can start a watchdog (its own session, so a test
killed with SIGKILL, or its whole process group, still gets its namespaces removed).

CLI (for the browser tests), each printing JSON or nothing:
    python3 netns_topology.py up [--mode dpdk|kernel] [--owner PID] [--id ID]
    python3 netns_topology.py down --id ID
    python3 netns_topology.py clean-stale
    python3 netns_topology.py ping --ns NS [--count N] IP
"""

import argparse
import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import weirtest  # noqa: E402  (the shared Internet checksum)

NS_PREFIX = "weir-"
NS_RE = re.compile(r"^weir-[ab]-(\d+)$")
VETH_A = "weir-va"
VETH_B = "weir-vb"
PREFIX_LENGTH = 24
CLONE_NEWNET = 0x40000000
MODES = ("dpdk", "kernel")


class TopologyError(Exception):
    pass


def _run(args, timeout=10, check=True):
    try:
        out = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TopologyError(f"{' '.join(args)}: no exit within {timeout} s")
    except FileNotFoundError:
        raise TopologyError(f"{args[0]} not found")
    if check and out.returncode != 0:
        raise TopologyError(f"{' '.join(args)} exited {out.returncode}: {out.stderr.strip()}")
    return out


def require_privileges():
    """Raises TopologyError saying what is missing (the tests fail on it, never skip)."""
    if os.geteuid() != 0:
        raise TopologyError("must run as root: creating network namespaces and veth pairs "
                            "needs CAP_NET_ADMIN and CAP_SYS_ADMIN (CI runs these tests as root)")
    for tool, package in (("ip", "iproute2"), ("ethtool", "ethtool")):
        if shutil.which(tool) is None:
            raise TopologyError(f"`{tool}` not found (Debian package {package})")
    out = _run(["ip", "netns", "list"], check=False)
    if out.returncode != 0:
        raise TopologyError(f"`ip netns` is unavailable: {out.stderr.strip()}")


# ---------------------------------------------------------------------------------------
# Processes and namespaces

def _start_time(pid):
    """The process's start time in clock ticks (field 22 of /proc/PID/stat), or None if
    it has exited: gone, or a zombie (weir and chromium are our callers' children, whose
    parent may be blocked waiting for this very cleanup and cannot reap them yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid, start_time=None):
    now = _start_time(pid)
    return now is not None and (start_time is None or now == start_time)


def list_namespaces():
    out = _run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


def ns_exists(name):
    return os.path.exists(f"/run/netns/{name}")


def ns_pids(name):
    out = _run(["ip", "netns", "pids", name], check=False)
    return [int(p) for p in out.stdout.split() if p.isdigit() and int(p) != os.getpid()]


def _stop_pids(pids, term_wait_s=5.0, kill_wait_s=3.0):
    """SIGTERM, then SIGKILL what is left, each wait bounded."""
    for sig, wait_s in ((signal.SIGTERM, term_wait_s), (signal.SIGKILL, kill_wait_s)):
        pids = [p for p in pids if _alive(p)]
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.05)


def delete_namespace(name):
    """Stops the processes inside, then deletes the namespace (its veth end goes with it)."""
    if not ns_exists(name):
        return
    _stop_pids(ns_pids(name))
    _run(["ip", "netns", "del", name], check=False)
    if ns_exists(name):
        raise TopologyError(f"namespace {name} is still there after `ip netns del`")


def clean_stale():
    """Removes weir-a-<pid>/weir-b-<pid> namespaces whose pid no longer runs (a test killed
    before its cleanup). Returns the names removed."""
    removed = []
    for name in list_namespaces():
        m = NS_RE.match(name)
        if m and not _alive(int(m.group(1))):
            delete_namespace(name)
            removed.append(name)
    return removed


@contextlib.contextmanager
def entered(ns):
    """Runs the block with the calling thread in namespace ns: sockets created inside stay
    in it after the block. Needs CAP_SYS_ADMIN."""
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise TopologyError(f"setns({ns}): {os.strerror(ctypes.get_errno())}")
        try:
            yield
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:  # cannot go on in the wrong namespace
                os._exit(99)
    finally:
        os.close(target)
        os.close(own)


# ---------------------------------------------------------------------------------------
# The topology

class Topology:
    def __init__(self, mode="dpdk", run_id=None):
        if mode not in MODES:
            raise TopologyError(f"mode {mode!r}: want one of {MODES}")
        self.mode = mode
        self.id = str(run_id if run_id is not None else os.getpid())
        if not re.fullmatch(r"\d+", self.id):
            raise TopologyError(f"id {self.id!r} must be a pid")
        # The subnet lives only inside this pair, so it need not differ between runs; it
        # does anyway, so that logs of two runs cannot be mixed up.
        self.n = 20 + int(self.id) % 200
        self.ns_a = f"weir-a-{self.id}"
        self.ns_b = f"weir-b-{self.id}"
        self.veth_a, self.veth_b = VETH_A, VETH_B
        self.kernel_ip = f"10.77.{self.n}.1"
        self.media_ip = f"10.77.{self.n}.2"
        self.peer_ip = f"10.77.{self.n}.3"
        self.prefix_length = PREFIX_LENGTH
        self.watchdog = None

    def describe(self):
        return {"id": self.id, "mode": self.mode, "nsA": self.ns_a, "nsB": self.ns_b,
                "vethA": self.veth_a, "vethB": self.veth_b, "kernelIp": self.kernel_ip,
                "mediaIp": self.media_ip, "peerIp": self.peer_ip,
                "prefixLength": self.prefix_length, "macA": self.mac(self.ns_a, self.veth_a)}

    @staticmethod
    def exec_args(ns, argv):
        return ["ip", "netns", "exec", ns, *argv]

    def up(self, owner_pid=None):
        """Creates both namespaces; on any failure removes what it made and raises."""
        require_privileges()
        clean_stale()
        for ns in (self.ns_a, self.ns_b):
            if ns_exists(ns):
                raise TopologyError(f"namespace {ns} already exists (owner {self.id} alive)")
        try:
            _run(["ip", "netns", "add", self.ns_a])
            _run(["ip", "netns", "add", self.ns_b])
            if owner_pid is not None:
                self.start_watchdog(owner_pid)
            _run(["ip", "link", "add", self.veth_a, "netns", self.ns_a, "type", "veth",
                  "peer", "name", self.veth_b, "netns", self.ns_b])
            for ns, dev, addrs in (
                    (self.ns_a, self.veth_a,
                     [self.kernel_ip] + ([self.media_ip] if self.mode == "kernel" else [])),
                    (self.ns_b, self.veth_b, [self.peer_ip])):
                self._disable_ipv6(ns)
                _run(self.exec_args(ns, ["ethtool", "-K", dev, "rx", "off", "tx", "off",
                                         "tso", "off", "gso", "off", "gro", "off"]))
                _run(["ip", "-n", ns, "link", "set", "lo", "up"])
                for ip in addrs:
                    _run(["ip", "-n", ns, "addr", "add", f"{ip}/{self.prefix_length}",
                          "dev", dev])
                _run(["ip", "-n", ns, "link", "set", dev, "up"])
            self._check_offloads()
        except BaseException:
            self.down()
            raise
        return self

    def _disable_ipv6(self, ns):
        # Written from inside the namespace: /proc/sys/net is the opener's namespace's.
        with entered(ns):
            for scope in ("all", "default"):
                path = f"/proc/sys/net/ipv6/conf/{scope}/disable_ipv6"
                if os.path.exists(path):  # a kernel without IPv6 has none to disable
                    with open(path, "w") as f:
                        f.write("1")

    def _check_offloads(self):
        for ns, dev in ((self.ns_a, self.veth_a), (self.ns_b, self.veth_b)):
            features = _run(self.exec_args(ns, ["ethtool", "-k", dev])).stdout
            for name in ("tx-checksumming", "rx-checksumming", "generic-receive-offload"):
                m = re.search(rf"^{name}: (\w+)", features, re.M)
                if m is None or m.group(1) != "off":
                    raise TopologyError(f"{dev} in {ns}: {name} is not off:\n{features}")

    def down(self):
        """Idempotent; stops leftovers in the namespaces, deletes them, ends the watchdog."""
        errors = []
        for ns in (self.ns_a, self.ns_b):
            try:
                delete_namespace(ns)
            except TopologyError as e:
                errors.append(str(e))
        if self.watchdog is not None:
            try:  # it sees the namespaces gone within its poll interval
                self.watchdog.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.watchdog.kill()
                self.watchdog.wait()
            self.watchdog = None
        if errors:
            raise TopologyError("; ".join(errors))

    def start_watchdog(self, owner_pid):
        self.watchdog = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "watch", "--id", self.id,
             "--owner", str(owner_pid), "--owner-start", str(_start_time(owner_pid))],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True)

    def install_cleanup(self):
        """down() at interpreter exit, and SIGTERM/SIGINT/SIGHUP turned into SystemExit so
        that `finally` blocks (weir's stop, then this) run."""
        import atexit

        def on_signal(signum, frame):
            raise SystemExit(128 + signum)

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, on_signal)
        atexit.register(lambda: self.down())

    # -- what tests look at ----------------------------------------------------------------

    def mac(self, ns, dev):
        info = json.loads(_run(["ip", "-n", ns, "-j", "link", "show", "dev", dev]).stdout)
        return info[0]["address"]

    def neighbor(self, ns, dev, ip):
        """`ip neigh` entry of ip on dev in ns: {"dst", "lladdr", "state": [...]} or None."""
        entries = json.loads(_run(["ip", "-n", ns, "-j", "neigh", "show", ip, "dev", dev]).stdout
                             or "[]")
        return entries[0] if entries else None

    def snmp(self, ns):
        """/proc/net/snmp of ns as {"Udp": {"InCsumErrors": n, ...}, "Icmp": {...}, ...}."""
        text = _run(self.exec_args(ns, ["cat", "/proc/net/snmp"])).stdout
        out = {}
        lines = text.splitlines()
        for head, values in zip(lines[0::2], lines[1::2]):
            proto, names = head.split(":", 1)
            out[proto] = dict(zip(names.split(), (int(v) for v in values.split(":", 1)[1].split())))
        return out


# ---------------------------------------------------------------------------------------
# ICMP echo (no iputils-ping needed): a raw socket in the namespace; replies must match id
# and sequence and carry a correct ICMP checksum.

_checksum = weirtest.inet_checksum


def icmp_ping(ns, ip, count=5, interval_s=0.2, timeout_s=1.0):
    """Echo requests from ns to ip. Returns {"sent", "received", "rtt_ms": [...],
    "bad_checksum"}."""
    with entered(ns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    result = {"sent": 0, "received": 0, "rtt_ms": [], "bad_checksum": 0}
    try:
        for seq in range(1, count + 1):
            payload = struct.pack("!d", time.monotonic()) + bytes(range(48))
            head = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            packet = struct.pack("!BBHHH", 8, 0, _checksum(head + payload), ident, seq) + payload
            sent_at = time.monotonic()
            sock.sendto(packet, (ip, 0))
            result["sent"] += 1
            deadline = sent_at + timeout_s
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                try:
                    data, addr = sock.recvfrom(2048)
                except socket.timeout:
                    break
                icmp = data[(data[0] & 0x0F) * 4:]
                if addr[0] != ip or len(icmp) < 8 or icmp[0] != 0:
                    continue
                _, _, _, r_ident, r_seq = struct.unpack("!BBHHH", icmp[:8])
                if r_ident != ident or r_seq != seq:
                    continue
                if _checksum(icmp) != 0 or icmp[8:] != payload:
                    result["bad_checksum"] += 1
                    continue
                result["received"] += 1
                result["rtt_ms"].append(round((time.monotonic() - sent_at) * 1000, 3))
                break
            time.sleep(max(0.0, interval_s - (time.monotonic() - sent_at)))
    finally:
        sock.close()
    return result


# ---------------------------------------------------------------------------------------
# CLI

def _watch(run_id, owner, owner_start, poll_s=0.5, max_s=7200):
    """Until the namespaces are gone: when the owner dies (or after max_s), removes them."""
    topo = Topology(run_id=run_id)
    deadline = time.monotonic() + max_s
    while ns_exists(topo.ns_a) or ns_exists(topo.ns_b):
        if not _alive(owner, owner_start) or time.monotonic() > deadline:
            topo.down()
            return
        time.sleep(poll_s)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="create the pair; prints its description as JSON")
    up.add_argument("--mode", choices=MODES, default="dpdk")
    up.add_argument("--owner", type=int, default=os.getppid(),
                    help="pid whose exit removes the namespaces (default: the caller)")
    up.add_argument("--id", help="default: the owner's pid")
    down = sub.add_parser("down", help="stop what runs in the pair and delete it")
    down.add_argument("--id", required=True)
    sub.add_parser("clean-stale", help="remove pairs whose owner no longer runs")
    ping = sub.add_parser("ping", help="ICMP echo from a namespace; prints the result")
    ping.add_argument("--ns", required=True)
    ping.add_argument("--count", type=int, default=5)
    ping.add_argument("ip")
    watch = sub.add_parser("watch")  # started by `up`, not by people
    watch.add_argument("--id", required=True)
    watch.add_argument("--owner", type=int, required=True)
    watch.add_argument("--owner-start", type=int)
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            topo = Topology(args.mode, args.id if args.id is not None else args.owner)
            topo.up(owner_pid=args.owner)
            print(json.dumps(topo.describe()))
        elif args.command == "down":
            Topology(run_id=args.id).down()
        elif args.command == "clean-stale":
            print(json.dumps(clean_stale()))
        elif args.command == "ping":
            print(json.dumps(icmp_ping(args.ns, args.ip, args.count)))
        elif args.command == "watch":
            _watch(args.id, args.owner, args.owner_start)
    except TopologyError as e:
        print(f"netns_topology: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
