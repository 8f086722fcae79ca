"""Shared helpers for weir's integration tests (python3 standard library only).

Each test script is run by meson as `python3 test_x.py <weir> <pktgen>`. It starts its
own weir on a free HTTPS port with a private RTC port range and state directory (so tests
can run in parallel), talks to it over real HTTPS, WSS (ProtooClient, a small WebSocket
client) and UDP on loopback, and stops it by PID in a `finally`, checking that it exited
0 after SIGTERM and printed no sanitizer report. weir's certificate is self-signed:
clients here do not verify it (ssl._create_unverified_context(), curl -k).
"""

import base64
import hashlib
import http.client
import json
import os
import re
import random
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import traceback

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                     "UndefinedBehaviorSanitizer", "ThreadSanitizer")


class TestFailure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def wait_until(predicate, timeout_s, interval_s=0.05, what="condition"):
    """Polls predicate() until it returns a true value (returned) or timeout_s passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TestFailure(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)


# ---------------------------------------------------------------------------------------
# Ports

def inet_checksum(data):
    """The Internet checksum (RFC 1071) of data: 0 over a block that carries its own."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_port_pair(low=20000, high=39000):
    """An even port P with P and P+1 free for UDP (ffmpeg's RTP/RTCP pair)."""
    for _ in range(200):
        port = random.randrange(low, high, 2)
        socks = []
        try:
            for p in (port, port + 1):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise TestFailure("no free UDP port pair found")


def rtc_port_range(size):
    """A random private range for weir's media ports; weir skips ports already in use."""
    low = random.randrange(40000, 60000 - size)
    return low, low + size - 1


# ---------------------------------------------------------------------------------------
# The weir process and its HTTP API

def tls_context():
    """Client side TLS for weir's self-signed certificate: no verification."""
    return ssl._create_unverified_context()


