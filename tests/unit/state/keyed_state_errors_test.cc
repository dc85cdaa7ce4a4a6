// Keys in keyed-state errors are shown as the user gave them - the user key (escaped where
// not printable), its key group and namespace - never as the stored key's bytes.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/printable.h"
#include "state/printable.h"
#include "streamstate/keyed_state_store.h"
#include "streamstate/memory.h"
#include "streamstate/state_key.h"
#include "testutil/status_matchers.h"

namespace streamstate::testing {
namespace {

// A column that fails every operation the way the RocksDB and Redis columns word their errors:
// naming the stored key's bytes.
class FailingColumn : public StateColumn {
 public:
  explicit FailingColumn(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  Result<bool> get_into(BytesView key, std::string&) override { return fail("get", key); }
  Status put(BytesView key, BytesView) override { return fail("put", key); }
  Status remove(BytesView key) override { return fail("remove", key); }
  Result<bool> contains(BytesView key) override { return fail("contains", key); }
  Status update(BytesView key, const UpdateFunction&) override { return fail("update", key); }
  Status scan(BytesView prefix, const ScanVisitor&) override {
    return Status::io_error("scan of column '" + name_ + "' with prefix '" + internal::escape_bytes(prefix) +
                            "': injected failure");
  }
  Status clear() override { return Status::io_error("clear: injected failure"); }

 private:
  Status fail(const char* operation, BytesView key) const {
    return Status::io_error(std::string(operation) + " of key '" + internal::escape_bytes(key) + "' in column '" +
                            name_ + "': injected failure");
  }
  std::string name_;
};

// A memory backend whose state columns (not "_ss.states") fail.
class FailingBackend : public StateBackend {
 public:
  FailingBackend() : inner_(MemoryBackend::open(MemoryBackendOptions{}).value()) {}
  std::string_view kind() const override { return "failing"; }
  BackendCapabilities capabilities() const override { return inner_->capabilities(); }
  Result<std::shared_ptr<StateColumn>> column(std::string_view name) override {
    if (name.starts_with("_ss.")) return inner_->column(name);
    return std::shared_ptr<StateColumn>(std::make_shared<FailingColumn>(std::string(name)));
  }
  Result<std::vector<std::string>> list_columns() override { return inner_->list_columns(); }
  Status drop_column(std::string_view name) override { return inner_->drop_column(name); }
  Status write(const WriteBatch&) override { return Status::io_error("write: injected failure"); }
  Result<std::unique_ptr<BackendSnapshot>> snapshot() override { return inner_->snapshot(); }
  BackendStatistics statistics() const override { return inner_->statistics(); }
  Status flush() override { return inner_->flush(); }
  Status close() override { return inner_->close(); }

