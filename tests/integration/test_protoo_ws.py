"""protoo over WSS against the real weir binary (signaling contract 1.1-1.3): the upgrade
checks (400 without roomId/peerId, 403 without the protoo subprotocol, protoo echoed),
requests over TLS, and bad input — malformed JSON, a string id, an unknown method, binary
frames, an oversized message (1009), a request flood (429, then 1008) while another peer
is still served promptly, and more connections than the limit. Also HTTPS itself: the
generated certificate is kept across restarts, the web app's files are served and path
traversal is refused.

room_model_checks(): the contract's errors from the room model ("Peer not yet joined",
"Peer already joined", unknown transport/producer, produce before connect) and peer
replacement (the old socket closed with 4000, peerClosed at the others).
"""

import json
import os
import random
import shutil
import socket
import ssl
import sys
import tempfile
import time

import weirtest as wt



def room_name():
    return f"ws-{random.getrandbits(32):08x}"


def expect_refused(weir, path, status, words, protocols=("protoo",)):
    try:
        sock, _, _ = wt.ws_handshake(weir.http_port, path, protocols=protocols)
        sock.close()
    except wt.UpgradeRefused as e:
        wt.check(e.status == status, f"upgrade {path} {protocols}: HTTP {e.status} (want {status}): {e.body}")
        wt.check(words in e.body, f"upgrade {path}: reason {e.body!r} lacks {words!r}")
        return
    raise wt.TestFailure(f"upgrade {path} {protocols} was accepted (want {status})")


def no_frame_within(client, seconds):
    """True if the server sends nothing for `seconds` (what a dropped frame gives)."""
    try:
        m = client.recv_json(seconds)
    except socket.timeout:
        return True
    client.inbox.append(m)
    return False


def upgrade_checks(weir):
    room = room_name()
    expect_refused(weir, f"/?roomId={room}", 400, "Connection request without roomId and/or peerId")
    expect_refused(weir, f"/?peerId=p", 400, "Connection request without roomId and/or peerId")
    expect_refused(weir, "/", 400, "Connection request without roomId and/or peerId")
    expect_refused(weir, f"/?roomId={room}&peerId=p", 403, "Sec-WebSocket-Protocol", protocols=())
    expect_refused(weir, f"/?roomId={room}&peerId=p", 403, "Sec-WebSocket-Protocol",
                   protocols=("chat",))
    expect_refused(weir, f"/elsewhere?roomId={room}&peerId=p", 404, "no WebSocket endpoint")

    c = wt.ProtooClient(weir, room, "alice", extra_query="&consumerReplicas=notanumber")
    wt.check(c.headers.get("sec-websocket-protocol") == "protoo",
             f"101 without the protoo subprotocol echoed: {c.headers}")
    caps = c.request("getRouterRtpCapabilities")
    wt.check(caps.get("ok") is True and "codecs" in caps.get("data", {}),
             f"getRouterRtpCapabilities over WSS: {str(caps)[:300]}")
    http_caps = weir.api("GET", f"/rooms/{room}")
    wt.check(caps["data"] == http_caps, "WSS and HTTPS router capabilities differ")
    c.close()
    wt.log("upgrade checks: 400, 403, 404 and protoo echoed; capabilities over WSS")


