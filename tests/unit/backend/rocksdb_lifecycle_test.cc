// RocksDB backend: opening, reopening, locking, option validation and close() semantics.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "streamstate/rocksdb.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/backend/rocksdb_test_fixture.h"

namespace streamstate {
namespace {

using testing::contents;
using testing::open_or_die;
using testing::small_options;
using testing::TempDir;

// Keys and values with zero bytes, 0xff bytes and empty values, spread over three columns.
std::map<std::string, std::map<std::string, std::string>> sample_data() {
  std::map<std::string, std::map<std::string, std::string>> data;
  data["counts"] = {{"a", "1"}, {std::string("b\0c", 3), std::string("\0\0", 2)}, {"empty", ""}};
  data["sessions"] = {{"\xff\xff", "top"}, {"user-7", std::string(5000, 'x')}};
  data["z.last-one_"] = {{"", "empty key"}};
  return data;
}

void write_sample(RocksDbBackend& backend) {
  for (const auto& [name, entries] : sample_data()) {
    auto column = backend.column(name);
    ASSERT_OK(column);
    for (const auto& [key, value] : entries) ASSERT_OK((*column)->put(key, value));
  }
}

void expect_sample(RocksDbBackend& backend) {
  auto names = backend.list_columns();
  ASSERT_OK(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"counts", "sessions", "z.last-one_"}));
  for (const auto& [name, entries] : sample_data()) {
    auto column = backend.column(name);
    ASSERT_OK(column);
    EXPECT_EQ(contents(**column), entries) << "column " << name;
  }
}

uint64_t wal_bytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == ".log") total += entry.file_size();
  }
  return total;
}

TEST(RocksDbLifecycle, ReopenKeepsEveryColumnAndValue) {
  TempDir dir;
  auto backend = open_or_die(small_options(dir.file("db")));
  ASSERT_NE(backend, nullptr);
  write_sample(*backend);
  ASSERT_OK(backend->close());
  backend.reset();

  auto reopened = open_or_die(small_options(dir.file("db")));
  ASSERT_NE(reopened, nullptr);
  expect_sample(*reopened);
}

TEST(RocksDbLifecycle, ReopenWithoutWalKeepsDataAfterFlush) {
  TempDir dir;
  RocksDbBackendOptions options = small_options(dir.file("db"));
  options.enable_wal = false;
  auto backend = open_or_die(options);
  ASSERT_NE(backend, nullptr);
  write_sample(*backend);
  // The writes bypassed the log: no log file holds them.
  EXPECT_EQ(wal_bytes(options.path), 0u);
  ASSERT_OK(backend->flush());
  ASSERT_OK(backend->close());
  backend.reset();

  auto reopened = open_or_die(options);
  ASSERT_NE(reopened, nullptr);
  expect_sample(*reopened);
}

TEST(RocksDbLifecycle, WritesGoThroughTheWalByDefault) {
  TempDir dir;
  auto backend = open_or_die(small_options(dir.file("db")));
  ASSERT_NE(backend, nullptr);
  const uint64_t before = wal_bytes(dir.file("db"));
  write_sample(*backend);
  EXPECT_GT(wal_bytes(dir.file("db")), before + 5000);
}

TEST(RocksDbLifecycle, ReopenWithSyncOnEveryWrite) {
  TempDir dir;
  RocksDbBackendOptions options = small_options(dir.file("db"));
  options.sync = SyncPolicy::kEveryWrite;
  auto backend = open_or_die(options);
  ASSERT_NE(backend, nullptr);
  write_sample(*backend);
  WriteBatch batch;
  batch.put("counts", "batched", "yes");
  batch.remove("counts", "a");
  ASSERT_OK(backend->write(batch));
  ASSERT_OK(backend->close());
  backend.reset();

  auto reopened = open_or_die(options);
  ASSERT_NE(reopened, nullptr);
  auto counts = reopened->column("counts");
  ASSERT_OK(counts);
  EXPECT_EQ((*counts)->get("batched").value(), std::optional<std::string>("yes"));
  EXPECT_EQ((*counts)->get("a").value(), std::nullopt);
  EXPECT_EQ((*counts)->get("empty").value(), std::optional<std::string>(""));
}

