#include "testutil/s3_server.h"

#include "testutil/child_process.h"
#include "testutil/temp_dir.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace streamstate::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kStartupTimeout = std::chrono::seconds(20);

std::string find_on_path(const std::string& program) {
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (dir.empty()) continue;
      std::string candidate = dir + "/" + program;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "";
}

std::string find_node() {
  std::string node = find_on_path("node");
  return node.empty() ? find_on_path("nodejs") : node;
}

std::string find_s3rver_script() {
  std::string script = std::string(STREAMSTATE_SOURCE_DIR) + "/tools/s3rver/node_modules/s3rver/bin/s3rver.js";
  if (const char* given = std::getenv("STREAMSTATE_S3RVER_JS"); given != nullptr && *given != '\0') script = given;
  return access(script.c_str(), R_OK) == 0 ? script : "";
}

std::string tail(const std::string& text) { return text.size() > 1500 ? text.substr(text.size() - 1500) : text; }

// Sends one unsigned HTTP request to 127.0.0.1:port and returns the status line.
Result<std::string> plain_request(uint16_t port, const std::string& method, const std::string& target) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::io_error(std::string("socket(): ") + std::strerror(errno));
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return Status::unavailable("cannot connect to s3rver on port " + std::to_string(port));
  }
  const std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                              "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return Status::io_error("cannot send to s3rver on port " + std::to_string(port));
  }
  std::string answer;
  char chunk[4096];
  ssize_t got = 0;
  while ((got = recv(fd, chunk, sizeof(chunk), 0)) > 0) answer.append(chunk, static_cast<size_t>(got));
  close(fd);
  return answer.substr(0, answer.find("\r\n"));
}

}  // namespace

bool s3_tests_may_skip() {
  const char* optional = std::getenv("STREAMSTATE_S3_TESTS_OPTIONAL");
  return optional != nullptr && std::string(optional) == "1" && (find_node().empty() || find_s3rver_script().empty());
}

Result<std::unique_ptr<S3Server>> S3Server::start() {
  const std::string node = find_node();
  const std::string script = find_s3rver_script();
  if (node.empty() || script.empty()) {
    return Status::failed_precondition(
        std::string(node.empty() ? "node is not on PATH"
                                 : "s3rver is not installed in tools/s3rver (nor at STREAMSTATE_S3RVER_JS)") +
        ": run scripts/setup.sh (or set STREAMSTATE_S3_TESTS_OPTIONAL=1 to skip the S3 tests)");
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "streamstate-s3rver-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::io_error("cannot create a temporary directory from " + pattern + ": " + std::strerror(errno));
  }
  std::unique_ptr<S3Server> server(new S3Server(pattern));
  std::filesystem::create_directories(server->data_dir_);
  Status launched = server->launch(node, script);
  if (!launched.is_ok()) return launched;
  return server;
}

Status S3Server::launch(const std::string& node, const std::string& script) {
  const std::filesystem::path log = dir_ / "s3rver.log";
  // s3rver encrypts its continuation tokens with DES, which OpenSSL 3 keeps in its legacy
  // provider: without it every truncated listing fails with HTTP 500.
  std::vector<std::string> args = {node, "--openssl-legacy-provider", script, "--directory", data_dir_.string(), "--address", "127.0.0.1",
                                   "--port", "0", "--silent", "--configure-bucket", kBucket,
                                   // <bucket>.s3.localhost addresses a bucket virtual-host style
                                   // (curl resolves *.localhost to the loopback itself).
                                   "--service-endpoint", "localhost"};
  owner_pid_ = getpid();
  std::string error;
  pid_ = spawn_logged(args, log.string(), error);
  if (pid_ < 0) return Status::io_error(error);

  const std::string marker = "S3rver listening on 127.0.0.1:";
  const auto deadline = Clock::now() + kStartupTimeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::unavailable("s3rver exited while starting; end of " + log.string() + ":\n" + tail(read_file(log)));
    }
    const std::string text = read_file(log);
    const size_t at = text.find(marker);
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      port_ = static_cast<uint16_t>(std::atoi(text.c_str() + at + marker.size()));
      if (port_ != 0) return Status::ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  return Status::unavailable("s3rver did not start within 20 s; end of " + log.string() + ":\n" + tail(read_file(log)));
}

void S3Server::stop() {
  if (pid_ < 0 || getpid() != owner_pid_) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 250; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) != 0) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

S3Server::~S3Server() {
  if (getpid() != owner_pid_) return;
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

Result<std::string> S3Server::create_fresh_bucket() {
  const std::string name = "bucket-" + std::to_string(next_bucket_.fetch_add(1));
  // s3rver lets anonymous requests create buckets.
  Result<std::string> status_line = plain_request(port_, "PUT", "/" + name);
  if (!status_line.is_ok()) return status_line.status();
  if (status_line->find(" 200 ") == std::string::npos) {
    return Status::io_error("s3rver on port " + std::to_string(port_) + " did not create bucket " + name + ": " +
                            *status_line);
  }
  return name;
}

S3StorageOptions S3Server::options(const std::string& bucket) const {
  S3StorageOptions options;
  options.endpoint = endpoint();
  options.region = "us-east-1";
  options.bucket = bucket;
  options.access_key_id = kAccessKeyId;
  options.secret_access_key = kSecretAccessKey;
  return options;
}

namespace {

void record_skip(const std::string& why) { GTEST_SKIP() << why; }

}  // namespace

S3Server* shared_s3_server_or_skip() {
  static std::mutex mutex;
  static std::unique_ptr<S3Server> server;
  static std::string failure;
  std::lock_guard lock(mutex);
  if (server != nullptr) return server.get();
  if (s3_tests_may_skip()) {
    record_skip("s3rver is not installed and STREAMSTATE_S3_TESTS_OPTIONAL=1: S3 test skipped");
    return nullptr;
  }
  if (!failure.empty()) throw std::runtime_error(failure);
  Result<std::unique_ptr<S3Server>> started = S3Server::start();
  if (!started.is_ok()) {
    failure = "cannot start s3rver for the S3 tests: " + started.status().to_string();
    throw std::runtime_error(failure);
  }
  server = std::move(started).value();
  return server.get();
}

}  // namespace streamstate::testing
