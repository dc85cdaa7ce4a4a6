// The fixture of the S3 storage tests: a fresh bucket of the shared s3rver per test, options
// with short backoffs, a misbehaving front (S3FaultProxy) on demand, and test data.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "streamstate/s3_storage.h"
#include "testutil/s3_server.h"
#include "testutil/status_matchers.h"
#include "unit/storage/s3_fault_proxy.h"

namespace streamstate::testing {

inline std::string pattern(uint64_t seed, size_t size) {
  std::string out(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return out;
}

class S3StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = shared_s3_server_or_skip();
    if (server_ == nullptr) return;
    auto bucket = server_->create_fresh_bucket();
    ASSERT_OK(bucket);
    bucket_ = *bucket;
  }

  // This test's bucket with short backoffs, through `proxy` when given.
  S3StorageOptions options(const S3FaultProxy* proxy = nullptr) const {
    S3StorageOptions options = server_->options(bucket_);
    options.base_backoff = std::chrono::milliseconds(1);
    options.max_backoff = std::chrono::milliseconds(10);
    if (proxy != nullptr) options.endpoint = proxy->endpoint();
    return options;
  }

  std::unique_ptr<S3FaultProxy> proxy() const { return std::make_unique<S3FaultProxy>(server_->port()); }

  static std::unique_ptr<CheckpointStorage> open(const S3StorageOptions& options) {
    auto storage = open_s3_storage(options);
    if (!storage.is_ok()) throw std::runtime_error(storage.status().to_string());
    return std::move(storage).value();
  }

  static void put(CheckpointStorage& storage, const std::string& name, const std::string& content) {
    auto writer = storage.create(name);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->append(content));
    ASSERT_OK((*writer)->commit());
  }

  S3Server* server_ = nullptr;
  std::string bucket_;
};

// A loopback port on which nothing listens.
inline uint16_t closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

}  // namespace streamstate::testing
