// The error vocabulary of streamstate: Status for operations that return nothing,
// Result<T> for operations that return a value or an error.
//
// Every public function that can fail returns one of these; the library does not throw,
// except BadResultAccess when a caller reads the value of a failed Result (a programming
// error, like dereferencing an empty optional). Exceptions from third-party libraries are
// caught inside the library and turned into a Status; they never cross the API.
//
// Messages name the file, key, column or option at fault and say what to do about it.
//
// Thread-safety: Status and Result are values; distinct objects may be used from different
// threads freely, one object needs external synchronization if written concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace streamstate {

enum class StatusCode : uint8_t {
  kOk = 0,
  kNotFound,            // a key, column, file or checkpoint does not exist
  kInvalidArgument,     // bad option, bad name, value out of range
  kCorruption,          // stored bytes fail a length, magic or checksum check
  kIoError,             // the operating system or a storage engine failed
  kUnavailable,         // a remote service cannot be reached (retrying may help)
  kClosed,              // the object was closed; no further operations are accepted
  kAlreadyExists,       // creating something that exists
  kFailedPrecondition,  // the call is valid but not in the current state
  kTimeout,             // an operation did not finish in its time limit
  kOutOfRange,          // a key outside the key-group range served, an index too large
  kInternal,            // a broken invariant inside the library (a bug: please report)
  kDataLoss,            // stored state is gone or unrecoverable (e.g. a server restarted without persistence)
  kAborted,             // work stopped: user code failed on a record, or the pipeline was cancelled
};

// "OK", "NotFound", "InvalidArgument", ...
std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  // A default-constructed Status is OK.
  Status() = default;
  Status(StatusCode code, std::string message)
      : error_(code == StatusCode::kOk && message.empty() ? nullptr
                                                          : std::make_unique<Error>(Error{code, std::move(message)})) {}
  Status(const Status& other) : error_(other.error_ != nullptr ? std::make_unique<Error>(*other.error_) : nullptr) {}
  Status& operator=(const Status& other) {
    if (this != &other) error_ = other.error_ != nullptr ? std::make_unique<Error>(*other.error_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status ok() { return Status(); }
  static Status not_found(std::string message) { return {StatusCode::kNotFound, std::move(message)}; }
  static Status invalid_argument(std::string message) { return {StatusCode::kInvalidArgument, std::move(message)}; }
  static Status corruption(std::string message) { return {StatusCode::kCorruption, std::move(message)}; }
  static Status io_error(std::string message) { return {StatusCode::kIoError, std::move(message)}; }
  static Status unavailable(std::string message) { return {StatusCode::kUnavailable, std::move(message)}; }
  static Status closed(std::string message) { return {StatusCode::kClosed, std::move(message)}; }
  static Status already_exists(std::string message) { return {StatusCode::kAlreadyExists, std::move(message)}; }
  static Status failed_precondition(std::string message) { return {StatusCode::kFailedPrecondition, std::move(message)}; }
  static Status timeout(std::string message) { return {StatusCode::kTimeout, std::move(message)}; }
  static Status out_of_range(std::string message) { return {StatusCode::kOutOfRange, std::move(message)}; }
  static Status internal(std::string message) { return {StatusCode::kInternal, std::move(message)}; }
  static Status data_loss(std::string message) { return {StatusCode::kDataLoss, std::move(message)}; }
  static Status aborted(std::string message) { return {StatusCode::kAborted, std::move(message)}; }

  bool is_ok() const { return error_ == nullptr || error_->code == StatusCode::kOk; }
  StatusCode code() const { return error_ != nullptr ? error_->code : StatusCode::kOk; }
  const std::string& message() const { return error_ != nullptr ? error_->message : no_message(); }

  // "Corruption: checkpoint 7: block 3 checksum mismatch", or "OK".
  std::string to_string() const;

  // The same error with "context: " put before the message; OK stays OK.
  Status with_context(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Error {
    StatusCode code;
    std::string message;
  };
  static const std::string& no_message();

  // Null when OK: success is one pointer to pass and return; an error is one allocation.
  std::unique_ptr<Error> error_;
};

class BadResultAccess : public std::logic_error {
 public:
  explicit BadResultAccess(const Status& status)
      : std::logic_error("value() called on a failed Result: " + status.to_string()) {}
};

// Either a value of type T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit, so that `return value;` and `return Status::...;` both work.
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.is_ok()) {
      status_ = Status::internal("a Result was built from an OK Status without a value");
    }
  }

  bool is_ok() const { return value_.has_value(); }
  // OK when a value is present.
  const Status& status() const { return status_; }

  T& value() & {
    if (!value_) throw BadResultAccess(status_);
    return *value_;
  }
  const T& value() const& {
    if (!value_) throw BadResultAccess(status_);
    return *value_;
  }
  T&& value() && {
    if (!value_) throw BadResultAccess(status_);
    return std::move(*value_);
  }
  template <typename U>
  T value_or(U&& fallback) const& {
    return value_ ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace streamstate