 private:
  std::unique_ptr<StateBackend> inner_;
};

// The stored key bytes, as a backend would print them.
std::string raw(BytesView stored_key) { return "'" + internal::escape_bytes(stored_key) + "'"; }

void expect_no_raw_key(const Status& status, BytesView stored_key) {
  EXPECT_EQ(status.message().find(raw(stored_key)), std::string::npos) << status.message();
}

TEST(KeyedStateErrorsTest, BackendErrorsNameTheUserKeyKeyGroupAndNamespace) {
  auto store = KeyedStateStore::open(std::make_shared<FailingBackend>()).value();
  auto value = store->value_state(ValueStateDescriptor<int64_t>{.name = "v"});
  auto map = store->map_state(MapStateDescriptor<std::string, int64_t>{.name = "m"});
  auto list = store->list_state(ListStateDescriptor<int64_t>{.name = "l"});
  ASSERT_OK(value);
  ASSERT_OK(map);
  ASSERT_OK(list);
  ASSERT_OK(store->set_current_key("user-248"));
  ASSERT_OK(store->set_current_namespace("w1"));
  const uint32_t group = store->current_key_group();
  const std::string where = "user key 'user-248' (key group " + std::to_string(group) + ", namespace 'w1'";
  const std::string value_key = make_state_key(group, "user-248", "w1");

  const Status read = value->value().status();
  EXPECT_STATUS(read, StatusCode::kIoError, "state 'v': get of " + where + ") in column 'v': injected failure");
  expect_no_raw_key(read, value_key);
  const Status written = value->update(1);
  EXPECT_STATUS(written, StatusCode::kIoError, "state 'v': put of " + where + ")");
  expect_no_raw_key(written, value_key);
  EXPECT_STATUS(value->clear(), StatusCode::kIoError, "state 'v': remove of " + where + ")");
  // Batched writes name the state.
  EXPECT_STATUS(map->put_all(std::vector<std::pair<std::string, int64_t>>{{"a", 1}, {"b", 2}}),
                StatusCode::kIoError, "state 'm': write: injected failure");

  const Status entry = map->get("k").status();
  EXPECT_STATUS(entry, StatusCode::kIoError, "state 'm': get of " + where + ", map key '");
  const Status scanned = map->entries().status();
  EXPECT_STATUS(scanned, StatusCode::kIoError, "state 'm': scan of column 'm' with prefix " + where + ")");
  std::string scoped = make_state_key(group, "user-248");
  put_varint32(scoped, 2);
  scoped += "w1";
  expect_no_raw_key(scanned, scoped);
  const Status listed = list->get().status();
  EXPECT_STATUS(listed, StatusCode::kIoError, "state 'l': get of " + where + ")");
  expect_no_raw_key(listed, scoped);
}

TEST(KeyedStateErrorsTest, CodecCorruptionNamesTheNamespace) {
  auto backend = std::shared_ptr<StateBackend>(MemoryBackend::open(MemoryBackendOptions{}).value());
  auto store = KeyedStateStore::open(backend).value();
  auto value = store->value_state(ValueStateDescriptor<int64_t>{.name = "v"});
  ASSERT_OK(value);
  ASSERT_OK(store->set_current_key(std::string("bin\0\x01", 5)));
  ASSERT_OK(store->set_current_namespace("window-3"));
  const std::string key = make_state_key(store->current_key_group(), std::string("bin\0\x01", 5), "window-3");
  ASSERT_OK(backend->column("v").value()->put(key, "abc"));
  const Status status = value->value().status();
  EXPECT_STATUS(status, StatusCode::kCorruption, "user key 'bin\\x00\\x01', namespace 'window-3'");
  expect_no_raw_key(status, key);
}

TEST(KeyedStateErrorsTest, MigrationErrorsNameTheUserKey) {
  auto backend = std::shared_ptr<StateBackend>(MemoryBackend::open(MemoryBackendOptions{}).value());
  {
    auto store = KeyedStateStore::open(backend, {.close_backend_on_close = false}).value();
    auto value = store->value_state(ValueStateDescriptor<int64_t>{.name = "v"});
    ASSERT_OK(store->set_current_key("user-9"));
    ASSERT_OK(value->update(1));
  }
  auto store = KeyedStateStore::open(backend).value();
  ASSERT_OK(store->register_migration("v", 1, 2, [](BytesView) -> Result<std::string> {
    return Status::invalid_argument("cannot convert");
  }));
  const uint32_t group = key_group_for_key("user-9", kDefaultMaxParallelism);
  const Status status = store->value_state(ValueStateDescriptor<int64_t>{.name = "v", .schema = {2, 0, 0}}).status();
  EXPECT_STATUS(status, StatusCode::kInvalidArgument,
                "state 'v', user key 'user-9' (key group " + std::to_string(group) +
                    ", namespace ''): schema migration");
  expect_no_raw_key(status, make_state_key(group, "user-9"));
}

TEST(KeyedStateErrorsTest, DescribeStateKeyDecodesEveryKind) {
  const uint32_t group = 21;
  std::string scoped = make_state_key(group, "u");
  put_varint32(scoped, 1);
  scoped += "n";
  EXPECT_EQ(internal::describe_state_key(make_state_key(group, "u", "ns"), StateKind::kValue),
            "user key 'u' (key group 21, namespace 'ns')");
  EXPECT_EQ(internal::describe_state_key(scoped + "\x03" "abc", StateKind::kMap),
            "user key 'u' (key group 21, namespace 'n', map key '\\x03abc')");
  EXPECT_EQ(internal::describe_state_key(scoped, StateKind::kList), "user key 'u' (key group 21, namespace 'n')");
  EXPECT_EQ(internal::describe_state_key(scoped + std::string("\0\0\0\0\0\0\0\x07", 8), StateKind::kList),
            "user key 'u' (key group 21, namespace 'n', list element 7)");
  EXPECT_EQ(internal::describe_state_key(make_state_key(group, "u", "ns")),
            "user key 'u' (key group 21, namespace part 'ns')");
  EXPECT_EQ(internal::describe_state_key("\x01"), "stored key '\\x01' (not a keyed-state key)");
}

}  // namespace
}  // namespace streamstate::testing
