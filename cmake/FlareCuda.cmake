# The CUDA backend (included from the top-level CMakeLists.txt when FLARE_CUDA is on): the
# kernels under src/cuda/ (.cu) and their host side (.cc) go into the flare library itself, with
# cuBLAS. Building needs only the toolkit, not a GPU; at run time, without a driver or device,
# backend(Device::cuda(i)) throws flare::Error and device_available() is false.

# Hopper (H100/H200) machine code, plus PTX for compute capability 8.0 that the driver compiles
# for any newer GPU (A100, Blackwell). Override with e.g. -DFLARE_CUDA_ARCHS="86;90".
set(FLARE_CUDA_ARCHS "90-real;80-virtual" CACHE STRING "CUDA architectures of the flare kernels")

if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  # enable_language would otherwise pick the compiler's default (and compile its test for it).
  set(CMAKE_CUDA_ARCHITECTURES ${FLARE_CUDA_ARCHS})
endif()
if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)

file(GLOB FLARE_CUDA_HOST_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/cuda/*.cc)
file(GLOB FLARE_CUDA_KERNEL_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/cuda/*.cu)
target_sources(flare PRIVATE ${FLARE_CUDA_HOST_SOURCES} ${FLARE_CUDA_KERNEL_SOURCES})
set_property(TARGET flare PROPERTY CUDA_ARCHITECTURES ${FLARE_CUDA_ARCHS})
# The runtime is linked statically (no libcudart at run time); cuBLAS comes from the toolkit.
target_link_libraries(flare PRIVATE CUDA::cudart_static CUDA::cublas)
# Public: tests and programs can tell a CUDA build from a CPU-only one.
target_compile_definitions(flare PUBLIC FLARE_WITH_CUDA=1)
target_compile_options(flare PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wno-unused-parameter>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<CONFIG:Release>>:-O3>)
message(STATUS "flare: CUDA backend on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${FLARE_CUDA_ARCHS})")
