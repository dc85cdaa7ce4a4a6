// A misbehaving HTTP front for s3rver, for the S3 storage tests: it forwards each request to
// s3rver unless told to answer it with an error, drop the connection, hold it a while, corrupt
// the answer or answer with canned bytes; and it records every request head, so tests can
// count attempts, see the headers sent and prove that requests ran at the same time.
//
// One request per connection: every answer says "Connection: close" (the storage reconnects).
// s3rver does not verify signatures, so forwarding with a changed Connection header is fine.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace streamstate::testing {

class S3FaultProxy {
 public:
  using Matcher = std::function<bool(const std::string& head)>;

  explicit S3FaultProxy(uint16_t upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        listen(listen_fd_, 64) != 0 || getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("S3FaultProxy: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~S3FaultProxy() {
    stopping_.store(true);
    acceptor_.join();
    close(listen_fd_);
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(connections_);
    }
    for (auto& thread : threads) thread.join();
  }

  S3FaultProxy(const S3FaultProxy&) = delete;
  S3FaultProxy& operator=(const S3FaultProxy&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The next `count` matching requests are answered with `status` and an S3 <Error> of `code`.
  void fail_next(int count, int status, const std::string& code, Matcher match = any()) {
    add_rule(Rule{Rule::kFail, count, std::move(match), status, code, 0});
  }
  // The next `count` matching requests get their connection closed without an answer.
  void drop_next(int count, Matcher match = any()) { add_rule(Rule{Rule::kDrop, count, std::move(match), 0, "", 0}); }
  // The next `count` matching answers have their last byte flipped.
  void corrupt_next(int count, Matcher match = any()) {
    add_rule(Rule{Rule::kCorrupt, count, std::move(match), 0, "", 0});
  }
  // Matching requests (all of them) are held `delay` before they are forwarded.
  void delay(std::chrono::milliseconds delay, Matcher match) {
    add_rule(Rule{Rule::kDelay, -1, std::move(match), 0, "", delay.count()});
  }
  // Matching requests (all of them) are answered with `status` and `body` (XML).
  void answer(Matcher match, int status, const std::string& body) {
    add_rule(Rule{Rule::kAnswer, -1, std::move(match), status, body, 0});
  }

  // Every request head seen (request line and headers), in arrival order.
  std::vector<std::string> heads() const {
    std::lock_guard lock(mutex_);
    return heads_;
  }
  size_t count(const Matcher& match) const {
    size_t n = 0;
    for (const std::string& head : heads()) n += match(head) ? 1 : 0;
    return n;
  }
  // The most forwarded requests that were in progress at once.
  int max_concurrent() const { return max_active_.load(); }

  static Matcher any() {
    return [](const std::string&) { return true; };
  }
  // Requests whose request line (method, target) contains `fragment`.
  static Matcher line_has(std::string fragment) {
    return [fragment](const std::string& head) { return head.substr(0, head.find("\r\n")).find(fragment) != std::string::npos; };
  }

 private:
  struct Rule {
    enum Kind { kFail, kDrop, kCorrupt, kDelay, kAnswer } kind;
    int remaining;  // -1: forever
    Matcher match;
    int status;
    std::string text;  // error code or canned body
    int64_t delay_ms;
  };

  void add_rule(Rule rule) {
    std::lock_guard lock(mutex_);
    rules_.push_back(std::move(rule));
  }

  // The first live rule of `kind` matching `head` (consuming one use), or nullopt.
  std::unique_ptr<Rule> take_rule(Rule::Kind kind, const std::string& head) {
    std::lock_guard lock(mutex_);
    for (Rule& rule : rules_) {
      if (rule.kind != kind || rule.remaining == 0 || !rule.match(head)) continue;
      if (rule.remaining > 0) --rule.remaining;
      return std::make_unique<Rule>(rule);
    }
    return nullptr;
  }

  void accept_loop() {
    while (!stopping_.load()) {
      pollfd waiting{listen_fd_, POLLIN, 0};
      if (poll(&waiting, 1, 20) <= 0) continue;
      int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      std::lock_guard lock(mutex_);
      connections_.emplace_back([this, client] {
        serve(client);
        close(client);
      });
    }
  }

  static bool send_all(int fd, const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  static bool read_request(int fd, std::string& head, std::string& body) {
    std::string buffer;
    char chunk[65536];
    size_t head_end = std::string::npos;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      ssize_t got = recv(fd, chunk, sizeof(chunk), 0);
      if (got <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(got));
    }
    head = buffer.substr(0, head_end + 2);
    body = buffer.substr(head_end + 4);
    size_t length = 0;
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (size_t at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
      length = std::stoull(head.substr(at + 17));
    }
    while (body.size() < length) {
      ssize_t got = recv(fd, chunk, sizeof(chunk), 0);
      if (got <= 0) return false;
      body.append(chunk, static_cast<size_t>(got));
    }
    return true;
  }

  // `head` with any Connection header replaced by "Connection: close".
  static std::string close_after(const std::string& head) {
    std::string out;
    size_t pos = 0;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      std::string line = head.substr(pos, end - pos);
      std::string lower = line;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!lower.starts_with("connection:")) out += line + "\r\n";
      pos = end + 2;
    }
    return out + "Connection: close\r\n\r\n";
  }

  std::string forward(const std::string& head, const std::string& body) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(upstream_port_);
    std::string answer;
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        send_all(fd, close_after(head) + body)) {
      char chunk[65536];
      ssize_t got = 0;
      while ((got = recv(fd, chunk, sizeof(chunk), 0)) > 0) answer.append(chunk, static_cast<size_t>(got));
    }
    if (fd >= 0) close(fd);
    return answer;
  }

  static std::string error_answer(int status, const std::string& code) {
    const std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
                             "</Code><Message>injected by the test proxy</Message></Error>";
    return canned(status, body);
  }

  static std::string canned(int status, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " Injected\r\nContent-Type: application/xml\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  }

  void serve(int client) {
    std::string head;
    std::string body;
    if (!read_request(client, head, body)) return;
    {
      std::lock_guard lock(mutex_);
      heads_.push_back(head);
    }
    if (take_rule(Rule::kDrop, head)) return;
    if (auto rule = take_rule(Rule::kFail, head)) {
      send_all(client, error_answer(rule->status, rule->text));
      return;
    }
    if (auto rule = take_rule(Rule::kAnswer, head)) {
      send_all(client, canned(rule->status, rule->text));
      return;
    }
    const int active = active_.fetch_add(1) + 1;
    for (int seen = max_active_.load(); active > seen && !max_active_.compare_exchange_weak(seen, active);) {
    }
    if (auto rule = take_rule(Rule::kDelay, head)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(rule->delay_ms));
    }
    std::string answer = forward(head, body);
    active_.fetch_sub(1);
    if (take_rule(Rule::kCorrupt, head) && !answer.empty()) answer.back() = static_cast<char>(answer.back() ^ 0x01);
    send_all(client, answer);
  }

  const uint16_t upstream_port_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_{0};
  std::atomic<int> max_active_{0};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<Rule> rules_;            // guarded by mutex_
  std::vector<std::string> heads_;     // guarded by mutex_
  std::vector<std::thread> connections_;  // guarded by mutex_
};

}  // namespace streamstate::testing
