#include "runtime/sinks/file_sink_writer.h"

#include <cstdio>
#include <system_error>
#include <utility>

#include "runtime/sinks/transaction_ids.h"
#include "util/status_macros.h"
#include "wal/file_io.h"

namespace streamstate::internal {

FileLineWriter::FileLineWriter(std::shared_ptr<const FileSinkLayout> layout, const SinkWriterContext& context)
    : layout_(std::move(layout)),
      sink_name_(safe_name_part(context.sink_name)),
      instance_(context.instance),
      token_(random_writer_token()) {}

Status FileLineWriter::write(const std::string& line, int64_t /*event_time_millis*/) {
  if (closed_) return Status::closed("file sink " + layout_->directory.string() + ": the writer is closed");
  if (current_ && layout_->roll_millis > 0 &&
      layout_->clock->now_millis() - current_->opened_at_millis() >= layout_->roll_millis) {
    STREAMSTATE_RETURN_IF_ERROR(roll());
  }
  if (!current_) STREAMSTATE_RETURN_IF_ERROR(open_part());
  STREAMSTATE_RETURN_IF_ERROR(current_->append_line(line));
  if (current_->bytes() >= layout_->roll_bytes) return roll();
  return Status::ok();
}

Status FileLineWriter::open_part() {
  const std::string name = sink_name_ + "-" + std::to_string(instance_) + "-" + token_ + "-" +
                           std::to_string(transaction_) + "-" + std::to_string(finished_.size()) +
                           layout_->suffix;
  STREAMSTATE_ASSIGN_OR_RETURN(PartFile part, PartFile::create(layout_->staging / name, layout_->clock->now_millis()));
  current_.emplace(std::move(part));
  if (!layout_->header.empty()) return current_->append_line(layout_->header);
  return Status::ok();
}

Status FileLineWriter::roll() {
  Status finished = current_->finish();
  FilePart part{current_->path().filename().string(), "", current_->bytes()};
  current_.reset();
  STREAMSTATE_RETURN_IF_ERROR(finished);
  finished_.push_back(std::move(part));
  return Status::ok();
}

std::string FileLineWriter::final_name(uint64_t checkpoint, size_t part) const {
  // Zero-padded, so that listing the directory in name order lists an instance's parts in the
  // order they were written.
  char numbers[48];
  std::snprintf(numbers, sizeof numbers, "%08llu-%04zu", static_cast<unsigned long long>(checkpoint), part);
  return layout_->prefix + "-" + std::to_string(instance_) + "-" + numbers + layout_->suffix;
}

Result<std::string> FileLineWriter::pre_commit(uint64_t checkpoint) {
  if (closed_) return Status::closed("file sink " + layout_->directory.string() + ": the writer is closed");
  if (checkpoint <= last_checkpoint_) {
    return Status::failed_precondition("file sink " + layout_->directory.string() + ": pre_commit(" +
                                       std::to_string(checkpoint) + ") after pre_commit(" +
                                       std::to_string(last_checkpoint_) + "); checkpoint ids must increase");
  }
  if (current_) STREAMSTATE_RETURN_IF_ERROR(roll());
  last_checkpoint_ = checkpoint;
  if (finished_.empty()) return std::string();
  // The parts' names in the staging folder must be durable before the checkpoint records them.
  STREAMSTATE_RETURN_IF_ERROR(wal::sync_directory(layout_->staging));
  FileTransaction transaction{layout_->prefix, std::move(finished_)};
  finished_.clear();
  for (size_t i = 0; i < transaction.parts.size(); ++i) transaction.parts[i].final_name = final_name(checkpoint, i);
  ++transaction_;
  return encode_file_transaction(transaction);
}

Status FileLineWriter::close() {
  if (closed_) return Status::ok();
  closed_ = true;
  std::vector<std::filesystem::path> discarded;
  if (current_) {
    discarded.push_back(current_->path());
    current_.reset();
  }
  for (const FilePart& part : finished_) discarded.push_back(layout_->staging / part.in_progress);
  finished_.clear();
  for (const std::filesystem::path& path : discarded) {
    std::error_code error;
    std::filesystem::remove(path, error);
    if (error) {
      return Status::io_error("cannot remove the uncommitted part file " + path.string() + ": " + error.message());
    }
  }
  return Status::ok();
}

}  // namespace streamstate::internal
