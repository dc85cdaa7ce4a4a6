#include "testutil/redis_server.h"

#include "testutil/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace streamstate::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kStartupTimeout = std::chrono::seconds(10);
constexpr auto kStopGracePeriod = std::chrono::seconds(5);
constexpr int kPortAttempts = 8;

std::string find_redis_server() {
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (dir.empty()) continue;
      std::string candidate = dir + "/redis-server";
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  if (access("/usr/bin/redis-server", X_OK) == 0) return "/usr/bin/redis-server";
  return "";
}

// A port the kernel just handed out for 127.0.0.1; taken by someone else again only rarely,
// and launch() notices when it is.
Result<uint16_t> pick_free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::io_error(std::string("socket(): ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::string error = std::strerror(errno);
    close(fd);
    return Status::io_error("cannot find a free port on 127.0.0.1: " + error);
  }
  close(fd);
  return static_cast<uint16_t>(ntohs(address.sin_port));
}

std::string resp_command(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  return out;
}

// A TCP connection to 127.0.0.1:port with send and receive timeouts, or -1.
int connect_loopback(uint16_t port, std::chrono::milliseconds timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Parses one RESP2 reply of `buffer` at `pos`, appending it flattened to `out` (see
// RedisServer::command) and the text of an error reply to `errors`. Returns false when the
// buffer does not hold the whole reply yet.
bool parse_reply(const std::string& buffer, size_t& pos, std::vector<std::string>& out, std::string& errors) {
  const size_t line_end = buffer.find("\r\n", pos);
  if (line_end == std::string::npos || pos >= buffer.size()) return false;
  const char type = buffer[pos];
  const std::string line = buffer.substr(pos + 1, line_end - pos - 1);
  pos = line_end + 2;
  switch (type) {
    case '+':
    case ':':
      out.push_back(line);
      return true;
    case '-':
      errors += (errors.empty() ? "" : "; ") + line;
      return true;
    case '$': {
      const long long length = std::atoll(line.c_str());
      if (length < 0) return true;
      if (buffer.size() < pos + static_cast<size_t>(length) + 2) return false;
      out.push_back(buffer.substr(pos, static_cast<size_t>(length)));
      pos += static_cast<size_t>(length) + 2;
      return true;
    }
    case '*': {
      const long long count = std::atoll(line.c_str());
      for (long long i = 0; i < count; ++i) {
        if (!parse_reply(buffer, pos, out, errors)) return false;
      }
      return true;
    }
    default:
      errors += "unparseable reply type '" + std::string(1, type) + "'";
      return true;
  }
}

// Sends `commands` over one connection and reads one reply per command.
Result<std::vector<std::string>> exchange(uint16_t port,
                                          const std::vector<std::vector<std::string>>& commands,
                                          std::chrono::milliseconds timeout) {
  const int fd = connect_loopback(port, timeout);
  if (fd < 0) {
    return Status::unavailable("cannot connect to redis-server on 127.0.0.1:" + std::to_string(port) + ": " +
                               std::strerror(errno));
  }
  std::string request;
  for (const auto& args : commands) request += resp_command(args);
  if (!send_all(fd, request)) {
    close(fd);
    return Status::unavailable("cannot send to redis-server on port " + std::to_string(port));
  }
  std::string buffer;
  char chunk[65536];
  for (;;) {
    std::vector<std::string> out;
    std::string errors;
    size_t pos = 0;
    size_t parsed = 0;
    while (parsed < commands.size() && parse_reply(buffer, pos, out, errors)) ++parsed;
    if (parsed == commands.size()) {
      close(fd);
      if (!errors.empty())
        return Status::io_error("redis-server on port " + std::to_string(port) + ": " + errors);
      return out;
    }
    const ssize_t got = recv(fd, chunk, sizeof(chunk), 0);
    if (got <= 0) {
      close(fd);
      return Status::unavailable("redis-server on port " + std::to_string(port) + " did not answer");
    }
    buffer.append(chunk, static_cast<size_t>(got));
  }
}

// True when the server on `port` is the process `pid` and answers commands.
bool server_answers(uint16_t port, const std::string& password, pid_t pid) {
  std::vector<std::vector<std::string>> commands;
  if (!password.empty()) commands.push_back({"AUTH", password});
  commands.push_back({"INFO", "server"});
  Result<std::vector<std::string>> reply = exchange(port, commands, std::chrono::milliseconds(500));
  if (!reply.is_ok() || reply->empty()) return false;
  return reply->back().find("process_id:" + std::to_string(pid) + "\r\n") != std::string::npos;
}

std::string read_log_tail(const std::filesystem::path& log) {
  std::ifstream in(log, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr size_t kTail = 1500;
  return text.size() > kTail ? text.substr(text.size() - kTail) : text;
}

// Waits up to `grace` for `pid` to exit; true when it did (and was reaped).
bool wait_for_exit(pid_t pid, std::chrono::milliseconds grace) {
  const auto deadline = Clock::now() + grace;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno == ECHILD)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

RedisServer::RedisServer(std::string executable, std::string password, std::filesystem::path dir)
    : executable_(std::move(executable)),
      password_(std::move(password)),
      dir_(std::move(dir)),
      owner_pid_(getpid()) {}

Result<std::unique_ptr<RedisServer>> RedisServer::start(const std::string& password, Persistence persistence) {
  std::string executable = find_redis_server();
  if (executable.empty()) {
    return Status::failed_precondition(
        "redis-server is not installed (looked on PATH and at /usr/bin/redis-server): run scripts/setup.sh");
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "streamstate-redis-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::io_error("cannot create a temporary directory from " + pattern + ": " +
                            std::strerror(errno));
  }
  std::unique_ptr<RedisServer> server(new RedisServer(std::move(executable), password, pattern));
  server->persistence_ = persistence;
  Status last = Status::unavailable("redis-server did not start");
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    Result<uint16_t> port = pick_free_port();
    if (!port.is_ok()) return port.status();
    server->port_ = *port;
    bool port_taken = false;
    last = server->launch(port_taken);
    if (last.is_ok()) return server;
    if (!port_taken) return last;
  }
  return last;
}

Status RedisServer::launch(bool& port_taken) {
  port_taken = false;
  const std::filesystem::path log = dir_ / "redis.log";
  // clang-format off
  std::vector<std::string> args = {executable_,
                                   "--port", std::to_string(port_),
                                   "--bind", "127.0.0.1",
                                   "--save", "",
                                   "--appendonly", persistence_ == Persistence::kAppendOnlyFile ? "yes" : "no",
                                   "--appendfsync", "always",
                                   "--dir", dir_.string(),
                                   "--daemonize", "no",
                                   "--logfile", log.string()};
  // clang-format on
  if (!password_.empty()) {
    args.push_back("--requirepass");
    args.push_back(password_);
  }
  std::string error;
  pid_ = spawn_logged(args, log.string(), error);
  if (pid_ < 0) return Status::io_error("cannot start " + executable_ + ": " + error);

  const auto deadline = Clock::now() + kStartupTimeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::string tail = read_log_tail(log);
      port_taken = tail.find("Address already in use") != std::string::npos;
      return Status::unavailable("redis-server exited while starting on port " + std::to_string(port_) +
                                 "; end of " + log.string() + ":\n" + tail);
    }
    if (server_answers(port_, password_, pid_)) return Status::ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Status stopped = stop();
  (void)stopped;  // the timeout below is the error worth reporting
  return Status::unavailable("redis-server on port " + std::to_string(port_) + " did not answer within " +
                             std::to_string(kStartupTimeout.count()) + " s; end of " + log.string() + ":\n" +
                             read_log_tail(log));
}

