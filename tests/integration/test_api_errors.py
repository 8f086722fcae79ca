"""Every error class of the broadcaster API over real HTTPS (400 bad input naming the field,
404 unknown ids and routes, 405 wrong method, 500 refused), the server still serving
afterwards (also after a non-HTTP request), `weir --help`, and a bad config file."""

import json
import os
import socket
import subprocess
import tempfile

import weirtest as wt

HELP_OPTIONS = ["--listen-ip", "--announced-address", "--rtc-min-port", "--rtc-max-port",
                "--workers", "--log-level", "--http-ip", "--http-port", "--io-engine",
                "--max-http-connections", "--max-http-body-bytes", "--tls-certificate-file",
                "--tls-private-key-file", "--state-dir", "--web-root", "--max-ws-message-bytes",
                "--max-ws-queued-bytes", "--ws-request-rate", "--ws-request-burst", "--config",
                "--help", "--version"]


def expect_error(weir, method, path, status, words=(), body=None, raw=None):
    got, answer = weir.request(method, path, body=body, raw=raw)
    where = f"{method} {path}" + (f" {json.dumps(body)[:120]}" if body is not None else "")
    wt.check(got == status, f"{where} -> {got} {answer!r}, want {status}")
    wt.check(isinstance(answer, dict) and isinstance(answer.get("errorReason"), str),
             f"{where}: error body {answer!r} is not {{\"errorReason\": \"...\"}}")
    reason = answer["errorReason"]
    for w in words:
        wt.check(w in reason, f"{where}: errorReason {reason!r} does not mention {w!r}")


