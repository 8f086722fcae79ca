"""A wrong DTLS fingerprint in connect must cost exactly that transport its media.

pktgen --bad-fingerprint-consumers 3 of 10: those three connect with a well-formed
sha-256 fingerprint that is not pktgen's certificate's. pktgen alternates its DTLS role,
so weir meets the wrong certificate both as DTLS server and as DTLS client.

Pass: while the run goes on, weir's stats show dtlsState "failed" on exactly the three
(and "connected" on every other transport); pktgen exits 0 with loss < 0.1 % over the 7
others and reports that exactly the three received nothing; in weir's final stats weir sent
the three no RTP at all.
"""

import pktgen_webrtc as pw
import weirtest as wt

CONSUMERS = 10
BAD = 3


def run(weir_exe, pktgen_exe):
    wt.check(pktgen_exe is not None, "usage: test_pktgen_webrtc_fingerprint.py <weir> <pktgen>")
    with wt.Weir(weir_exe, rtc_ports=100) as weir:
        args = ["--consumers", str(CONSUMERS), "--bad-fingerprint-consumers", str(BAD),
                "--duration", "3", "--warmup", "5", "--dtls-role", "mixed"]
        with pw.PktgenRun(pktgen_exe, weir, args) as run:
            running = run.wait_report("running")
            room = running["room"]
            bad = {c["index"] for c in running["consumers"] if c["role"] == "bad-fingerprint"}
            wt.check(len(bad) == BAD, f"pktgen reports {len(bad)} bad-fingerprint consumers: "
                                      f"{running['consumers']}")
            bad_roles = {c["dtlsRole"] for c in running["consumers"] if c["index"] in bad}
            wt.check(bad_roles == {"client", "server"},
                     f"the wrong fingerprints met only weir's DTLS role opposite {bad_roles}")

            def dtls_states():
                out = {}
                for c in running["consumers"]:
                    s = pw.weir_transport_stats(weir, room, c["transportId"])
                    if s is None:
                        return None
                    out[c["index"]] = s["dtlsState"]
                return out

            # pktgen has seen every handshake end; weir's view follows within moments.
            def settled():
                states = dtls_states()
                if states is None:
                    raise wt.TestFailure("a transport vanished while pktgen was running")
                if all(states[i] == ("failed" if i in bad else "connected") for i in states):
                    return states
                return None

            states = wt.wait_until(settled, 20, interval_s=0.1,
                                   what="weir's dtlsState: failed on the bad, connected on the rest")
            wt.log(f"weir's dtlsState during the run: {states}")
            rc, result = run.finish()
            wt.check(rc == 0, f"pktgen exited {rc}")
            pw.check_result(result, CONSUMERS - BAD, impaired=BAD)
            done = run.report()
        nothing = {c["index"] for c in done["consumers"] if c["received"] == 0}
        wt.check(nothing == bad, f"consumers that received nothing: {sorted(nothing)}, "
                                 f"want exactly the bad ones {sorted(bad)}")
        for c in done["consumers"]:
            s = done["weirStats"][c["transportId"]]
            if c["index"] in bad:
                wt.check(c["endpointState"] == "failed", f"pktgen's consumer {c['index']}: {c}")
                wt.check(s["dtlsState"] == "failed" and s["rtpPacketsSent"] == 0,
                         f"bad consumer {c['index']}: weir {s['dtlsState']}, sent "
                         f"{s['rtpPacketsSent']} RTP packets")
                wt.check("fingerprint" in s.get("dtlsFailure", ""),
                         f"bad consumer {c['index']}: weir's dtlsFailure "
                         f"{s.get('dtlsFailure')!r} does not name the fingerprint")
            else:
                wt.check(s["dtlsState"] == "connected" and c["windowForwarded"] == result["sent"],
                         f"consumer {c['index']}: weir {s['dtlsState']}, got "
                         f"{c['windowForwarded']} of {result['sent']} window packets")
        pw.check_server_clean(weir)


if __name__ == "__main__":
    wt.main(run)
