// The meeting scenario from start to end: build R rooms x K peers through the API, warm
// up, measure a window, tear down, print the result line. Returns the process exit code.
#pragma once

#include "options.h"

namespace weir::pktgen {

int run_meeting(const Options& options);

}  // namespace weir::pktgen
