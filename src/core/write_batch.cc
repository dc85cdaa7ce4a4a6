#include "streamstate/write_batch.h"

namespace streamstate {

void WriteBatch::put(std::string_view column, BytesView key, BytesView value) {
  operations_.push_back({OperationType::kPut, std::string(column), std::string(key), std::string(value)});
  payload_bytes_ += column.size() + key.size() + value.size();
}

void WriteBatch::remove(std::string_view column, BytesView key) {
  operations_.push_back({OperationType::kRemove, std::string(column), std::string(key), std::string()});
  payload_bytes_ += column.size() + key.size();
}

void WriteBatch::clear() {
  operations_.clear();
  payload_bytes_ = 0;
}

}  // namespace streamstate