def bad_frames(weir):
    room = room_name()
    c = wt.ProtooClient(weir, room, "bob")
    # Contract 4: the first thing a peer hears is the mediasoup-version notification.
    m = c.recv_json(5)
    wt.check(m.get("notification") is True and m.get("method") == "mediasoup-version",
             f"first frame is not mediasoup-version: {m}")

    c.send_text('{"request":true,"id":1,"method":')  # malformed JSON
    c.send_text("[1,2,3]")  # an array
    c.send_text('"just a string"')
    c.send_text("{}")  # no request/response/notification
    c.send_text("[" * 100000)  # deeper than the parser takes
    c.send_json({"request": True, "id": "12", "method": "getRouterRtpCapabilities"})  # string id
    c.send_json({"request": True, "id": 13, "method": 42})  # method not a string
    c.send_json({"notification": True, "method": "whatever", "data": {}})  # ignored
    c.send_json({"response": True, "id": 999, "ok": True, "data": {}})  # to nothing we sent
    c.send_frame(wt.OP_BINARY, json.dumps({"request": True, "id": 14,
                                           "method": "getRouterRtpCapabilities"}).encode())
    wt.check(no_frame_within(c, 1.0), f"a dropped frame was answered: {c.inbox}")

    r = c.request("getRouterRtpCapabilities")
    wt.check(r.get("ok") is True, f"the connection stopped working after bad frames: {r}")

    r = c.request("noSuchMethod", {"x": 1})
    wt.check(r.get("ok") is False and r.get("errorCode") == 500
             and r.get("errorReason") == 'unknown request.method "noSuchMethod"',
             f"unknown method answer: {r}")
    # A request without data, and one with data null, are requests all the same.
    c.send_json({"request": True, "id": 15, "method": "getRouterRtpCapabilities", "data": None})
    wt.check(c.wait_response(15).get("ok") is True, "data:null request not answered")
    # A fragmented message (text + continuation) is one message.
    text = json.dumps({"request": True, "id": 16, "method": "getRouterRtpCapabilities"}).encode()
    c.send_frame(wt.OP_TEXT, text[:10], fin=False)
    c.send_frame(0x0, text[10:], fin=True)
    wt.check(c.wait_response(16).get("ok") is True, "fragmented request not answered")

    # At the limit is served; one byte over closes with 1009.
    limit = 960000
    head = '{"request":true,"id":17,"method":"getRouterRtpCapabilities","data":{"pad":"'
    tail = '"}}'
    c.send_text(head + "x" * (limit - len(head) - len(tail)) + tail)
    wt.check(c.wait_response(17, timeout=20).get("ok") is True, f"a {limit}-byte request not served")
    c.send_text(head + "x" * (limit + 1 - len(head) - len(tail)) + tail)
    code = c.wait_closed(20)
    wt.check(code == 1009, f"oversized message: close code {code} (want 1009)")
    c.close()

    # The log names what was dropped, and counts.
    log = weir.log_text()
    for words in ("not JSON", "not an object", "missing request/response/notification field",
                  "nested too deeply", "missing/invalid id field", "missing/invalid method field",
                  "binary frame", "response to unknown request id", "closing with 1009"):
        wt.check(words in log, f"weir's log does not mention {words!r}")
    wt.log("bad frames: dropped and logged, the connection kept working; 1009 over the limit")


def flood(weir):
    room = room_name()
    flooder = wt.ProtooClient(weir, room, "flooder")
    other = wt.ProtooClient(weir, room, "other")
    burst = 600
    for i in range(burst):
        flooder.send_request("getRouterRtpCapabilities", request_id=i)
    started = time.monotonic()
    r = other.request("getRouterRtpCapabilities")
    latency = time.monotonic() - started
    wt.check(r.get("ok") is True, f"the other peer's request failed during a flood: {r}")
    wt.check(latency < 1.0, f"the other peer waited {latency:.2f}s during a flood (want < 1 s)")
    answers = [flooder.wait_response(i, timeout=20) for i in range(burst)]
    ok = sum(1 for a in answers if a.get("ok") is True)
    refused = [a for a in answers if a.get("errorCode") == 429]
    wt.check(ok + len(refused) == burst, f"answers other than ok/429: {[a for a in answers if not a.get('ok') and a.get('errorCode') != 429][:3]}")
    wt.check(200 <= ok < burst and len(refused) >= burst // 4,
             f"flood of {burst}: {ok} served, {len(refused)} refused (want the burst of 200 served, the rest mostly 429)")
    wt.check(all(a.get("errorReason") == "too many requests" for a in refused), f"429 reason: {refused[:1]}")
    wt.log(f"flood: {ok} served, {len(refused)} answered 429; the other peer was answered in {latency * 1000:.0f} ms")

    # A sustained flood closes the flooder only.
    for i in range(burst, burst + 1500):
        flooder.send_request("getRouterRtpCapabilities", request_id=i)
    code = flooder.wait_closed(20)
    wt.check(code == 1008, f"sustained flood: close code {code} (want 1008)")
    r = other.request("getRouterRtpCapabilities")
    wt.check(r.get("ok") is True, f"the other peer lost service after the flooder was closed: {r}")
    flooder.close()
    other.close()
    wt.log("sustained flood: closed with 1008; the other peer still served")