class Weir:
    """One weir process. Use as a context manager: started on enter, stopped on exit.

    state_dir: where weir keeps its generated TLS certificate; by default a private
    temporary directory, removed when weir stops."""

    def __init__(self, exe, extra_args=(), rtc_ports=64, state_dir=None):
        self.exe = exe
        self.http_port = free_tcp_port()
        self.rtc_min, self.rtc_max = rtc_port_range(rtc_ports)
        self.own_state_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="weir-state-")
        self.args = [exe, "--http-port", str(self.http_port),
                     "--rtc-min-port", str(self.rtc_min), "--rtc-max-port", str(self.rtc_max),
                     "--state-dir", self.state_dir, *extra_args]
        self.proc = None
        self.log_file = tempfile.NamedTemporaryFile(prefix="weir-", suffix=".log", delete=False)
        self.stopped_cleanly = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.stop()
        except TestFailure:
            if exc is None:
                raise
            traceback.print_exc()  # the test's own failure is the one to report
        return False

    def start(self):
        log("starting " + " ".join(self.args))
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT)
        # ASAN builds start slowly on a busy machine: bounded retries, not a fixed sleep.
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                self.dump_log()
                raise TestFailure(f"weir exited with {self.proc.returncode} during startup")
            try:
                status, _ = self.request("GET", "/stats", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.dump_log()
                raise TestFailure("weir's API did not answer within 30 s")
            time.sleep(0.1)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        with open(self.log_file.name, "r", errors="replace") as f:
            return f.read()

    def dump_log(self, last_lines=80):
        lines = self.log_text().splitlines()
        print(f"----- weir log ({self.log_file.name}), last {last_lines} lines -----")
        for line in lines[-last_lines:]:
            print(line)
        print("----- end of weir log -----", flush=True)

    def stop(self):
        """SIGTERM by PID; weir must exit 0 within 15 s and print no sanitizer report."""
        if self.proc is None or self.stopped_cleanly:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                self.dump_log()
                raise TestFailure("weir did not exit within 15 s of SIGTERM (killed)")
        rc = proc.returncode
        text = self.log_text()
        markers = [m for m in SANITIZER_MARKERS if m in text]
        if rc != 0 or markers:
            self.dump_log(200)
            raise TestFailure(f"weir exit code {rc} after SIGTERM (want 0)"
                              + (f"; sanitizer report: {markers}" if markers else ""))
        self.stopped_cleanly = True
        log("weir stopped cleanly (exit 0)")
        os.unlink(self.log_file.name)
        if self.own_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    # -- HTTPS -----------------------------------------------------------------------------

    @property
    def api_url(self):
        return f"https://127.0.0.1:{self.http_port}"

    def connection(self, timeout):
        """An HTTPS connection to weir's API (a subclass may reach it another way)."""
        return http.client.HTTPSConnection("127.0.0.1", self.http_port, timeout=timeout,
                                           context=tls_context())

    def request(self, method, path, body=None, raw=None, timeout=10, headers=None):
        """Returns (status, parsed JSON or text). body: a JSON value; raw: bytes as is."""
        conn = self.connection(timeout)
        try:
            data = raw if raw is not None else (None if body is None else json.dumps(body))
            hdrs = {"Content-Type": "application/json"} if data is not None else {}
            hdrs.update(headers or {})
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", errors="replace")
            try:
                return resp.status, json.loads(text)
            except ValueError:
                return resp.status, text
        finally:
            conn.close()

    def api(self, method, path, body=None):
        """A request that must succeed (200); returns the answer."""
        status, answer = self.request(method, path, body)
        if status != 200:
            raise TestFailure(f"{method} {path} -> {status}: {answer}")
        return answer

    def transport_stats(self, room, transport_id):
        return self.api("GET", f"/rooms/{room}/transports/{transport_id}/stats")[0]

    def producer_stats(self, room, producer_id):
        return self.api("GET", f"/rooms/{room}/producers/{producer_id}/stats")[0]

    def consumer_stats(self, room, consumer_id):
        return self.api("GET", f"/rooms/{room}/consumers/{consumer_id}/stats")[0]


def dropped(stats, reason):
    return int(stats.get("dropped", {}).get(reason, 0))


# ---------------------------------------------------------------------------------------
# Broadcaster flows

VP8_CODEC = {"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000}


def create_broadcaster(weir, room, bid, rtp_capabilities=None):
    body = {"id": bid, "displayName": bid, "device": {"name": "weir-integration-test"}}
    if rtp_capabilities is not None:
        body["rtpCapabilities"] = rtp_capabilities
    return weir.api("POST", f"/rooms/{room}/broadcasters", body)


def create_plain_transport(weir, room, bid, **options):
    body = {"type": "plain"}
    body.update(options)
    return weir.api("POST", f"/rooms/{room}/broadcasters/{bid}/transports", body)


def connect_transport(weir, room, bid, tid, **params):
    return weir.api("POST", f"/rooms/{room}/broadcasters/{bid}/transports/{tid}/connect", params)


def produce(weir, room, bid, tid, ssrc, codec=VP8_CODEC, kind="video"):
    body = {"kind": kind, "rtpParameters": {"codecs": [codec], "encodings": [{"ssrc": ssrc}]}}
    return weir.api("POST", f"/rooms/{room}/broadcasters/{bid}/transports/{tid}/producers", body)


def consume(weir, room, bid, tid, producer_id, paused=False):
    return weir.api("POST",
                    f"/rooms/{room}/broadcasters/{bid}/transports/{tid}/consume?producerId={producer_id}",
                    {"paused": True} if paused else {})


class Forwarding:
    """A VP8 producer on a plain transport and one consumer sending to recv_port.

    Fields: room, producer_bid, consumer_bid, producer_transport, consumer_transport,
    producer_id, consumer (the consume answer), consumer_ssrc, consumer_pt.
    """

    def __init__(self, weir, recv_port, room=None, ssrc=2222, producer_transport_options=None,
                 consumer_transport_options=None, rtcp_port=None, consumer_srtp=None):
        self.room = room or f"room-{random.getrandbits(32):08x}"
        self.producer_bid = "producer-" + self.room
        self.consumer_bid = "consumer-" + self.room
        caps = weir.api("GET", f"/rooms/{self.room}")
        create_broadcaster(weir, self.room, self.producer_bid)
        self.producer_transport = create_plain_transport(
            weir, self.room, self.producer_bid,
            **(producer_transport_options or {"comedia": True, "rtcpMux": False}))
        self.producer_id = produce(weir, self.room, self.producer_bid,
                                   self.producer_transport["id"], ssrc)["id"]
        create_broadcaster(weir, self.room, self.consumer_bid, rtp_capabilities=caps)
        self.consumer_transport = create_plain_transport(
            weir, self.room, self.consumer_bid,
            **(consumer_transport_options or {"comedia": False, "rtcpMux": False}))
        connect = {"ip": "127.0.0.1", "port": recv_port}
        if rtcp_port is not None:
            connect["rtcpPort"] = rtcp_port
        if consumer_srtp is not None:
            connect["srtpParameters"] = consumer_srtp
        self.weir = weir
        self.recv_port = recv_port
        self.connect_args = connect
        self.consumer = None

    def connect_and_consume(self, paused=False):
        connect_transport(self.weir, self.room, self.consumer_bid, self.consumer_transport["id"],
                          **self.connect_args)
        self.consumer = consume(self.weir, self.room, self.consumer_bid,
                                self.consumer_transport["id"], self.producer_id, paused=paused)
        rtp = self.consumer["rtpParameters"]
        self.consumer_ssrc = rtp["encodings"][0]["ssrc"]
        self.consumer_pt = rtp["codecs"][0]["payloadType"]
        self.consumer_clock_rate = rtp["codecs"][0]["clockRate"]
        return self.consumer


# ---------------------------------------------------------------------------------------
# RTP on the wire

def rtp_packet(seq, ts, ssrc, pt, payload, marker=False, csrcs=(), extension=None,
               padding=0):
    """RFC 3550 packet. extension: (profile, bytes) with bytes a multiple of 4 long."""
    b0 = 0x80 | (0x20 if padding else 0) | (0x10 if extension else 0) | len(csrcs)
    head = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc)
    head += b"".join(struct.pack("!I", c) for c in csrcs)
    if extension:
        profile, data = extension
        head += struct.pack("!HH", profile, len(data) // 4) + data
    tail = b""
    if padding:
        tail = bytes(padding - 1) + bytes([padding])
    return head + payload + tail


def parse_rtp(data):
    """(pt, marker, seq, ts, ssrc, payload) of a plain RTP packet, or None."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    b0, b1, seq, ts, ssrc = struct.unpack("!BBHII", data[:12])
    off = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:
        if len(data) < off + 4:
            return None
        words = struct.unpack("!H", data[off + 2:off + 4])[0]
        off += 4 + 4 * words
    end = len(data)
    if b0 & 0x20:
        end -= data[-1]
    if off > end:
        return None
    return b1 & 0x7F, bool(b1 & 0x80), seq, ts, ssrc, data[off:end]


def vp8_keyframe_payload(size=200, picture_id=0):
    """A VP8 RTP payload (RFC 7741) that starts a key frame: S=1, PID 0, a 15-bit picture
    id, and a VP8 key-frame header (P bit clear, start code 9d 01 2a, 640x480)."""
    descriptor = bytes([0x90, 0x80, 0x80 | ((picture_id >> 8) & 0x7F), picture_id & 0xFF])
    first_partition_size = 100
    tag = (first_partition_size << 5) | 0x10  # show_frame=1, version 0, key frame (bit 0 = 0)
    frame = struct.pack("<I", tag)[:3] + b"\x9d\x01\x2a" + struct.pack("<HH", 640, 480)
    body = frame + bytes((i * 7) & 0xFF for i in range(max(0, size - len(descriptor) - len(frame))))
    return descriptor + body


def udp_socket(port=0, timeout=0.2):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("127.0.0.1", port))
    s.settimeout(timeout)
    return s


def receive_all(sock, expect=None, quiet_s=0.3, max_s=10.0):
    """Datagrams on sock: until `expect` arrived and then quiet_s of silence (so extras
    are seen too), or without expect until quiet_s of silence; at most max_s in all."""
    out = []
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline:
        waiting_for_more = expect is not None and len(out) < expect
        sock.settimeout(max(0.01, deadline - time.monotonic()) if waiting_for_more else quiet_s)
        try:
            data, _ = sock.recvfrom(65536)
        except socket.timeout:
            if waiting_for_more:
                continue
            break
        out.append(data)
    return out


# ---------------------------------------------------------------------------------------
# protoo over WSS: a small RFC 6455 client (standard library only), so that tests can also
# send what a browser never would (binary frames, oversized messages, broken JSON).

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA


class WsClosed(Exception):
    """The server closed the WebSocket: code (None without a close frame) and reason."""

    def __init__(self, code, reason):
        super().__init__(f"WebSocket closed ({code}: {reason})")
        self.code = code
        self.reason = reason


class UpgradeRefused(Exception):
    def __init__(self, status, body):
        super().__init__(f"upgrade refused: HTTP {status}: {body}")
        self.status = status
        self.body = body


def ws_handshake(port, path, protocols=("protoo",), timeout=10):
    """TLS + WebSocket upgrade. Returns (sock, response headers) on 101; raises
    UpgradeRefused with the HTTP status and body otherwise."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock = tls_context().wrap_socket(raw, server_hostname="localhost")
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if protocols:
        lines.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise UpgradeRefused(0, "connection closed before an answer")
        head += chunk
    head, rest = head.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if status != 101:
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(4096)
            if not chunk:
                break
            rest += chunk
        sock.close()
        raise UpgradeRefused(status, rest.decode("utf-8", errors="replace"))
    accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    check(headers.get("sec-websocket-accept") == accept, f"bad Sec-WebSocket-Accept: {headers}")
    return sock, headers, rest


class ProtooClient:
    """One protoo peer: ws_handshake on /?roomId&peerId, then frames. Server requests and
    notifications that arrive while waiting for a response are kept in self.inbox."""

    def __init__(self, weir_or_port, room, peer, timeout=10, extra_query=""):
        port = weir_or_port if isinstance(weir_or_port, int) else weir_or_port.http_port
        self.sock, self.headers, self.pending = ws_handshake(
            port, f"/?roomId={room}&peerId={peer}{extra_query}", timeout=timeout)
        self.sock.settimeout(timeout)
        self.inbox = []
        self.closed = None

    # -- frames ----------------------------------------------------------------------------
    def send_frame(self, opcode, payload, fin=True):
        header = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload)) if n < 65536 else \
            (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")
             ).to_bytes(n, "big")
        self.sock.sendall(header + mask + masked)

    def send_text(self, text):
        self.send_frame(OP_TEXT, text.encode() if isinstance(text, str) else text)

    def send_json(self, value):
        self.send_text(json.dumps(value))

    def _read_exact(self, n):
        while len(self.pending) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise WsClosed(None, "connection closed without a close frame")
            self.pending += chunk
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def recv_frame(self, timeout=None):
        """(opcode, payload) of the next data frame; answers pings; raises WsClosed."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        while True:
            b0, b1 = self._read_exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read_exact(8))[0]
            payload = self._read_exact(n)
            opcode = b0 & 0x0F
            if opcode == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.closed = (code, payload[2:].decode("utf-8", errors="replace"))
                raise WsClosed(*self.closed)
            if opcode in (OP_TEXT, OP_BINARY):
                return opcode, payload

    def recv_json(self, timeout=None):
        opcode, payload = self.recv_frame(timeout)
        check(opcode == OP_TEXT, f"server sent a non-text frame (opcode {opcode})")
        return json.loads(payload)

    def wait_closed(self, timeout=10):
        """The close code the server sends (after any frames before it)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.inbox.append(self.recv_json(max(0.05, deadline - time.monotonic())))
        except WsClosed as e:
            return e.code
        except socket.timeout:
            pass
        raise TestFailure(f"the server did not close the WebSocket within {timeout}s")

    # -- protoo ----------------------------------------------------------------------------
    def send_request(self, method, data=None, request_id=None):
        request_id = random.randrange(0, 10_000_000) if request_id is None else request_id
        message = {"request": True, "id": request_id, "method": method}
        if data is not None:
            message["data"] = data
        self.send_json(message)
        return request_id

    def wait_response(self, request_id, timeout=10):
        for i, m in enumerate(self.inbox):
            if m.get("response") and m.get("id") == request_id:
                return self.inbox.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure(f"no response to request {request_id} within {timeout}s")
            try:
                m = self.recv_json(left)
            except socket.timeout:
                continue
            if m.get("response") and m.get("id") == request_id:
                return m
            self.inbox.append(m)

    def request(self, method, data=None, timeout=10):
        """The whole response message ({response, id, ok, data | errorCode, errorReason})."""
        return self.wait_response(self.send_request(method, data), timeout)

    def close(self, code=1000):
        try:
            self.send_frame(OP_CLOSE, struct.pack("!H", code))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------
