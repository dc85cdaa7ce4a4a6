// The writer of one file sink instance: stages lines into in-progress part files and hands
// them over, at each checkpoint, as one transaction (see file_transaction.h).
//
// In-progress files are named <sink>-<instance>-<writer token>-<transaction>-<part><suffix>
// in the staging folder: the random writer token keeps two runs of one instance apart. At
// pre_commit each part gets its final name <prefix>-<instance>-<checkpoint>-<part><suffix>
// (checkpoint zero-padded to 8 digits, part to 4).
//
// Thread-safety: one thread at a time (the sink instance's).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/sinks/file_transaction.h"
#include "runtime/sinks/part_file.h"
#include "streamstate/clock.h"
#include "streamstate/sink.h"

namespace streamstate::internal {

// What every writer of one file sink shares; immutable after the sink is created.
struct FileSinkLayout {
  std::filesystem::path directory;  // where published parts appear
  std::filesystem::path staging;    // <directory>/.<prefix>.in-progress
  std::string prefix;
  std::string suffix;
  uint64_t roll_bytes = 0;
  int64_t roll_millis = 0;
  std::string header;
  std::shared_ptr<const Clock> clock;
};

class FileLineWriter final : public SinkWriter<std::string> {
 public:
  FileLineWriter(std::shared_ptr<const FileSinkLayout> layout, const SinkWriterContext& context);
  // Leaves the files of the open transaction in the staging folder, as a crash would.
  ~FileLineWriter() override = default;

  Status write(const std::string& line, int64_t event_time_millis) override;
  Result<std::string> pre_commit(uint64_t checkpoint) override;
  // Removes the files of the open transaction (not yet pre-committed).
  Status close() override;

 private:
  Status open_part();
  // Finishes the current part and adds it to the open transaction.
  Status roll();
  std::string final_name(uint64_t checkpoint, size_t part) const;

  std::shared_ptr<const FileSinkLayout> layout_;
  std::string sink_name_;  // the context's name, made a safe file name
  uint32_t instance_;
  std::string token_;
  uint64_t transaction_ = 0;  // number of the open transaction
  uint64_t last_checkpoint_ = 0;
  bool closed_ = false;
  std::optional<PartFile> current_;
  std::vector<FilePart> finished_;  // parts of the open transaction, final names not yet set
};

}  // namespace streamstate::internal