def connection_limit(weir_exe):
    limit = 6
    with wt.Weir(weir_exe, ["--max-http-connections", str(limit)]) as weir:
        room = room_name()
        clients = [wt.ProtooClient(weir, room, f"p{i}") for i in range(limit)]
        try:
            wt.ws_handshake(weir.http_port, f"/?roomId={room}&peerId=extra")
            raise wt.TestFailure(f"connection {limit + 1} accepted with maxHttpConnections {limit}")
        except wt.UpgradeRefused as e:
            wt.check(e.status == 503 and "too many connections" in e.body, f"over the limit: {e.status} {e.body}")
        except OSError:
            pass  # a reset is a refusal too
        for c in clients:
            wt.check(c.request("getRouterRtpCapabilities").get("ok") is True,
                     "an admitted WebSocket stopped working at the limit")
        clients.pop().close()
        # The slot frees asynchronously.
        extra = wt.wait_until(lambda: try_connect(weir, room, "extra"), 10,
                              what="a connection slot after one WebSocket closed")
        extra.close()
        for c in clients:
            c.close()
    wt.log(f"connection limit: WebSocket {limit + 1} refused with 503, admitted after one closed")


def slow_reader(weir_exe):
    """A client that sends requests but never reads: its output queue passes
    --max-ws-queued-bytes and weir drops it; a reading peer is not affected."""
    with wt.Weir(weir_exe, ["--max-ws-queued-bytes", "65536", "--ws-request-rate", "0"]) as weir:
        room = room_name()
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: no autotuning
        raw.settimeout(10)
        raw.connect(("127.0.0.1", weir.http_port))
        sock = wt.tls_context().wrap_socket(raw, server_hostname="localhost")
        key = wt.base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET /?roomId={room}&peerId=deaf HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: protoo\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        wt.check(head.startswith(b"HTTP/1.1 101"), f"upgrade: {head[:60]!r}")
        deaf = wt.ProtooClient.__new__(wt.ProtooClient)
        deaf.sock, deaf.pending, deaf.inbox = sock, b"", []
        other = wt.ProtooClient(weir, room, "listener")
        dropped = False
        try:
            for i in range(20000):  # ~4 kB answers: far more than 64 kB plus the socket buffers
                deaf.send_request("getRouterRtpCapabilities", request_id=i)
                if i % 500 == 499 and "output queue full" in weir.log_text():
                    dropped = True
                    break
        except OSError:
            dropped = True  # weir already dropped it: the send failed
        wt.wait_until(lambda: "output queue full" in weir.log_text(), 15,
                      what="weir to drop the client that does not read")
        r = other.request("getRouterRtpCapabilities")
        wt.check(r.get("ok") is True, f"a reading peer lost service: {r}")
        other.close()
        try:
            sock.close()
        except OSError:
            pass
    wt.log(f"slow reader: dropped once its queue passed 64 kB ({'during' if dropped else 'after'} its sends)")


def try_connect(weir, room, peer):
    try:
        return wt.ProtooClient(weir, room, peer)
    except (wt.UpgradeRefused, OSError):
        return None