TEST(RocksDbLifecycle, SecondOpenOfTheSamePathFailsUntilTheFirstCloses) {
  TempDir dir;
  const std::string path = dir.file("db");
  auto first = open_or_die(small_options(path));
  ASSERT_NE(first, nullptr);
  auto second = RocksDbBackend::open(small_options(path));
  EXPECT_STATUS(second, StatusCode::kIoError, path);
  EXPECT_STATUS(second, StatusCode::kIoError, "another process or backend holds its lock");

  ASSERT_OK(first->close());
  auto third = RocksDbBackend::open(small_options(path));
  EXPECT_OK(third);
}

TEST(RocksDbLifecycle, OpenFailsWhileAnotherProcessHoldsTheLock) {
  TempDir dir;
  const std::string path = dir.file("db");
  std::filesystem::create_directories(path);
  const std::string lock_file = path + "/LOCK";
  int ready[2];
  int release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Only async-signal-safe calls here: lock the file the way RocksDB does (fcntl), report,
    // and hold the lock until the parent closes its end of `release`.
    close(ready[0]);
    close(release[1]);  // else the child would keep its own pipe open and never see EOF
    int fd = open(lock_file.c_str(), O_RDWR | O_CREAT, 0644);
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    const char result = (fd >= 0 && fcntl(fd, F_SETLK, &lock) == 0) ? 'y' : 'n';
    if (write(ready[1], &result, 1) != 1) _exit(2);
    char ignored;
    while (read(release[0], &ignored, 1) > 0) {
    }
    _exit(0);
  }
  close(ready[1]);
  close(release[0]);
  char locked = 0;
  ASSERT_EQ(read(ready[0], &locked, 1), 1);
  ASSERT_EQ(locked, 'y');

  auto backend = RocksDbBackend::open(small_options(path));
  EXPECT_STATUS(backend, StatusCode::kIoError, path);
  EXPECT_STATUS(backend, StatusCode::kIoError, "another process or backend holds its lock");

  close(release[1]);
  int child_status = 0;
  ASSERT_EQ(waitpid(child, &child_status, 0), child);
  close(ready[0]);
  EXPECT_OK(RocksDbBackend::open(small_options(path)));
}

TEST(RocksDbLifecycle, PathBelowARegularFileIsAnIoErrorNamingIt) {
  TempDir dir;
  const std::string file = dir.file("plain-file");
  std::ofstream(file) << "not a directory";
  const std::string path = file + "/db";
  EXPECT_STATUS(RocksDbBackend::open(small_options(path)), StatusCode::kIoError, path);
}

TEST(RocksDbLifecycle, MissingDatabaseWithoutCreateIfMissingIsNotFound) {
  TempDir dir;
  RocksDbBackendOptions options = small_options(dir.file("absent"));
  options.create_if_missing = false;
  EXPECT_STATUS(RocksDbBackend::open(options), StatusCode::kNotFound, options.path);
  EXPECT_FALSE(std::filesystem::exists(options.path));
}

