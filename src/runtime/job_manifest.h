// The job manifest: what makes a pipeline checkpoint complete. Written last, after every keyed
// instance's state checkpoint is committed, as "jobs/chk-<id, 10 digits>.json" in the pipeline's
// checkpoint storage. It names each keyed instance's state checkpoint (its folder
// "state/<operator>/<instance>/" and key-group range), each source split's position and each
// sink's pre-committed transactions. JSON with an XXH3 of its content (member "checksum", 16
// hex digits over the compact dump of every other member), so people and tools can read it and
// a damaged one is never used.
//
// Thread-safety: functions only; the storage's rules apply.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/key_group.h"
#include "streamstate/source.h"
#include "streamstate/status.h"

namespace streamstate::detail {

struct JobStateCheckpoint {
  std::string operator_name;
  uint32_t instance = 0;
  KeyGroupRange key_groups;
  std::string prefix;  // "state/<operator>/<instance>/"
  CheckpointId id = 0;  // the state checkpoint's id in that folder
  uint64_t bytes = 0;
};

struct JobManifest {
  CheckpointId id = 0;
  std::string pipeline;
  int64_t created_millis = 0;
  bool final_checkpoint = false;
  uint32_t max_parallelism = kDefaultMaxParallelism;
  std::map<std::string, uint32_t> parallelism;                    // operator -> instances
  std::vector<JobStateCheckpoint> states;                          // by operator, instance
  std::map<std::string, std::vector<SourceSplit>> sources;         // source -> splits
  std::map<std::string, std::vector<std::string>> committables;    // sink -> transactions
};

inline constexpr std::string_view kJobManifestPrefix = "jobs/chk-";

std::string job_manifest_name(CheckpointId id);
std::string state_prefix(std::string_view operator_name, uint32_t instance);

std::string encode_job_manifest(const JobManifest& manifest);
// kCorruption naming `object_name` for bad JSON, a wrong checksum or a missing member.
Result<JobManifest> parse_job_manifest(std::string_view object_name, std::string_view bytes);

// Writes it atomically (the commit of the pipeline checkpoint).
Status write_job_manifest(CheckpointStorage& storage, const JobManifest& manifest);

// Ids of the job manifests in the storage, ascending.
Result<std::vector<CheckpointId>> list_job_checkpoints(CheckpointStorage& storage);
// The manifest of `id`, checked: parses, and every state checkpoint it names has a readable
// manifest. kNotFound / kCorruption otherwise, naming the object.
Result<JobManifest> read_job_checkpoint(CheckpointStorage& storage, CheckpointId id);
// The newest job checkpoint that reads and checks; nullopt when there is none. `skipped`
// collects why newer ones were passed over.
Result<std::optional<JobManifest>> latest_job_checkpoint(CheckpointStorage& storage,
                                                         std::vector<std::string>* skipped);

}  // namespace streamstate::detail
