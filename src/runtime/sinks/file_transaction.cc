#include "runtime/sinks/file_transaction.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

#include "runtime/sinks/committable_json.h"
#include "util/status_macros.h"
#include "wal/file_io.h"

namespace streamstate::internal {
namespace {

constexpr const char* kFormat = "streamstate.file-sink";
constexpr int kVersion = 1;

bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

// The size of the regular file at `path`, nullopt when there is none; IoError for other failures.
Result<std::optional<uint64_t>> size_if_present(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return std::optional<uint64_t>();
    return wal::os_error("cannot stat", path, errno);
  }
  if (!S_ISREG(info.st_mode)) {
    return Status::corruption(path.string() + " is not a regular file; a part file of the sink was expected there");
  }
  return std::optional<uint64_t>(static_cast<uint64_t>(info.st_size));
}

Status publish_part(const FilePart& part, const std::filesystem::path& staging, const std::filesystem::path& directory) {
  const std::filesystem::path in_progress = staging / part.in_progress;
  const std::filesystem::path final_path = directory / part.final_name;
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<uint64_t> staged, size_if_present(in_progress));
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<uint64_t> published, size_if_present(final_path));
  const std::string expected = std::to_string(part.bytes) + " bytes";
  if (!staged) {
    if (!published) {
      return Status::data_loss("part file " + final_path.string() + " was neither published nor is it staged: " +
                               in_progress.string() + " is gone (removed by hand, or by a recover() that did not " +
                               "list this transaction); its records are lost");
    }
    if (*published != part.bytes) {
      return Status::corruption("part file " + final_path.string() + " has " + std::to_string(*published) +
                                " bytes, its transaction recorded " + expected +
                                " (another writer replaced it?); move it away and restore from a checkpoint");
    }
    return Status::ok();  // published before
  }
  if (published) {
    return Status::corruption("cannot publish " + in_progress.string() + ": " + final_path.string() +
                              " already exists and is not this transaction's part (is another sink writing part "
                              "files with the same prefix into this directory?); move it away and commit again");
  }
  if (*staged != part.bytes) {
    return Status::corruption("in-progress part file " + in_progress.string() + " has " + std::to_string(*staged) +
                              " bytes, its transaction recorded " + expected + "; it was changed after pre-commit");
  }
  if (std::rename(in_progress.c_str(), final_path.c_str()) != 0) {
    return wal::os_error("cannot rename " + in_progress.string() + " to", final_path, errno);
  }
  return Status::ok();
}

}  // namespace

std::string encode_file_transaction(const FileTransaction& transaction) {
  nlohmann::json parts = nlohmann::json::array();
  for (const FilePart& part : transaction.parts) {
    parts.push_back({{"in_progress", part.in_progress}, {"final", part.final_name}, {"bytes", part.bytes}});
  }
  nlohmann::json json = {
      {"format", kFormat}, {"version", kVersion}, {"prefix", transaction.prefix}, {"parts", std::move(parts)}};
  return json.dump();
}

Result<FileTransaction> decode_file_transaction(const std::string& committable, const std::string& sink) {
  const std::string bad = "file sink " + sink + ": a committable ";
  STREAMSTATE_ASSIGN_OR_RETURN(const nlohmann::json json, parse_committable(committable, kFormat, kVersion, bad));
  const nlohmann::json* prefix = json_member(json, "prefix");
  const nlohmann::json* parts = json_member(json, "parts");
  if (prefix == nullptr || !prefix->is_string() || parts == nullptr || !parts->is_array()) {
    return Status::corruption(bad + "without prefix or parts: " + committable);
  }
  FileTransaction transaction;
  transaction.prefix = prefix->get<std::string>();
  for (const nlohmann::json& part : *parts) {
    const nlohmann::json* in_progress = json_member(part, "in_progress");
    const nlohmann::json* final_name = json_member(part, "final");
    const nlohmann::json* bytes = json_member(part, "bytes");
    if (in_progress == nullptr || !in_progress->is_string() || final_name == nullptr || !final_name->is_string() ||
        bytes == nullptr || !bytes->is_number_unsigned()) {
      return Status::corruption(bad + "with a malformed part: " + committable);
    }
    FilePart decoded{in_progress->get<std::string>(), final_name->get<std::string>(), bytes->get<uint64_t>()};
    if (!is_plain_file_name(decoded.in_progress) || !is_plain_file_name(decoded.final_name)) {
      return Status::corruption(bad + "naming a path instead of a file name: " + committable);
    }
    transaction.parts.push_back(std::move(decoded));
  }
  return transaction;
}

Status publish_file_transaction(const FileTransaction& transaction, const std::filesystem::path& staging,
                                const std::filesystem::path& directory) {
  for (const FilePart& part : transaction.parts) {
    STREAMSTATE_RETURN_IF_ERROR(publish_part(part, staging, directory));
  }
  if (transaction.parts.empty()) return Status::ok();
  // The new names first: once they are durable the transaction is visible for good.
  STREAMSTATE_RETURN_IF_ERROR(wal::sync_directory(directory));
  std::error_code error;
  if (!std::filesystem::exists(staging, error)) return Status::ok();
  return wal::sync_directory(staging);
}

}  // namespace streamstate::internal
