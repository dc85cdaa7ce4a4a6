// A real S3-compatible server (s3rver, run by node) as a child process for tests of the S3
// checkpoint storage.
//
// start() launches s3rver on a port of 127.0.0.1 that s3rver picks itself (so it can never
// collide with another server), with its data in a fresh temporary directory and the bucket
// "streamstate" created, and returns once s3rver said it listens. The server is stopped and
// its directory removed when the S3Server is destroyed; it is killed by the kernel
// (PR_SET_PDEATHSIG) if the thread that started it ends, so start it from the main test thread
// (GoogleTest runs tests there) and it never outlives the test process.
//
// s3rver is looked up as STREAMSTATE_S3RVER_JS (the path of s3rver's bin/s3rver.js) or in the
// source tree's tools/s3rver/node_modules, where scripts/setup.sh installs the pinned version;
// node is looked up on PATH. When either is missing, S3 tests fail with a message saying to
// run scripts/setup.sh, unless STREAMSTATE_S3_TESTS_OPTIONAL=1 allows them to be skipped.
//
// Buckets are reached path-style at endpoint(), or virtual-host style at
// "http://s3.localhost:<port>" (as <bucket>.s3.localhost).
//
// s3rver accepts the key pair S3RVER / S3RVER. It checks that an access key id exists but does
// not verify Signature Version 4 signatures, and it has neither ListMultipartUploads nor
// AbortMultipartUpload.
//
// Thread-safety: shared_s3_server_or_skip() may be called from any thread after the first call
// (made from the main thread); the S3Server's methods may be called from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "streamstate/s3_storage.h"
#include "streamstate/status.h"

namespace streamstate::testing {

class S3Server {
 public:
  static constexpr const char* kAccessKeyId = "S3RVER";
  static constexpr const char* kSecretAccessKey = "S3RVER";
  static constexpr const char* kBucket = "streamstate";

  // FailedPrecondition when node or s3rver is not installed; Unavailable when s3rver does not
  // come up within 20 s (with the end of its log).
  static Result<std::unique_ptr<S3Server>> start();
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>"
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Where s3rver keeps buckets and objects (one folder per bucket).
  const std::filesystem::path& data_dir() const { return data_dir_; }

  // Creates an empty bucket with a name not used before in this process and returns the name.
  Result<std::string> create_fresh_bucket();
  // Options for `bucket` on this server with its key pair and every other option at its default.
  S3StorageOptions options(const std::string& bucket = kBucket) const;

 private:
  S3Server(std::filesystem::path dir) : dir_(std::move(dir)), data_dir_(dir_ / "data") {}
  Status launch(const std::string& node, const std::string& script);
  void stop();

  std::filesystem::path dir_;
  std::filesystem::path data_dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  pid_t owner_pid_ = -1;
  std::atomic<int> next_bucket_{0};
};

// True when s3rver cannot be found and STREAMSTATE_S3_TESTS_OPTIONAL=1 allows skipping.
bool s3_tests_may_skip();

// The server shared by the tests of this process, started on first use. When s3rver is
// missing and skipping is allowed, records a GoogleTest skip (the caller must return) and
// returns nullptr; otherwise a server that cannot be started throws std::runtime_error, which
// GoogleTest reports as a failure.
S3Server* shared_s3_server_or_skip();

}  // namespace streamstate::testing