def served_certificate(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with wt.tls_context().wrap_socket(raw, server_hostname="localhost") as s:
            return s.getpeercert(binary_form=True)


def certificate_and_files(weir_exe):
    state = tempfile.mkdtemp(prefix="weir-state-")
    web = tempfile.mkdtemp(prefix="weir-web-")
    try:
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><title>weir demo</title>")
        os.makedirs(os.path.join(web, "js"))
        with open(os.path.join(web, "js", "app.js"), "w") as f:
            f.write("console.log('weir');")
        with open(os.path.join(os.path.dirname(web), os.path.basename(web) + "-secret"), "w") as f:
            f.write("secret")
        with wt.Weir(weir_exe, ["--web-root", web], state_dir=state) as weir:
            first = served_certificate(weir.http_port)
            status, body = weir.request("GET", "/")
            wt.check(status == 200 and "weir demo" in str(body), f"GET / -> {status} {body!r}")
            for path, ctype in (("/", "text/html"), ("/js/app.js", "text/javascript")):
                conn = wt.http.client.HTTPSConnection("127.0.0.1", weir.http_port, timeout=10,
                                                      context=wt.tls_context())
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                wt.check(resp.status == 200 and resp.getheader("Content-Type", "").startswith(ctype),
                         f"GET {path} -> {resp.status} {resp.getheader('Content-Type')}")
                conn.close()
            for path in ("/../" + os.path.basename(web) + "-secret",
                         "/%2e%2e/" + os.path.basename(web) + "-secret",
                         "/js/%2E%2E/%2E%2E/" + os.path.basename(web) + "-secret"):
                status, body = weir.request("GET", path)
                wt.check(status in (400, 403) and "secret" not in str(body).replace("-secret", ""),
                         f"traversal {path} -> {status} {body!r}")
            status, _ = weir.request("GET", "/missing.js")
            wt.check(status == 404, f"GET /missing.js -> {status}")
            wt.check(weir.request("GET", "/stats")[0] == 200, "the API lost /stats to the web root")
        wt.check(os.path.exists(os.path.join(state, "tls-certificate.pem")),
                 "no certificate saved in the state directory")
        with wt.Weir(weir_exe, state_dir=state) as weir:
            second = served_certificate(weir.http_port)
            wt.check("reused from" in weir.log_text(), "the restarted weir did not say it reused the certificate")
        wt.check(first == second, "a restart with the same state directory served another certificate")
        wt.log("HTTPS: certificate kept across restarts; web app served with content types; traversal refused")
    finally:
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(web, ignore_errors=True)
        try:
            os.unlink(os.path.join(os.path.dirname(web), os.path.basename(web) + "-secret"))
        except OSError:
            pass


def room_model_checks(weir):
    """Contract errors that need the room model (Control's peer handling)."""
    room = room_name()
    a = wt.ProtooClient(weir, room, "a")
    r = a.request("produce", {"transportId": "nope", "kind": "audio", "rtpParameters": {}})
    wt.check(r.get("ok") is False and r.get("errorCode") == 500
             and r.get("errorReason") == "Peer not yet joined", f"produce before join: {r}")
    caps = a.request("getRouterRtpCapabilities")["data"]
    join = {"displayName": "A", "device": {"name": "weir-test"}, "rtpCapabilities": caps}
    r = a.request("join", join)
    wt.check(r.get("ok") is True and r["data"].get("peers") == [], f"join: {r}")
    r = a.request("join", join)
    wt.check(r.get("ok") is False and r.get("errorReason") == "Peer already joined", f"second join: {r}")
    r = a.request("connectWebRtcTransport", {"transportId": "nope", "dtlsParameters": {
        "role": "client", "fingerprints": [{"algorithm": "sha-256", "value": "00"}]}})
    wt.check(r.get("ok") is False and r.get("errorReason") == 'transport with id "nope" not found',
             f"connect of an unknown transport: {r}")
    t = a.request("createWebRtcTransport", {"producing": True, "consuming": False})["data"]["id"]
    r = a.request("produce", {"transportId": t, "kind": "audio", "rtpParameters": {
        "codecs": [{"mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000, "channels": 2}],
        "encodings": [{"ssrc": 1111}]}})
    wt.check(r.get("ok") is False and r.get("errorReason") ==
             f'transport with id "{t}" is not connected (connectWebRtcTransport first)',
             f"produce before connect: {r}")
    r = a.request("closeProducer", {"producerId": "nope"})
    wt.check(r.get("ok") is False and r.get("errorReason") == 'producer with id "nope" not found',
             f"close of an unknown producer: {r}")

    b = wt.ProtooClient(weir, room, "b")
    b.request("join", dict(join, displayName="B"))
    wt.wait_until(lambda: any(m.get("method") == "newPeer" for m in drain(a)), 10, what="newPeer at a")
    # b reconnects under the same peerId: the old socket is closed with 4000.
    b2 = wt.ProtooClient(weir, room, "b")
    code = b.wait_closed(10)
    wt.check(code == 4000, f"replaced peer's socket closed with {code} (want 4000)")
    wt.wait_until(lambda: any(m.get("method") == "peerClosed" and m["data"].get("peerId") == "b"
                              for m in drain(a)), 10, what="peerClosed for the replaced peer")
    b2.close()
    a.close()
    wt.log("room model: Peer not yet joined, Peer already joined, unknown transport/producer, "
           "produce before connect, replacement with 4000")


def drain(client, seconds=0.2):
    try:
        while True:
            client.inbox.append(client.recv_json(seconds))
    except socket.timeout:
        pass
    return client.inbox


def run(weir_exe, _pktgen_exe):
    with wt.Weir(weir_exe) as weir:
        upgrade_checks(weir)
        bad_frames(weir)
        flood(weir)
        room_model_checks(weir)
        wt.check(weir.alive(), "weir died")
    connection_limit(weir_exe)
    slow_reader(weir_exe)
    certificate_and_files(weir_exe)


if __name__ == "__main__":
    wt.main(run)
