// Timed StateColumn loops shared by the backend cases.
#include "column_workloads.h"

#include <optional>
#include <string>

namespace streamstate::bench {

std::string encode_counter(uint64_t value) {
  std::string encoded;
  put_fixed64(encoded, value);
  return encoded;
}

Status counter_mismatch(std::string_view side, uint64_t index, uint64_t found, uint64_t expected) {
  return Status::internal(std::string(side) + ": the counter of key #" + std::to_string(index) + " is " +
                          std::to_string(found) + " but " + std::to_string(expected) +
                          " increments were made before this pass: an update was lost or repeated");
}

Result<Sample> put_all(StateColumn& column, const Dataset& data) {
  const uint64_t count = data.size();
  Stopwatch watch;
  for (uint64_t i = 0; i < count; ++i) {
    Status status = column.put(data.key(i), data.value(i));
    if (!status.is_ok()) return status.with_context("put of key #" + std::to_string(i));
  }
  double seconds = watch.seconds();
  return Sample{seconds, count, count * Dataset::kValueBytes};
}

Result<Sample> get_all(StateColumn& column, const Dataset& data, const std::vector<uint32_t>& order) {
  std::string value;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    Result<bool> found = column.get_into(data.key(i), value);
    if (!found.is_ok()) return found.status().with_context("get of key #" + std::to_string(i));
    if (!*found)
      return Status::internal("get of key #" + std::to_string(i) + " found nothing after it was put");
    checksum += value_checksum(value);
  }
  double seconds = watch.seconds();
  if (order.size() == data.size() && checksum != data.expected_get_checksum()) {
    return Status::internal("the values read add up to checksum " + std::to_string(checksum) +
                            " instead of " + std::to_string(data.expected_get_checksum()) +
                            ": the column returned wrong values");
  }
  return Sample{seconds, order.size(), checksum};
}

Result<Sample> get_missing(StateColumn& column, const Dataset& data, const std::vector<uint32_t>& order) {
  std::string value;
  uint64_t hits = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    Result<bool> found = column.get_into(data.missing_key(i), value);
    if (!found.is_ok()) return found.status().with_context("get of missing key #" + std::to_string(i));
    hits += *found ? 1 : 0;
  }
  double seconds = watch.seconds();
  if (hits != 0) return Status::internal(std::to_string(hits) + " keys that were never put were found");
  return Sample{seconds, order.size(), hits};
}

Status load_counters(StateColumn& column, const Dataset& data) {
  const std::string zero = encode_counter(0);
  for (uint64_t i = 0; i < data.size(); ++i) {
    Status status = column.put(data.key(i), zero);
    if (!status.is_ok()) return status.with_context("loading the counter of key #" + std::to_string(i));
  }
  return Status::ok();
}

Result<Sample> increment_all(StateColumn& column, const Dataset& data, const std::vector<uint32_t>& order,
                             uint64_t expected_before) {
  uint64_t checksum = 0;
  uint64_t wrong = 0;
  uint64_t first_wrong_value = 0;
  // Built once: the loop measures update(), not the construction of a std::function.
  const UpdateFunction increment = [&](std::optional<BytesView> current) -> std::optional<std::string> {
    uint64_t counter = current && current->size() == 8 ? decode_fixed64(current->data()) : ~uint64_t{0};
    if (counter != expected_before && wrong++ == 0) first_wrong_value = counter;
    checksum += counter;
    return encode_counter(counter + 1);
  };
  Stopwatch watch;
  for (uint32_t i : order) {
    Status status = column.update(data.key(i), increment);
    if (!status.is_ok()) return status.with_context("update of key #" + std::to_string(i));
    if (wrong != 0) return counter_mismatch("update", i, first_wrong_value, expected_before);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

}  // namespace streamstate::bench