# Running a test script

def main(test_function):
    """Runs test_function(weir_exe, pktgen_exe); exit 0 on success, 1 with the reason."""
    if len(sys.argv) < 2:
        print(f"usage: {sys.argv[0]} <weir> [pktgen]", file=sys.stderr)
        sys.exit(2)
    weir_exe = os.path.abspath(sys.argv[1])
    pktgen_exe = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
    random.seed()
    started = time.monotonic()
    try:
        test_function(weir_exe, pktgen_exe)
    except TestFailure as e:
        print(f"FAIL: {e}", flush=True)
        sys.exit(1)
    except Exception:  # an unexpected error is a failure too, with its traceback
        traceback.print_exc()
        print("FAIL: unexpected exception", flush=True)
        sys.exit(1)
    log(f"PASS ({time.monotonic() - started:.1f}s)")
    sys.exit(0)


# ---------------------------------------------------------------------------------------
# ffmpeg through weir: one VP8 producer, one consumer, optionally SRTP on both legs

# Decoder complaints, and the depacketizer's "Keyframe missing" (a stream that does not
# start on a key frame: exactly what the consumer's key-frame sync must prevent).
FFMPEG_LOG_PROBLEMS = ("error", "corrupt", "concealing", "keyframe missing", "discarding interframe")