def api_cases(weir):
    room = "errors"
    b = f"/rooms/{room}/broadcasters"
    caps = weir.api("GET", f"/rooms/{room}")
    good = {"id": "p1", "displayName": "P1", "device": {"name": "test"}}

    # 400: malformed or invalid bodies, each naming what is wrong.
    expect_error(weir, "POST", b, 400, ["malformed JSON"], raw="{\"id\": ")
    expect_error(weir, "POST", b, 400, [], raw="[1, 2]")
    expect_error(weir, "POST", b, 400, ["body.id"], body={"displayName": "x", "device": {"name": "n"}})
    expect_error(weir, "POST", b, 400, ["displayName"], body={"id": "x", "device": {"name": "n"}})
    expect_error(weir, "POST", b, 400, ["device"], body={"id": "x", "displayName": "x"})
    expect_error(weir, "POST", b, 400, ["device.name"], body={"id": "x", "displayName": "x", "device": {}})
    expect_error(weir, "POST", b, 400, ["id"], body={"id": 5, "displayName": "x", "device": {"name": "n"}})

    weir.api("POST", b, good)
    weir.api("POST", b, {"id": "c1", "displayName": "C1", "device": {"name": "test"},
                         "rtpCapabilities": caps})
    weir.api("POST", b, {"id": "nocaps", "displayName": "N", "device": {"name": "test"}})
    tr = f"{b}/p1/transports"
    expect_error(weir, "POST", tr, 400, ["type"], body={"type": "bogus"})
    expect_error(weir, "POST", tr, 400, ["type"], body={})
    expect_error(weir, "POST", tr, 400, ["comedia"], body={"type": "plain", "comedia": "yes"})
    expect_error(weir, "POST", tr, 400, ["srtpCryptoSuite"],
                 body={"type": "plain", "enableSrtp": True, "srtpCryptoSuite": "NO_SUCH_SUITE"})

    # WebRTC transports: the connect body and its rules (contract 5.3).
    webrtc = weir.api("POST", tr, {"type": "webrtc"})
    assert webrtc["iceParameters"]["iceLite"] is True, webrtc
    assert webrtc["dtlsParameters"]["fingerprints"][-1]["algorithm"] == "sha-256", webrtc
    connect = f"{tr}/{webrtc['id']}/connect"
    fp = {"algorithm": "sha-256", "value": "AB:" * 31 + "AB"}
    expect_error(weir, "POST", connect, 400, ["body.dtlsParameters"], body={})
    expect_error(weir, "POST", connect, 400, ["body.dtlsParameters.fingerprints"],
                 body={"dtlsParameters": {"role": "client", "fingerprints": []}})
    expect_error(weir, "POST", connect, 400, ["body.dtlsParameters.role"],
                 body={"dtlsParameters": {"role": "boss", "fingerprints": [fp]}})
    expect_error(weir, "POST", connect, 400, ["body.dtlsParameters.fingerprints"],
                 body={"dtlsParameters": {"fingerprints": [{"algorithm": "md5", "value": "00"}]}})
    weir.api("POST", connect, {"dtlsParameters": {"role": "client", "fingerprints": [fp]}})
    expect_error(weir, "POST", connect, 500, ["connect() already called"],
                 body={"dtlsParameters": {"role": "client", "fingerprints": [fp]}})
    restarted = weir.api("POST", f"{tr}/{webrtc['id']}/restartIce", {})
    assert restarted["usernameFragment"] != webrtc["iceParameters"]["usernameFragment"], restarted

    producer_tr = weir.api("POST", tr, {"type": "plain", "comedia": True, "rtcpMux": True})["id"]
    expect_error(weir, "POST", f"{tr}/{producer_tr}/restartIce", 500, ["not a WebRTC transport"],
                 body={})
    vp8 = {"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000}
    prod = f"{tr}/{producer_tr}/producers"
    expect_error(weir, "POST", prod, 400, ["kind"],
                 body={"rtpParameters": {"codecs": [vp8], "encodings": [{"ssrc": 1}]}})
    expect_error(weir, "POST", prod, 400, ["kind"],
                 body={"kind": "data", "rtpParameters": {"codecs": [vp8], "encodings": [{"ssrc": 1}]}})
    expect_error(weir, "POST", prod, 400, ["rtpParameters"], body={"kind": "video"})
    expect_error(weir, "POST", prod, 400, ["ssrc"],
                 body={"kind": "video", "rtpParameters": {"codecs": [vp8], "encodings": [{}]}})
    # Simulcast by RID needs the rtp-stream-id header extension to tell the encodings apart.
    expect_error(weir, "POST", prod, 400, ["rtp-stream-id"],
                 body={"kind": "video", "rtpParameters": {"codecs": [vp8],
                                                          "encodings": [{"rid": "r0"}, {"rid": "r1"}]}})
    expect_error(weir, "POST", prod, 400, ["clockRate"],
                 body={"kind": "video", "rtpParameters": {
                     "codecs": [{"mimeType": "video/VP8", "payloadType": 101, "clockRate": "90000"}],
                     "encodings": [{"ssrc": 1}]}})
    producer = weir.api("POST", prod, {"kind": "video",
                                       "rtpParameters": {"codecs": [vp8], "encodings": [{"ssrc": 1}]}})["id"]

    consumer_tr = weir.api("POST", f"{b}/c1/transports", {"type": "plain", "comedia": False})["id"]
    expect_error(weir, "POST", f"{b}/c1/transports/{consumer_tr}/connect", 400, ["ip"], body={"port": 5000})
    expect_error(weir, "POST", f"{b}/c1/transports/{consumer_tr}/connect", 400, ["port"],
                 body={"ip": "127.0.0.1"})
    weir.api("POST", f"{b}/c1/transports/{consumer_tr}/connect", {"ip": "127.0.0.1", "port": 5000})
    expect_error(weir, "POST", f"{b}/c1/transports/{consumer_tr}/consume", 400, ["producerId"])

    # 404: unknown ids and paths.
    expect_error(weir, "DELETE", f"{b}/nobody", 404, ["nobody"])
    expect_error(weir, "POST", f"{b}/nobody/transports", 404, ["nobody"], body={"type": "plain"})
    expect_error(weir, "POST", f"{b}/p1/transports/no-transport/connect", 404, ["no-transport"], body={})
    expect_error(weir, "POST", f"{b}/p1/transports/no-transport/producers", 404, ["no-transport"],
                 body={"kind": "video", "rtpParameters": {"codecs": [vp8], "encodings": [{"ssrc": 9}]}})
    expect_error(weir, "POST", f"{b}/c1/transports/{consumer_tr}/consume?producerId=no-producer", 404,
                 ["no-producer"])
    expect_error(weir, "POST", f"{b}/p1/producers/no-producer/pause", 404, ["no-producer"])
    expect_error(weir, "POST", f"{b}/p1/producers/no-producer/resume", 404, ["no-producer"])
    expect_error(weir, "DELETE", f"{b}/p1/producers/no-producer", 404, ["no-producer"])
    expect_error(weir, "POST", f"{b}/c1/consumers/no-consumer/pause", 404, ["no-consumer"])
    expect_error(weir, "POST", f"{b}/c1/consumers/no-consumer/resume", 404, ["no-consumer"])
    expect_error(weir, "DELETE", f"{b}/c1/consumers/no-consumer", 404, ["no-consumer"])
    expect_error(weir, "GET", f"/rooms/{room}/transports/no-transport/stats", 404, ["no-transport"])
    expect_error(weir, "GET", f"/rooms/{room}/producers/no-producer/stats", 404, ["no-producer"])
    expect_error(weir, "GET", f"/rooms/{room}/consumers/no-consumer/stats", 404, ["no-consumer"])
    expect_error(weir, "GET", "/no/such/path", 404, ["no route for GET /no/such/path"])
    expect_error(weir, "GET", f"/rooms/{room}/broadcasters/p1/transports/{producer_tr}/nothing", 404)

    # 405: known paths, wrong method.
    expect_error(weir, "PUT", f"/rooms/{room}", 405)
    expect_error(weir, "GET", b, 405)
    expect_error(weir, "GET", f"{b}/p1", 405)
    expect_error(weir, "DELETE", tr, 405)
    expect_error(weir, "GET", f"{b}/p1/producers/{producer}/pause", 405)
    expect_error(weir, "POST", "/stats", 405)

    # 500: refused.
    expect_error(weir, "POST", b, 500, ["p1"], body=good)
    expect_error(weir, "POST", f"{b}/c1/transports/{consumer_tr}/connect", 500,
                 ["connect() already called"], body={"ip": "127.0.0.1", "port": 5002})
    nocaps_tr = weir.api("POST", f"{b}/nocaps/transports", {"type": "plain", "comedia": False})["id"]
    expect_error(weir, "POST", f"{b}/nocaps/transports/{nocaps_tr}/consume?producerId={producer}", 500,
                 ["rtpCapabilities"])

    # The same requests still work: nothing above broke the room or the server.
    consumer = weir.api("POST", f"{b}/c1/transports/{consumer_tr}/consume?producerId={producer}", {})
    wt.check(consumer.get("producerId") == producer and consumer.get("type") == "simple",
             f"consume answer {consumer}")
    weir.api("DELETE", f"{b}/c1/consumers/{consumer['id']}")
    expect_error(weir, "DELETE", f"{b}/c1/consumers/{consumer['id']}", 404)
    weir.api("DELETE", f"{b}/p1/producers/{producer}")
    expect_error(weir, "GET", f"/rooms/{room}/producers/{producer}/stats", 404)
    status, text = weir.request("DELETE", f"{b}/p1")
    wt.check(status == 200 and "broadcaster deleted" in str(text), f"DELETE broadcaster -> {status} {text!r}")
    expect_error(weir, "DELETE", f"{b}/p1", 404)


def garbage_connection(weir):
    """Bytes that are neither TLS nor HTTP on one connection must not stop the next one
    being served."""
    with socket.create_connection(("127.0.0.1", weir.http_port), timeout=5) as s:
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 this is not HTTP\r\n\r\n" + bytes(range(256)))
        try:
            s.recv(4096)  # an error answer or a close: either is fine
        except OSError:
            pass
    status, caps = weir.request("GET", "/rooms/after-garbage")
    wt.check(status == 200 and "codecs" in caps, f"GET /rooms after a garbage request -> {status} {caps!r}")


def check_help(weir_exe):
    out = subprocess.run([weir_exe, "--help"], capture_output=True, text=True, timeout=30,
                         stdin=subprocess.DEVNULL)
    wt.check(out.returncode == 0, f"weir --help exited {out.returncode}: {out.stderr}")
    text = out.stdout + out.stderr
    missing = [o for o in HELP_OPTIONS if o not in text]
    wt.check(not missing, f"weir --help does not mention {missing}")


def check_bad_config(weir_exe):
    cases = [
        ({"bogusKey": 1}, "bogusKey"),
        ({"httpPort": "not a number"}, "httpPort"),
        ({"rtcMinPort": 50000, "rtcMaxPort": 40000}, "rtcMinPort"),
        ({"workers": 0}, "workers"),
    ]
    for config, key in cases:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(config, f)
        try:
            out = subprocess.run([weir_exe, "--config", f.name, "--http-port", str(wt.free_tcp_port())],
                                 capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        finally:
            os.unlink(f.name)
        text = out.stdout + out.stderr
        wt.check(out.returncode == 2, f"weir with config {config} exited {out.returncode} (want 2): {text}")
        wt.check(key in text, f"weir with config {config}: message does not name {key}: {text!r}")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write("{ not json")
    try:
        out = subprocess.run([weir_exe, "--config", f.name], capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL)
    finally:
        os.unlink(f.name)
    wt.check(out.returncode == 2, f"weir with unparsable config exited {out.returncode} (want 2)")


def run(weir_exe, _pktgen):
    check_help(weir_exe)
    check_bad_config(weir_exe)
    with wt.Weir(weir_exe) as weir:
        api_cases(weir)
        garbage_connection(weir)
        stats = weir.api("GET", "/stats")
        wt.check(isinstance(stats.get("workers"), list) and stats["workers"], f"GET /stats -> {stats}")


if __name__ == "__main__":
    wt.main(run)