TEST(RocksDbLifecycle, BadOptionsNameTheOptionAndThePath) {
  TempDir dir;
  const std::string path = dir.file("db");
  RocksDbBackendOptions options = small_options(path);
  options.path.clear();
  EXPECT_STATUS(RocksDbBackend::open(options), StatusCode::kInvalidArgument, "path is empty");

  options = small_options(path);
  options.block_cache_bytes = 0;
  EXPECT_STATUS(RocksDbBackend::open(options), StatusCode::kInvalidArgument, "block_cache_bytes");
  EXPECT_STATUS(RocksDbBackend::open(options), StatusCode::kInvalidArgument, path);

  options = small_options(path);
  options.write_buffer_bytes = (64 << 10) - 1;
  EXPECT_STATUS(RocksDbBackend::open(options), StatusCode::kInvalidArgument, "write_buffer_bytes");
  EXPECT_STATUS(RocksDbBackend::open(options), StatusCode::kInvalidArgument, path);

  options = small_options(path);
  options.background_threads = 0;
  EXPECT_STATUS(RocksDbBackend::open(options), StatusCode::kInvalidArgument, "background_threads");
  EXPECT_STATUS(RocksDbBackend::open(options), StatusCode::kInvalidArgument, path);

  options = small_options(path);
  options.enable_wal = false;
  options.sync = SyncPolicy::kEveryWrite;
  EXPECT_STATUS(RocksDbBackend::open(options), StatusCode::kInvalidArgument, "enable_wal");

  options = small_options(path);
  options.compression = static_cast<CompressionType>(9);
  EXPECT_STATUS(RocksDbBackend::open(options), StatusCode::kInvalidArgument, "compression");

  // Nothing was created by the rejected opens; the smallest valid write buffer is accepted.
  EXPECT_FALSE(std::filesystem::exists(path));
  options = small_options(path);
  options.write_buffer_bytes = 64 << 10;
  EXPECT_OK(RocksDbBackend::open(options));
}

TEST(RocksDbLifecycle, EveryOperationAfterCloseIsClosed) {
  TempDir dir;
  auto backend = open_or_die(small_options(dir.file("db")));
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("c");
  ASSERT_OK(column);
  for (int i = 0; i < 10; ++i) ASSERT_OK((*column)->put("k" + std::to_string(i), "v"));
  auto snapshot = backend->snapshot();
  ASSERT_OK(snapshot);
  auto iterator = (*snapshot)->iterate("c", "");
  ASSERT_OK(iterator);
  ASSERT_TRUE((*iterator)->valid());
  EXPECT_EQ((*iterator)->key(), "k0");

  ASSERT_OK(backend->close());
  ASSERT_OK(backend->close());  // idempotent

  StateColumn& c = **column;
  std::string value;
  EXPECT_STATUS(c.get_into("k1", value), StatusCode::kClosed, dir.file("db"));
  EXPECT_STATUS(c.put("k", "v"), StatusCode::kClosed, "closed");
  EXPECT_STATUS(c.remove("k"), StatusCode::kClosed, "closed");
  EXPECT_STATUS(c.contains("k"), StatusCode::kClosed, "closed");
  EXPECT_STATUS(c.update("k", [](auto) { return std::optional<std::string>("x"); }), StatusCode::kClosed,
                "closed");
  EXPECT_STATUS(c.scan("", [](BytesView, BytesView) { return true; }), StatusCode::kClosed, "closed");
  EXPECT_STATUS(c.clear(), StatusCode::kClosed, "closed");
  EXPECT_EQ(c.name(), "c");

  EXPECT_STATUS(backend->column("c"), StatusCode::kClosed, "closed");
  EXPECT_STATUS(backend->list_columns(), StatusCode::kClosed, "closed");
  EXPECT_STATUS(backend->drop_column("c"), StatusCode::kClosed, "closed");
  WriteBatch batch;
  batch.put("c", "k", "v");
  EXPECT_STATUS(backend->write(batch), StatusCode::kClosed, "closed");
  EXPECT_STATUS(backend->snapshot(), StatusCode::kClosed, "closed");
  EXPECT_STATUS(backend->flush(), StatusCode::kClosed, "closed");
  EXPECT_STATUS(backend->size_on_disk(), StatusCode::kClosed, "closed");
  EXPECT_STATUS(backend->compact(), StatusCode::kClosed, "closed");
  EXPECT_EQ(backend->statistics().puts, 10u);
  EXPECT_EQ(backend->statistics().live_entries, 0u);

  EXPECT_STATUS((*snapshot)->iterate("c", ""), StatusCode::kClosed, "closed");
  // The iterator made before close() ends with kClosed; its last entry stays readable.
  EXPECT_EQ((*iterator)->key(), "k0");
  (*iterator)->next();
  EXPECT_FALSE((*iterator)->valid());
  EXPECT_STATUS((*iterator)->status(), StatusCode::kClosed, "closed");
  (*iterator)->next();
  EXPECT_FALSE((*iterator)->valid());
}

