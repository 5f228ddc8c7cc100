# Every dependency comes from the system's packages (scripts/install-deps installs them on
# Debian/Ubuntu); nothing is downloaded at build time.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(nlohmann_json 3 REQUIRED)

# BLAS: OpenBLAS by default (its CMake config), or any CBLAS that FindBLAS finds. When the
# imported target BLAS::BLAS is used, an installed flare must find BLAS again in its package
# config (FLARE_CONFIG_FINDS_BLAS), since the exported flare_blas refers to that target.
add_library(flare_blas INTERFACE)
set(FLARE_CONFIG_FINDS_BLAS OFF)
if(FLARE_BLAS STREQUAL "OpenBLAS")
  find_package(OpenBLAS CONFIG QUIET)
  if(OpenBLAS_FOUND)
    target_include_directories(flare_blas INTERFACE ${OpenBLAS_INCLUDE_DIRS})
    target_link_libraries(flare_blas INTERFACE ${OpenBLAS_LIBRARIES})
  else()
    set(BLA_VENDOR OpenBLAS)
    find_package(BLAS REQUIRED)
    find_path(FLARE_CBLAS_INCLUDE cblas.h PATH_SUFFIXES openblas x86_64-linux-gnu aarch64-linux-gnu)
    target_include_directories(flare_blas INTERFACE ${FLARE_CBLAS_INCLUDE})
    target_link_libraries(flare_blas INTERFACE BLAS::BLAS)
    set(FLARE_CONFIG_FINDS_BLAS ON)
  endif()
  target_compile_definitions(flare_blas INTERFACE FLARE_OPENBLAS=1)
else()
  find_package(BLAS REQUIRED)
  find_path(FLARE_CBLAS_INCLUDE cblas.h PATH_SUFFIXES x86_64-linux-gnu aarch64-linux-gnu openblas)
  target_include_directories(flare_blas INTERFACE ${FLARE_CBLAS_INCLUDE})
  target_link_libraries(flare_blas INTERFACE BLAS::BLAS)
  set(FLARE_CONFIG_FINDS_BLAS ON)
endif()

# SLEEF: vectorised exp, log, tanh. Found through pkg-config or a plain library search.
add_library(flare_sleef INTERFACE)
find_path(SLEEF_INCLUDE_DIR sleef.h PATH_SUFFIXES x86_64-linux-gnu aarch64-linux-gnu)
find_library(SLEEF_LIBRARY sleef)
if(SLEEF_INCLUDE_DIR AND SLEEF_LIBRARY)
  target_include_directories(flare_sleef INTERFACE ${SLEEF_INCLUDE_DIR})
  target_link_libraries(flare_sleef INTERFACE ${SLEEF_LIBRARY})
  target_compile_definitions(flare_sleef INTERFACE FLARE_HAVE_SLEEF=1)
else()
  message(WARNING "SLEEF not found: element-wise transcendental functions use scalar libm")
endif()
