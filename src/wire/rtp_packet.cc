#include "wire/rtp_packet.h"
