#include "streamstate/config.h"

#if STREAMSTATE_HAS_REDIS

#include "backends_redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

namespace streamstate::bench {
namespace {

std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// A port the kernel just handed out for 127.0.0.1.
Result<uint16_t> free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::io_error(std::string("socket(): ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error = errno;
  close(fd);
  if (!ok) return Status::io_error(std::string("cannot find a free port: ") + std::strerror(error));
  return static_cast<uint16_t>(ntohs(address.sin_port));
}

bool answers_ping(uint16_t port) {
  Result<RawRedis> raw = connect_raw_redis(port);
  if (!raw.is_ok()) return false;
  auto* reply = static_cast<redisReply*>(redisCommand(raw->get(), "PING"));
  const bool ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
  if (reply != nullptr) freeReplyObject(reply);
  return ok;
}

}  // namespace

Result<std::unique_ptr<BenchRedisServer>> BenchRedisServer::start() {
  const std::string executable = find_on_path("redis-server");
  if (executable.empty()) {
    return Status::failed_precondition(
        "redis-server is not on PATH: install it (e.g. apt-get install redis-server) to run the redis/* cases");
  }
  std::string dir = (std::filesystem::temp_directory_path() / "streamstate-bench-redis-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    return Status::io_error("cannot create a temporary directory " + dir + ": " + std::strerror(errno));
  }
  std::unique_ptr<BenchRedisServer> server(new BenchRedisServer());
  server->dir_ = dir;
  Result<uint16_t> port = free_loopback_port();
  if (!port.is_ok()) return port.status();
  server->port_ = *port;
  const std::string port_text = std::to_string(*port);
  const std::string log = dir + "/redis.log";
  std::vector<std::string> args = {executable, "--port", port_text, "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", dir, "--logfile", log};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return Status::io_error(std::string("fork(): ") + std::strerror(errno));
  if (pid == 0) {
    execv(executable.c_str(), argv.data());
    _exit(127);
  }
  server->pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      server->pid_ = -1;
      return Status::unavailable("redis-server exited while starting on port " + port_text + "; see " + log);
    }
    if (answers_ping(*port)) return server;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::unavailable("redis-server on port " + port_text + " did not answer within 10 s; see " + log);
}

BenchRedisServer::~BenchRedisServer() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

Result<RawRedis> connect_raw_redis(uint16_t port) {
  RawRedis context(redisConnect("127.0.0.1", port));
  if (context == nullptr) return Status::unavailable("cannot allocate a hiredis context");
  if (context->err != 0) {
    return Status::unavailable("cannot connect to redis-server on 127.0.0.1:" + std::to_string(port) + ": " +
                               context->errstr);
  }
  return context;
}

}  // namespace streamstate::bench

#endif  // STREAMSTATE_HAS_REDIS
