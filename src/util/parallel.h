// Running independent pieces of work on a few threads: restores, uploads and downloads split
// their work into numbered pieces and hand them out here. Internal.
//
// Thread-safety: run_parallel may be called from any thread; fn is called from up to `threads`
// threads at once (the caller's among them) and must be safe for that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "streamstate/status.h"

namespace streamstate::internal {

// Runs fn(0..count-1) on up to `threads` threads, the calling thread among them (a thread that
// cannot be started leaves its share to the others). After an error no further piece is
// started; the first error recorded is returned.
Status run_parallel(size_t count, uint32_t threads, const std::function<Status(size_t)>& fn);

}  // namespace streamstate::internal
