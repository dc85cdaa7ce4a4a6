#include "testutil/kill_rounds.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace streamstate::testing {

int kill_rounds() {
  const char* text = std::getenv("STREAMSTATE_WAL_KILL_ROUNDS");
  const int rounds = text != nullptr ? std::atoi(text) : 0;
  return rounds > 0 ? rounds : 5;
}

bool send_ack(int ack_fd, const WriteAck& ack) {
  return ::write(ack_fd, &ack, sizeof(ack)) == static_cast<ssize_t>(sizeof(ack));
}

Status run_until_killed(size_t wanted, const std::function<void(int ack_fd)>& child, std::vector<WriteAck>& acknowledged) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return Status::io_error(std::string("pipe(): ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) return Status::io_error(std::string("fork(): ") + std::strerror(errno));
  if (pid == 0) {
    ::close(pipe_fds[0]);
    child(pipe_fds[1]);
    ::_exit(100);  // `child` returned: the parent reports it
  }
  ::close(pipe_fds[1]);
  size_t seen = 0;
  WriteAck ack{};
  while (seen < wanted && ::read(pipe_fds[0], &ack, sizeof(ack)) == static_cast<ssize_t>(sizeof(ack))) {
    acknowledged.push_back(ack);
    ++seen;
  }
  ::kill(pid, SIGKILL);
  // Acknowledgements already in the pipe count too: they were sent after the write returned.
  while (::read(pipe_fds[0], &ack, sizeof(ack)) == static_cast<ssize_t>(sizeof(ack))) acknowledged.push_back(ack);
  ::close(pipe_fds[0]);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return Status::internal("waitpid() of the writer failed");
  if (!WIFSIGNALED(status)) {
    return Status::internal("the writer exited by itself with " + std::to_string(WEXITSTATUS(status)) +
                            " after " + std::to_string(seen) + " acknowledgements");
  }
  if (seen < wanted) {
    return Status::internal("the writer stopped acknowledging after " + std::to_string(seen) + " of " +
                            std::to_string(wanted));
  }
  return Status::ok();
}

}  // namespace streamstate::testing
