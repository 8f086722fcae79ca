"""ffmpeg (libvpx, realtime) sends VP8 over plain RTP into a weir producer; a second ffmpeg
receives the consumer's stream through an SDP file and decodes >= 100 frames cleanly."""

import weirtest as wt


def run(weir_exe, _pktgen):
    wt.ffmpeg_forwarding(weir_exe, srtp=False)


if __name__ == "__main__":
    wt.main(run)
