"""As test_ffmpeg_plain, with SRTP (AES_CM_128_HMAC_SHA1_80) on both legs: ffmpeg's srtp://
sender with its own key given to weir through connect, and a receiver whose SDP carries
weir's key for the consumer transport in an a=crypto line."""

import weirtest as wt


def run(weir_exe, _pktgen):
    wt.ffmpeg_forwarding(weir_exe, srtp=True)


if __name__ == "__main__":
    wt.main(run)
