#include "wire/codec_payload.h"
