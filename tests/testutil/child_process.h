// Starting the real servers the tests run (redis-server, s3rver) as child processes: forked and
// exec'd with stdout and stderr appended to a log file, stdin from /dev/null, and killed by the
// kernel (PR_SET_PDEATHSIG) if the test process dies first.
//
// Thread-safety: spawn_logged may be called from any thread; children are forked from one
// long-lived thread, because PR_SET_PDEATHSIG fires when the forking *thread* ends.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace streamstate::testing {

// Forks and execs `args` (args[0] is the program's path) with its output appended to `log`.
// Returns the child's pid, or -1 with `error` saying why fork failed (an exec failure shows as
// the child exiting with 127).
pid_t spawn_logged(const std::vector<std::string>& args, const std::string& log, std::string& error);

}  // namespace streamstate::testing