TEST(RocksDbLifecycle, CloseWithLiveSnapshotsAndIteratorsThenReopen) {
  TempDir dir;
  const std::string path = dir.file("db");
  auto backend = open_or_die(small_options(path));
  ASSERT_NE(backend, nullptr);
  write_sample(*backend);
  std::unique_ptr<BackendSnapshot> snapshot = backend->snapshot().value();
  std::unique_ptr<BackendSnapshot> unused_snapshot = backend->snapshot().value();
  std::unique_ptr<SnapshotIterator> iterator = snapshot->iterate("counts").value();
  // The snapshot goes first; its iterator keeps the RocksDB snapshot alive.
  snapshot.reset();
  ASSERT_TRUE(iterator->valid());
  EXPECT_EQ(iterator->key(), "a");

  // RocksDB refuses to close a DB with live snapshots or iterators: close() releases them.
  ASSERT_OK(backend->close());
  iterator->next();
  EXPECT_FALSE(iterator->valid());
  EXPECT_STATUS(iterator->status(), StatusCode::kClosed, "closed");
  backend.reset();

  auto reopened = open_or_die(small_options(path));
  ASSERT_NE(reopened, nullptr);
  expect_sample(*reopened);
  // Destroying handles of the closed backend after a reopen of the same path is harmless.
  iterator.reset();
  unused_snapshot.reset();
  expect_sample(*reopened);
}

TEST(RocksDbLifecycle, DestroyingTheBackendClosesIt) {
  TempDir dir;
  const std::string path = dir.file("db");
  auto backend = open_or_die(small_options(path));
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("c");
  ASSERT_OK(column);
  ASSERT_OK((*column)->put("k", "v"));
  backend.reset();
  EXPECT_STATUS((*column)->put("k", "w"), StatusCode::kClosed, "closed");
  auto reopened = open_or_die(small_options(path));
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->column("c").value()->get("k").value(), std::optional<std::string>("v"));
}

TEST(RocksDbLifecycle, CloseWaitsForARunningScanWhichEndsClosed) {
  TempDir dir;
  auto backend = open_or_die(small_options(dir.file("db")));
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("c");
  ASSERT_OK(column);
  for (int i = 0; i < 100; ++i) ASSERT_OK((*column)->put("k" + std::to_string(1000 + i), "v"));

  std::atomic<bool> scanning{false};
  Status scan_status;
  int visited = 0;
  std::thread scanner([&] {
    scan_status = (*column)->scan("", [&](BytesView, BytesView) {
      ++visited;
      scanning = true;
      // Hold the first entry until close() has begun (operations then report kClosed).
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while ((*column)->contains("k1000").is_ok() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      return true;
    });
  });
  while (!scanning) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_OK(backend->close());
  scanner.join();
  EXPECT_EQ(visited, 1);
  EXPECT_STATUS(scan_status, StatusCode::kClosed, "closed");
}

TEST(RocksDbLifecycle, ScanVisitorMayCallBackIntoTheBackendButNotClose) {
  TempDir dir;
  auto backend = open_or_die(small_options(dir.file("db")));
  ASSERT_NE(backend, nullptr);
  auto source = backend->column("source");
  ASSERT_OK(source);
  for (int i = 0; i < 5; ++i) ASSERT_OK((*source)->put("k" + std::to_string(i), std::to_string(i)));

  int copied = 0;
  const Status scanned = (*source)->scan("k", [&](BytesView key, BytesView value) {
    // Creating a column takes the backend's exclusive lock: it must not deadlock here.
    auto target = backend->column("target");
    EXPECT_OK(target);
    EXPECT_OK((*target)->put(key, value));
    EXPECT_STATUS(backend->close(), StatusCode::kFailedPrecondition, "scan visitor");
    ++copied;
    return true;
  });
  ASSERT_OK(scanned);
  EXPECT_EQ(copied, 5);
  EXPECT_EQ(contents(*backend->column("target").value()), contents(**source));
  EXPECT_OK(backend->close());
}

}  // namespace
}  // namespace streamstate
