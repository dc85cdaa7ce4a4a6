#include "testutil/child_process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>

namespace streamstate::testing {
namespace {

// Runs jobs on one thread that lives as long as the process. Children are forked from it
// because PR_SET_PDEATHSIG fires when the forking *thread* ends: a server started from a
// short-lived test thread would otherwise be killed when that thread finishes.
class SpawnerThread {
 public:
  static SpawnerThread& instance() {
    // Leaked on purpose: the detached thread may still wait on it during static destruction.
    static SpawnerThread* spawner = new SpawnerThread();
    return *spawner;
  }

  // Runs `job` on the spawner thread and returns when it has finished.
  void run(const std::function<void()>& job) {
    std::lock_guard<std::mutex> one_caller(run_mutex_);
    std::unique_lock<std::mutex> lock(mutex_);
    pending_ = &job;
    finished_ = false;
    cv_.notify_all();
    cv_.wait(lock, [&] { return finished_; });
  }

 private:
  SpawnerThread() {
    std::thread([this] { loop(); }).detach();
  }

  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return pending_ != nullptr; });
      (*pending_)();
      pending_ = nullptr;
      finished_ = true;
      cv_.notify_all();
    }
  }

  std::mutex run_mutex_;  // one run() at a time
  std::mutex mutex_;      // guards pending_ and finished_
  std::condition_variable cv_;
  const std::function<void()>* pending_ = nullptr;
  bool finished_ = false;
};

}  // namespace

pid_t spawn_logged(const std::vector<std::string>& args, const std::string& log, std::string& error) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t child = -1;
  SpawnerThread::instance().run([&] {
    const pid_t parent = getpid();
    child = fork();
    if (child == 0) {
      // Only async-signal-safe calls between fork and exec.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
      int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    if (child < 0) error = std::string("fork(): ") + std::strerror(errno);
  });
  return child;
}

}  // namespace streamstate::testing
