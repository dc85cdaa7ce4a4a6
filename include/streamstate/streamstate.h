// The umbrella header: includes the whole public API of the components that were built.
#pragma once

#include "streamstate/backend.h"
#include "streamstate/bytes.h"
#include "streamstate/checksum.h"
#include "streamstate/clock.h"
#include "streamstate/codec.h"
#include "streamstate/compression.h"
#include "streamstate/config.h"
#include "streamstate/key_group.h"
#include "streamstate/memory.h"
#include "streamstate/state_key.h"
#include "streamstate/status.h"
#include "streamstate/write_batch.h"

#if STREAMSTATE_HAS_ROCKSDB
#include "streamstate/rocksdb.h"
#endif
#if STREAMSTATE_HAS_REDIS
#include "streamstate/redis.h"
#endif
