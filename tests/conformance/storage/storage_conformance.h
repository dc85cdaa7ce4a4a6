// The contract every CheckpointStorage keeps, as one parameterized suite. A storage joins by
// adding a StorageFactory to the instantiation in storage_instantiations.cc.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "streamstate/checkpoint_storage.h"

namespace streamstate::testing {

struct StorageFactory {
  std::string name;  // a GoogleTest parameter name: letters, digits and '_'
  // A fresh, empty storage; it keeps alive whatever it needs (a temporary directory).
  std::function<std::shared_ptr<CheckpointStorage>()> make;
};

// GoogleTest prints the parameter by its name.
inline void PrintTo(const StorageFactory& factory, std::ostream* out) { *out << factory.name; }

class StorageConformance : public ::testing::TestWithParam<StorageFactory> {
 protected:
  void SetUp() override { storage_ = GetParam().make(); }

  // Writes and commits `content` under `name`, failing the test on any error.
  void put(const std::string& name, const std::string& content);

  std::shared_ptr<CheckpointStorage> storage_;
};

}  // namespace streamstate::testing
