#!/usr/bin/env python3
"""weir in DPDK mode on a net_pcap port: the frames of a pcap file arrive as if from a NIC,
what weir sends is written to another. The worker's own network stack must answer ARP for
the media address and ICMP echo, and count and drop every bad frame by its reason; the
kernel never sees any of it.

usage: test_dpdk_pcap.py WEIR [PKTGEN]"""
import os
import shutil
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import weirtest as wt  # noqa: E402

MEDIA_IP = bytes([10, 88, 0, 2])
PEER_IP = bytes([10, 88, 0, 3])
PEER_MAC = bytes.fromhex("020000000003")
BROADCAST = b"\xff" * 6


checksum = wt.inet_checksum


def ipv4(payload, proto, src=PEER_IP, dst=MEDIA_IP, flags_frag=0x4000, ihl=5, total=None):
    total = total if total is not None else 20 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 1, flags_frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", checksum(h)) + h[12:]
    return h + payload


def udp(sport, dport, payload, src=PEER_IP, dst=MEDIA_IP, length=None):
    length = length if length is not None else 8 + len(payload)
    u = struct.pack("!HHHH", sport, dport, length, 0) + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 17, 8 + len(payload))
    c = checksum(pseudo + u) or 0xFFFF
    return u[:6] + struct.pack("!H", c) + u[8:]


def eth(payload, ethertype=0x0800, dst=BROADCAST):
    return dst + PEER_MAC + struct.pack("!H", ethertype) + payload


def arp_request(target=MEDIA_IP):
    return eth(struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, PEER_MAC, PEER_IP, b"\0" * 6,
                           target) + b"\0" * 18, 0x0806)


def icmp_echo(ident, seq, data):
    m = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    m = m[:2] + struct.pack("!H", checksum(m)) + m[4:]
    return eth(ipv4(m, 1))


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1000 + i, 0, len(frame), len(frame)))
            f.write(frame)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    wt.check(magic in (0xA1B2C3D4, 0xA1B23C4D), f"bad pcap magic {magic:#x}")
    off, frames = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def run(weir_exe, _pktgen):
    tmp = tempfile.mkdtemp(prefix="weir-pcap-")
    try:
        good_udp = eth(ipv4(udp(5000, 40000, b"no transport here"), 17))
        bad_ihl = bytearray(good_udp)
        bad_ihl[14] = 0x44
        bad_total = eth(ipv4(udp(5000, 40000, b"x" * 20), 17, total=900))
        fragment = eth(ipv4(udp(5000, 40000, b"x" * 20), 17, flags_frag=0x2000))
        bad_ip_sum = bytearray(good_udp)
        bad_ip_sum[24] ^= 0xFF
        bad_udp_len = eth(ipv4(udp(5000, 40000, b"x" * 20, length=300), 17))
        bad_udp_sum = bytearray(eth(ipv4(udp(5000, 40000, b"payload bits"), 17)))
        bad_udp_sum[-1] ^= 0x01
        tcp = eth(ipv4(b"\0" * 20, 6))
        other_host = eth(ipv4(udp(5000, 40000, b"x"), 17, dst=bytes([10, 88, 0, 9])))
        frames = [
            arp_request(),
            arp_request(bytes([10, 88, 0, 77])),  # for someone else: no answer
            icmp_echo(0x4242, 7, bytes(range(48))),
            good_udp,
            good_udp[:10],                 # shorter than an Ethernet header
            good_udp[:20],                 # an IPv4 header cut short
            bytes(bad_ihl),
            bad_total,
            fragment,
            bytes(bad_ip_sum),
            bad_udp_len,
            bytes(bad_udp_sum),
            tcp,
            other_host,
            eth(b"\x60" + b"\0" * 39, 0x86DD),  # IPv6: not configured
            eth(b"\0" * 30, 0x8100),            # VLAN tag
            eth(b"\0" * 30, 0x88B5),            # an experimental EtherType
        ]
        rx = os.path.join(tmp, "rx.pcap")
        tx = os.path.join(tmp, "tx.pcap")
        write_pcap(rx, frames)
        eal = (f"--no-huge --no-pci --no-shconf -m 512 --no-telemetry "
               f"--vdev=net_pcap0,rx_pcap={rx},tx_pcap={tx}")
        with wt.Weir(weir_exe, extra_args=["--dataplane", "dpdk", "--dpdk-eal-args", eal,
                                           "--listen-ip", "10.88.0.2",
                                           "--dpdk-mbufs", "2047"]) as weir:
            def stack():
                return weir.api("GET", "/stats")["workers"][0]["netStack"]
            wt.wait_until(lambda: stack()["rxFrames"] >= len(frames), 10,
                          what="the worker read every frame of the pcap")
            time.sleep(0.3)
            s = stack()
            body = weir.api("GET", "/stats")
            wt.log("netStack: " + str(s))
            d = s["dropped"]
            want = {"shortFrame": 1, "ipv4Header": 3, "fragment": 1, "ipv4Checksum": 1,
                    "udpLength": 1, "udpChecksum": 1, "unknownProtocol": 1, "notForUs": 2,
                    "ipv6": 1, "vlan": 1, "unknownEtherType": 1}
            for reason, n in want.items():
                wt.check(d[reason] == n, f"dropped.{reason} = {d[reason]}, want {n}")
            wt.check(sum(d.values()) == sum(want.values()), f"other drops: {d}")
            wt.check(s["arpRequestsAnswered"] == 1, "one ARP request was for us")
            wt.check(s["icmpEchoAnswered"] == 1, "the echo request was answered")
            wt.check(s["rxUdp"] == 1 and s["rxUnboundPort"] == 1,
                     "the good datagram was counted for no transport")
            wt.check(body["workers"][0]["engine"] == "dpdk", "the worker runs the DPDK engine")
        # net_pcap writes its TX file out when weir closes the port.
        sent = read_pcap(tx)
        wt.log(f"{len(sent)} frames sent")
        arp = [f for f in sent if f[12:14] == b"\x08\x06"]
        wt.check(len(arp) == 1, f"one ARP reply, got {len(arp)}")
        a = arp[0]
        op, smac, sip, tmac, tip = struct.unpack("!6x H 6s 4s 6s 4s", a[14:42])
        wt.check(op == 2 and sip == MEDIA_IP and tip == PEER_IP and tmac == PEER_MAC,
                 "ARP reply: 10.88.0.2 is-at our MAC, to the asker")
        wt.check(a[0:6] == PEER_MAC and a[6:12] == smac, "ARP reply addressed to the asker")
        icmp = [f for f in sent if f[12:14] == b"\x08\x00" and f[23] == 1]
        wt.check(len(icmp) == 1, f"one ICMP reply, got {len(icmp)}")
        r = icmp[0]
        wt.check(checksum(r[14:34]) == 0, "the reply's IPv4 header checksum is right")
        wt.check(r[26:30] == MEDIA_IP and r[30:34] == PEER_IP, "reply from the media address")
        wt.check(r[34] == 0 and checksum(r[34:]) == 0, "an echo reply with a valid checksum")
        wt.check(struct.unpack("!HH", r[38:42]) == (0x4242, 7), "identifier and sequence kept")
        wt.check(r[42:] == bytes(range(48)), "the data echoed")
        wt.check(len(sent) == 2, f"nothing else was sent: {len(sent)} frames")
        wt.log("PASS")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    wt.main(run)
