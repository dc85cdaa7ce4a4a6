// kill -9 in the middle of writes: a child process commits objects in a loop and acknowledges
// each commit through a pipe; the parent kills it with SIGKILL at an arbitrary moment and then
// checks that every acknowledged object is present with exactly its bytes, that no temporary
// file is listed, and that remove_incomplete() deletes the leftovers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "streamstate/checkpoint_storage.h"
#include "streamstate/checksum.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;

std::string object_name(uint32_t i) {
  char name[32];
  std::snprintf(name, sizeof(name), "obj/%06u", i);
  return name;
}

// Deterministic content of object i: 1 byte to ~300 KB.
std::string content_of(uint32_t i) {
  std::string out(1 + (static_cast<size_t>(i) * 7919) % 300000, '\0');
  uint64_t x = i * 0x9E3779B97F4A7C15ULL + 7;
  for (char& c : out) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    c = static_cast<char>(x >> 56);
  }
  return out;
}

bool put(CheckpointStorage& storage, const std::string& name, const std::string& content) {
  auto writer = storage.create(name);
  if (!writer.is_ok()) return false;
  size_t half = content.size() / 2;
  return (*writer)->append(std::string_view(content).substr(0, half)).is_ok() &&
         (*writer)->append(std::string_view(content).substr(half)).is_ok() && (*writer)->commit().is_ok();
}

// The child: commits obj/<i> and "latest" = i for i = first, first + 1, ... until killed, and
// writes i to `ack_fd` after both commits returned OK. It also keeps one synced writer open that
// never commits, so a leftover temporary file is certain.
[[noreturn]] void run_writer(const std::string& path, uint32_t first, int ack_fd) {
  auto storage = open_directory_storage(DirectoryStorageOptions{.path = path, .write_buffer_bytes = 64 * 1024});
  if (!storage.is_ok()) _exit(2);
  auto pending = (*storage)->create("pending/never-committed");
  if (!pending.is_ok() || !(*pending)->append(content_of(first)).is_ok() || !(*pending)->sync().is_ok()) _exit(3);
  for (uint32_t i = first;; ++i) {
    if (!put(**storage, object_name(i), content_of(i)) || !put(**storage, "latest", std::to_string(i))) _exit(4);
    if (::write(ack_fd, &i, sizeof(i)) != static_cast<ssize_t>(sizeof(i))) _exit(5);
  }
}

size_t incomplete_files_on_disk(const fs::path& root) {
  size_t count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().filename().string().starts_with(".incomplete.")) ++count;
  }
  return count;
}

TEST(DirectoryCrashTest, AcknowledgedCommitsSurviveSigkill) {
  testing::TempDir directory;
  const std::string path = directory.file("checkpoints");
  std::map<uint32_t, uint64_t> acknowledged;  // object -> checksum of what was written
  uint32_t next = 0;
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      run_writer(path, next, pipe_fds[1]);
    }
    ::close(pipe_fds[1]);
    // Kill after a different number of acknowledgements each round; the child keeps writing
    // meanwhile, so the kill lands somewhere inside a later write.
    const int kill_after = 1 + round * 9;
    std::vector<uint32_t> acks;
    uint32_t ack = 0;
    while (static_cast<int>(acks.size()) < kill_after && ::read(pipe_fds[0], &ack, sizeof(ack)) == sizeof(ack)) {
      acks.push_back(ack);
    }
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int wait_status = 0;
    ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL)
        << "the writer stopped on its own (exit code " << WEXITSTATUS(wait_status) << ")";
    while (::read(pipe_fds[0], &ack, sizeof(ack)) == sizeof(ack)) acks.push_back(ack);
    ::close(pipe_fds[0]);
    ASSERT_GE(static_cast<int>(acks.size()), kill_after);
    for (uint32_t i : acks) acknowledged[i] = checksum64(content_of(i));

    auto storage = open_directory_storage(DirectoryStorageOptions{.path = path, .create_if_missing = false});
    ASSERT_OK(storage);
    for (const auto& [i, checksum] : acknowledged) {
      auto content = (*storage)->read(object_name(i));
      ASSERT_OK(content);
      ASSERT_EQ(checksum64(*content), checksum) << object_name(i);
    }
    // "latest" holds the last acknowledged commit, or the one after it when the kill came
    // between its commit and the acknowledgement - never a mix.
    const uint32_t last = acks.back();
    std::string latest = (*storage)->read("latest").value();
    EXPECT_TRUE(latest == std::to_string(last) || latest == std::to_string(last + 1)) << latest;

    auto listed = (*storage)->list("").value();
    for (const auto& object : listed) {
      EXPECT_EQ(object.name.find(".incomplete."), std::string::npos) << object.name;
      EXPECT_FALSE(object.name.starts_with("pending/")) << "an uncommitted object was listed";
    }
    // Every acknowledged object plus "latest", and possibly one committed but unacknowledged.
    EXPECT_GE(listed.size(), acknowledged.size() + 1);
    EXPECT_LE(listed.size(), acknowledged.size() + 2);

    EXPECT_GE(incomplete_files_on_disk(path), 1u) << "the never-committed writer's file";
    ASSERT_OK((*storage)->remove_incomplete());
    EXPECT_EQ(incomplete_files_on_disk(path), 0u);
    EXPECT_EQ((*storage)->list("").value(), listed) << "remove_incomplete() touched no object";
    next = last + 2;  // past a possibly committed, unacknowledged one
  }
}

}  // namespace
}  // namespace streamstate
