# Finds the libraries streamstate builds on; scripts/setup.sh installs them on Debian.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(SNAPPY REQUIRED IMPORTED_TARGET snappy)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
if(STREAMSTATE_WITH_ROCKSDB)
  find_package(RocksDB CONFIG REQUIRED)
  # Debian's RocksDB::rocksdb is the static archive (not position-independent); link the shared one.
  if(TARGET RocksDB::rocksdb-shared)
    set(STREAMSTATE_ROCKSDB_TARGET RocksDB::rocksdb-shared)
  else()
    set(STREAMSTATE_ROCKSDB_TARGET RocksDB::rocksdb)
  endif()
endif()
if(STREAMSTATE_WITH_REDIS)
  pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
endif()
# libcurl (with CURLOPT_AWS_SIGV4, 7.75+) carries the S3 checkpoint storage's requests.
find_package(CURL 7.75 REQUIRED)
# OpenSSL's MD5 checks S3 uploads (Content-MD5) and downloads (against plain-MD5 ETags).
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
# Abseil's flat_hash_map holds the memory backend's tables.
find_package(absl REQUIRED)
if(STREAMSTATE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
