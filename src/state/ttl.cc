#include "streamstate/ttl.h"

#include <string>

namespace streamstate {

Status StateTtlConfig::validate() const {
  if (ttl.count() < 0) {
    return Status::invalid_argument("StateTtlConfig.ttl is " + std::to_string(ttl.count()) +
                                    " ms; use a positive duration, or 0 for no TTL");
  }
  if (ttl.count() == 0 && incremental_cleanup_entries > 0) {
    return Status::invalid_argument("StateTtlConfig.incremental_cleanup_entries is " +
                                    std::to_string(incremental_cleanup_entries) +
                                    " but ttl is 0 (no TTL, nothing expires): set a ttl or set "
                                    "incremental_cleanup_entries to 0");
  }
  return Status::ok();
}

}  // namespace streamstate
