// The fanout scenario from start to end: build through the API, warm up, measure a window,
// tear down, print the result line. Returns the process exit code.
#pragma once

#include "options.h"

namespace weir::pktgen {

int run_fanout(const Options& options);

}  // namespace weir::pktgen
