// The umbrella header: includes the whole public API of the components that were built.
#pragma once

#include "streamstate/backend.h"
#include "streamstate/bytes.h"
#include "streamstate/change_tracking.h"
#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_coordinator.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/checksum.h"
#include "streamstate/clock.h"
#include "streamstate/codec.h"
#include "streamstate/codec_containers.h"
#include "streamstate/codec_fields.h"
#include "streamstate/codec_scalars.h"
#include "streamstate/compression.h"
#include "streamstate/durability.h"
#include "streamstate/config.h"
#include "streamstate/key_group.h"
#include "streamstate/local_recovery.h"
#include "streamstate/logged_backend.h"
#include "streamstate/memory.h"
#include "streamstate/s3_storage.h"
#include "streamstate/state_key.h"
#include "streamstate/status.h"
#include "streamstate/timer.h"
#include "streamstate/wal.h"
#include "streamstate/write_back_cache.h"
#include "streamstate/write_batch.h"

// Keyed state (streamstate::state).
#include "streamstate/aggregating_state.h"
#include "streamstate/backend_registry.h"
#include "streamstate/codec_json.h"
#include "streamstate/key_extractor.h"
#include "streamstate/keyed_state_store.h"
#include "streamstate/list_state.h"
#include "streamstate/map_state.h"
#include "streamstate/reducing_state.h"
#include "streamstate/rescale.h"
#include "streamstate/schema.h"
#include "streamstate/scratch_state.h"
#include "streamstate/state_access.h"
#include "streamstate/state_config.h"
#include "streamstate/state_descriptor.h"
#include "streamstate/ttl.h"
#include "streamstate/value_state.h"

// The pipeline runtime (streamstate::runtime).
#include "streamstate/pipeline.h"
#include "streamstate/process_function.h"
#include "streamstate/sink.h"
#include "streamstate/sinks.h"
#include "streamstate/source.h"
#include "streamstate/sources.h"

#if STREAMSTATE_HAS_ROCKSDB
#include "streamstate/rocksdb.h"
#include "streamstate/rocksdb_checkpoint.h"
#endif
#if STREAMSTATE_HAS_REDIS
#include "streamstate/redis.h"
#endif