Status RedisServer::stop() {
  if (pid_ < 0 || getpid() != owner_pid_) return Status::ok();
  kill(pid_, SIGTERM);
  kill(pid_, SIGCONT);  // a paused server must run to see the SIGTERM
  if (!wait_for_exit(pid_, kStopGracePeriod)) {
    kill(pid_, SIGKILL);
    if (!wait_for_exit(pid_, std::chrono::milliseconds(kStopGracePeriod))) {
      pid_ = -1;
      return Status::io_error("redis-server on port " + std::to_string(port_) +
                              " did not exit after SIGKILL");
    }
  }
  pid_ = -1;
  return Status::ok();
}

Status RedisServer::restart() {
  Status stopped = stop();
  if (!stopped.is_ok()) return stopped;
  // The port was ours a moment ago; retry briefly in case the kernel has not released it yet.
  Status last;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    bool port_taken = false;
    last = launch(port_taken);
    if (last.is_ok() || !port_taken) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last;
}

Status RedisServer::pause() {
  if (pid_ < 0)
    return Status::failed_precondition("redis-server on port " + std::to_string(port_) + " is not running");
  kill(pid_, SIGSTOP);
  return Status::ok();
}

Status RedisServer::resume() {
  if (pid_ < 0)
    return Status::failed_precondition("redis-server on port " + std::to_string(port_) + " is not running");
  kill(pid_, SIGCONT);
  return Status::ok();
}

Result<std::vector<std::string>> RedisServer::command(const std::vector<std::string>& args) const {
  std::vector<std::vector<std::string>> commands;
  if (!password_.empty()) commands.push_back({"AUTH", password_});
  commands.push_back(args);
  Result<std::vector<std::string>> reply = exchange(port_, commands, std::chrono::seconds(10));
  if (!reply.is_ok() || password_.empty()) return reply;
  std::vector<std::string> without_auth(reply->begin() + 1, reply->end());  // drop AUTH's "OK"
  return without_auth;
}

RedisServer::~RedisServer() {
  if (getpid() != owner_pid_) return;
  Status stopped = stop();
  (void)stopped;  // nothing more can be done from a destructor
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

RedisServer& shared_redis_server() {
  static std::mutex mutex;
  static std::unique_ptr<RedisServer> server;
  static std::string failure;
  std::lock_guard<std::mutex> lock(mutex);
  if (server == nullptr) {
    if (!failure.empty()) throw std::runtime_error(failure);
    Result<std::unique_ptr<RedisServer>> started = RedisServer::start();
    if (!started.is_ok()) {
      failure = "cannot start the shared redis-server for the tests: " + started.status().to_string();
      throw std::runtime_error(failure);
    }
    server = std::move(started).value();
  }
  return *server;
}

}  // namespace streamstate::testing
