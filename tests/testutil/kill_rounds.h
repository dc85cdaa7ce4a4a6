// The skeleton of the kill -9 durability tests that fork a writer in-process: a child that
// writes from several threads and acknowledges each write through a pipe once it returned, killed
// with SIGKILL after a chosen number of acknowledgements; the test then recovers and checks that
// every acknowledged write is there.
//
// Thread-safety: call from the test's main thread (it forks), before it starts other threads.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "streamstate/status.h"

namespace streamstate::testing {

// One acknowledged write: the round (one per child), the writer thread and its n-th write.
struct WriteAck {
  uint32_t round;
  uint32_t thread;
  uint64_t n;
};

// STREAMSTATE_WAL_KILL_ROUNDS when set to a positive number (a longer run by hand), else 5.
int kill_rounds();

// Tells the parent that `ack` was written and acknowledged; false when the pipe is gone.
bool send_ack(int ack_fd, const WriteAck& ack);

// Forks a child running `child(ack_fd)` (which must not return: it writes until killed, or
// _exit()s with a code of its own on failure), reads acknowledgements until `wanted` arrived,
// kills the child with SIGKILL and appends every acknowledgement it sent - those still in the
// pipe too - to `acknowledged`. An error when the child stopped early or was not killed.
Status run_until_killed(size_t wanted, const std::function<void(int ack_fd)>& child, std::vector<WriteAck>& acknowledged);

}  // namespace streamstate::testing