def _port_bound(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def receiver_sdp(port, pt, clock_rate, crypto_key=None):
    lines = ["v=0", "o=- 0 0 IN IP4 127.0.0.1", "s=weir consumer", "c=IN IP4 127.0.0.1", "t=0 0",
             f"m=video {port} {'RTP/SAVP' if crypto_key else 'RTP/AVP'} {pt}",
             f"a=rtpmap:{pt} VP8/{clock_rate}"]
    if crypto_key:
        lines.append(f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{crypto_key}")
    return "\r\n".join(lines) + "\r\n"


def ffmpeg_forwarding(weir_exe, srtp, frames=120, min_frames=100):
    """ffmpeg sends a VP8 test pattern into a producer; a second ffmpeg receives the
    consumer's stream through an SDP file and must decode >= min_frames cleanly."""
    suite = "AES_CM_128_HMAC_SHA1_80"
    recv_port = free_udp_port_pair()
    work = tempfile.mkdtemp(prefix="weir-ffmpeg-")
    sender = receiver = None
    with Weir(weir_exe) as weir:
        srtp_options = {"enableSrtp": True, "srtpCryptoSuite": suite} if srtp else {}
        fwd = Forwarding(weir, recv_port, rtcp_port=recv_port + 1,
                         producer_transport_options={"comedia": True, "rtcpMux": False, **srtp_options},
                         consumer_transport_options={"comedia": False, "rtcpMux": False, **srtp_options})
        sender_key = None
        if srtp:
            check(fwd.consumer_transport.get("srtpParameters", {}).get("cryptoSuite") == suite,
                  f"consumer transport answer lacks srtpParameters: {fwd.consumer_transport}")
            sender_key = base64_key()
            connect_transport(weir, fwd.room, fwd.producer_bid, fwd.producer_transport["id"],
                              srtpParameters={"cryptoSuite": suite, "keyBase64": sender_key})
            # The receiving ffmpeg uses one key for both directions: weir's key decrypts
            # what weir sends, and its receiver reports come back under the same key.
            fwd.connect_args["srtpParameters"] = fwd.consumer_transport["srtpParameters"]
        try:
            # The sender starts first, so the consumer joins in the middle of a GOP. It is
            # created paused: its answer gives the SDP, the receiver listens, and only then
            # is it resumed, after which weir must wait for the next key frame.
            target = f"127.0.0.1:{fwd.producer_transport['port']}?rtcpport={fwd.producer_transport['rtcpPort']}"
            out_args = (["-srtp_out_suite", suite, "-srtp_out_params", sender_key, f"srtp://{target}"]
                        if srtp else [f"rtp://{target}"])
            sender_log = open(os.path.join(work, "sender.log"), "w+")
            sender = subprocess.Popen(
                ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "warning", "-re",
                 "-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30", "-t", "40",
                 "-c:v", "libvpx", "-deadline", "realtime", "-g", "30", "-b:v", "1M",
                 "-f", "rtp", "-ssrc", "2222", "-payload_type", "101", *out_args],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sender_log)
            wait_until(lambda: weir.producer_stats(fwd.room, fwd.producer_id)["packetCount"] > 0
                       or sender.poll() is not None, 20, interval_s=0.2,
                       what="weir to receive ffmpeg's first packets")
            check(sender.poll() is None, f"sending ffmpeg exited early ({sender.returncode})")
            time.sleep(0.4)  # well into the first GOP: the consumer must wait for the next one

            fwd.connect_and_consume(paused=True)
            sdp_path = os.path.join(work, "receiver.sdp")
            crypto_key = fwd.consumer_transport["srtpParameters"]["keyBase64"] if srtp else None
            with open(sdp_path, "w") as f:
                f.write(receiver_sdp(recv_port, fwd.consumer_pt, fwd.consumer_clock_rate, crypto_key))
            receiver_log = open(os.path.join(work, "receiver.log"), "w+")
            receiver = subprocess.Popen(
                ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "info",
                 "-protocol_whitelist", "file,udp,rtp,srtp" if srtp else "file,udp,rtp",
                 "-f", "sdp", "-i", sdp_path, "-frames:v", str(frames), "-f", "null", "-"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=receiver_log)
            wait_until(lambda: _port_bound(recv_port) or receiver.poll() is not None, 15,
                       what="the receiving ffmpeg to bind its port")
            check(receiver.poll() is None, f"receiving ffmpeg exited early ({receiver.returncode})")
            weir.api("POST", f"/rooms/{fwd.room}/broadcasters/{fwd.consumer_bid}/consumers/"
                             f"{fwd.consumer['id']}/resume")

            try:
                receiver.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
            receiver_log.seek(0)
            rlog = receiver_log.read()
            sender_log.seek(0)
            slog = sender_log.read()
            if receiver.poll() is None:
                receiver.terminate()
                receiver.wait(10)
                receiver_log.seek(0)
                rlog = receiver_log.read()
            pstats = weir.producer_stats(fwd.room, fwd.producer_id)
            cstats = weir.consumer_stats(fwd.room, fwd.consumer["id"])
            tstats = weir.transport_stats(fwd.room, fwd.producer_transport["id"])
            log(f"producer stats: {json.dumps(pstats)}")
            log(f"consumer stats: {json.dumps(cstats)}")
            log(f"producer transport stats: {json.dumps(tstats)}")
            frame_counts = [int(n) for n in re.findall(r"frame=\s*(\d+)", rlog)]
            decoded = frame_counts[-1] if frame_counts else 0
            problems = [line for line in re.split(r"[\r\n]+", rlog)
                        if any(p in line.lower() for p in FFMPEG_LOG_PROBLEMS)]
            if receiver.returncode != 0 or decoded < min_frames or problems:
                print("----- receiving ffmpeg log -----\n" + rlog[-4000:])
                print("----- sending ffmpeg log -----\n" + slog[-2000:])
            check(pstats["packetCount"] > 0, f"weir received nothing from ffmpeg: {tstats}")
            check(pstats["keyFrames"] > 0, "weir saw no VP8 key frame from ffmpeg")
            check(cstats["packetCount"] > 0, "the consumer sent nothing")
            check(decoded >= min_frames, f"receiving ffmpeg decoded {decoded} frames (want >= {min_frames})")
            check(not problems, f"receiving ffmpeg reported problems: {problems[:5]}")
            check(receiver.returncode == 0, f"receiving ffmpeg exited {receiver.returncode}")
            if srtp:
                check(dropped(tstats, "srtpAuthFailed") == 0, f"SRTP failures on the producer: {tstats}")
            log(f"decoded {decoded} frames through weir ({'SRTP' if srtp else 'plain RTP'})")
        finally:
            for p in (sender, receiver):
                if p is not None and p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(10)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
            shutil.rmtree(work, ignore_errors=True)


def base64_key(length=30):
    """A random SRTP master key||salt (30 bytes for AES_CM_128_HMAC_SHA1_80), base64."""
    return base64.b64encode(os.urandom(length)).decode()
