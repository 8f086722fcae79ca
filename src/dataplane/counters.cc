#include "dataplane/counters.h"

namespace weir::dp {

const char* drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::not_media: return "notMedia";
    case DropReason::control_unhandled: return "controlUnhandled";
    case DropReason::malformed_rtp: return "malformedRtp";
    case DropReason::malformed_rtcp: return "malformedRtcp";
    case DropReason::srtp_auth_failed: return "srtpAuthFailed";
    case DropReason::srtp_replay: return "srtpReplay";
    case DropReason::srtp_other: return "srtpOther";
    case DropReason::unknown_ssrc: return "unknownSsrc";
    case DropReason::unknown_payload_type: return "unknownPayloadType";
    case DropReason::unknown_remote: return "unknownRemote";
    case DropReason::no_remote: return "noRemote";
    case DropReason::paused: return "paused";
    case DropReason::waiting_keyframe: return "waitingKeyframe";
    case DropReason::no_buffer: return "noBuffer";
    case DropReason::too_large: return "tooLarge";
    case DropReason::send_failed: return "sendFailed";
    case DropReason::control_queue_full: return "controlQueueFull";
    case DropReason::count_: break;
  }
  return "unknown";
}

}  // namespace weir::dp
