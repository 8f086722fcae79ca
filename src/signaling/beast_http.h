// Boost.Beast's HTTP headers, included once for the signaling layer. GCC 12 at -O2 with
// sanitizers reports a false -Wmaybe-uninitialized inside Beast's parser
// (basic_parser::content_length_unchecked, a boost::optional copy); it would break the
// sanitizer build under -Werror, so it is silenced for these headers only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop
